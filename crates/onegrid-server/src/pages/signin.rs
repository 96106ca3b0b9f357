//! Signing in and out. The form posts to the session API (`POST /api/v1/session`) from
//! `app.js`, which shows each refusal next to the field it concerns; administrators give their
//! TOTP code in the same form.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use onegrid_app::App;
use serde::Deserialize;

use super::layout::{Viewer, public_page, staff_page, workspaces};
use crate::auth::SESSION_COOKIE;

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only paths of this site (never `//host` or `https://…`) are followed after sign-in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") => path.to_owned(),
        _ => "/ui".to_owned(),
    }
}

/// `/signin`.
pub async fn form(Query(query): Query<NextQuery>) -> maud::Markup {
    let next = safe_next(query.next.as_deref());
    public_page(
        "登录",
        "/signin",
        html! {
            section.signin {
                h1 { "工作人员登录" }
                p.muted { "网格员、指挥中心、职能部门和管理员使用本系统账号登录。群众反映问题无需登录。" }
                form #signin-form data-next=(next) novalidate {
                    div.field {
                        label for="login" { "账号" }
                        input #login name="login" autocomplete="username" required aria-describedby="err-login";
                        p.field-error #err-login role="alert" hidden {}
                    }
                    div.field {
                        label for="password" { "密码" }
                        input #password name="password" type="password" autocomplete="current-password" required aria-describedby="err-password";
                        p.field-error #err-password role="alert" hidden {}
                    }
                    div.field {
                        label for="totp" { "动态验证码 " span.muted { "（管理员必填，6 位数字）" } }
                        input #totp name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" aria-describedby="err-totp";
                        p.field-error #err-totp role="alert" hidden {}
                    }
                    p.form-error #err-form role="alert" hidden {}
                    button.primary.wide type="submit" { "登录" }
                }
                p.muted { a href="/portal" { "← 返回居民门户" } }
            }
        },
    )
}

/// `/signout`: ends the session (the cookie is SameSite=Strict, so another site cannot send
/// a person here signed in) and clears the cookie.
pub async fn sign_out(State(app): State<App>, viewer: Option<Viewer>) -> Response {
    if let Some(viewer) = viewer
        && let Err(error) = app.logout(&viewer.principal).await
    {
        tracing::warn!(%error, "sign-out");
    }
    let mut response = Redirect::to("/signin").into_response();
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `/ui`: each person's first workspace.
pub async fn workspace_home(viewer: Viewer) -> Response {
    if let Some((href, _)) = workspaces(&viewer.principal).first() {
        return Redirect::to(href).into_response();
    }
    staff_page(
        "工作台",
        &viewer,
        "/ui",
        html! {
            section.card {
                h1 { "您好，" (viewer.principal.display_name) }
                p { "您的角色没有日常办件工作台。审计管理员请使用审计接口；居民请使用居民门户。" }
                p { a href="/portal" { "前往居民门户" } }
            }
        },
    )
    .into_response()
}
