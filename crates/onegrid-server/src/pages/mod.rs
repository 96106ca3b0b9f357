//! The workspaces people use every day, served as HTML (maud) with partial updates (htmx):
//! the grid worker's phone pages, the centre, the department's inbox, the resident portal and
//! the administration. Pages call the same use cases as the JSON API, as the signed-in person;
//! what needs the browser (photos, the position, the offline queue) is `assets/app.js`, which
//! talks to the JSON API.
//!
//! URL map: `/signin`, `/ui` (sends each person to their first workspace), `/ui/worker`,
//! `/ui/centre`, `/ui/unit`, `/ui/cases/{id}`, `/ui/admin/…`, `/portal/…`, `/assets/ui/…`,
//! `/sw.js`.

mod admin;
mod assets;
mod case_page;
mod centre;
mod layout;
mod portal;
mod signin;
mod svgmap;
mod unit;
mod worker;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use onegrid_app::App;

/// The largest grid file the upload page accepts.
const MAX_GRID_UPLOAD_BYTES: usize = 50 * 1024 * 1024;

/// Every page and asset route.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/", get(portal::home))
        .route("/assets/ui/{name}", get(assets::asset))
        .route("/sw.js", get(assets::service_worker))
        .route("/signin", get(signin::form))
        .route("/signout", get(signin::sign_out))
        .route("/ui", get(signin::workspace_home))
        .route("/ui/worker", get(worker::tasks))
        .route("/ui/worker/report", get(worker::report_form))
        .route(
            "/ui/worker/patrol",
            get(worker::patrol_page).post(worker::record_patrol),
        )
        .route("/ui/centre", get(centre::queues))
        .route("/ui/unit", get(unit::inbox))
        .route("/ui/cases/{id}", get(case_page::show))
        .route("/ui/cases/{id}/acts", post(case_page::act))
        .route(
            "/ui/admin/accounts",
            get(admin::accounts).post(admin::create_account),
        )
        .route("/ui/admin/accounts/{id}/roles", post(admin::set_roles))
        .route("/ui/admin/taxonomy", get(admin::taxonomy))
        .route("/ui/admin/calendar", get(admin::calendar))
        .route(
            "/ui/admin/grids",
            get(admin::grids_form)
                .post(admin::upload_grids)
                .layer(DefaultBodyLimit::max(MAX_GRID_UPLOAD_BYTES)),
        )
        .route("/portal", get(portal::home))
        .route("/portal/report", get(portal::report_form))
        .route("/portal/track", get(portal::track_form).post(portal::track))
        .route("/portal/track/rate", post(portal::rate))
        .route("/portal/results", get(portal::results))
}
