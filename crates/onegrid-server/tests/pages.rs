//! The workspaces' pages through the router, without a browser: who gets which page, that a
//! page's writes need the session's CSRF token, that refusals come back in Chinese next to
//! their field, and that the embedded assets are served.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{report_case, server};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

async fn request(
    server: &common::TestServer,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> (StatusCode, String, axum::http::HeaderMap) {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = match body {
        Some(body) => builder
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap(),
        None => builder.body(Body::empty()).unwrap(),
    };
    let response = onegrid_server::router(server.app.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        String::from_utf8_lossy(&bytes).into_owned(),
        headers,
    )
}

/// Signs the tester in through the session API: the cookie and the CSRF token.
async fn session(server: &common::TestServer) -> (String, String) {
    let (status, body, headers) = common::call(
        server,
        "POST",
        "/api/v1/session",
        Some(json!({"login": "li", "password": "Tester#2026x"})),
        &[("authorization", "anonymous")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cookie = headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    (cookie, body["csrf_token"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_visitor_without_a_session_is_sent_to_sign_in_and_public_pages_open() {
    let s = server().await;
    let (status, _, headers) = request(&s, "GET", "/ui/centre", &[], None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers.get(header::LOCATION).unwrap(),
        "/signin?next=/ui/centre"
    );
    // Under an open page whose session ran out, htmx is told to go to sign in, and back.
    let (status, _, headers) = request(
        &s,
        "POST",
        "/ui/cases/x/acts",
        &[
            ("hx-request", "true"),
            ("hx-current-url", "http://127.0.0.1:8080/ui/cases/x"),
        ],
        Some("act=accept&version=1".to_owned()),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        headers.get("hx-redirect").unwrap(),
        "/signin?next=/ui/cases/x"
    );
    for page in [
        "/portal",
        "/portal/report",
        "/portal/track",
        "/portal/results",
        "/signin",
    ] {
        let (status, body, _) = request(&s, "GET", page, &[], None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(body.contains("lang=\"zh-CN\""), "{page}");
    }
    let (status, body, headers) = request(&s, "GET", "/assets/ui/htmx.min.js", &[], None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("htmx"));
    assert!(
        headers
            .get(header::CONTENT_TYPE)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let (status, _, _) = request(&s, "GET", "/assets/ui/nothing.js", &[], None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_act_from_a_page_needs_the_csrf_token_and_shows_refusals_beside_the_field() {
    let s = server().await;
    let case = report_case(
        &s,
        json!({"description": "路灯不亮", "lon": 112.75, "lat": 37.65, "channel": "hotline"}),
    )
    .await;
    let id = case["id"].as_str().unwrap();
    let (cookie, csrf) = session(&s).await;
    let uri = format!("/ui/cases/{id}/acts");

    // The case page lists the acts the person may take now.
    let (status, page, _) = request(
        &s,
        "GET",
        &format!("/ui/cases/{id}"),
        &[("cookie", &cookie)],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("data-act=\"accept\""), "accept is offered");
    assert!(page.contains("name=\"csrf-token\""));

    // Without the token the write is refused and nothing changes.
    let (status, _, _) = request(
        &s,
        "POST",
        &uri,
        &[("cookie", &cookie)],
        Some("act=accept&version=1".to_owned()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(s.app.case_view(id).await.unwrap().case.version, 1);

    // An escalation without a reason: 422, and the reason field says why.
    let (status, block, _) = request(
        &s,
        "POST",
        &uri,
        &[("cookie", &cookie), ("x-csrf-token", &csrf)],
        Some("act=escalate&version=1&reason=".to_owned()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        block.contains("id=\"err-reason\"") && block.contains("请填写理由"),
        "{block}"
    );

    // With the token: accepted, and the block shows the new state.
    let (status, block, _) = request(
        &s,
        "POST",
        &uri,
        &[("cookie", &cookie), ("x-csrf-token", &csrf)],
        Some("act=accept&version=1&note=".to_owned()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{block}");
    assert!(block.contains("data-state=\"accepted\""), "{block}");
    assert_eq!(
        s.app.case_view(id).await.unwrap().case.state.as_str(),
        "accepted"
    );

    // A stale version: refused in Chinese.
    let (status, block, _) = request(
        &s,
        "POST",
        &uri,
        &[("cookie", &cookie), ("x-csrf-token", &csrf)],
        Some("act=register&version=1&category=1103".to_owned()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(block.contains("刷新"), "{block}");
}

#[tokio::test]
async fn the_rating_form_needs_a_choice_and_a_known_code() {
    let s = server().await;
    let (status, page, _) = request(
        &s,
        "POST",
        "/portal/track",
        &[],
        Some("code=AAAA-BBBB-CCCC-DDDD".to_owned()),
    )
    .await;
    // 422, not 404: the page's form answers it in place, next to the code field.
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("没有找到这个跟踪码"), "{page}");

    let (_, case, _) = common::call(
        &s,
        "POST",
        "/api/v1/cases",
        Some(
            json!({"description": "楼道堆物", "lon": 112.75, "lat": 37.65,
                    "channel": "resident", "reporter": {"phone": "13900001111"}}),
        ),
        &[("authorization", "anonymous")],
    )
    .await;
    let code = case["tracking_code"].as_str().unwrap().to_owned();
    let (status, page, _) = request(
        &s,
        "POST",
        "/portal/track/rate",
        &[],
        Some(format!("code={code}")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("请选择满意程度"), "{page}");
    // Not closed yet: the rating is refused, in Chinese, and nothing is recorded.
    let (status, page, _) = request(
        &s,
        "POST",
        "/portal/track/rate",
        &[],
        Some(format!("code={code}&satisfaction=satisfied")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("结案后才能评价"), "{page}");
    let id = case["id"].as_str().unwrap();
    assert_eq!(s.app.case_view(id).await.unwrap().records.len(), 1);
}

#[tokio::test]
async fn a_grid_worker_settles_on_the_spot_and_the_centre_watches_overdue_cases() {
    let s = server().await;
    let (cookie, csrf) = session(&s).await;
    let auth = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
    // A grid worker's own report may be settled on the spot, from the case page.
    let own = report_case(
        &s,
        json!({"description": "井盖松动", "lon": 112.75, "lat": 37.65, "channel": "grid_patrol"}),
    )
    .await;
    let own_id = own["id"].as_str().unwrap();
    let (_, tasks, _) = request(&s, "GET", "/ui/worker", &auth[..1], None).await;
    assert!(tasks.contains(own_id), "the report is among my tasks");
    let (status, block, _) = request(
        &s,
        "POST",
        &format!("/ui/cases/{own_id}/acts"),
        &auth,
        Some(
            "act=settle_on_spot&version=1&note=%E5%B7%B2%E7%9B%96%E5%A5%BD&attachments=".to_owned(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{block}");
    let settled = s.app.case_view(own_id).await.unwrap();
    assert_eq!(settled.records.last().unwrap().act, "settle_on_spot");
    assert_eq!(settled.records.last().unwrap().role, "grid_worker");
    assert_eq!(
        settled.case.state.as_str(),
        "reported_back",
        "waits for verification"
    );

    // A hotline case left waiting for dispatch until it runs over: the centre's watch list.
    let late = report_case(
        &s,
        json!({"description": "占道经营", "lon": 112.75, "lat": 37.65, "channel": "hotline"}),
    )
    .await;
    let late = common::act_as(&s, late, "centre_intake", json!({"act": "accept"})).await;
    common::act_as(
        &s,
        late.clone(),
        "centre_intake",
        json!({"act": "register", "category": "0901"}),
    )
    .await;
    s.app
        .sweep_overdue(chrono::Utc::now() + chrono::Duration::days(30))
        .await
        .unwrap();
    let (status, centre, _) = request(&s, "GET", "/ui/centre", &auth[..1], None).await;
    assert_eq!(status, StatusCode::OK);
    let watch = centre
        .split("id=\"q-watch\"")
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .unwrap();
    assert!(
        watch.contains(late["id"].as_str().unwrap()),
        "the overdue case is watched: {watch}"
    );
}

#[tokio::test]
async fn an_administrator_changes_roles_and_a_bad_role_is_named_beside_the_field() {
    let s = server().await;
    let token = common::token_for(&s, "anquan", &["security_admin@140700"]).await;
    let bearer = format!("Bearer {token}");
    let auth = [("authorization", bearer.as_str())];
    let system = onegrid_app::access::Principal::system();
    let account = s
        .app
        .create_account(
            &system,
            "wu",
            "吴六",
            Some("Tester#2026x"),
            onegrid_app::access::parse_assignment_list(
                &["grid_worker@140702001001001".to_owned()],
                "",
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let uri = format!("/ui/admin/accounts/{}/roles", account.id);

    let (status, page, _) = request(
        &s,
        "POST",
        &uri,
        &auth,
        Some("roles=mayor%40140702".to_owned()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"err-roles\""), "{page}");
    let unchanged = s.app.store().account(&account.id).await.unwrap().unwrap();
    assert_eq!(unchanged.assignments[0].role, "grid_worker");

    let (status, page, _) = request(
        &s,
        "POST",
        &uri,
        &auth,
        Some("roles=grid_worker%40140702001001001%0Acommunity_staff%40140702001001".to_owned()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("角色已保存"));
    let changed = s.app.store().account(&account.id).await.unwrap().unwrap();
    let mut roles: Vec<&str> = changed
        .assignments
        .iter()
        .map(|a| a.role.as_str())
        .collect();
    roles.sort_unstable();
    assert_eq!(roles, ["community_staff", "grid_worker"]);

    // The taxonomy and grid pages are the system administrator's, not the security one's.
    let (status, _, _) = request(&s, "GET", "/ui/admin/taxonomy", &auth, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
