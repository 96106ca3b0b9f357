//! Figures, rankings and reports over a fixed set of cases, against values computed by hand
//! at city, county and grid level; the report's prose says exactly what the figures say.

mod common;

use axum::http::StatusCode;
use common::{TestServer, act_as, call, report_case, server, today};
use serde_json::{Value, json};

/// Five cases: A closed at township tier and rated satisfied; B settled on the spot in the
/// grid and closed; C rejected; D registered; E reported outside the grid (county only).
async fn fixed_cases(server: &TestServer) {
    let in_grid = |channel: &str, text: &str| json!({"description": text, "lon": 112.75, "lat": 37.65, "channel": channel});
    let a = report_case(server, in_grid("resident", "邻里噪音纠纷")).await;
    let a = act_as(server, a, "centre_intake", json!({"act": "accept"})).await;
    let a = act_as(
        server,
        a,
        "centre_intake",
        json!({"act": "register", "category": "0401"}),
    )
    .await;
    let a = act_as(
        server,
        a,
        "centre_dispatcher",
        json!({"act": "dispatch", "unit": "140702001:gov"}),
    )
    .await;
    let a = act_as(server, a, "unit_handler", json!({"act": "sign"})).await;
    let a = act_as(
        server,
        a,
        "unit_handler",
        json!({"act": "report_back", "note": "调解完毕"}),
    )
    .await;
    let a = act_as(server, a, "grid_worker", json!({"act": "verify_pass"})).await;
    let a = act_as(server, a, "centre_dispatcher", json!({"act": "close"})).await;
    act_as(
        server,
        a,
        "centre_intake",
        json!({"act": "follow_up", "satisfaction": "satisfied"}),
    )
    .await;

    let b = report_case(server, in_grid("grid_patrol", "井盖松动")).await;
    let b = act_as(
        server,
        b,
        "grid_worker",
        json!({"act": "settle_on_spot", "note": "已复位"}),
    )
    .await;
    let b = act_as(server, b, "grid_worker", json!({"act": "verify_pass"})).await;
    act_as(server, b, "centre_dispatcher", json!({"act": "close"})).await;

    let c = report_case(server, in_grid("hotline", "无效来电")).await;
    act_as(
        server,
        c,
        "centre_intake",
        json!({"act": "reject", "reason": {"kind": "invalid"}}),
    )
    .await;

    let d = report_case(server, in_grid("resident", "门口占道摆摊")).await;
    let d = act_as(server, d, "centre_intake", json!({"act": "accept"})).await;
    act_as(
        server,
        d,
        "centre_intake",
        json!({"act": "register", "category": "0901"}),
    )
    .await;

    report_case(
        server,
        json!({"description": "村口路灯不亮", "lon": 112.65, "lat": 37.55, "channel": "resident"}),
    )
    .await;
}

