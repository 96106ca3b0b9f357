//! The OpenAPI document of the JSON API, generated from the handlers and wire types.

use axum::Json;
use utoipa::OpenApi;

use crate::routes::{
    __path_act, __path_create_case, __path_get_attachment, __path_get_case, __path_get_grid,
    __path_get_region, __path_healthz, __path_list_cases, __path_locate, __path_ranking,
    __path_region_children_geojson, __path_region_figures, __path_report, __path_taxonomy,
    __path_upload_attachment, __path_verify_audit,
};
use crate::routes::{
    __path_create_account, __path_create_token, __path_export_cases, __path_list_accounts,
    __path_list_tokens, __path_login, __path_logout, __path_reveal, __path_revoke_token,
    __path_security_events, __path_set_roles, __path_track, __path_unlock, __path_who_am_i,
};
use crate::routes::{__path_overdue, __path_region_events, __path_trend};
use crate::wire;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "onegrid 一网通管 API",
        description = "全科网格社会治理平台的 JSON API。Errors answer `{\"error\": {\"code\", \"message\", \"details\"}}`."
    ),
    paths(
        healthz,
        locate,
        get_region,
        region_children_geojson,
        get_grid,
        create_case,
        act,
        get_case,
        list_cases,
        upload_attachment,
        get_attachment,
        taxonomy,
        verify_audit,
        region_figures,
        ranking,
        report,
        trend,
        overdue,
        region_events,
        export_cases,
        login,
        logout,
        who_am_i,
        list_accounts,
        create_account,
        set_roles,
        unlock,
        create_token,
        list_tokens,
        revoke_token,
        reveal,
        security_events,
        track
    ),
    components(schemas(
        wire::Health,
        wire::AreaLink,
        wire::LocateResponse,
        wire::RegionResponse,
        wire::RegionVersion,
        wire::ErrorBody,
        wire::ErrorDetail,
        wire::TrendResponse,
        wire::TrendPoint,
        wire::OverdueListResponse,
        wire::OverdueCaseItem,
        wire::ChangeEvent
    ))
)]
pub struct ApiDoc;

pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
