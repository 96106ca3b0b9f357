//! Administration, minimal but real: accounts and their roles (安全管理员/系统管理员, with
//! 三权分立 enforced by the use cases), the taxonomy and the working-day calendar in force, and
//! the grid upload, which shows every problem of a GeoJSON file before anything is stored.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use onegrid_app::access::parse_assignment_list;
use onegrid_app::areas::AreaImportOptions;
use onegrid_app::{App, AppError};
use onegrid_domain::Level;
use onegrid_domain::access::{Capability, Role};
use onegrid_geo::crs::Crs;
use onegrid_geo::geojson_io::FieldNames;
use onegrid_store::Account;
use serde::Deserialize;

use super::layout::{PageError, Viewer, explain, field_error, form_errors, shanghai, staff_page};

fn admin_tabs(current: &str) -> Markup {
    html! {
        nav.tabs aria-label="系统管理" {
            @for (href, label) in [
                ("/ui/admin/accounts", "用户与角色"),
                ("/ui/admin/taxonomy", "事件分类"),
                ("/ui/admin/calendar", "工作日历"),
                ("/ui/admin/grids", "网格导入"),
            ] {
                a href=(href) aria-current=[(href == current).then_some("page")] { (label) }
            }
        }
    }
}

fn require(viewer: &Viewer, capability: Capability) -> Result<(), PageError> {
    if viewer.principal.holds(capability) {
        Ok(())
    } else {
        Err(AppError::Forbidden("您的角色不能使用系统管理".to_owned()).into())
    }
}

fn roles_text(account: &Account) -> String {
    account
        .assignments
        .iter()
        .map(|a| format!("{}@{}", a.role, a.scope))
        .collect::<Vec<_>>()
        .join("\n")
}

fn role_help() -> Markup {
    html! {
        details.help {
            summary { "角色代码" }
            ul.role-list {
                @for role in Role::ALL { li { code { (role.as_str()) } " " (role.label()) } }
            }
            p.hint { "每行一个：角色@范围，如 grid_worker@140702201207002、unit_handler@140702:城管局、resident@own。" }
        }
    }
}

