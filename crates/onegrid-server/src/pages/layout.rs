//! The frame every page shares (head, top bar, navigation by role), the signed-in viewer
//! extractor (a page without a session sends its visitor to sign in), and small helpers:
//! times in Asia/Shanghai, state badges, error texts in Chinese.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};
use onegrid_app::AppError;
use onegrid_app::access::{Credential, Principal};
use onegrid_domain::access::Role;
use onegrid_domain::case::CaseState;

use crate::auth::Caller;

/// The signed-in person a page is for, and the CSRF token their page's writes echo.
pub struct Viewer {
    pub principal: Principal,
    pub csrf: String,
}

impl Viewer {
    pub fn has(&self, role: Role) -> bool {
        self.principal.has_role(role)
    }
}

/// Where a page without a signed-in person sends them: the sign-in page, back here after.
/// An htmx request (a session that ran out under an open page) is told to go there whole,
/// rather than having the sign-in page swapped into a part of the page.
pub struct SignInFirst {
    here: String,
    htmx: bool,
}

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        let target = format!("/signin?next={}", url_escape(&self.here));
        if self.htmx {
            return (
                axum::http::StatusCode::UNAUTHORIZED,
                [("hx-redirect", target)],
                "请重新登录",
            )
                .into_response();
        }
        Redirect::to(&target).into_response()
    }
}

/// Percent-encodes everything but unreserved characters (for a `next=` parameter).
pub fn url_escape(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = SignInFirst;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Viewer, SignInFirst> {
        let htmx = parts.headers.contains_key("hx-request");
        // Back to the page the person was on (an htmx request names it), else to this one.
        let here = parts
            .headers
            .get("hx-current-url")
            .and_then(|v| v.to_str().ok())
            .and_then(|url| url.find("://").map(|i| &url[i + 3..]))
            .and_then(|rest| rest.find('/').map(|i| rest[i..].to_owned()))
            .filter(|_| htmx)
            .unwrap_or_else(|| {
                parts
                    .uri
                    .path_and_query()
                    .map_or_else(|| "/ui".to_owned(), |p| p.as_str().to_owned())
            });
        match parts.extensions.get::<Caller>() {
            Some(Caller::Person(principal)) => Ok(Viewer {
                csrf: match &principal.credential {
                    Credential::Session { csrf, .. } => csrf.clone(),
                    _ => String::new(),
                },
                principal: (**principal).clone(),
            }),
            _ => Err(SignInFirst { here, htmx }),
        }
    }
}

/// The workspaces a person may open, in the order of the navigation.
pub fn workspaces(principal: &Principal) -> Vec<(&'static str, &'static str)> {
    let mut links = Vec::new();
    let has = |roles: &[Role]| roles.iter().any(|r| principal.has_role(*r));
    if has(&[Role::GridWorker, Role::CommunityStaff]) {
        links.push(("/ui/worker", "我的任务"));
    }
    if has(&[
        Role::CentreIntake,
        Role::CentreDispatcher,
        Role::CentreLead,
        Role::Leader,
    ]) {
        links.push(("/ui/centre", "指挥中心"));
    }
    if has(&[Role::UnitHandler]) {
        links.push(("/ui/unit", "部门处置"));
    }
    if has(&[Role::SystemAdmin, Role::SecurityAdmin]) {
        links.push(("/ui/admin/accounts", "系统管理"));
    }
    links
}

fn head(title: &str, csrf: Option<&str>) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="theme-color" content="#0b4f8a";
            @if let Some(csrf) = csrf { meta name="csrf-token" content=(csrf); }
            // 422 answers carry the form again with its errors beside the fields: swap them.
            meta name="htmx-config" content=r#"{"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},{"code":"422","swap":true},{"code":"409","swap":true},{"code":"[45]..","swap":false,"error":true}]}"#;
            title { (title) " · 一网通管" }
            link rel="stylesheet" href="/assets/ui/app.css";
            link rel="manifest" href="/assets/ui/manifest.json";
            script src="/assets/ui/htmx.min.js" defer {}
            script src="/assets/ui/app.js" defer {}
        }
    }
}

