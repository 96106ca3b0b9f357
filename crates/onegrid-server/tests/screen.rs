//! The screen's routes without a browser: the page and its assets (types, caching, the
//! region filled in, 404 for an unknown region), the trend with every step present, the open
//! overdue list, and the event stream that announces a change.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{TestServer, act_as, call, report_case, server, today};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn get_raw(server: &TestServer, uri: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = onegrid_server::router(server.app.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn in_grid(text: &str) -> Value {
    json!({"description": text, "lon": 112.75, "lat": 37.65, "channel": "resident"})
}

#[tokio::test]
async fn the_page_names_its_region_and_its_assets_are_embedded_with_their_types() {
    let server = server().await;
    let (status, headers, _) = get_raw(&server, "/screen").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/screen/140700", "the only city");

    let (status, headers, page) = get_raw(&server, "/screen/140702").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert!(
        headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    assert!(page.contains("<title>榆次区 · 一网通管指挥中心</title>"));
    assert!(page.contains("data-region=\"140702\""));
    assert!(page.contains("lang=\"zh-CN\""));
    assert!(!page.contains("{{"), "every placeholder is filled");
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "nothing from the internet"
    );

    // Every script and stylesheet the page names is served from the binary.
    for (reference, content_type) in [
        (
            "src=\"/assets/vendor/echarts-6.1.0/echarts.min.js\"",
            "text/javascript; charset=utf-8",
        ),
        (
            "src=\"/assets/screen.js?v=",
            "text/javascript; charset=utf-8",
        ),
        ("href=\"/assets/screen.css?v=", "text/css; charset=utf-8"),
    ] {
        let start = page
            .find(reference)
            .unwrap_or_else(|| panic!("{reference} in the page"))
            + reference.find('/').unwrap();
        let uri: String = page[start..].chars().take_while(|c| *c != '"').collect();
        let (status, headers, body) = get_raw(&server, &uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(headers[header::CONTENT_TYPE], content_type, "{uri}");
        assert_eq!(
            headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable",
            "{uri}"
        );
        assert!(body.len() > 1000, "{uri} has content");
    }
    let (_, headers, _) = get_raw(&server, "/assets/screen.js").await;
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "no-cache",
        "without its tag it is revalidated"
    );
    let (status, _, notice) = get_raw(&server, "/assets/vendor/echarts-6.1.0/NOTICE").await;
    assert_eq!(status, StatusCode::OK);
    assert!(notice.contains("Apache ECharts"));

    let (status, headers, page) = get_raw(&server, "/screen/140799").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert!(page.contains("未找到区域 140799") && page.contains("href=\"/screen\""));
    let (status, _, _) = get_raw(&server, "/screen/not-a-code").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_trend_has_every_step_of_the_period() {
    let server = server().await;
    let a = report_case(&server, in_grid("邻里噪音纠纷")).await;
    act_as(&server, a, "centre_intake", json!({"act": "accept"})).await;
    report_case(&server, in_grid("门口占道摆摊")).await;

    let day = today();
    let from = (chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").unwrap()
        - chrono::Duration::days(9))
    .format("%Y-%m-%d")
    .to_string();
    let (status, trend, _) = call(
        &server,
        "GET",
        &format!("/api/v1/regions/140700/trend?from={from}&to={day}"),
        None,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{trend}");
    assert_eq!(trend["step"], "day", "ten days are shown by day");
    let points = trend["points"].as_array().unwrap();
    assert_eq!(points.len(), 10, "one point per day, empty days included");
    assert_eq!(points[0]["label"], from);
    assert_eq!(points[0]["reported"], 0);
    let last = &points[9];
    assert_eq!(
        (
            last["label"].as_str().unwrap(),
            last["reported"].as_i64(),
            last["accepted"].as_i64()
        ),
        (day.as_str(), Some(2), Some(1))
    );

    let (_, monthly, _) = call(
        &server,
        "GET",
        "/api/v1/regions/140702/trend?from=2025-01-15&to=2025-12-31&step=month",
        None,
        &[],
    )
    .await;
    let labels: Vec<&str> = monthly["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels.len(), 12);
    assert_eq!((labels[0], labels[11]), ("2025-01", "2025-12"));
    assert_eq!(
        monthly["points"][0]["start"], "2025-01-15",
        "the first step is clipped to the period"
    );

    let (_, weekly, _) = call(
        &server,
        "GET",
        "/api/v1/regions/140702/trend?from=2026-03-01&to=2026-03-31&step=week",
        None,
        &[],
    )
    .await;
    // 1 March 2026 is a Sunday: its ISO week 9 begins on 23 February.
    let labels: Vec<&str> = weekly["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "2026-W09", "2026-W10", "2026-W11", "2026-W12", "2026-W13", "2026-W14"
        ]
    );

    for bad in [
        "/api/v1/regions/140700/trend?from=2026-03-01&to=2026-02-01",
        "/api/v1/regions/140700/trend?from=2026-03-01&to=2026-03-02&step=hour",
        "/api/v1/regions/140700/trend?from=yesterday&to=2026-03-02",
    ] {
        let (status, body, _) = call(&server, "GET", bad, None, &[]).await;
        assert!(status.is_client_error(), "{bad}: {status} {body}");
        assert!(body["error"]["message"].is_string());
    }
    let (status, _, _) = call(
        &server,
        "GET",
        "/api/v1/regions/140799/trend?from=2026-03-01&to=2026-03-02",
        None,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The figures are for signed-in staff: no credential, no trend.
    let (status, _, _) = call(
        &server,
        "GET",
        "/api/v1/regions/140700/trend?from=2026-03-01&to=2026-03-02",
        None,
        &[("authorization", "anonymous")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_overdue_list_holds_open_cases_past_their_deadline() {
    let server = server().await;
    let late = report_case(&server, in_grid("井盖缺失 联系人13812341234")).await;
    let late = act_as(&server, late, "centre_intake", json!({"act": "accept"})).await;
    let late = act_as(
        &server,
        late,
        "centre_intake",
        json!({"act": "register", "category": "0901"}),
    )
    .await;
    let closed = report_case(
        &server,
        json!({"description": "路灯不亮", "lon": 112.75, "lat": 37.65, "channel": "grid_patrol"}),
    )
    .await;
    let closed = act_as(
        &server,
        closed,
        "grid_worker",
        json!({"act": "settle_on_spot", "note": "已修复"}),
    )
    .await;
    let closed = act_as(
        &server,
        closed,
        "grid_worker",
        json!({"act": "verify_pass"}),
    )
    .await;
    act_as(
        &server,
        closed,
        "centre_dispatcher",
        json!({"act": "close"}),
    )
    .await;

    let (_, empty, _) = call(&server, "GET", "/api/v1/regions/140700/overdue", None, &[]).await;
    assert_eq!(empty["cases"], json!([]), "nothing is overdue yet");

    // A month later, as the sweep sees it: the registered case waited too long for dispatch.
    server
        .app
        .sweep_overdue(chrono::Utc::now() + chrono::Duration::days(30))
        .await
        .unwrap();
    let (status, list, _) = call(
        &server,
        "GET",
        "/api/v1/regions/140700/overdue?limit=10",
        None,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let cases = list["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 1, "only the open case: {list}");
    let item = &cases[0];
    assert_eq!(item["id"], late["id"]);
    assert_eq!(
        item["category_name"].as_str().map(|n| !n.is_empty()),
        Some(true)
    );
    assert!(
        item["description"]
            .as_str()
            .unwrap()
            .contains("138****1234"),
        "masked: {item}"
    );
    let chain: Vec<&str> = item["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["code"].as_str().unwrap())
        .collect();
    assert_eq!(chain.first(), Some(&"140702001001001"));
    assert!(chain.contains(&"140700"));
    assert_eq!(list["more"], false);

    let (_, other, _) = call(&server, "GET", "/api/v1/regions/140703/overdue", None, &[]).await;
    assert_eq!(other["cases"], json!([]), "太谷区 has none");

    // Someone whose reports stop at 太谷区 sees nothing of 榆次区's list.
    let taigu = common::token_for(&server, "taigu", &["leader@140703"]).await;
    let bearer = format!("Bearer {taigu}");
    let (status, _, _) = call(
        &server,
        "GET",
        "/api/v1/regions/140702/overdue",
        None,
        &[("authorization", bearer.as_str())],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "outside their scope, as figures answer"
    );
}

/// The next server-sent event of a stream, as (event name, data), within `wait`.
async fn next_event(body: &mut Body, wait: Duration) -> Option<(String, Value)> {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if let Some(end) = text.find("\n\n") {
            let block = &text[..end];
            let name = block
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .map(str::to_owned);
            let data = block.lines().find_map(|l| l.strip_prefix("data: "));
            if let (Some(name), Some(data)) = (name, data) {
                return Some((name, serde_json::from_str(data).unwrap()));
            }
            text.drain(..end + 2);
            continue;
        }
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .ok()??
            .ok()?;
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
    }
}

#[tokio::test]
async fn the_event_stream_announces_a_change_in_the_region() {
    let server = server().await;
    let case = report_case(&server, in_grid("楼道堆放杂物")).await;
    let anonymous = onegrid_server::router(server.app.clone())
        .oneshot(
            Request::get("/api/v1/regions/140700/events")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let response = onegrid_server::router(server.app.clone())
        .oneshot(
            Request::get("/api/v1/regions/140700/events")
                .header("authorization", format!("Bearer {}", server.token))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    let mut body = response.into_body();
    let (name, ready) = next_event(&mut body, Duration::from_secs(5))
        .await
        .expect("a ready event");
    assert_eq!(name, "ready");

    // Nothing changes: no event within two polls.
    assert!(
        next_event(&mut body, Duration::from_millis(4500))
            .await
            .is_none()
    );

    act_as(&server, case, "centre_intake", json!({"act": "accept"})).await;
    let (name, change) = next_event(&mut body, Duration::from_secs(8))
        .await
        .expect("a change event");
    assert_eq!(name, "change");
    assert_ne!(change["mark"], ready["mark"]);

    // A county without the case hears nothing of it.
    let mark_elsewhere = server
        .app
        .change_mark(&onegrid_domain::RegionCode::parse("140703").unwrap())
        .await
        .unwrap();
    assert_eq!(mark_elsewhere, 0);

    let (status, _, _) = call(&server, "GET", "/api/v1/regions/140799/events", None, &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
