//! Signing in and out, who am I, accounts and their roles, API tokens, revealing personal data,
//! the security record, and a resident's tracking code.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use onegrid_app::App;
use onegrid_app::access::{Credential, LoginAttempt, Principal, parse_assignment_list};
use onegrid_domain::access::{Assignment, Capability};
use onegrid_domain::masking::mask_text;
use onegrid_store::{Account, ApiToken, Record};

use crate::ApiError;
use crate::auth::{Auth, ClientAddress, SESSION_COOKIE};
use crate::routes::cases::{category_ref, parse_json, parse_time};
use crate::wire::{
    AccountView, AssignmentView, AssignmentsRequest, ContactResponse, CreateAccountRequest,
    CreateTokenRequest, ErrorBody, LoginRequest, MeResponse, PublicCaseResponse, PublicStep,
    SecurityEventQuery, TokenResponse,
};

fn assignment_views(assignments: &[Assignment]) -> Vec<AssignmentView> {
    assignments
        .iter()
        .map(|a| AssignmentView {
            role: a.role.as_str().to_owned(),
            role_label: a.role.label().to_owned(),
            scope: a.scope.code(),
        })
        .collect()
}

fn me(principal: &Principal) -> MeResponse {
    MeResponse {
        id: principal.user_id.clone(),
        login: principal.login.clone(),
        display_name: principal.display_name.clone(),
        assignments: assignment_views(&principal.assignments),
        csrf_token: match &principal.credential {
            Credential::Session { csrf, .. } => Some(csrf.clone()),
            _ => None,
        },
        expires_at: None,
    }
}

/// Behind a TLS-terminating proxy the request says so; only then may the cookie be `Secure`
/// (browsers drop Secure cookies sent over plain HTTP on a LAN address).
fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn session_cookie(value: &str, max_age_seconds: i64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Signs in: sets the session cookie (HttpOnly, SameSite=Strict; Secure under TLS).
#[utoipa::path(
    post, path = "/api/v1/session", request_body = LoginRequest,
    responses(
        (status = 200, body = MeResponse), (status = 401, body = ErrorBody),
        (status = 423, body = ErrorBody, description = "locked after too many failures; Retry-After"),
        (status = 429, body = ErrorBody, description = "too many attempts; Retry-After"),
    )
)]
pub async fn login(
    State(app): State<App>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if let Err(wait) = app
        .limiter()
        .check(&format!("login-address:{address}"), app.access().login_rate)
    {
        return Err(onegrid_app::AppError::RateLimited {
            retry_after_seconds: wait,
        }
        .into());
    }
    let request: LoginRequest = parse_json(&body)?;
    let grant = app
        .login(LoginAttempt {
            login: request.login,
            password: request.password,
            totp: request.totp,
            address,
        })
        .await?;
    let mut body = me(&grant.principal);
    body.expires_at = Some(grant.expires_at);
    let max_age = (grant.expires_at - Utc::now()).num_seconds().max(0);
    let mut response = Json(body).into_response();
    if let Ok(cookie) =
        HeaderValue::from_str(&session_cookie(&grant.token, max_age, over_tls(&headers)))
    {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Signs out: ends the session and clears the cookie.
#[utoipa::path(delete, path = "/api/v1/session", responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(app): State<App>,
    Auth(principal): Auth,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    app.logout(&principal).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(cookie) = HeaderValue::from_str(&session_cookie("", 0, over_tls(&headers))) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// Who is signed in, with every role they hold.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody)))]
pub async fn who_am_i(Auth(principal): Auth) -> Json<MeResponse> {
    Json(me(&principal))
}

fn account_view(account: &Account) -> AccountView {
    let assignments: Vec<AssignmentView> = account
        .assignments
        .iter()
        .map(|a| AssignmentView {
            role_label: onegrid_domain::access::Role::parse(&a.role)
                .map_or_else(|_| a.role.clone(), |r| r.label().to_owned()),
            role: a.role.clone(),
            scope: a.scope.clone(),
        })
        .collect();
    AccountView {
        id: account.id.clone(),
        login: account.login.clone(),
        display_name: account.display_name.clone(),
        assignments,
        totp_enabled: account.totp_enabled,
        locked_until: account.locked_until,
        disabled: account.disabled,
    }
}

fn require(principal: &Principal, capability: Capability, what: &str) -> Result<(), ApiError> {
    if principal.holds(capability) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "none of your roles may {what}"
        )))
    }
}

/// The accounts (安全管理员, 系统管理员).
#[utoipa::path(get, path = "/api/v1/accounts", responses((status = 200, body = Vec<AccountView>), (status = 403, body = ErrorBody)))]
pub async fn list_accounts(
    State(app): State<App>,
    Auth(principal): Auth,
) -> Result<Json<Vec<AccountView>>, ApiError> {
    require(&principal, Capability::ManageAccounts, "manage accounts")?;
    let accounts = app
        .store()
        .accounts(1000)
        .await
        .map_err(onegrid_app::AppError::from)?;
    Ok(Json(accounts.iter().map(account_view).collect()))
}

