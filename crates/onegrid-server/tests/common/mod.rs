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
    _dir: tempfile::TempDir,
}

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
    TestServer { app, _dir: dir }
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
    for (name, value) in headers {
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
        &[("x-actor-role", role)],
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
