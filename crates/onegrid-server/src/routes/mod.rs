//! The route table. One module per part of the URL tree.

mod access;
pub(crate) mod cases;
mod figures;
mod health;
mod regions;
mod screen;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use onegrid_app::App;

pub(crate) use access::{
    __path_create_account, __path_create_token, __path_list_accounts, __path_list_tokens,
    __path_login, __path_logout, __path_reveal, __path_revoke_token, __path_security_events,
    __path_set_roles, __path_track, __path_unlock, __path_who_am_i,
};
pub(crate) use cases::{
    __path_act, __path_create_case, __path_export_cases, __path_get_attachment, __path_get_case,
    __path_list_cases, __path_taxonomy, __path_upload_attachment, __path_verify_audit,
};
pub(crate) use figures::{__path_ranking, __path_region_figures, __path_report};
pub(crate) use health::__path_healthz;
pub(crate) use regions::{
    __path_get_grid, __path_get_region, __path_locate, __path_region_children_geojson,
};
pub(crate) use screen::{__path_overdue, __path_region_events, __path_trend};

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
        .route(
            "/api/v1/cases",
            post(cases::create_case).get(cases::list_cases),
        )
        .route("/api/v1/cases/export.csv", get(cases::export_cases))
        .route("/api/v1/cases/{id}", get(cases::get_case))
        .route("/api/v1/cases/{id}/reveal", post(access::reveal))
        .route(
            "/api/v1/cases/{id}/attachments/{hash}",
            get(cases::get_attachment),
        )
        .route(
            "/api/v1/session",
            post(access::login).delete(access::logout),
        )
        .route("/api/v1/me", get(access::who_am_i))
        .route(
            "/api/v1/accounts",
            get(access::list_accounts).post(access::create_account),
        )
        .route("/api/v1/accounts/{id}/roles", put(access::set_roles))
        .route("/api/v1/accounts/{id}/unlock", post(access::unlock))
        .route("/api/v1/accounts/{id}/tokens", get(access::list_tokens))
        .route("/api/v1/tokens", post(access::create_token))
        .route("/api/v1/tokens/{id}", delete(access::revoke_token))
        .route("/api/v1/audit/events", get(access::security_events))
        .route("/api/v1/public/cases/{code}", get(access::track))
        .route("/api/v1/cases/{id}/acts", post(cases::act))
        .route(
            "/api/v1/attachments",
            post(cases::upload_attachment)
                .layer(DefaultBodyLimit::max(cases::MAX_ATTACHMENT_BYTES)),
        )
        .route("/api/v1/taxonomy", get(cases::taxonomy))
        .route("/api/v1/audit/verify", get(cases::verify_audit))
        .route(
            "/api/v1/regions/{code}/figures",
            get(figures::region_figures),
        )
        .route("/api/v1/regions/{code}/ranking", get(figures::ranking))
        .route("/api/v1/reports/{code}", get(figures::report))
        .merge(screen::routes())
}