/// Creates an account with its roles.
#[utoipa::path(
    post, path = "/api/v1/accounts", request_body = CreateAccountRequest,
    responses((status = 201, body = AccountView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn create_account(
    State(app): State<App>,
    Auth(principal): Auth,
    body: Bytes,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    require(&principal, Capability::ManageAccounts, "manage accounts")?;
    let request: CreateAccountRequest = parse_json(&body)?;
    let assignments = parse_assignment_list(&request.roles, "")?;
    let account = app
        .create_account(
            &principal,
            &request.login,
            &request.display_name,
            request.password.as_deref(),
            assignments,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(account_view(&account))))
}

/// Replaces an account's roles (never one's own).
#[utoipa::path(
    put, path = "/api/v1/accounts/{id}/roles", request_body = AssignmentsRequest,
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn set_roles(
    State(app): State<App>,
    Auth(principal): Auth,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    require(&principal, Capability::ManageAccounts, "manage accounts")?;
    let request: AssignmentsRequest = parse_json(&body)?;
    let assignments = parse_assignment_list(&request.roles, "")?;
    app.set_assignments(&principal, &id, assignments).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lifts a lock (安全管理员).
#[utoipa::path(post, path = "/api/v1/accounts/{id}/unlock", params(("id" = String, Path)), responses((status = 204), (status = 403, body = ErrorBody)))]
pub async fn unlock(
    State(app): State<App>,
    Auth(principal): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.unlock_account(&principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn token_response(token: &ApiToken, secret: Option<String>) -> TokenResponse {
    TokenResponse {
        id: token.id.clone(),
        name: token.name.clone(),
        scope: token.scope.clone(),
        token: secret,
        created_at: token.created_at,
        last_used_at: token.last_used_at,
        revoked_at: token.revoked_at,
    }
}

/// Makes an API token for another system; the secret is in this answer only.
#[utoipa::path(
    post, path = "/api/v1/tokens", request_body = CreateTokenRequest,
    responses((status = 201, body = TokenResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn create_token(
    State(app): State<App>,
    Auth(principal): Auth,
    body: Bytes,
) -> Result<(StatusCode, Json<TokenResponse>), ApiError> {
    let request: CreateTokenRequest = parse_json(&body)?;
    let grant = app
        .create_token(
            &principal,
            &request.login,
            &request.name,
            request.scope.as_deref(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(token_response(&grant.record, Some(grant.token))),
    ))
}

/// The tokens of an account, with when each was last used.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/tokens", params(("id" = String, Path)), responses((status = 200, body = Vec<TokenResponse>)))]
pub async fn list_tokens(
    State(app): State<App>,
    Auth(principal): Auth,
    Path(id): Path<String>,
) -> Result<Json<Vec<TokenResponse>>, ApiError> {
    if principal.user_id != id {
        require(&principal, Capability::ManageAccounts, "manage accounts")?;
    }
    let tokens = app
        .store()
        .tokens_of(&id)
        .await
        .map_err(onegrid_app::AppError::from)?;
    Ok(Json(
        tokens.iter().map(|t| token_response(t, None)).collect(),
    ))
}

/// Revokes a token.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", params(("id" = String, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(app): State<App>,
    Auth(principal): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.revoke_token(&principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The full contact of a case's reporter, for the roles that call back (recorded).
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/reveal", params(("id" = String, Path)),
    responses((status = 200, body = ContactResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn reveal(
    State(app): State<App>,
    Auth(principal): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let contact = app.reveal_contact(&principal, &id).await?;
    let mut response = Json(ContactResponse {
        name: contact.name,
        phone: contact.phone,
        id_number: contact.id_number,
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The security record (审计管理员): sign-ins, failures, locks, role changes, exports, reveals.
#[utoipa::path(
    get, path = "/api/v1/audit/events", params(SecurityEventQuery),
    responses((status = 200, description = "records, newest first"), (status = 403, body = ErrorBody))
)]
pub async fn security_events(
    State(app): State<App>,
    Auth(principal): Auth,
    Query(query): Query<SecurityEventQuery>,
) -> Result<Json<Vec<Record>>, ApiError> {
    let from = match query.from.as_deref() {
        Some(text) => parse_time(text, false, "from")?,
        None => Utc::now() - Duration::days(30),
    };
    let to = match query.to.as_deref() {
        Some(text) => parse_time(text, true, "to")?,
        None => Utc::now() + Duration::seconds(1),
    };
    let events = app
        .security_events(
            &principal,
            from,
            to,
            query.actor.as_deref(),
            query.limit.unwrap_or(200),
        )
        .await?;
    Ok(Json(events))
}

/// A case's progress by the tracking code its reporter was given (no account needed).
#[utoipa::path(
    get, path = "/api/v1/public/cases/{code}", params(("code" = String, Path, description = "the tracking code")),
    responses((status = 200, body = PublicCaseResponse), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody))
)]
pub async fn track(
    State(app): State<App>,
    ClientAddress(address): ClientAddress,
    Path(code): Path<String>,
) -> Result<Json<PublicCaseResponse>, ApiError> {
    let view = app.case_by_tracking_code(&code, &address).await?;
    let case = &view.case;
    let progress = view
        .records
        .iter()
        .map(|record| PublicStep {
            act_label: serde_json::from_value::<onegrid_domain::case::Act>(
                serde_json::Value::String(record.act.clone()),
            )
            .map_or_else(|_| "上报".to_owned(), |act| act.label().to_owned()),
            to_state: record.to_state.clone(),
            at: record.at.clone(),
        })
        .collect();
    Ok(Json(PublicCaseResponse {
        number: case.number.clone(),
        state: case.state.as_str().to_owned(),
        state_label: case.state.label().to_owned(),
        category: case.category.as_deref().and_then(|c| category_ref(&app, c)),
        description: mask_text(&case.description),
        progress,
        created_at: case.created_at,
    }))
}