/// A staff page: the top bar with the person, their workspaces, and the content.
pub fn staff_page(title: &str, viewer: &Viewer, current: &str, content: Markup) -> Markup {
    let hx_headers = serde_json::json!({ "X-CSRF-Token": viewer.csrf }).to_string();
    let roles: Vec<&str> = viewer
        .principal
        .assignments
        .iter()
        .map(|a| a.role.label())
        .collect();
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            (head(title, Some(&viewer.csrf)))
            body hx-headers=(hx_headers) {
                a.skip href="#main" { "跳到正文" }
                header.topbar {
                    a.brand href="/ui" { span.logo aria-hidden="true" { "网" } "一网通管" }
                    nav aria-label="工作台" {
                        @for (href, label) in workspaces(&viewer.principal) {
                            a href=(href) aria-current=[(href == current).then_some("page")] { (label) }
                        }
                    }
                    div.who {
                        span.name { (viewer.principal.display_name) }
                        span.roles { (roles.join("、")) }
                        a.signout href="/signout" { "退出" }
                    }
                }
                main #main { (content) }
            }
        }
    }
}

/// A public page (the resident portal, sign-in).
pub fn public_page(title: &str, current: &str, content: Markup) -> Markup {
    public_page_for(title, current, None, content)
}

/// A public page opened by someone who may hold a session: its writes must carry the
/// session's CSRF token (the auth layer checks every cookie-carrying write), so the page has it.
pub fn public_page_for(
    title: &str,
    current: &str,
    viewer: Option<&Viewer>,
    content: Markup,
) -> Markup {
    let csrf = viewer.map(|v| v.csrf.as_str()).filter(|c| !c.is_empty());
    let hx_headers = csrf.map(|csrf| serde_json::json!({ "X-CSRF-Token": csrf }).to_string());
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            (head(title, csrf))
            body.public hx-headers=[hx_headers] {
                a.skip href="#main" { "跳到正文" }
                header.topbar {
                    a.brand href="/portal" { span.logo aria-hidden="true" { "网" } "一网全民享" }
                    nav aria-label="居民服务" {
                        @for (href, label) in [("/portal/report", "我要反映"), ("/portal/track", "进度查询"), ("/portal/results", "办理公开")] {
                            a href=(href) aria-current=[(href == current).then_some("page")] { (label) }
                        }
                    }
                    div.who { a.signout href="/signin" { "工作人员登录" } }
                }
                main #main { (content) }
                footer.foot { "晋中市一网通管 · 个人信息已按规定脱敏展示" }
            }
        }
    }
}

/// A time as people here read it: Asia/Shanghai, to the minute.
pub fn shanghai(at: DateTime<Utc>) -> String {
    let local = at + chrono::Duration::hours(8);
    local.format("%Y-%m-%d %H:%M").to_string()
}

/// The same for a stored RFC 3339 text.
pub fn shanghai_text(text: &str) -> String {
    DateTime::parse_from_rfc3339(text)
        .map(|t| shanghai(t.with_timezone(&Utc)))
        .unwrap_or_else(|_| text.to_owned())
}

/// A coloured badge for a state.
pub fn state_badge(state: CaseState) -> Markup {
    let tone = match state {
        CaseState::Reported | CaseState::Accepted | CaseState::Registered => "tone-new",
        CaseState::Dispatched | CaseState::Handling => "tone-work",
        CaseState::ReportedBack | CaseState::Verified => "tone-check",
        CaseState::Closed | CaseState::Evaluated => "tone-done",
        CaseState::Rejected | CaseState::Voided | CaseState::Suspended => "tone-off",
    };
    html! { span class={"badge " (tone)} { (state.label()) } }
}

/// The traffic light of a case's stage clock.
pub fn alert_badge(alert: &str, remaining: Option<&str>) -> Markup {
    let (class, label) = match alert {
        "red" => ("light red", "红灯"),
        "yellow" => ("light yellow", "黄灯"),
        "overdue" => ("light red", "已超期"),
        _ => ("light green", "正常"),
    };
    html! {
        span class=(class) {
            span.dot aria-hidden="true" {}
            (label)
            @if let Some(remaining) = remaining { " · " (remaining) }
        }
    }
}

