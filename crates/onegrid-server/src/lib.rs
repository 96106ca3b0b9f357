//! HTTP for onegrid: the JSON API under `/api/v1`, its OpenAPI document, health, and the one
//! mapping from use-case errors to statuses and the JSON error shape.
//!
//! Handlers are thin: they parse the request into domain values, call one use case of
//! `onegrid-app`, and map the result. The server is a value a test can build: [`router`] gives
//! the routes over an [`App`], [`serve`] runs them on a listener it is handed until a shutdown
//! future resolves.

mod assets;
pub mod auth;
mod error;
mod openapi;
mod pages;
mod routes;
pub mod wire;

use std::future::Future;

use axum::Router;
use onegrid_app::App;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

/// Every route of the product over one application.
pub fn router(app: App) -> Router {
    routes::routes()
        .merge(pages::routes())
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            auth::authenticate,
        ))
        .with_state(app)
        .layer(TraceLayer::new_for_http())
}

/// Serves `app` on `listener` until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer's address feeds the rate limits and the security record.
    axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
