//! The case page every staff workspace opens: the case, its map, photos and whole record, and
//! a form for each act the viewer may take now. Acts post through htmx to
//! `/ui/cases/{id}/acts` and the answer replaces the page's case block; a refusal comes back
//! as the same block with the reason next to the field it concerns.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDateTime, TimeZone, Utc};
use maud::{Markup, html};
use onegrid_app::cases::CaseView;
use onegrid_app::{App, AppError};
use onegrid_domain::access::Role;
use onegrid_domain::case::{Act, ActInput, CaseState, legal_acts};
use onegrid_domain::{Level, RegionCode};
use serde_json::{Map, Value, json};

use super::layout::{
    PageError, Viewer, alert_badge, explain, field_error, form_errors, role_label, shanghai,
    shanghai_text, staff_page, state_badge, state_label,
};
use super::svgmap::{Shape, map};
use crate::routes::cases::case_response;
use crate::wire::CaseResponse;

/// The fields an act's form has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Note { required: bool },
    Reason,
    RejectKind,
    Category,
    Urgency,
    Unit,
    Amount,
    Satisfaction,
    Photos,
    Due,
}

/// A form on the page: an act, or the handler's request for more time (a `handle` note).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FormKind {
    Act(Act),
    ExtensionRequest,
}

impl FormKind {
    fn name(self) -> &'static str {
        match self {
            FormKind::Act(act) => act.as_str(),
            FormKind::ExtensionRequest => "extension_request",
        }
    }

    fn parse(text: &str) -> Option<FormKind> {
        if text == "extension_request" {
            return Some(FormKind::ExtensionRequest);
        }
        serde_json::from_value::<Act>(Value::String(text.to_owned()))
            .ok()
            .map(FormKind::Act)
    }

    /// The button's words, whether it is the main way forward, and the form's fields.
    fn spec(self) -> (&'static str, bool, &'static [Field]) {
        use Field as F;
        let act = match self {
            FormKind::ExtensionRequest => {
                return ("申请延期", false, &[F::Amount, F::Reason]);
            }
            FormKind::Act(act) => act,
        };
        match act {
            Act::Accept => ("受理", true, &[F::Note { required: false }]),
            Act::Reject => (
                "不予受理",
                false,
                &[F::RejectKind, F::Note { required: false }],
            ),
            Act::Register => (
                "立案",
                true,
                &[F::Category, F::Urgency, F::Note { required: false }],
            ),
            Act::Dispatch => ("派遣", true, &[F::Unit, F::Note { required: false }]),
            Act::Sign => ("签收", true, &[F::Note { required: false }]),
            Act::Return => ("退回", false, &[F::Reason]),
            Act::Handle => ("记录处置进展", false, &[F::Note { required: true }]),
            Act::ReportBack => (
                "处置完毕，反馈",
                true,
                &[F::Note { required: true }, F::Photos],
            ),
            Act::VerifyPass => ("核查通过", true, &[F::Note { required: false }]),
            Act::VerifyFail => ("核查不通过（返工）", false, &[F::Note { required: true }]),
            Act::Close => ("结案", true, &[F::Note { required: false }]),
            Act::FollowUp => (
                "回访评价",
                true,
                &[F::Satisfaction, F::Note { required: false }],
            ),
            Act::Reopen => ("重新办理", false, &[F::Reason]),
            Act::Suspend => ("挂账（缓办）", false, &[F::Reason]),
            Act::Resume => ("恢复办理", true, &[F::Note { required: false }]),
            Act::Extend => ("批准延期", false, &[F::Amount, F::Reason]),
            Act::Void => ("作废", false, &[F::Reason]),
            Act::Escalate => ("上报上级", false, &[F::Reason]),
            Act::Urge => ("督办", false, &[F::Due, F::Note { required: false }]),
            Act::SettleOnSpot => (
                "现场已处置（自处置）",
                true,
                &[F::Note { required: true }, F::Photos],
            ),
            Act::Report | Act::MarkOverdue => ("", false, &[]),
        }
    }
}