/// Which form field an error concerns, and what to tell the person, in Chinese.
pub fn explain(error: &AppError) -> (Option<&'static str>, String) {
    let text = error.to_string();
    let field = [
        "note",
        "reason",
        "category",
        "unit",
        "amount",
        "due",
        "satisfaction",
        "description",
        "phone",
        "login",
        "password",
        "totp",
    ]
    .into_iter()
    .find(|field| {
        text.starts_with(&format!("{field}:"))
            || text.starts_with(&format!("'{field}'"))
            || text.contains(&format!("reporter.{field}"))
    });
    let message = match error {
        AppError::Conflict(message) if message.contains("version") => {
            "该事件刚被他人更新，请刷新页面后再操作".to_owned()
        }
        // The use cases' own words are for the API's callers; a person reads these.
        AppError::Conflict(message) if message.contains('「') => message.clone(),
        AppError::Conflict(_) => {
            "事件当前所处环节不能进行此操作，请刷新页面查看最新状态".to_owned()
        }
        AppError::Forbidden(message) if message.chars().next().is_some_and(|c| c > '\u{2e80}') => {
            message.clone()
        }
        AppError::Forbidden(_) => "无权办理：您的角色或管辖范围不含此操作".to_owned(),
        AppError::NotFound { .. } => "没有找到，或不在您的权限范围内".to_owned(),
        AppError::RateLimited {
            retry_after_seconds,
        } => format!("操作过于频繁，请 {retry_after_seconds} 秒后再试"),
        AppError::Unauthenticated(message) => format!("请重新登录：{message}"),
        AppError::Store(_) => "系统繁忙，请稍后再试".to_owned(),
        _ => match field {
            Some(_) if text.contains("must not be empty") => "此项必填".to_owned(),
            _ => text,
        },
    };
    (field, message)
}

/// An error line under a field (empty when there is none).
pub fn field_error(errors: &[(Option<&'static str>, String)], field: &str) -> Markup {
    html! {
        @for (_, message) in errors.iter().filter(|(f, _)| *f == Some(field)) {
            p.field-error role="alert" id={"err-" (field)} { (message) }
        }
    }
}

/// Errors that concern no particular field.
pub fn form_errors(errors: &[(Option<&'static str>, String)], fields: &[&str]) -> Markup {
    html! {
        @for (_, message) in errors.iter().filter(|(f, _)| f.is_none_or(|f| !fields.contains(&f))) {
            p.form-error role="alert" { (message) }
        }
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for Viewer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Viewer>, std::convert::Infallible> {
        Ok(
            <Viewer as FromRequestParts<S>>::from_request_parts(parts, state)
                .await
                .ok(),
        )
    }
}

/// A use case's refusal shown as a page, with the status the API would answer.
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(error: AppError) -> PageError {
        PageError(error)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let AppError::Store(error) = &self.0 {
            tracing::error!(%error, "page");
        }
        let status = match &self.0 {
            AppError::NotFound { .. } => axum::http::StatusCode::NOT_FOUND,
            AppError::Forbidden(_) => axum::http::StatusCode::FORBIDDEN,
            AppError::Unauthenticated(_) => axum::http::StatusCode::UNAUTHORIZED,
            AppError::Conflict(_) => axum::http::StatusCode::CONFLICT,
            AppError::RateLimited { .. } => axum::http::StatusCode::TOO_MANY_REQUESTS,
            AppError::Store(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            _ => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        };
        let (_, message) = explain(&self.0);
        let body = public_page(
            "出错了",
            "",
            html! {
                section.card.narrow {
                    h1 { "无法显示此页" }
                    p.form-error role="alert" { (message) }
                    p { a href="/ui" { "返回工作台" } " · " a href="/portal" { "居民门户" } }
                }
            },
        );
        (status, body).into_response()
    }
}

/// The label of a stored role id (`resident` → 居民, `system` → 系统).
pub fn role_label(role: &str) -> String {
    match role {
        "system" => "系统".to_owned(),
        other => Role::parse(other).map_or_else(|_| other.to_owned(), |r| r.label().to_owned()),
    }
}

/// A case's state from its stored id.
pub fn state_label(state: Option<&str>) -> &'static str {
    state
        .and_then(|s| s.parse::<CaseState>().ok())
        .map_or("", CaseState::label)
}

/// A unit's name from its code (`140702:城管局` → 榆次区城市管理局…, `140702001:gov` → …街道
/// 办事处), named as the dispatch suggestions name them; the code itself when unknown.
pub fn unit_label(app: &onegrid_app::App, unit: &str) -> String {
    let Some((region, department)) = unit.split_once(':') else {
        return unit.to_owned();
    };
    let atlas = app.atlas();
    let Some(place) = atlas.region(region) else {
        return unit.to_owned();
    };
    if department == "gov" {
        let suffix = match place.level() {
            onegrid_domain::Level::Grid => "网格",
            onegrid_domain::Level::Village => "村（居）委会",
            onegrid_domain::Level::Township => "政府（街道办事处）",
            _ => "人民政府",
        };
        return format!("{}{suffix}", place.name);
    }
    let rules = app.rules();
    let name = rules
        .taxonomy
        .departments
        .iter()
        .find(|d| d.kind == department)
        .map_or(department, |d| d.name.as_str());
    format!("{}{name}", place.name)
}
