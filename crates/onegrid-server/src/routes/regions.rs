//! Regions, grids and point location.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use onegrid_app::App;
use onegrid_domain::{Level, RegionCode};
use serde_json::{Value, json};

use crate::ApiError;
use crate::wire::{
    AreaLink, ErrorBody, LocateQuery, LocateResponse, RegionResponse, RegionVersion,
};

fn parse_code(text: &str) -> Result<RegionCode, ApiError> {
    RegionCode::parse(text).map_err(|error| ApiError::bad_request(error.to_string()))
}

/// The grid that contains a point (or the deepest area that does) and its whole chain.
#[utoipa::path(
    get, path = "/api/v1/locate", params(LocateQuery),
    responses(
        (status = 200, body = LocateResponse),
        (status = 400, body = ErrorBody, description = "lon/lat missing or out of range"),
        (status = 404, body = ErrorBody, description = "no area contains the point"),
    )
)]
pub async fn locate(
    State(app): State<App>,
    Query(query): Query<LocateQuery>,
) -> Result<Json<LocateResponse>, ApiError> {
    if !(-180.0..=180.0).contains(&query.lon) || !(-90.0..=90.0).contains(&query.lat) {
        return Err(ApiError::bad_request(format!(
            "lon {} / lat {} out of range (lon −180…180, lat −90…90)",
            query.lon, query.lat
        )));
    }
    let located = app.locate(query.lon, query.lat)?;
    Ok(Json(LocateResponse {
        lon: located.lon,
        lat: located.lat,
        grid: located.grid.as_ref().map(AreaLink::from),
        area: AreaLink::from(&located.area),
        chain: located.chain.iter().map(AreaLink::from).collect(),
    }))
}

/// A region with its chain, children and history; retired codes answer too.
#[utoipa::path(
    get, path = "/api/v1/regions/{code}",
    params(("code" = String, Path, description = "region or grid code")),
    responses((status = 200, body = RegionResponse), (status = 404, body = ErrorBody))
)]
pub async fn get_region(
    State(app): State<App>,
    Path(code): Path<String>,
) -> Result<Json<RegionResponse>, ApiError> {
    let code = parse_code(&code)?;
    let details = app.region_details(&code).await?;
    let region = &details.region;
    Ok(Json(RegionResponse {
        code: region.code.to_string(),
        name: region.name.clone(),
        level: region.level().as_str().to_owned(),
        level_label: region.level().label().to_owned(),
        parent: region.parent.as_ref().map(ToString::to_string),
        chain: details.chain.iter().map(AreaLink::from).collect(),
        valid_from: region.valid_from,
        valid_to: region.valid_to,
        successor: region.successor.as_ref().map(ToString::to_string),
        history: details
            .history
            .iter()
            .map(|old| RegionVersion {
                name: old.name.clone(),
                parent: old.parent.as_ref().map(ToString::to_string),
                valid_from: old.valid_from,
                valid_to: old.valid_to,
            })
            .collect(),
        has_polygon: details.area_m2.is_some(),
        area_m2: details.area_m2,
        children: details.children.iter().map(AreaLink::from).collect(),
    }))
}

/// The outlines of a region's children as a GeoJSON FeatureCollection, for maps.
#[utoipa::path(
    get, path = "/api/v1/regions/{code}/children.geojson",
    params(("code" = String, Path, description = "region code")),
    responses(
        (status = 200, description = "GeoJSON FeatureCollection", content_type = "application/geo+json"),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn region_children_geojson(
    State(app): State<App>,
    Path(code): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let code = parse_code(&code)?;
    let features = app.children_outlines(&code).await?;
    let body = json!({"type": "FeatureCollection", "features": features});
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], Json(body)))
}

/// A grid with its chain and its polygon, as a GeoJSON Feature.
#[utoipa::path(
    get, path = "/api/v1/grids/{code}",
    params(("code" = String, Path, description = "15-digit grid code")),
    responses(
        (status = 200, description = "GeoJSON Feature", content_type = "application/geo+json"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)
    )
)]
pub async fn get_grid(
    State(app): State<App>,
    Path(code): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let code = RegionCode::parse_at(Level::Grid, &code)
        .map_err(|error| ApiError::bad_request(error.to_string()))?;
    let feature: Value = app.area_feature(&code).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/geo+json")],
        Json(feature),
    ))
}
