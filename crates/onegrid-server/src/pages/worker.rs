//! The grid worker's phone workspace (一人通全岗: every task of every role they hold, in one
//! list): my tasks, reporting a case (photo from the camera, position from the phone, a
//! category), patrol check-in with the track. Reports and patrols leave through `app.js`, which
//! queues reports on the phone when there is no network and sends them, with their
//! `Idempotency-Key`, when it comes back.

use axum::Json;
use axum::extract::State;
use maud::{Markup, html};
use onegrid_app::App;
use onegrid_app::patrol::{PatrolSummary, TrackPoint};
use onegrid_domain::access::{Role, Scope};
use onegrid_domain::case::{Act, CaseState, legal_acts};
use onegrid_store::CaseFilter;
use serde::Deserialize;

use super::layout::{PageError, Viewer, alert_badge, shanghai, staff_page, state_badge};
use crate::ApiError;
use crate::routes::cases::case_response;

/// The states in which a case still needs someone.
pub const OPEN_STATES: [CaseState; 8] = [
    CaseState::Reported,
    CaseState::Accepted,
    CaseState::Registered,
    CaseState::Dispatched,
    CaseState::Handling,
    CaseState::ReportedBack,
    CaseState::Verified,
    CaseState::Suspended,
];

/// One line of a case list: number, state, light, what and where; the whole line is a link.
pub fn case_row(app: &App, case: &onegrid_domain::case::Case, extra: Option<Markup>) -> Markup {
    let view = case_response(app, case, &[], &[]);
    // Top-down, from the county to the village: where a person looks first.
    let place = view
        .chain
        .iter()
        .rev()
        .filter(|l| matches!(l.level.as_str(), "county" | "township" | "village"))
        .map(|l| l.name.clone())
        .collect::<Vec<_>>()
        .join(" › ");
    html! {
        li.case-row data-case-id=(case.id) data-number=(case.number) {
            a.case-link href=(format!("/ui/cases/{}", case.id)) {
                div.row-top {
                    span.number { (case.number) }
                    (state_badge(case.state))
                    // The sweep's mark wins: a stage marked overdue shows so until the case moves on.
                    @if case.state.is_open() {
                        (alert_badge(if case.stage_overdue { "overdue" } else { &view.stage.alert }, view.stage.remaining.as_deref().filter(|_| !case.stage_overdue)))
                    }
                    @if case.urge_due.is_some() { span.badge.tone-urge { "督办" } }
                }
                div.row-what { (view.description) }
                div.row-meta {
                    @if let Some(c) = &view.category { span { (c.major) "/" (c.name) } }
                    span { (place) }
                    span { (shanghai(case.created_at)) }
                }
            }
            @if let Some(extra) = extra { div.row-extra { (extra) } }
        }
    }
}

