//! The HTTP API at its boundary: each test builds the router over its own fresh store and
//! sends it real requests.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use onegrid_app::App;
use onegrid_app::areas::AreaImportOptions;
use onegrid_app::divisions::DivisionFile;
use onegrid_domain::Level;
use onegrid_geo::crs::Crs;
use onegrid_geo::geojson_io::FieldNames;
use serde_json::Value;
use tower::ServiceExt;

struct TestServer {
    app: App,
    _dir: tempfile::TempDir,
}

const DIVISIONS: &str = "code,name,parent_code,level
140000,山西省,,province
140700,晋中市,140000,city
140702,榆次区,140700,county
140703,太谷区,140700,county
140702001,北关街道,140702,township
140702001001,甲社区,140702001,village
";

async fn server() -> TestServer {
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

async fn get(server: &TestServer, uri: &str) -> (StatusCode, Option<String>, Value) {
    let response = onegrid_server::router(server.app.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, content_type, body)
}

fn assert_error_shape(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(body["error"].get("details").is_some(), "{body}");
}

#[tokio::test]
async fn healthz_reports_the_engine_and_the_index() {
    let server = server().await;
    let (status, _, body) = get(&server, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["engine"], "sqlite");
    assert_eq!(body["indexed_areas"], 2);
}

#[tokio::test]
async fn locate_answers_the_grid_and_its_chain() {
    let server = server().await;
    let (status, _, body) = get(&server, "/api/v1/locate?lon=112.75&lat=37.65").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["grid"]["code"], "140702001001001");
    assert_eq!(body["grid"]["name"], "甲一网格");
    let chain: Vec<&str> = body["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|link| link["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        chain,
        [
            "140702001001001",
            "140702001001",
            "140702001",
            "140702",
            "140700",
            "140000"
        ]
    );
    assert_eq!(body["chain"][3]["level"], "county");
    assert_eq!(body["chain"][3]["level_label"], "县（区、市）");
}

#[tokio::test]
async fn locate_falls_back_to_the_deepest_area_then_404s() {
    let server = server().await;
    let (status, _, body) = get(&server, "/api/v1/locate?lon=112.65&lat=37.55").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["grid"].is_null());
    assert_eq!(body["area"]["code"], "140702");
    let (status, _, body) = get(&server, "/api/v1/locate?lon=100&lat=30").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error_shape(&body, "not_found");
    let (status, _, body) = get(&server, "/api/v1/locate?lon=500&lat=30").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error_shape(&body, "bad_request");
}

#[tokio::test]
async fn regions_answer_with_children_and_chain() {
    let server = server().await;
    let (status, _, body) = get(&server, "/api/v1/regions/140700").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "晋中市");
    let children: Vec<&str> = body["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(children, ["140702", "140703"]);
    let (status, _, body) = get(&server, "/api/v1/regions/140702").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["has_polygon"], true);
    assert!(body["area_m2"].as_f64().unwrap() > 7.0e8);
    let (status, _, body) = get(&server, "/api/v1/regions/149999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error_shape(&body, "not_found");
    let (status, _, body) = get(&server, "/api/v1/regions/abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error_shape(&body, "bad_request");
}

#[tokio::test]
async fn children_geojson_serves_the_outlines_for_maps() {
    let server = server().await;
    let (status, content_type, body) =
        get(&server, "/api/v1/regions/140700/children.geojson").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("application/geo+json"));
    assert_eq!(body["type"], "FeatureCollection");
    let features = body["features"].as_array().unwrap();
    // 140703 has no polygon: only 140702 is drawn.
    assert_eq!(features.len(), 1);
    assert_eq!(features[0]["properties"]["code"], "140702");
    assert_eq!(features[0]["properties"]["name"], "榆次区");
    assert_eq!(features[0]["geometry"]["type"], "Polygon");
}

#[tokio::test]
async fn grids_answer_as_geojson_features() {
    let server = server().await;
    let (status, _, body) = get(&server, "/api/v1/grids/140702001001001").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["type"], "Feature");
    assert_eq!(body["properties"]["chain"][1]["code"], "140702001001");
    assert_eq!(
        body["geometry"]["coordinates"][0][0],
        serde_json::json!([112.7, 37.6])
    );
    let (status, _, body) = get(&server, "/api/v1/grids/140702001001009").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error_shape(&body, "not_found");
    let (status, _, _) = get(&server, "/api/v1/grids/140702").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let server = server().await;
    let (status, _, body) = get(&server, "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/healthz",
        "/api/v1/locate",
        "/api/v1/regions/{code}",
        "/api/v1/regions/{code}/children.geojson",
        "/api/v1/grids/{code}",
    ] {
        assert!(body["paths"].get(path).is_some(), "{path} missing");
    }
    assert!(
        body["components"]["schemas"]
            .get("LocateResponse")
            .is_some()
    );
}