/// The forms the viewer may use on this case now.
fn forms_for(viewer: &Viewer, view: &CaseView) -> Vec<FormKind> {
    let mut forms: Vec<FormKind> = legal_acts(&view.case)
        .into_iter()
        .filter(|act| !matches!(act, Act::Report | Act::MarkOverdue))
        .filter(|act| viewer.principal.assignment_for(*act, &view.case).is_some())
        .map(FormKind::Act)
        .collect();
    // A department that needs more time asks the centre's lead, who alone may extend.
    let may_handle = viewer
        .principal
        .assignment_for(Act::Handle, &view.case)
        .is_some_and(|a| a.role == Role::UnitHandler);
    if view.case.state == CaseState::Handling
        && may_handle
        && !forms.contains(&FormKind::Act(Act::Extend))
    {
        forms.push(FormKind::ExtensionRequest);
    }
    forms
}

/// What the last submission did, shown at the top of the block.
struct Outcome {
    form: Option<FormKind>,
    errors: Vec<(Option<&'static str>, String)>,
    done: Option<String>,
}

fn category_options(app: &App, selected: Option<&str>) -> Markup {
    let rules = app.rules();
    html! {
        option value="" { "请选择小类" }
        @for major in &rules.taxonomy.categories {
            optgroup label=(format!("{} {}", major.code, major.name)) {
                @for minor in &major.minors {
                    option value=(minor.code) selected[selected == Some(minor.code.as_str())] {
                        (minor.code) " " (minor.name)
                    }
                }
            }
        }
    }
}

fn field_markup(
    app: &App,
    case: &CaseResponse,
    form: FormKind,
    field: Field,
    errors: &[(Option<&'static str>, String)],
) -> Markup {
    let id = |name: &str| format!("{}-{name}", form.name());
    match field {
        Field::Note { required } => html! {
            div.field {
                label for=(id("note")) { @if required { "说明（必填）" } @else { "说明（选填）" } }
                textarea id=(id("note")) name="note" rows="2" required[required] {}
                (field_error(errors, "note"))
            }
        },
        Field::Reason => html! {
            div.field {
                label for=(id("reason")) { "理由（必填）" }
                textarea id=(id("reason")) name="reason" rows="2" required {}
                (field_error(errors, "reason"))
            }
        },
        Field::RejectKind => html! {
            div.field {
                label for=(id("kind")) { "不予受理的原因" }
                select id=(id("kind")) name="reject_kind" {
                    option value="invalid" { "无效信息" }
                    option value="out_of_scope" { "不属于受理范围" }
                }
            }
        },
        Field::Category => {
            let selected = case
                .category
                .as_ref()
                .map(|c| c.code.clone())
                .or_else(|| case.suggested_categories.first().map(|c| c.code.clone()));
            html! {
                div.field {
                    label for=(id("category")) { "事件小类" }
                    select id=(id("category")) name="category" {
                        (category_options(app, selected.as_deref()))
                    }
                    @if !case.suggested_categories.is_empty() {
                        p.hint { "系统建议：" @for (i, s) in case.suggested_categories.iter().enumerate() {
                            @if i > 0 { "、" } (s.major) "/" (s.name)
                        } }
                    }
                    (field_error(errors, "category"))
                }
            }
        }
        Field::Urgency => html! {
            div.field {
                label for=(id("urgency")) { "紧急程度" }
                select id=(id("urgency")) name="urgency" {
                    @for (value, label) in [("normal", "一般"), ("urgent", "紧急"), ("critical", "特急")] {
                        option value=(value) selected[case.urgency == value] { (label) }
                    }
                }
            }
        },
        Field::Unit => html! {
            div.field {
                label for=(id("unit")) { "派往单位" }
                select id=(id("unit")) name="unit" {
                    @for s in &case.suggestions {
                        option value=(format!("{}|{}", s.unit, s.tier)) {
                            (s.unit_name) @if s.role == "lead" { "（主办，建议）" } @else { "（协办）" }
                        }
                    }
                    option value="" { "其他单位（在下方填写代码）" }
                }
                label for=(id("unit-other")) { "其他单位代码" }
                input id=(id("unit-other")) name="unit_other" placeholder="如 140702:城管局";
                (field_error(errors, "unit"))
            }
        },
        Field::Amount => html! {
            div.field {
                label for=(id("amount")) { "延长工作日数" }
                input id=(id("amount")) name="amount" type="number" min="1" max="30" value="3" required;
                (field_error(errors, "amount"))
            }
        },
        Field::Satisfaction => html! {
            fieldset.field {
                legend { "满意度" }
                @for (value, label) in [("satisfied", "满意"), ("basically_satisfied", "基本满意"), ("unsatisfied", "不满意")] {
                    label.choice { input type="radio" name="satisfaction" value=(value) checked[value == "satisfied"]; (label) }
                }
                (field_error(errors, "satisfaction"))
            }
        },
        Field::Photos => html! {
            div.field {
                label for=(id("photos")) { "现场照片" }
                input id=(id("photos")) type="file" accept="image/*" capture="environment" multiple data-upload-into=(id("attachments"));
                input id=(id("attachments")) type="hidden" name="attachments";
                div.thumbs data-thumbs-for=(id("attachments")) {}
            }
        },
        Field::Due => html! {
            div.field {
                label for=(id("due")) { "督办期限（北京时间）" }
                input id=(id("due")) name="due" type="datetime-local" required;
                (field_error(errors, "due"))
            }
        },
    }
}

fn act_form(app: &App, case: &CaseResponse, form: FormKind, outcome: Option<&Outcome>) -> Markup {
    let (button, primary, fields) = form.spec();
    let errors: &[(Option<&'static str>, String)] = match outcome {
        Some(outcome) if outcome.form == Some(form) => &outcome.errors,
        _ => &[],
    };
    let open = !errors.is_empty();
    let field_names = [
        "note",
        "reason",
        "category",
        "unit",
        "amount",
        "due",
        "satisfaction",
    ];
    let body = html! {
        form.act-form hx-post=(format!("/ui/cases/{}/acts", case.id)) hx-target="#case" hx-swap="outerHTML"
            data-act=(form.name()) {
            input type="hidden" name="act" value=(form.name());
            input type="hidden" name="version" value=(case.version);
            @for field in fields { (field_markup(app, case, form, *field, errors)) }
            (form_errors(errors, &field_names))
            button class=(if primary { "primary" } else { "secondary" }) type="submit" { (button) }
        }
    };
    if primary
        && fields
            .iter()
            .all(|f| matches!(f, Field::Note { required: false }))
    {
        return html! { div.act-quick { (body) } };
    }
    html! {
        details.act open[open || primary] {
            summary { (button) }
            (body)
        }
    }
}

fn photo_hashes(case: &CaseResponse) -> Vec<String> {
    let mut hashes = case.attachments.clone();
    for entry in &case.record {
        for hash in &entry.attachments {
            if !hashes.contains(hash) {
                hashes.push(hash.clone());
            }
        }
    }
    hashes
}

async fn grid_shape(app: &App, grid: Option<&str>) -> Option<Value> {
    let code = RegionCode::parse_at(Level::Grid, grid?).ok()?;
    let feature = app.area_feature(&code).await.ok()?;
    Some(feature["geometry"].clone())
}

/// The other grids of the case's village, drawn lighter around it for bearings.
async fn neighbour_grids(app: &App, grid: Option<&str>) -> Vec<Value> {
    let Some(village) = grid
        .and_then(|g| RegionCode::parse_at(Level::Grid, g).ok())
        .and_then(|g| g.parent())
    else {
        return Vec::new();
    };
    app.children_outlines(&village)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f["properties"]["code"].as_str() != grid)
        .collect()
}

/// The case block (`#case`): everything the acts change.
async fn case_block(
    app: &App,
    viewer: &Viewer,
    view: &CaseView,
    outcome: Option<&Outcome>,
) -> Markup {
    let case = case_response(app, &view.case, &view.records, &view.suggestions);
    let forms = forms_for(viewer, view);
    let grid_geometry = grid_shape(app, case.grid.as_deref()).await;
    let neighbours = neighbour_grids(app, case.grid.as_deref()).await;
    let location_map = match (&grid_geometry, case.lon.zip(case.lat)) {
        (Some(geometry), point) => {
            let mut shapes: Vec<Shape> = neighbours
                .iter()
                .map(|f| Shape {
                    geometry: &f["geometry"],
                    label: None,
                    code: f["properties"]["code"].as_str().map(str::to_owned),
                    class: "area-shape",
                })
                .collect();
            shapes.push(Shape {
                geometry,
                label: None,
                code: case.grid.clone(),
                class: "grid-shape",
            });
            html! {
                (map(&shapes, point, false, "网格范围与事件位置"))
                p.hint { "深色为事件所在网格，浅色为同村（社区）其他网格。" }
            }
        }
        (None, Some(_)) => html! { p.muted { "该网格暂无边界数据" } },
        (None, None) => html! { p.muted { "未提供位置" } },
    };
    let place: Vec<String> = case
        .chain
        .iter()
        .rev()
        .filter(|l| l.level != "province")
        .map(|l| l.name.clone())
        .collect();
    let photos = photo_hashes(&case);
    html! {
        div #case data-state=(case.state) data-version=(case.version) {
            div.case-head {
                div {
                    p.eyebrow { "事件编号" }
                    h1 { (case.number) }
                }
                div.badges {
                    (state_badge(view.case.state))
                    @if view.case.state.is_open() {
                        (alert_badge(if view.case.stage_overdue { "overdue" } else { &case.stage.alert }, case.stage.remaining.as_deref().filter(|_| !view.case.stage_overdue)))
                    }
                    @if case.urge_due.is_some() { span.badge.tone-urge { "督办" } }
                }
            }
            @if let Some(outcome) = outcome {
                @if let Some(done) = &outcome.done { p.flash role="status" { (done) } }
            }
            div.case-grid {
                div.col {
                    section.card #details {
                        h2 { "事件详情" }
                        p.description { (case.description) }
                        dl.facts {
                            dt { "事件类别" } dd { @if let Some(c) = &case.category { (c.major) " / " (c.name) } @else { span.muted { "未分类" } } }
                            @if case.category.is_none() && !case.suggested_categories.is_empty() {
                                dt { "建议类别" } dd { @for (i, s) in case.suggested_categories.iter().enumerate() { @if i > 0 { "、" } (s.major) "/" (s.name) } }
                            }
                            dt { "紧急程度" } dd { (urgency_label(&case.urgency)) }
                            dt { "所在位置" } dd { (place.join(" › ")) }
                            dt { "网格" } dd { (case.grid.clone().unwrap_or_default()) }
                            dt { "来源" } dd { (channel_label(&case.channel)) }
                            dt { "反映人" } dd {
                                (case.reporter.name.clone().unwrap_or_else(|| "—".to_owned()))
                                @if let Some(phone) = &case.reporter.phone { " " (phone) }
                            }
                            dt { "上报时间" } dd { (shanghai(case.created_at)) }
                            @if let Some(unit) = &case.unit { dt { "承办单位" } dd { (super::layout::unit_label(app, unit)) } }
                            @if let Some(deadline) = case.stage.deadline { dt { "本环节时限" } dd { (shanghai(deadline)) } }
                        }
                    }
                    section.card {
                        h2 { "位置" }
                        (location_map)
                        @if let (Some(lon), Some(lat)) = (case.lon, case.lat) {
                            p.hint { "经度 " (format!("{lon:.5}")) "，纬度 " (format!("{lat:.5}")) }
                        }
                    }
                    section.card {
                        h2 { "照片与材料" }
                        @if photos.is_empty() { p.muted { "暂无照片" } }
                        div.photos {
                            @for hash in &photos {
                                a href=(format!("/api/v1/cases/{}/attachments/{hash}", case.id)) target="_blank" {
                                    img src=(format!("/api/v1/cases/{}/attachments/{hash}", case.id)) alt="事件照片";
                                }
                            }
                        }
                    }
                }
                div.col {
                    section.card #actions {
                        h2 { "办理" }
                        @if forms.is_empty() {
                            p.muted { "当前环节（" (case.state_label) "）无需您办理。" }
                        }
                        @for form in &forms { (act_form(app, &case, *form, outcome)) }
                    }
                    section.card #record {
                        h2 { "全过程记录" }
                        ol.timeline {
                            @for entry in case.record.iter().rev() {
                                li {
                                    div.when { (shanghai_text(&entry.at)) }
                                    div.what {
                                        strong { (entry.act_label) }
                                        @if entry.to_state.is_some() && entry.to_state != entry.from_state {
                                            span.muted { " → " (state_label(entry.to_state.as_deref())) }
                                        }
                                    }
                                    div.who { (entry.actor) " · " (role_label(&entry.role)) }
                                    @if !entry.note.is_empty() { div.note { (entry.note) } }
                                }
                            }
                        }
                        p.hint { "记录逐条哈希链接，任何改动都可被审计发现。" }
                    }
                }
            }
        }
    }
}

