//! The case loop through the HTTP API: every path of the closed loop, checked against the
//! full-process record, plus idempotency, versions and the error shapes.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{TestServer as Server, call, server, token_for};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// The code of the 小类 with this name in the taxonomy in force.
async fn category(server: &Server, name: &str) -> String {
    let (_, taxonomy, _) = call(server, "GET", "/api/v1/taxonomy", None, &[]).await;
    for major in taxonomy["categories"].as_array().unwrap() {
        for minor in major["minors"].as_array().unwrap() {
            if minor["name"] == name {
                return minor["code"].as_str().unwrap().to_owned();
            }
        }
    }
    panic!("no 小类 named {name}");
}

async fn report(server: &Server, channel: &str, description: &str) -> Value {
    let (status, case, _) = call(
        server,
        "POST",
        "/api/v1/cases",
        Some(json!({
            "description": description,
            "lon": 112.75, "lat": 37.65,
            "channel": channel,
            "reporter": {"name": "张三", "phone": "13812341234"}
        })),
        &[("x-acting-role", "grid_worker")],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    case
}

/// Takes an act at the case's current version and returns the case after it.
async fn act(server: &Server, case: &Value, fields: Value) -> Value {
    let (status, body) = try_act(server, case, fields.clone()).await;
    assert_eq!(status, StatusCode::OK, "{fields} → {body}");
    body
}

/// The role that takes each act in these stories.
fn role_for(act: &str) -> &'static str {
    match act {
        "accept" | "reject" | "register" | "follow_up" => "centre_intake",
        "dispatch" | "close" => "centre_dispatcher",
        "sign" | "return" | "handle" | "report_back" => "unit_handler",
        "verify_pass" | "verify_fail" | "settle_on_spot" => "grid_worker",
        _ => "centre_lead",
    }
}

async fn try_act(server: &Server, case: &Value, mut fields: Value) -> (StatusCode, Value) {
    let role = role_for(fields["act"].as_str().unwrap_or(""));
    try_act_as(server, case, &mut fields, role).await
}

async fn try_act_as(
    server: &Server,
    case: &Value,
    fields: &mut Value,
    role: &str,
) -> (StatusCode, Value) {
    fields["version"] = case["version"].clone();
    let uri = format!("/api/v1/cases/{}/acts", case["id"].as_str().unwrap());
    let (status, body, _) = call(
        server,
        "POST",
        &uri,
        Some(fields.clone()),
        &[("x-acting-role", role)],
    )
    .await;
    (status, body)
}

