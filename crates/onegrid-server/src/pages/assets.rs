//! The static assets, embedded in the binary (the product runs on networks without internet):
//! the style sheet, the page script, htmx (vendored from npm with its licence) and the
//! service worker that keeps the phone pages working offline.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const APP_CSS: &str = include_str!("../../assets/app.css");
const APP_JS: &str = include_str!("../../assets/app.js");
const SERVICE_WORKER_JS: &str = include_str!("../../assets/sw.js");
const MANIFEST_JSON: &str = include_str!("../../assets/manifest.json");
const HTMX_JS: &str = include_str!("../../assets/vendor/htmx/htmx.min.js");
const HTMX_LICENSE: &str = include_str!("../../assets/vendor/htmx/LICENSE");

fn asset_response(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // Short: a new binary brings new assets, and the service worker revalidates.
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// `/assets/ui/{name}` (the screen has its own assets beside these).
pub async fn asset(Path(name): Path<String>) -> Response {
    match name.as_str() {
        "app.css" => asset_response("text/css; charset=utf-8", APP_CSS),
        "app.js" => asset_response("text/javascript; charset=utf-8", APP_JS),
        "htmx.min.js" => asset_response("text/javascript; charset=utf-8", HTMX_JS),
        "htmx-LICENSE.txt" => asset_response("text/plain; charset=utf-8", HTMX_LICENSE),
        "manifest.json" => asset_response("application/manifest+json", MANIFEST_JSON),
        _ => (StatusCode::NOT_FOUND, "没有这个文件").into_response(),
    }
}

/// `/sw.js`: served from the root so that it may control every page under it.
pub async fn service_worker() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SERVICE_WORKER_JS,
    )
        .into_response()
}
