//! The route table. One module per part of the URL tree.

mod health;
mod regions;

use axum::Router;
use axum::routing::get;
use onegrid_app::App;

pub(crate) use health::__path_healthz;
pub(crate) use regions::{
    __path_get_grid, __path_get_region, __path_locate, __path_region_children_geojson,
};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/api/v1/openapi.json", get(crate::openapi::openapi_json))
        .route("/api/v1/locate", get(regions::locate))
        .route("/api/v1/regions/{code}", get(regions::get_region))
        .route(
            "/api/v1/regions/{code}/children.geojson",
            get(regions::region_children_geojson),
        )
        .route("/api/v1/grids/{code}", get(regions::get_grid))
}
