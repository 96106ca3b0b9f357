//! What the API tests share: a fresh store with a small city (a county outline and one
//! grid), and one request through the router.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use onegrid_app::App;
use onegrid_app::areas::AreaImportOptions;
use onegrid_app::divisions::DivisionFile;
use onegrid_domain::Level;
use onegrid_geo::crs::Crs;
use onegrid_geo::geojson_io::FieldNames;
use serde_json::Value;
use tower::ServiceExt;

pub struct TestServer {
    pub app: App,
    /// A bearer token of the tester, who holds every working role over the test city (and
    /// picks one per request with `x-acting-role`).
    pub token: String,
    _dir: tempfile::TempDir,
}

/// The units the tester handles cases for.
pub const TEST_UNITS: [&str; 6] = [
    "140702:城管局",
    "140702:gov",
    "140702001:gov",
    "140702001001:gov",
    "140702001001001:gov",
    "140700:gov",
];

pub const DIVISIONS: &str = "code,name,parent_code,level
140000,山西省,,province
140700,晋中市,140000,city
140702,榆次区,140700,county
140703,太谷区,140700,county
140702001,北关街道,140702,township
140702001001,甲社区,140702001,village
";

pub async fn server() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let store = onegrid_store::open(&onegrid_store::Location::Directory(dir.path().to_owned()))
        .await
        .unwrap();
    let app = App::load(store).await.unwrap();
    app.import_divisions(&[DivisionFile {
        name: "d.csv".to_owned(),
        text: DIVISIONS.to_owned(),
    }])
    .await
    .unwrap();
    let county = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"code":"140702"},"geometry":{"type":"Polygon",
         "coordinates":[[[112.6,37.5],[112.9,37.5],[112.9,37.8],[112.6,37.8],[112.6,37.5]]]}}]}"#;
    let grid = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"code":"140702001001001","name":"甲一网格"},"geometry":{"type":"Polygon",
         "coordinates":[[[112.7,37.6],[112.8,37.6],[112.8,37.7],[112.7,37.7],[112.7,37.6]]]}}]}"#;
    for (level, text) in [(Level::County, county), (Level::Grid, grid)] {
        let options = AreaImportOptions {
            level,
            fields: FieldNames::default(),
            crs: Crs::Wgs84,
        };
        app.import_areas(text, &options).await.unwrap();
    }
    let token = tester_token(&app).await;
    TestServer {
        app,
        token,
        _dir: dir,
    }
}

/// Makes the tester's account and a token for it.
async fn tester_token(app: &App) -> String {
    let mut roles: Vec<String> = [
        "grid_worker@140702001001001",
        "community_staff@140702001001",
        "centre_intake@140700",
        "centre_dispatcher@140700",
        "centre_lead@140700",
        "leader@140700",
    ]
    .iter()
    .map(|r| (*r).to_owned())
    .collect();
    let departments: Vec<String> = app
        .rules()
        .taxonomy
        .departments
        .iter()
        .map(|d| d.kind.clone())
        .collect();
    for unit in TEST_UNITS {
        roles.push(format!("unit_handler@{unit}"));
    }
    for kind in departments {
        roles.push(format!("unit_handler@140702:{kind}"));
        roles.push(format!("unit_handler@140700:{kind}"));
        roles.push(format!("unit_handler@140702001:{kind}"));
    }
    let system = onegrid_app::access::Principal::system();
    let assignments = onegrid_app::access::parse_assignment_list(&roles, "").unwrap();
    app.create_account(&system, "li", "李网格", Some("Tester#2026x"), assignments)
        .await
        .unwrap();
    app.create_token(&system, "li", "tests", None)
        .await
        .unwrap()
        .token
}

/// One request through the router: status, JSON body (or null) and headers.
pub async fn call(
    server: &TestServer,
    method: &str,
    uri: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (StatusCode, Value, HeaderMap) {
    let mut request = Request::builder().method(method).uri(uri);
    // The tester's token unless the test brings its own credential (or none: `anonymous`).
    let brings_own = headers.iter().any(|(name, _)| {
        name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("cookie")
    });
    if !brings_own {
        request = request.header("authorization", format!("Bearer {}", server.token));
    }
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("authorization") && *value == "anonymous" {
            continue;
        }
        request = request.header(*name, *value);
    }
    let request = match body {
        Some(body) => request
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
        None => request.body(Body::empty()).unwrap(),
    };
    let response = onegrid_server::router(server.app.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value, headers)
}

/// Reports a case through the API; it must be created.
pub async fn report_case(server: &TestServer, body: Value) -> Value {
    let (status, case, _) = call(server, "POST", "/api/v1/cases", Some(body), &[]).await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    case
}

/// Takes one act in `role` at the case's current version; it must succeed.
pub async fn act_as(server: &TestServer, case: Value, role: &str, mut fields: Value) -> Value {
    fields["version"] = case["version"].clone();
    let uri = format!("/api/v1/cases/{}/acts", case["id"].as_str().unwrap());
    let (status, next, _) = call(
        server,
        "POST",
        &uri,
        Some(fields),
        &[("x-acting-role", role)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{next}");
    next
}

/// Today in Asia/Shanghai, as YYYY-MM-DD.
pub fn today() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m-%d")
        .to_string()
}

/// A token of a new account holding `roles` (`role@scope`).
pub async fn token_for(server: &TestServer, login: &str, roles: &[&str]) -> String {
    let system = onegrid_app::access::Principal::system();
    let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
    let assignments = onegrid_app::access::parse_assignment_list(&roles, "").unwrap();
    server
        .app
        .create_account(&system, login, login, Some("Tester#2026x"), assignments)
        .await
        .unwrap();
    server
        .app
        .create_token(&system, login, "tests", None)
        .await
        .unwrap()
        .token
}
