//! `/healthz`: is the service up, and on what.

use axum::Json;
use axum::extract::State;
use onegrid_app::App;

use crate::wire::Health;

/// The service's state.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
pub async fn healthz(State(app): State<App>) -> Json<Health> {
    let atlas = app.atlas();
    Json(Health {
        status: "ok",
        engine: app.store().engine(),
        regions: atlas.region_count(),
        indexed_areas: atlas.indexed_areas(),
    })
}