async fn figures(server: &TestServer, code: &str) -> Value {
    let day = today();
    let (status, body, _) = call(
        server,
        "GET",
        &format!("/api/v1/regions/{code}/figures?from={day}&to={day}"),
        None,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn rate(figures: &Value, name: &str) -> (i64, i64) {
    (
        figures[name]["numerator"].as_i64().unwrap(),
        figures[name]["denominator"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn figures_at_city_county_and_grid_match_hand_computed_values() {
    let server = server().await;
    fixed_cases(&server).await;

    let city = figures(&server, "140700").await;
    let f = &city["figures"];
    // By hand: 5 reported; accepted A, B, D; rejected C; registered A, B (on the spot), D;
    // dispatched A; handled A, B; closed A, B; rated A (satisfied).
    assert_eq!(f["counters"]["reported"], 5);
    assert_eq!(f["accepted"], 3);
    assert_eq!(f["rejected"], 1);
    assert_eq!(f["registered"], 3);
    assert_eq!(f["dispatched"], 1);
    assert_eq!(f["handled"], 2);
    assert_eq!(f["closed"], 2);
    assert_eq!(rate(f, "handle_rate"), (2, 3));
    assert_eq!(rate(f, "close_rate"), (2, 3));
    assert_eq!(rate(f, "satisfaction_rate"), (1, 1));
    assert_eq!(rate(f, "grid_settlement_rate"), (1, 2));
    assert_eq!(rate(f, "township_settlement_rate"), (2, 2));
    assert_eq!(rate(f, "rework_rate"), (0, 2));
    // Channel mix: A, D, E by residents; B by patrol; C by the hotline.
    let channels: Vec<(String, i64)> = city["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c[0].as_str().unwrap().to_owned(), c[1].as_i64().unwrap()))
        .collect();
    assert_eq!(
        channels,
        [
            ("grid_patrol".to_owned(), 1),
            ("hotline".to_owned(), 1),
            ("resident".to_owned(), 3)
        ]
    );
    // Categories: three uncategorised (B, C, E), one 矛盾纠纷, one 市容环境.
    assert_eq!(city["categories"][0], json!(["00", "未分类", 3]));
    assert_eq!(city["categories"].as_array().unwrap().len(), 3);
    // Children: 榆次区 has all five, 太谷区 none.
    assert_eq!(city["children"][0]["area"]["code"], "140702");
    assert_eq!(city["children"][0]["figures"]["counters"]["reported"], 5);
    assert_eq!(city["children"][1]["figures"]["counters"]["reported"], 0);

    // The county: the same five.
    let county = figures(&server, "140702").await;
    assert_eq!(county["figures"]["counters"], city["figures"]["counters"]);
    // The grid: E lies outside it.
    let grid = figures(&server, "140702001001001").await;
    assert_eq!(grid["figures"]["counters"]["reported"], 4);
    assert_eq!(grid["figures"]["accepted"], 3);
    assert_eq!(rate(&grid["figures"], "handle_rate"), (2, 3));

    // A period without cases has no rates, not zeros.
    let (_, empty, _) = call(
        &server,
        "GET",
        "/api/v1/regions/140700/figures?from=2001-01-01&to=2001-01-31",
        None,
        &[],
    )
    .await;
    assert_eq!(empty["figures"]["accepted"], 0);
    assert!(empty["figures"]["handle_rate"]["value"].is_null());
}

#[tokio::test]
async fn the_report_prose_says_exactly_what_the_figures_say() {
    let server = server().await;
    fixed_cases(&server).await;
    let day = today();
    let (status, report, _) = call(
        &server,
        "GET",
        &format!("/api/v1/reports/140700?from={day}&to={day}"),
        None,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let prose: Vec<&str> = report["prose"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(
        prose[0],
        "全市网格共受理各类有效事件3件，处置2件，处置率达67%。"
    );
    assert_eq!(
        prose[1],
        "立案3件，结案2件，结案率67%，按期结案率100%；不予受理1件，超期0件。"
    );
    assert_eq!(
        prose[2],
        "网格内解决率50%，乡镇内解决率100%，返工率0%，群众满意率100%。"
    );
    assert_eq!(
        prose[3],
        "高发事件类别为未分类（3件）、矛盾纠纷（1件）、市容环境（1件）。"
    );
    // The county speaks of itself as 全区.
    let (_, county, _) = call(
        &server,
        "GET",
        &format!("/api/v1/reports/140702?from={day}&to={day}"),
        None,
        &[],
    )
    .await;
    assert!(
        county["prose"][0]
            .as_str()
            .unwrap()
            .starts_with("全区网格共受理")
    );
    // Ranking: 榆次区 first (it has cases), 太谷区 without a score's worth of data after it.
    assert_eq!(report["ranking"][0]["area"]["code"], "140702");
    assert_eq!(report["ranking"][0]["rank"], 1);
    // Text and CSV carry the same numbers.
    let (status, _, headers) = call(
        &server,
        "GET",
        &format!("/api/v1/reports/140700?from={day}&to={day}&format=csv"),
        None,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = onegrid_report_text(&server, &day).await;
    assert!(
        text.contains("全市网格共受理各类有效事件3件，处置2件，处置率达67%。"),
        "{text}"
    );
}

async fn onegrid_report_text(server: &TestServer, day: &str) -> String {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let response = onegrid_server::router(server.app.clone())
        .oneshot(
            Request::get(format!(
                "/api/v1/reports/140700?from={day}&to={day}&format=text"
            ))
            .header("authorization", format!("Bearer {}", server.token))
            .body(Body::empty())
            .unwrap(),
        )
        .await
        .unwrap();
    String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap()
}

#[tokio::test]
async fn rankings_order_children_by_a_figure_or_a_composite() {
    let server = server().await;
    fixed_cases(&server).await;
    let day = today();
    let (status, ranked, _) = call(
        &server,
        "GET",
        &format!("/api/v1/regions/140700/ranking?from={day}&to={day}&by=accepted"),
        None,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ranked}");
    assert_eq!(ranked[0]["area"]["code"], "140702");
    assert_eq!(ranked[0]["score"], 3.0);
    assert_eq!(ranked[1]["score"], 0.0);
    let (status, ranked, _) = call(
        &server,
        "GET",
        &format!("/api/v1/regions/140700/ranking?from={day}&to={day}&weights=handle_rate:1"),
        None,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // 榆次区's 处置率 is 2/3; 太谷区 has none, which counts as 0 in a composite.
    assert!((ranked[0]["score"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    let (status, _, _) = call(
        &server,
        "GET",
        &format!("/api/v1/regions/140700/ranking?from={day}&to={day}&by=beauty"),
        None,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}