pub fn urgency_label(urgency: &str) -> &'static str {
    match urgency {
        "urgent" => "紧急",
        "critical" => "特急",
        _ => "一般",
    }
}

pub fn channel_label(channel: &str) -> &'static str {
    channel
        .parse::<onegrid_domain::case::Channel>()
        .map_or("其他", onegrid_domain::case::Channel::label)
}

/// `/ui/cases/{id}`.
pub async fn show(
    State(app): State<App>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let view = app.case_view_as(&viewer.principal, &id).await?;
    let block = case_block(&app, &viewer, &view, None).await;
    let back = back_link(&viewer);
    Ok(staff_page(
        &format!("事件 {}", view.case.number),
        &viewer,
        back.0,
        html! {
            p.crumbs { a href=(back.0) { "← " (back.1) } }
            (block)
        },
    ))
}

fn back_link(viewer: &Viewer) -> (&'static str, &'static str) {
    super::layout::workspaces(&viewer.principal)
        .first()
        .copied()
        .unwrap_or(("/ui", "工作台"))
}

fn value_of<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(key, _)| key == name)
        .map_or("", |(_, value)| value.trim())
}

/// Turns a submitted form into the act's input, or the errors to show next to its fields.
fn act_input(
    kind: FormKind,
    form: &[(String, String)],
) -> Result<ActInput, Vec<(Option<&'static str>, String)>> {
    let mut errors = Vec::new();
    let (_, _, fields) = kind.spec();
    let amount = if fields.contains(&Field::Amount) {
        match value_of(form, "amount").parse::<u32>() {
            Ok(n) if (1..=30).contains(&n) => Some(n),
            _ => {
                errors.push((Some("amount"), "请填写 1 到 30 之间的整数".to_owned()));
                None
            }
        }
    } else {
        None
    };
    if fields.contains(&Field::Reason) && value_of(form, "reason").is_empty() {
        errors.push((Some("reason"), "请填写理由".to_owned()));
    }
    if fields.contains(&Field::Note { required: true }) && value_of(form, "note").is_empty() {
        errors.push((Some("note"), "请填写说明".to_owned()));
    }
    let act = match kind {
        FormKind::ExtensionRequest => {
            if !errors.is_empty() {
                return Err(errors);
            }
            return Ok(ActInput::Handle {
                note: format!(
                    "申请延期 {} 个工作日：{}",
                    amount.unwrap_or(0),
                    value_of(form, "reason")
                ),
            });
        }
        FormKind::Act(act) => act,
    };
    let mut object = Map::new();
    object.insert("act".to_owned(), json!(act.as_str()));
    for field in fields {
        match field {
            Field::Note { .. } => {
                object.insert("note".to_owned(), json!(value_of(form, "note")));
            }
            Field::Reason => {
                object.insert("reason".to_owned(), json!(value_of(form, "reason")));
            }
            Field::RejectKind => {
                let kind = match value_of(form, "reject_kind") {
                    "out_of_scope" => "out_of_scope",
                    _ => "invalid",
                };
                object.insert("reason".to_owned(), json!({ "kind": kind }));
            }
            Field::Category => {
                let category = value_of(form, "category");
                if category.is_empty() {
                    errors.push((Some("category"), "请选择事件小类".to_owned()));
                } else {
                    object.insert("category".to_owned(), json!(category));
                }
            }
            Field::Urgency => {
                let urgency = value_of(form, "urgency");
                if !urgency.is_empty() {
                    object.insert("urgency".to_owned(), json!(urgency));
                }
            }
            Field::Unit => {
                let chosen = value_of(form, "unit");
                let other = value_of(form, "unit_other");
                let (unit, tier) = match (chosen.split_once('|'), other.is_empty()) {
                    (_, false) => (other, None),
                    (Some((unit, tier)), true) => (unit, Some(tier)),
                    (None, true) => ("", None),
                };
                if unit.is_empty() {
                    errors.push((Some("unit"), "请选择或填写承办单位".to_owned()));
                }
                object.insert("unit".to_owned(), json!(unit));
                if let Some(tier) = tier {
                    object.insert("tier".to_owned(), json!(tier));
                }
            }
            Field::Amount => {
                object.insert("amount".to_owned(), json!(amount.unwrap_or(0)));
            }
            Field::Satisfaction => {
                object.insert(
                    "satisfaction".to_owned(),
                    json!(value_of(form, "satisfaction")),
                );
            }
            Field::Photos => {
                let hashes: Vec<&str> = value_of(form, "attachments")
                    .split(',')
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .collect();
                object.insert("attachments".to_owned(), json!(hashes));
            }
            Field::Due => {
                let text = value_of(form, "due");
                let parsed = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
                    .ok()
                    .and_then(|local| {
                        chrono::FixedOffset::east_opt(8 * 3600)
                            .and_then(|tz| tz.from_local_datetime(&local).single())
                    });
                match parsed {
                    Some(due) => {
                        object.insert("due".to_owned(), json!(due.with_timezone(&Utc)));
                    }
                    None => errors.push((Some("due"), "请选择督办期限".to_owned())),
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    serde_json::from_value(Value::Object(object))
        .map_err(|error| vec![(None, format!("填写的内容无法识别：{error}"))])
}

/// `POST /ui/cases/{id}/acts` (htmx): takes the act, answers the case block.
pub async fn act(
    State(app): State<App>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let kind = FormKind::parse(value_of(&form, "act"));
    let version = value_of(&form, "version").parse::<u32>().ok();
    let (Some(kind), Some(version)) = (kind, version) else {
        return Err(AppError::invalid("act: 无法识别的办理操作").into());
    };
    let result = match act_input(kind, &form) {
        Err(errors) => Err(errors),
        Ok(input) => app
            .act_on_case_as(&viewer.principal, &id, version, input)
            .await
            .map_err(|error| vec![explain(&error)]),
    };
    let view = app.case_view_as(&viewer.principal, &id).await?;
    let (status, outcome) = match result {
        Ok(case) => (
            StatusCode::OK,
            Outcome {
                form: Some(kind),
                errors: Vec::new(),
                done: Some(format!(
                    "已办理：{}。事件现为「{}」。",
                    kind.spec().0,
                    case.state.label()
                )),
            },
        ),
        Err(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Outcome {
                form: Some(kind),
                errors,
                done: None,
            },
        ),
    };
    // From a queue's row (the intake desk accepting or rejecting in the list): the row again,
    // saying what happened.
    if value_of(&form, "from") == "queue" {
        let message = outcome
            .done
            .clone()
            .or_else(|| outcome.errors.first().map(|(_, m)| m.clone()))
            .unwrap_or_default();
        let note = html! {
            @if outcome.done.is_some() { p.flash.small role="status" { (message) } }
            @else { p.form-error role="alert" { (message) } }
        };
        let row = super::worker::case_row(&app, &view.case, Some(note));
        return Ok((status, row).into_response());
    }
    let block = case_block(&app, &viewer, &view, Some(&outcome)).await;
    Ok((status, block).into_response())
}

/// The intake desk's buttons in a queue row: accept, or reject with its reason.
pub fn queue_actions(viewer: &Viewer, case: &onegrid_domain::case::Case) -> Option<Markup> {
    let may = |act| {
        legal_acts(case).contains(&act) && viewer.principal.assignment_for(act, case).is_some()
    };
    if !may(Act::Accept) {
        return None;
    }
    let post = format!("/ui/cases/{}/acts", case.id);
    Some(html! {
        div.row-actions {
            form hx-post=(post) hx-target="closest li" hx-swap="outerHTML" data-act="accept" {
                input type="hidden" name="act" value="accept";
                input type="hidden" name="version" value=(case.version);
                input type="hidden" name="from" value="queue";
                button.primary.small type="submit" { "受理" }
            }
            @if may(Act::Reject) {
                form hx-post=(post) hx-target="closest li" hx-swap="outerHTML" data-act="reject" {
                    input type="hidden" name="act" value="reject";
                    input type="hidden" name="version" value=(case.version);
                    input type="hidden" name="from" value="queue";
                    label.visually-hidden for=(format!("reject-{}", case.id)) { "不予受理的原因" }
                    select.small id=(format!("reject-{}", case.id)) name="reject_kind" {
                        option value="invalid" { "无效信息" }
                        option value="out_of_scope" { "不属于受理范围" }
                    }
                    button.secondary.small type="submit" { "不予受理" }
                }
            }
        }
    })
}