struct AccountsOutcome {
    errors: Vec<(Option<&'static str>, String)>,
    done: Option<String>,
    /// Which form the outcome belongs to: `create` or an account id.
    form: String,
}

/// How many accounts the page lists at once; the search finds the rest.
const ACCOUNTS_SHOWN: usize = 100;

async fn accounts_page(
    app: &App,
    viewer: &Viewer,
    outcome: Option<AccountsOutcome>,
    search: &str,
) -> Result<Markup, PageError> {
    let all = app
        .store()
        .accounts(100_000)
        .await
        .map_err(AppError::from)?;
    let search = search.trim();
    let matching: Vec<&Account> = all
        .iter()
        .filter(|a| {
            search.is_empty()
                || a.login.contains(search)
                || a.display_name.contains(search)
                || a.assignments
                    .iter()
                    .any(|r| r.scope.contains(search) || r.role.contains(search))
        })
        .collect();
    let total = matching.len();
    let accounts: Vec<&Account> = matching.into_iter().take(ACCOUNTS_SHOWN).collect();
    let no_errors = Vec::new();
    let create_errors = match &outcome {
        Some(o) if o.form == "create" => &o.errors,
        _ => &no_errors,
    };
    Ok(staff_page(
        "用户与角色",
        viewer,
        "/ui/admin/accounts",
        html! {
            h1 { "系统管理" }
            (admin_tabs("/ui/admin/accounts"))
            @if let Some(done) = outcome.as_ref().and_then(|o| o.done.as_ref()) { p.flash role="status" { (done) } }
            div.admin-grid {
                section.card {
                    h2 { "新建账号" }
                    form method="post" action="/ui/admin/accounts" hx-post="/ui/admin/accounts" hx-target="main" hx-select="main" hx-swap="outerHTML" {
                        div.field {
                            label for="new-login" { "登录名" }
                            input #new-login name="login" required autocomplete="off";
                            (field_error(create_errors, "login"))
                        }
                        div.field {
                            label for="new-name" { "姓名" }
                            input #new-name name="display_name" required;
                        }
                        div.field {
                            label for="new-password" { "初始密码（留空则随机生成）" }
                            input #new-password name="password" type="password" autocomplete="new-password";
                            (field_error(create_errors, "password"))
                        }
                        div.field {
                            label for="new-roles" { "角色（每行 角色@范围）" }
                            textarea #new-roles name="roles" rows="3" required placeholder="grid_worker@140702201207002" {}
                            (field_error(create_errors, "roles"))
                        }
                        (role_help())
                        (form_errors(create_errors, &["login", "password", "roles"]))
                        button.primary type="submit" { "创建账号" }
                    }
                }
                section.card.wide-card {
                    h2 { "账号（共 " (total) " 个" @if total > accounts.len() { "，显示前 " (accounts.len()) " 个" } "）" }
                    form.search method="get" action="/ui/admin/accounts" role="search" {
                        label for="account-search" { "查找账号（登录名、姓名、角色或范围）" }
                        div.search-row {
                            input #account-search name="q" value=(search) type="search";
                            button.secondary type="submit" { "查找" }
                        }
                    }
                    table.data {
                        thead { tr { th scope="col" { "登录名" } th scope="col" { "姓名" } th scope="col" { "角色" } th scope="col" { "状态" } th scope="col" { "创建" } } }
                        tbody {
                            @for account in &accounts {
                                @let errors = match &outcome { Some(o) if o.form == account.id => o.errors.clone(), _ => Vec::new() };
                                tr {
                                    td { (account.login) }
                                    td { (account.display_name) }
                                    td {
                                        form.roles-form hx-post=(format!("/ui/admin/accounts/{}/roles", account.id)) hx-target="main" hx-select="main" hx-swap="outerHTML" {
                                            label.visually-hidden for=(format!("roles-{}", account.id)) { (account.login) " 的角色" }
                                            textarea id=(format!("roles-{}", account.id)) name="roles" rows=(account.assignments.len().max(1)) { (roles_text(account)) }
                                            (field_error(&errors, "roles"))
                                            (form_errors(&errors, &["roles"]))
                                            button.secondary.small type="submit" { "保存角色" }
                                        }
                                    }
                                    td {
                                        @if account.disabled { "停用" }
                                        @else if account.locked_until.is_some_and(|t| t > chrono::Utc::now()) { "锁定" }
                                        @else { "正常" }
                                        @if account.totp_enabled { br; span.muted { "已启用动态码" } }
                                    }
                                    td { (shanghai(account.created_at)) }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// `/ui/admin/accounts`.
pub async fn accounts(
    State(app): State<App>,
    viewer: Viewer,
    Query(query): Query<SearchQuery>,
) -> Result<Markup, PageError> {
    require(&viewer, Capability::ManageAccounts)?;
    accounts_page(&app, &viewer, None, query.q.as_deref().unwrap_or("")).await
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct NewAccountForm {
    login: String,
    display_name: String,
    #[serde(default)]
    password: String,
    roles: String,
}

fn role_lines(text: &str) -> Vec<String> {
    text.split(['\n', ',', '，'])
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

fn roles_error(error: &AppError) -> (Option<&'static str>, String) {
    let (field, message) = explain(error);
    let text = error.to_string();
    if field.is_none() && (text.contains("role") || text.contains("scope")) {
        return (Some("roles"), message);
    }
    (field, message)
}

/// `POST /ui/admin/accounts`.
pub async fn create_account(
    State(app): State<App>,
    viewer: Viewer,
    Form(form): Form<NewAccountForm>,
) -> Result<Response, PageError> {
    require(&viewer, Capability::ManageAccounts)?;
    let generated = form
        .password
        .is_empty()
        .then(onegrid_app::secrets::random_password);
    let password = generated.clone().unwrap_or(form.password.clone());
    let result = match parse_assignment_list(&role_lines(&form.roles), "") {
        Err(error) => Err(roles_error(&error)),
        Ok(assignments) => app
            .create_account(
                &viewer.principal,
                &form.login,
                form.display_name.trim(),
                Some(&password),
                assignments,
            )
            .await
            .map_err(|error| roles_error(&error)),
    };
    let (status, outcome) = match result {
        Ok(account) => (
            StatusCode::OK,
            AccountsOutcome {
                errors: Vec::new(),
                done: Some(match generated {
                    Some(password) => format!(
                        "已创建账号 {}，初始密码 {password}（只显示这一次，请转交本人并提醒修改）",
                        account.login
                    ),
                    None => format!("已创建账号 {}", account.login),
                }),
                form: "create".to_owned(),
            },
        ),
        Err(error) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            AccountsOutcome {
                errors: vec![error],
                done: None,
                form: "create".to_owned(),
            },
        ),
    };
    Ok((
        status,
        accounts_page(&app, &viewer, Some(outcome), "").await?,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct RolesForm {
    roles: String,
}

/// `POST /ui/admin/accounts/{id}/roles`.
pub async fn set_roles(
    State(app): State<App>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<RolesForm>,
) -> Result<Response, PageError> {
    require(&viewer, Capability::ManageAccounts)?;
    let result = match parse_assignment_list(&role_lines(&form.roles), "") {
        Err(error) => Err(roles_error(&error)),
        Ok(assignments) => app
            .set_assignments(&viewer.principal, &id, assignments)
            .await
            .map_err(|error| roles_error(&error)),
    };
    let (status, outcome) = match result {
        Ok(_) => (
            StatusCode::OK,
            AccountsOutcome {
                errors: Vec::new(),
                done: Some("角色已保存".to_owned()),
                form: id,
            },
        ),
        Err(error) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            AccountsOutcome {
                errors: vec![error],
                done: None,
                form: id,
            },
        ),
    };
    Ok((
        status,
        accounts_page(&app, &viewer, Some(outcome), "").await?,
    )
        .into_response())
}

/// `/ui/admin/taxonomy`.
pub async fn taxonomy(State(app): State<App>, viewer: Viewer) -> Result<Markup, PageError> {
    require(&viewer, Capability::ManageSystem)?;
    let rules = app.rules();
    let taxonomy = &rules.taxonomy;
    Ok(staff_page(
        "事件分类",
        &viewer,
        "/ui/admin/accounts",
        html! {
            h1 { "系统管理" }
            (admin_tabs("/ui/admin/taxonomy"))
            p.muted { (taxonomy.name) " · 版本 " (taxonomy.version) " · 用 onegrid taxonomy import 替换" }
            @for major in &taxonomy.categories {
                section.card {
                    h2 { (major.code) " " (major.name) }
                    table.data {
                        thead { tr { th scope="col" { "代码" } th scope="col" { "小类" } th scope="col" { "立案条件" } th scope="col" { "结案条件" } th scope="col" { "默认层级" } } }
                        tbody {
                            @for minor in &major.minors {
                                tr {
                                    td { (minor.code) }
                                    td { (minor.name) }
                                    td { (minor.register_condition) }
                                    td { (minor.close_condition) }
                                    td { (minor.default_tier.label()) }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// `/ui/admin/calendar`.
pub async fn calendar(State(app): State<App>, viewer: Viewer) -> Result<Markup, PageError> {
    require(&viewer, Capability::ManageSystem)?;
    let rules = app.rules();
    let mut days = Vec::new();
    if let Some((first, last)) = rules.calendar.listed_range() {
        for date in first.iter_days().take_while(|d| *d <= last) {
            if let Some(day) = rules.calendar.special_day(date) {
                days.push(day.clone());
            }
        }
    }
    Ok(staff_page(
        "工作日历",
        &viewer,
        "/ui/admin/accounts",
        html! {
            h1 { "系统管理" }
            (admin_tabs("/ui/admin/calendar"))
            p.muted { "法定节假日与调休上班日（北京时间）；未列出的日期按周一至周五工作。用 onegrid calendar import 替换。" }
            section.card {
                table.data {
                    thead { tr { th scope="col" { "日期" } th scope="col" { "类型" } th scope="col" { "节日" } } }
                    tbody {
                        @for day in &days {
                            tr {
                                td { (day.date.format("%Y-%m-%d")) }
                                td { @if day.kind.as_str() == "holiday" { span.badge.tone-off { "放假" } } @else { span.badge.tone-work { "调休上班" } } }
                                td { (day.name) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

fn grids_content(outcome: Option<Markup>) -> Markup {
    html! {
        h1 { "系统管理" }
        (admin_tabs("/ui/admin/grids"))
        section.card {
            h2 { "导入网格边界（GeoJSON）" }
            p.muted { "整份文件先全部检查：编码、几何、重叠、所属村（社区）。有任何问题，全部列出且不写入任何数据；全部无误才一次写入。" }
            form #grids-form hx-post="/ui/admin/grids" hx-target="#grids-result" hx-swap="innerHTML" {
                div.field {
                    label for="grids-file" { "选择文件" }
                    input #grids-file type="file" accept=".geojson,.json,application/geo+json,application/json" data-read-into="grids-text";
                }
                div.field {
                    label for="grids-text" { "或粘贴 GeoJSON 内容" }
                    textarea #grids-text name="geojson" rows="6" required {}
                }
                div.field-row {
                    div.field {
                        label for="grids-crs" { "坐标系" }
                        select #grids-crs name="crs" {
                            option value="wgs84" { "WGS-84" }
                            option value="cgcs2000" { "CGCS2000" }
                            option value="gcj02" { "GCJ-02（网络地图）" }
                        }
                    }
                    div.field {
                        label for="grids-code" { "编码字段" }
                        input #grids-code name="code_field" value="code";
                    }
                    div.field {
                        label for="grids-name" { "名称字段" }
                        input #grids-name name="name_field" value="name";
                    }
                }
                button.primary type="submit" { "检查并导入" }
            }
        }
        section #grids-result aria-live="polite" { @if let Some(outcome) = outcome { (outcome) } }
    }
}

/// `/ui/admin/grids`.
pub async fn grids_form(viewer: Viewer) -> Result<Markup, PageError> {
    require(&viewer, Capability::ManageSystem)?;
    Ok(staff_page(
        "网格导入",
        &viewer,
        "/ui/admin/accounts",
        grids_content(None),
    ))
}

#[derive(Debug, Deserialize)]
pub struct GridsForm {
    geojson: String,
    crs: String,
    #[serde(default)]
    code_field: String,
    #[serde(default)]
    name_field: String,
}

/// `POST /ui/admin/grids` (htmx): every problem, or what was stored.
pub async fn upload_grids(
    State(app): State<App>,
    viewer: Viewer,
    Form(form): Form<GridsForm>,
) -> Result<Response, PageError> {
    require(&viewer, Capability::ManageSystem)?;
    let crs = match form.crs.as_str() {
        "gcj02" => Crs::Gcj02,
        "cgcs2000" => Crs::Cgcs2000,
        _ => Crs::Wgs84,
    };
    let mut fields = FieldNames::default();
    if !form.code_field.trim().is_empty() {
        fields.code = form.code_field.trim().to_owned();
    }
    if !form.name_field.trim().is_empty() {
        fields.name = form.name_field.trim().to_owned();
    }
    let options = AreaImportOptions {
        level: Level::Grid,
        fields,
        crs,
    };
    let outcome = match app.import_areas(&form.geojson, &options).await {
        Ok(report) => (
            StatusCode::OK,
            html! {
                div.card.ok-card role="status" {
                    h2 { "已导入 " (report.imported) " 个网格" }
                    p { "新增区划 " (report.new_regions) " 个，用时 " (report.elapsed_ms) " 毫秒。" }
                    @for warning in report.warnings() { p.hint { "提示：" (warning) } }
                }
            },
        ),
        Err(AppError::Invalid { message, problems }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            html! {
                div.card.error-card role="alert" {
                    h2 { "文件有 " (problems.len().max(1)) " 处问题，未写入任何数据" }
                    // The summary line only when no problem is itemised (a file that is not
                    // GeoJSON at all); otherwise the heading says it.
                    @if problems.is_empty() { p { (message) } }
                    ol.problems {
                        @for problem in &problems { li { strong { (problem.location) } "：" (problem.message) } }
                    }
                }
            },
        ),
        Err(error) => {
            let (_, message) = explain(&error);
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                html! { div.card.error-card role="alert" { p { (message) } } },
            )
        }
    };
    Ok(outcome.into_response())
}