/// `/ui/worker`: every open case in any of my scopes that waits for something I may do.
pub async fn tasks(State(app): State<App>, viewer: Viewer) -> Result<Markup, PageError> {
    let filter = CaseFilter {
        states: OPEN_STATES.to_vec(),
        ..CaseFilter::default()
    };
    let page = app
        .list_cases_as(&viewer.principal, &filter, None, 200)
        .await?;
    let mine: Vec<_> = page
        .cases
        .iter()
        .filter(|case| {
            // A task is a step of the loop that waits for me; that I could also escalate or
            // void a case does not make it my work.
            legal_acts(case)
                .into_iter()
                .filter(|act| {
                    !matches!(
                        act,
                        Act::Escalate | Act::Urge | Act::Void | Act::Suspend | Act::Reopen
                    )
                })
                .any(|act| viewer.principal.assignment_for(act, case).is_some())
        })
        .collect();
    let section = |state_list: &[CaseState]| -> Vec<&onegrid_domain::case::Case> {
        mine.iter()
            .filter(|c| state_list.contains(&c.state))
            .copied()
            .collect()
    };
    let verify = section(&[CaseState::ReportedBack]);
    let handle = section(&[CaseState::Dispatched, CaseState::Handling]);
    let settle: Vec<_> = section(&[CaseState::Reported])
        .into_iter()
        .filter(|c| {
            viewer
                .principal
                .assignment_for(Act::SettleOnSpot, c)
                .is_some()
        })
        .collect();
    let other: Vec<_> = mine
        .iter()
        .filter(|c| {
            !verify.iter().any(|v| v.id == c.id)
                && !handle.iter().any(|v| v.id == c.id)
                && !settle.iter().any(|v| v.id == c.id)
        })
        .copied()
        .collect();
    let atlas = app.atlas();
    let grids: Vec<String> = grid_scopes(&viewer)
        .into_iter()
        .map(|code| {
            // 西长寿村委会第1网格: a grid's own name repeats in every village.
            let chain = atlas.chain(&code);
            let names: Vec<&str> = chain
                .iter()
                .filter(|l| {
                    matches!(
                        l.level,
                        onegrid_domain::Level::Village | onegrid_domain::Level::Grid
                    )
                })
                .rev()
                .map(|l| l.name.as_str())
                .collect();
            if names.is_empty() {
                code.clone()
            } else {
                names.concat()
            }
        })
        .collect();
    Ok(staff_page(
        "我的任务",
        &viewer,
        "/ui/worker",
        html! {
            div.page-head {
                h1 { "我的任务" }
                p.muted { "共 " strong #task-count { (mine.len()) } " 件待办 · 负责 " (grids.join("、")) }
            }
            div.quick {
                a.tile.primary href="/ui/worker/report" { span.tile-icon aria-hidden="true" { "＋" } "上报事件" }
                a.tile href="/ui/worker/patrol" { span.tile-icon aria-hidden="true" { "◎" } "巡查打卡" }
            }
            div #queue-status.queue-status hidden role="status" {}
            @for (title, list, empty) in [
                ("待核查", &verify, "没有待核查的事件"),
                ("待处置", &handle, "没有待处置的事件"),
                ("可现场处置", &settle, "没有待受理的自报事件"),
                ("其他待办", &other, ""),
            ] {
                @if !list.is_empty() || !empty.is_empty() {
                    section.card.list-card {
                        h2 { (title) " " span.count { (list.len()) } }
                        @if list.is_empty() { p.muted { (empty) } }
                        ul.cases { @for case in list.iter() { (case_row(&app, case, None)) } }
                    }
                }
            }
        },
    ))
}

fn grid_scopes(viewer: &Viewer) -> Vec<String> {
    viewer
        .principal
        .assignments
        .iter()
        .filter(|a| matches!(a.role, Role::GridWorker | Role::CommunityStaff))
        .filter_map(|a| match &a.scope {
            Scope::Region(code) => Some(code.to_string()),
            _ => None,
        })
        .collect()
}

/// The category picker: 大类 then 小类, from the taxonomy in force.
pub fn category_select(app: &App, id: &str, required: bool) -> Markup {
    let rules = app.rules();
    html! {
        select id=(id) name="category" required[required] {
            option value="" { @if required { "请选择事件类别" } @else { "不确定（由中心分类）" } }
            @for major in &rules.taxonomy.categories {
                optgroup label=(major.name) {
                    @for minor in &major.minors { option value=(minor.code) { (minor.name) } }
                }
            }
        }
    }
}

/// `/ui/worker/report`: the report form; `app.js` sends it or queues it offline.
pub async fn report_form(State(app): State<App>, viewer: Viewer) -> Markup {
    let grids = grid_scopes(&viewer);
    let atlas = app.atlas();
    staff_page(
        "上报事件",
        &viewer,
        "/ui/worker",
        html! {
            p.crumbs { a href="/ui/worker" { "← 我的任务" } }
            h1 { "上报事件" }
            section #report-result.card hidden role="status" aria-live="polite" {}
            div #queue-status.queue-status hidden role="status" {}
            form #report-form.card data-report="grid_patrol" data-offline="true" novalidate {
                div.field {
                    label for="description" { "事件描述（必填）" }
                    textarea #description name="description" rows="4" required aria-describedby="err-description"
                        placeholder="发生了什么、在哪里、影响多大" {}
                    p.field-error #err-description role="alert" hidden {}
                }
                div.field {
                    label for="category" { "事件类别" }
                    (category_select(&app, "category", false))
                }
                div.field {
                    label for="urgency" { "紧急程度" }
                    select #urgency name="urgency" {
                        option value="normal" { "一般" }
                        option value="urgent" { "紧急" }
                        option value="critical" { "特急" }
                    }
                }
                div.field {
                    label for="photo" { "现场照片" }
                    input #photo name="photo" type="file" accept="image/*" capture="environment";
                    div.thumbs #photo-preview {}
                }
                fieldset.field {
                    legend { "事发位置" }
                    button.secondary type="button" data-locate="true" { "使用手机定位" }
                    p.hint #position-text role="status" { "尚未定位；无法定位时按所选网格上报。" }
                    input #lon type="hidden" name="lon";
                    input #lat type="hidden" name="lat";
                    label for="grid" { "所在网格" }
                    select #grid name="grid" {
                        @for code in &grids {
                            option value=(code) { (atlas.region(code).map_or(code.as_str(), |r| r.name.as_str())) " (" (code) ")" }
                        }
                    }
                    p.field-error #err-place role="alert" hidden {}
                }
                p.form-error #err-form role="alert" hidden {}
                button.primary.wide type="submit" { "提交上报" }
            }
        },
    )
}

/// `/ui/worker/patrol`.
pub async fn patrol_page(viewer: Viewer) -> Markup {
    staff_page(
        "巡查打卡",
        &viewer,
        "/ui/worker",
        html! {
            p.crumbs { a href="/ui/worker" { "← 我的任务" } }
            h1 { "巡查打卡" }
            section.card #patrol data-patrol="true" {
                p { "开始巡查后，手机每隔几秒记录一次位置；结束时整条轨迹作为一条巡查记录存入全过程记录。" }
                p.big #patrol-state role="status" { "未开始" }
                p.hint #patrol-points { "已记录 0 个定位点" }
                div.field {
                    label for="patrol-note" { "巡查情况（选填）" }
                    textarea #patrol-note rows="2" {}
                }
                div.buttons {
                    button.primary #patrol-start type="button" { "开始巡查" }
                    button.secondary #patrol-stop type="button" disabled { "结束并提交" }
                }
                p.form-error #patrol-error role="alert" hidden {}
            }
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct PatrolRequest {
    points: Vec<TrackPoint>,
    #[serde(default)]
    note: String,
}

/// `POST /ui/worker/patrol`: the finished track, as JSON from `app.js`.
pub async fn record_patrol(
    State(app): State<App>,
    viewer: Viewer,
    Json(request): Json<PatrolRequest>,
) -> Result<Json<PatrolSummary>, ApiError> {
    let summary = app
        .record_patrol(&viewer.principal, &request.points, &request.note)
        .await?;
    Ok(Json(summary))
}
