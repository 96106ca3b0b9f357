//! Who is asking: the layer that turns a session cookie or a bearer token into a
//! `Principal`, checks the CSRF token of cookie-authenticated writes, and the extractors
//! handlers take it from.
//!
//! A request with no credential is anonymous: public routes serve it, the rest answer 401. A
//! credential that is bad or ran out is not silently anonymous on protected routes: they answer
//! 401 naming why (会话已超时), so a page can send its user to sign in again.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use onegrid_app::App;
use onegrid_app::access::{Credential, Principal};
use onegrid_domain::access::Role;

use crate::ApiError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "onegrid_session";
/// The header cookie-authenticated writes must carry (the session's CSRF token).
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Chooses which of one's roles to act in (一人通全岗): `X-Acting-Role: centre_lead`.
pub const ACTING_ROLE_HEADER: &str = "x-acting-role";

/// What the layer found.
#[derive(Debug, Clone)]
pub enum Caller {
    Anonymous,
    /// A credential was given but refused: why, for the 401.
    Refused(String),
    Person(Box<Principal>),
}

/// The client's address (for rate limits and the record).
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// Constant-time comparison of two tokens.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

async fn identify(app: &App, headers: &HeaderMap, method: &Method) -> Result<Caller, ApiError> {
    if let Some(token) = bearer(headers) {
        return Ok(match app.token_principal(&token).await {
            Ok(principal) => Caller::Person(Box::new(principal)),
            Err(error) => Caller::Refused(error.to_string()),
        });
    }
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(Caller::Anonymous);
    };
    let principal = match app.session_principal(&token).await {
        Ok(principal) => principal,
        Err(onegrid_app::AppError::Unauthenticated(why)) => return Ok(Caller::Refused(why)),
        Err(other) => return Err(other.into()),
    };
    let unsafe_method = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method {
        let Credential::Session { csrf, .. } = &principal.credential else {
            return Ok(Caller::Refused("会话无效".to_owned()));
        };
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !same_token(sent, csrf) {
            return Err(ApiError {
                code: "csrf",
                ..ApiError::forbidden(
                    "缺少或错误的 CSRF 令牌：页面提交须带 X-CSRF-Token (CSRF token missing or wrong)",
                )
            });
        }
    }
    Ok(Caller::Person(Box::new(principal)))
}

/// The layer: identifies the caller of every request and leaves it in the extensions.
pub async fn authenticate(State(app): State<App>, mut request: Request, next: Next) -> Response {
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "local".to_owned(), |info| info.0.ip().to_string());
    let caller = match identify(&app, request.headers(), request.method()).await {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    let caller = match (caller, request.headers().get(ACTING_ROLE_HEADER)) {
        (Caller::Person(mut principal), Some(role)) => {
            let role = role.to_str().unwrap_or("");
            let role = match Role::parse(role) {
                Ok(role) => role,
                Err(error) => return ApiError::bad_request(error.to_string()).into_response(),
            };
            principal.assignments.retain(|a| a.role == role);
            if principal.assignments.is_empty() {
                return ApiError::forbidden(format!(
                    "X-Acting-Role: you hold no {} ({}) assignment",
                    role.as_str(),
                    role.label()
                ))
                .into_response();
            }
            Caller::Person(principal)
        }
        (caller, _) => caller,
    };
    request.extensions_mut().insert(caller);
    request.extensions_mut().insert(ClientAddress(address));
    next.run(request).await
}

/// A signed-in principal; 401 otherwise.
pub struct Auth(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Auth, ApiError> {
        match parts.extensions.get::<Caller>() {
            Some(Caller::Person(principal)) => Ok(Auth((**principal).clone())),
            Some(Caller::Refused(why)) => {
                Err(onegrid_app::AppError::Unauthenticated(why.clone()).into())
            }
            _ => Err(onegrid_app::AppError::Unauthenticated(
                "请先登录 (sign in, or send Authorization: Bearer TOKEN)".to_owned(),
            )
            .into()),
        }
    }
}

/// A principal when one signed in; anonymous callers are `None`. A refused credential is
/// still refused (401): a stale session must not turn a resident's report into an anonymous one
/// without them knowing.
pub struct MaybeAuth(pub Option<Principal>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<MaybeAuth, ApiError> {
        match parts.extensions.get::<Caller>() {
            Some(Caller::Person(principal)) => Ok(MaybeAuth(Some((**principal).clone()))),
            Some(Caller::Refused(why)) => {
                Err(onegrid_app::AppError::Unauthenticated(why.clone()).into())
            }
            _ => Ok(MaybeAuth(None)),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<ClientAddress, std::convert::Infallible> {
        Ok(parts
            .extensions
            .get::<ClientAddress>()
            .cloned()
            .unwrap_or_else(|| ClientAddress("local".to_owned())))
    }
}
