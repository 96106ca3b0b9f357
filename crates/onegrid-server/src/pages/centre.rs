//! The centre's workspace (受理员, 派遣员, 值班长): the intake queue with the suggested
//! category, grid and unit; cases waiting to be registered, dispatched, verified or closed;
//! overdue and urged cases; departments' requests for more time.

use axum::extract::State;
use maud::{Markup, html};
use onegrid_app::App;
use onegrid_domain::access::Role;
use onegrid_domain::case::{Case, CaseState};
use onegrid_store::CaseFilter;

use super::layout::{PageError, Viewer, staff_page};
use super::worker::{OPEN_STATES, case_row};

/// What the intake desk sees beside a new case: the category the description suggests, the
/// grid the point fell in, and the unit the responsibility matrix names for both.
fn intake_hint(app: &App, case: &Case) -> Markup {
    let rules = app.rules();
    let suggested = match &case.category {
        Some(code) => Some(code.clone()),
        None => rules
            .taxonomy
            .suggest(&case.description)
            .first()
            .map(|s| s.code.clone()),
    };
    let category = suggested
        .as_deref()
        .and_then(|code| rules.taxonomy.minor(code))
        .map(|(major, minor)| format!("{}/{}", major.name, minor.name));
    let unit = suggested.and_then(|code| {
        let mut probe = case.clone();
        probe.category = Some(code);
        app.dispatch_suggestions(&probe)
            .into_iter()
            .find(|s| s.role == onegrid_domain::taxonomy::ResponsibilityRole::Lead)
            .map(|s| s.unit_name)
    });
    let grid = case
        .grid
        .as_deref()
        .and_then(|g| app.atlas().region(g).map(|r| r.name.clone()));
    html! {
        dl.hint-list {
            dt { "建议类别" } dd.suggested-category { (category.unwrap_or_else(|| "—".to_owned())) }
            dt { "网格" } dd { (grid.unwrap_or_else(|| "—".to_owned())) }
            dt { "建议承办" } dd.suggested-unit { (unit.unwrap_or_else(|| "—".to_owned())) }
        }
    }
}

/// `/ui/centre`.
pub async fn queues(State(app): State<App>, viewer: Viewer) -> Result<Markup, PageError> {
    let filter = CaseFilter {
        states: OPEN_STATES.to_vec(),
        ..CaseFilter::default()
    };
    let page = app
        .list_cases_as(&viewer.principal, &filter, None, 500)
        .await?;
    let cases = page.cases;
    let of = |states: &[CaseState]| -> Vec<&Case> {
        cases.iter().filter(|c| states.contains(&c.state)).collect()
    };
    let intake = of(&[CaseState::Reported]);
    let register = of(&[CaseState::Accepted]);
    let dispatch = of(&[CaseState::Registered]);
    let verify = of(&[CaseState::ReportedBack]);
    let close = of(&[CaseState::Verified]);
    let watch: Vec<&Case> = cases
        .iter()
        .filter(|c| c.overdue || c.urge_due.is_some())
        .collect();
    let mut extension_requests: Vec<&Case> = Vec::new();
    if viewer.has(Role::CentreLead) {
        for case in cases
            .iter()
            .filter(|c| c.state == CaseState::Handling)
            .take(100)
        {
            let records = app
                .store()
                .case_records(&case.id)
                .await
                .map_err(onegrid_app::AppError::from)?;
            if records
                .last()
                .is_some_and(|r| r.act == "handle" && r.note.starts_with("申请延期"))
            {
                extension_requests.push(case);
            }
        }
    }
    let counters = [
        ("待受理", intake.len(), "#q-intake"),
        ("待立案", register.len(), "#q-register"),
        ("待派遣", dispatch.len(), "#q-dispatch"),
        ("超期/督办", watch.len(), "#q-watch"),
        ("待核查", verify.len(), "#q-verify"),
        ("待结案", close.len(), "#q-close"),
    ];
    Ok(staff_page(
        "指挥中心",
        &viewer,
        "/ui/centre",
        html! {
            div.page-head {
                h1 { "指挥中心" }
                p.muted { "受理、立案、派遣、核查、结案；超期与督办事件单列。" }
            }
            nav.counters aria-label="队列" {
                @for (label, count, href) in counters {
                    a.counter href=(href) { span.counter-n { (count) } span.counter-l { (label) } }
                }
            }
            div.queues {
                section.card.list-card #q-intake {
                    h2 { "待受理" span.count { (intake.len()) } }
                    @if intake.is_empty() { p.muted { "没有待受理的事件" } }
                    ul.cases {
                        @for case in &intake {
                            (case_row(&app, case, Some(html! {
                                (intake_hint(&app, case))
                                @if let Some(actions) = super::case_page::queue_actions(&viewer, case) { (actions) }
                            })))
                        }
                    }
                }
                (queue("q-register", "待立案", &register, &app))
                (queue("q-dispatch", "待派遣", &dispatch, &app))
                (queue("q-watch", "超期与督办", &watch, &app))
                @if viewer.has(Role::CentreLead) {
                    (queue("q-extend", "延期申请", &extension_requests, &app))
                }
                (queue("q-verify", "待核查", &verify, &app))
                (queue("q-close", "待结案", &close, &app))
            }
        },
    ))
}

fn queue(id: &str, title: &str, cases: &[&Case], app: &App) -> Markup {
    html! {
        section.card.list-card id=(id) {
            h2 { (title) span.count { (cases.len()) } }
            @if cases.is_empty() { p.muted { "暂无" } }
            ul.cases { @for case in cases.iter().take(50) { (case_row(app, case, None)) } }
        }
    }
}