async fn record_of(server: &Server, case: &Value) -> Vec<(String, String, String)> {
    let uri = format!("/api/v1/cases/{}", case["id"].as_str().unwrap());
    let (status, full, _) = call(server, "GET", &uri, None, &[]).await;
    assert_eq!(status, StatusCode::OK);
    full["record"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["act"].as_str().unwrap().to_owned(),
                r["from_state"].as_str().unwrap_or("-").to_owned(),
                r["to_state"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect()
}

fn acts(record: &[(String, String, String)]) -> Vec<&str> {
    record.iter().map(|(act, _, _)| act.as_str()).collect()
}

#[tokio::test]
async fn the_whole_loop_from_report_to_rating() {
    let server = server().await;
    let dispute = category(&server, "邻里纠纷").await;
    let case = report(&server, "resident", "楼上邻居深夜噪音扰民，多次协商无果").await;
    assert_eq!(case["state"], "reported");
    assert_eq!(case["grid"], "140702001001001");
    assert_eq!(case["chain"][3]["code"], "140702");
    assert_eq!(case["reporter"]["name"], "张某");
    assert_eq!(case["reporter"]["phone"], "138****1234");
    assert_eq!(
        case["legal_acts"],
        // A resident's report sits at the township centre: no settling on the spot there.
        json!(["accept", "reject", "escalate", "void"])
    );
    assert!(case["number"].as_str().unwrap().starts_with("140702"));
    assert!(case["stage"]["deadline"].is_string(), "{case}");

    let case = act(&server, &case, json!({"act": "accept"})).await;
    let case = act(
        &server,
        &case,
        json!({"act": "register", "category": dispute}),
    )
    .await;
    assert_eq!(case["category"]["name"], "邻里纠纷");
    // The full case suggests units from the responsibility matrix.
    let (_, full, _) = call(
        &server,
        "GET",
        &format!("/api/v1/cases/{}", case["id"].as_str().unwrap()),
        None,
        &[],
    )
    .await;
    let suggestion = full["suggestions"][0]["unit"]
        .as_str()
        .expect("a suggested unit")
        .to_owned();
    let case = act(
        &server,
        &case,
        json!({"act": "dispatch", "unit": suggestion}),
    )
    .await;
    assert_eq!(case["state"], "dispatched");
    let case = act(&server, &case, json!({"act": "sign"})).await;
    assert_eq!(case["state"], "handling");
    let case = act(&server, &case, json!({"act": "handle", "note": "上门调解"})).await;
    let case = act(
        &server,
        &case,
        json!({"act": "report_back", "note": "双方达成谅解", "attachments": ["abc"]}),
    )
    .await;
    let case = act(&server, &case, json!({"act": "verify_pass"})).await;
    let case = act(&server, &case, json!({"act": "close"})).await;
    assert_eq!(case["state"], "closed");
    let case = act(
        &server,
        &case,
        json!({"act": "follow_up", "satisfaction": "satisfied"}),
    )
    .await;
    assert_eq!(case["state"], "evaluated");
    assert_eq!(case["legal_acts"], json!([]));
    let record = record_of(&server, &case).await;
    assert_eq!(
        acts(&record),
        [
            "report",
            "accept",
            "register",
            "dispatch",
            "sign",
            "handle",
            "report_back",
            "verify_pass",
            "close",
            "follow_up"
        ]
    );
    assert_eq!(
        record[3],
        (
            "dispatch".to_owned(),
            "registered".to_owned(),
            "dispatched".to_owned()
        )
    );
    // The record names who acted, in which role.
    let (_, full, _) = call(
        &server,
        "GET",
        &format!("/api/v1/cases/{}", case["id"].as_str().unwrap()),
        None,
        &[],
    )
    .await;
    assert_eq!(full["record"][0]["actor"], "李网格(li)");
    assert_eq!(full["record"][0]["role"], "grid_worker");
    assert_eq!(full["record"][1]["role"], "centre_intake");
    assert_eq!(full["record"][4]["role"], "unit_handler");
    assert_eq!(full["record"][6]["attachments"], json!(["abc"]));
}

#[tokio::test]
async fn return_rework_suspend_extend_and_reopen_after_unsatisfied() {
    let server = server().await;
    let dispute = category(&server, "邻里纠纷").await;
    let case = report(&server, "hotline", "小区内私搭乱建引发邻里纠纷").await;
    assert_eq!(case["tier"], "county");
    let case = act(&server, &case, json!({"act": "accept"})).await;
    let case = act(
        &server,
        &case,
        json!({"act": "register", "category": dispute, "urgency": "urgent"}),
    )
    .await;
    let case = act(
        &server,
        &case,
        json!({"act": "dispatch", "unit": "140702:城管局"}),
    )
    .await;
    // 退回: not ours.
    let (status, error) = try_act(&server, &case, json!({"act": "return", "reason": ""})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let case = act(
        &server,
        &case,
        json!({"act": "return", "reason": "不属于本单位职责"}),
    )
    .await;
    assert_eq!(case["state"], "registered");
    assert!(case["unit"].is_null());
    let case = act(
        &server,
        &case,
        json!({"act": "dispatch", "unit": "140702001:gov", "tier": "township"}),
    )
    .await;
    let case = act(&server, &case, json!({"act": "sign"})).await;
    // 挂账 and back.
    let case = act(
        &server,
        &case,
        json!({"act": "suspend", "reason": "等待法院判决"}),
    )
    .await;
    assert_eq!(case["state"], "suspended");
    assert_eq!(case["legal_acts"], json!(["resume", "urge", "void"]));
    let case = act(&server, &case, json!({"act": "resume"})).await;
    assert_eq!(case["state"], "handling");
    // 延期 moves the deadline later.
    let before = case["stage"]["deadline"].as_str().unwrap().to_owned();
    let case = act(
        &server,
        &case,
        json!({"act": "extend", "amount": 2, "unit": "working_days", "reason": "需要现场测量"}),
    )
    .await;
    assert!(case["stage"]["deadline"].as_str().unwrap() > before.as_str());
    // 返工.
    let case = act(
        &server,
        &case,
        json!({"act": "report_back", "note": "已处理"}),
    )
    .await;
    let case = act(
        &server,
        &case,
        json!({"act": "verify_fail", "note": "现场仍未拆除"}),
    )
    .await;
    assert_eq!(case["state"], "handling");
    let case = act(
        &server,
        &case,
        json!({"act": "report_back", "note": "已拆除"}),
    )
    .await;
    let case = act(&server, &case, json!({"act": "verify_pass"})).await;
    let case = act(&server, &case, json!({"act": "close"})).await;
    // 不满意 → reopen.
    let case = act(
        &server,
        &case,
        json!({"act": "follow_up", "satisfaction": "unsatisfied", "note": "反弹"}),
    )
    .await;
    assert_eq!(case["legal_acts"], json!(["reopen"]));
    let case = act(
        &server,
        &case,
        json!({"act": "reopen", "reason": "群众不满意，重新办理"}),
    )
    .await;
    assert_eq!(case["state"], "registered");
    assert_eq!(case["counts"]["returns"], 1);
    assert_eq!(case["counts"]["reworks"], 1);
    assert_eq!(case["counts"]["extensions"], 1);
    assert_eq!(case["counts"]["suspensions"], 1);
    assert_eq!(case["counts"]["reopens"], 1);
    let record = record_of(&server, &case).await;
    assert_eq!(
        acts(&record),
        [
            "report",
            "accept",
            "register",
            "dispatch",
            "return",
            "dispatch",
            "sign",
            "suspend",
            "resume",
            "extend",
            "report_back",
            "verify_fail",
            "report_back",
            "verify_pass",
            "close",
            "follow_up",
            "reopen"
        ]
    );
    assert_eq!(
        record[11],
        (
            "verify_fail".to_owned(),
            "reported_back".to_owned(),
            "handling".to_owned()
        )
    );
}

#[tokio::test]
async fn escalation_twice_on_the_spot_void_and_reject() {
    let server = server().await;
    // 上报 twice: grid → village → township.
    let case = report(&server, "grid_patrol", "河道边发现大量建筑垃圾").await;
    assert_eq!(case["tier"], "grid");
    let case = act(
        &server,
        &case,
        json!({"act": "escalate", "reason": "网格内无法处置"}),
    )
    .await;
    assert_eq!(
        (case["tier"].as_str(), case["state"].as_str()),
        (Some("village"), Some("registered"))
    );
    let case = act(
        &server,
        &case,
        json!({"act": "escalate", "reason": "需乡镇协调"}),
    )
    .await;
    assert_eq!(case["tier"], "township");
    assert_eq!(case["counts"]["escalations"], 2);
    // 督办 with a due date.
    let due = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    let case = act(
        &server,
        &case,
        json!({"act": "urge", "due": due, "note": "限期处理"}),
    )
    .await;
    assert_eq!(case["counts"]["urges"], 1);
    // 作废, and then nothing is legal.
    let case = act(&server, &case, json!({"act": "void", "reason": "重复录入"})).await;
    assert_eq!(case["state"], "voided");
    let (status, error) = try_act(&server, &case, json!({"act": "accept"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error["error"]["code"], "conflict");
    assert!(
        error["error"]["message"].as_str().unwrap().contains("none"),
        "{error}"
    );
    assert_eq!(
        acts(&record_of(&server, &case).await),
        ["report", "escalate", "escalate", "urge", "void"]
    );

    // 就地处置: straight to verification.
    let small = report(&server, "grid_patrol", "井盖松动，已现场复位").await;
    let small = act(
        &server,
        &small,
        json!({"act": "settle_on_spot", "note": "已复位并设置警示"}),
    )
    .await;
    assert_eq!(small["state"], "reported_back");
    let small = act(&server, &small, json!({"act": "verify_pass"})).await;
    let small = act(&server, &small, json!({"act": "close"})).await;
    assert_eq!(small["state"], "closed");
    // A township-tier case cannot be settled on the spot: the act is not legal there.
    let resident = report(&server, "resident", "路灯不亮").await;
    let (status, _) = try_act(
        &server,
        &resident,
        json!({"act": "settle_on_spot", "note": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // 不予受理 as a duplicate of the earlier case.
    let duplicate = act(
        &server,
        &resident,
        json!({"act": "reject", "reason": {"kind": "duplicate", "of": small["number"]}}),
    )
    .await;
    assert_eq!(duplicate["state"], "rejected");
}

#[tokio::test]
async fn illegal_acts_and_stale_versions_are_409_naming_the_legal_acts() {
    let server = server().await;
    let case = report(&server, "resident", "占道经营").await;
    let (status, error) = try_act(&server, &case, json!({"act": "close"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("accept, reject, escalate, void"),
        "{message}"
    );
    let accepted = act(&server, &case, json!({"act": "accept"})).await;
    // The version the first caller saw is stale now.
    let (status, error) = try_act(
        &server,
        &case,
        json!({"act": "reject", "reason": {"kind": "invalid"}}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("version 2"),
        "{error}"
    );
    // Unknown acts and fields are 422, a missing version 400.
    let (status, _) = try_act(&server, &accepted, json!({"act": "teleport"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = try_act(
        &server,
        &accepted,
        json!({"act": "register", "colour": "red"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let uri = format!("/api/v1/cases/{}/acts", case["id"].as_str().unwrap());
    let (status, _, _) = call(&server, "POST", &uri, Some(json!({"act": "register"})), &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // 立案 without a category is refused with the reason.
    let (status, error) = try_act(&server, &accepted, json!({"act": "register"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("category")
    );
}

#[tokio::test]
async fn two_people_acting_at_once_exactly_one_wins() {
    let server = server().await;
    let case = report(&server, "resident", "暴露垃圾").await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let app = server.app.clone();
        let id = case["id"].as_str().unwrap().to_owned();
        let bearer = format!("Bearer {}", server.token);
        tasks.push(tokio::spawn(async move {
            let request = Request::post(format!("/api/v1/cases/{id}/acts"))
                .header("content-type", "application/json")
                .header("authorization", bearer)
                .header("x-acting-role", "centre_intake")
                .body(Body::from(
                    json!({"act": "accept", "version": 1}).to_string(),
                ))
                .unwrap();
            onegrid_server::router(app)
                .oneshot(request)
                .await
                .unwrap()
                .status()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        7
    );
    assert_eq!(acts(&record_of(&server, &case).await), ["report", "accept"]);
}

#[tokio::test]
async fn idempotency_keys_replay_the_first_answer_and_refuse_another_body() {
    let server = server().await;
    let body =
        json!({"description": "电动车楼道充电", "lon": 112.75, "lat": 37.65, "channel": "open311"});
    let headers = [("idempotency-key", "k-1")];
    let (first_status, first, _) = call(
        &server,
        "POST",
        "/api/v1/cases",
        Some(body.clone()),
        &headers,
    )
    .await;
    assert_eq!(first_status, StatusCode::CREATED);
    let (again_status, again, again_headers) = call(
        &server,
        "POST",
        "/api/v1/cases",
        Some(body.clone()),
        &headers,
    )
    .await;
    assert_eq!(again_status, StatusCode::CREATED);
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["number"], first["number"]);
    assert_eq!(again_headers["idempotent-replayed"], "true");
    let mut other = body.clone();
    other["description"] = json!("另一件事");
    let (status, error, _) = call(&server, "POST", "/api/v1/cases", Some(other), &headers).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error"]["code"], "idempotency_key_reused");
    let (_, list, _) = call(&server, "GET", "/api/v1/cases", None, &[]).await;
    assert_eq!(list["cases"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn bad_reports_name_the_field() {
    let server = server().await;
    let cases = [
        (
            json!({"description": "", "lon": 112.75, "lat": 37.65, "channel": "resident"}),
            "description",
        ),
        (
            json!({"description": "x", "lon": 100.0, "lat": 30.0, "channel": "resident"}),
            "lon/lat",
        ),
        (
            json!({"description": "x", "channel": "resident"}),
            "lon and lat",
        ),
        (
            json!({"description": "x", "grid": "140702001001009", "channel": "resident"}),
            "grid",
        ),
        (
            json!({"description": "x", "lon": 112.75, "lat": 37.65, "channel": "pigeon"}),
            "channel",
        ),
        (
            json!({"description": "x", "lon": 112.75, "lat": 37.65, "channel": "resident", "category": "9999"}),
            "category",
        ),
        (
            json!({"description": "x", "lon": 112.75, "lat": 37.65, "channel": "resident", "urgency": "yesterday"}),
            "urgency",
        ),
    ];
    for (body, field) in cases {
        let (status, error, _) =
            call(&server, "POST", "/api/v1/cases", Some(body.clone()), &[]).await;
        assert!(status.is_client_error(), "{body} → {status}");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(field),
            "{body}: '{message}' should name {field}"
        );
    }
    // A grid chosen by hand works where there is no point.
    let (status, case, _) = call(
        &server,
        "POST",
        "/api/v1/cases",
        Some(json!({"description": "x", "grid": "140702001001001", "channel": "hotline"})),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    assert_eq!(case["chain"][1]["code"], "140702001001");
}

#[tokio::test]
async fn the_list_filters_and_pages_with_a_cursor() {
    let server = server().await;
    for i in 0..7 {
        let channel = if i % 2 == 0 { "resident" } else { "hotline" };
        report(&server, channel, &format!("第{i}件")).await;
    }
    let (_, page, _) = call(&server, "GET", "/api/v1/cases?limit=3", None, &[]).await;
    assert_eq!(page["cases"].as_array().unwrap().len(), 3);
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let (_, second, _) = call(
        &server,
        "GET",
        &format!("/api/v1/cases?limit=3&cursor={cursor}"),
        None,
        &[],
    )
    .await;
    let (_, third, _) = call(
        &server,
        "GET",
        &format!(
            "/api/v1/cases?limit=3&cursor={}",
            second["next_cursor"].as_str().unwrap()
        ),
        None,
        &[],
    )
    .await;
    assert_eq!(third["cases"].as_array().unwrap().len(), 1);
    assert!(third["next_cursor"].is_null());
    // Newest first, and no case twice.
    let mut seen: Vec<String> = Vec::new();
    for p in [&page, &second, &third] {
        for case in p["cases"].as_array().unwrap() {
            seen.push(case["description"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(
        seen,
        [
            "第6件", "第5件", "第4件", "第3件", "第2件", "第1件", "第0件"
        ]
    );
    for (query, expected) in [
        ("channel=hotline", 3),
        ("channel=resident&region=140702", 4),
        ("region=140703", 0),
        ("grid=140702001001001", 7),
        ("region=140702001", 7),
        ("state=reported", 7),
        ("state=accepted,closed", 0),
        ("tier=county", 3),
        ("overdue=true", 0),
        ("from=2000-01-01&to=2999-12-31", 7),
        ("to=2000-01-01", 0),
    ] {
        let (status, list, _) =
            call(&server, "GET", &format!("/api/v1/cases?{query}"), None, &[]).await;
        assert_eq!(status, StatusCode::OK, "{query}: {list}");
        assert_eq!(list["cases"].as_array().unwrap().len(), expected, "{query}");
    }
    let (status, _, _) = call(&server, "GET", "/api/v1/cases?state=nonsense", None, &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn attachments_are_stored_by_content_hash() {
    let server = server().await;
    let png = b"\x89PNG\r\n\x1a\n fake image bytes".to_vec();
    let request = Request::post("/api/v1/attachments")
        .header("content-type", "image/png")
        .body(Body::from(png.clone()))
        .unwrap();
    let response = onegrid_server::router(server.app.clone())
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let hash = body["hash"].as_str().unwrap().to_owned();
    assert_eq!(hash, onegrid_store::audit::sha256_hex(&png));
    // Read back only through a case that lists it, by someone who may read that case.
    let (status, case, _) = call(
        &server,
        "POST",
        "/api/v1/cases",
        Some(
            json!({"description": "占道经营", "lon": 112.75, "lat": 37.65,
                    "channel": "grid_patrol", "attachments": [hash]}),
        ),
        &[("x-acting-role", "grid_worker")],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    let uri = format!(
        "/api/v1/cases/{}/attachments/{hash}",
        case["id"].as_str().unwrap()
    );
    let bearer = format!("Bearer {}", server.token);
    let response = onegrid_server::router(server.app.clone())
        .oneshot(
            Request::get(&uri)
                .header("authorization", &bearer)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
        png
    );
    let (status, _, _) = call(
        &server,
        "GET",
        &uri,
        None,
        &[("authorization", "anonymous")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let other = format!(
        "/api/v1/cases/{}/attachments/{}",
        case["id"].as_str().unwrap(),
        "0".repeat(64)
    );
    let (status, _, _) = call(&server, "GET", &other, None, &[]).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a hash the case does not list"
    );
    let request = Request::post("/api/v1/attachments")
        .header("content-type", "text/html")
        .body(Body::from("<script>"))
        .unwrap();
    let response = onegrid_server::router(server.app.clone())
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn the_record_verifies() {
    let server = server().await;
    let case = report(&server, "resident", "噪音").await;
    act(&server, &case, json!({"act": "accept"})).await;
    // Only the audit administrator verifies the record.
    let (status, _, _) = call(&server, "GET", "/api/v1/audit/verify", None, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let auditor = format!(
        "Bearer {}",
        token_for(&server, "auditor", &["audit_admin@140700"]).await
    );
    let (status, report, _) = call(
        &server,
        "GET",
        "/api/v1/audit/verify",
        None,
        &[("authorization", &auditor)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["intact"], true, "{report}");
    // The case's two acts, and the security events of making two accounts and their tokens.
    assert_eq!(report["records"], 2 + 4);
}

#[tokio::test]
async fn only_the_roles_that_may_act_do() {
    let server = server().await;
    let case = report(&server, "resident", "噪声扰民").await;
    // A grid worker may not accept; a handler may not void; nobody may mark overdue by hand.
    let (status, error) =
        try_act_as(&server, &case, &mut json!({"act": "accept"}), "grid_worker").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    assert_eq!(error["error"]["code"], "forbidden");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("centre_intake"),
        "{error}"
    );
    // A handler sees only the cases of their unit: this one is "not found" to them.
    let (status, _) = try_act_as(
        &server,
        &case,
        &mut json!({"act": "void", "reason": "x"}),
        "unit_handler",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A leader sees it but may only urge.
    let (status, _) = try_act_as(
        &server,
        &case,
        &mut json!({"act": "void", "reason": "x"}),
        "leader",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // One cannot act in a role one does not hold.
    let (status, error) = try_act_as(
        &server,
        &case,
        &mut json!({"act": "void", "reason": "x"}),
        "api",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    let (status, _) = try_act_as(
        &server,
        &case,
        &mut json!({"act": "mark_overdue"}),
        "centre_lead",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Nothing was recorded for the refused acts.
    assert_eq!(acts(&record_of(&server, &case).await), ["report"]);
}
