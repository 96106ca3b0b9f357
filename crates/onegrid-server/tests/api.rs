//! The HTTP API at its boundary: each test builds the router over its own fresh store and
//! sends it real requests.

mod common;

use axum::http::{StatusCode, header};
use common::{TestServer, call, server};
use serde_json::Value;

async fn get(server: &TestServer, uri: &str) -> (StatusCode, Option<String>, Value) {
    let (status, body, headers) = call(server, "GET", uri, None, &[]).await;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
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
