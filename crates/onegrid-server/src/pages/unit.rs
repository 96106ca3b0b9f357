//! The department handler's inbox: cases dispatched to their unit waiting to be signed for,
//! cases in hand, and those reported back (waiting for the grid's verification).

use axum::extract::State;
use maud::{Markup, html};
use onegrid_app::App;
use onegrid_domain::case::{Case, CaseState};
use onegrid_store::CaseFilter;

use super::layout::{PageError, Viewer, staff_page};
use super::worker::case_row;

/// `/ui/unit`.
pub async fn inbox(State(app): State<App>, viewer: Viewer) -> Result<Markup, PageError> {
    let filter = CaseFilter {
        states: vec![
            CaseState::Dispatched,
            CaseState::Handling,
            CaseState::ReportedBack,
            CaseState::Suspended,
        ],
        ..CaseFilter::default()
    };
    let page = app
        .list_cases_as(&viewer.principal, &filter, None, 300)
        .await?;
    // Only the unit's own cases: a handler who also holds a region role sees those elsewhere.
    let units: Vec<String> = viewer
        .principal
        .assignments
        .iter()
        .filter(|a| a.role == onegrid_domain::access::Role::UnitHandler)
        .map(|a| a.scope.code())
        .collect();
    let ours: Vec<&Case> = page
        .cases
        .iter()
        .filter(|c| c.unit.as_ref().is_some_and(|u| units.contains(u)))
        .collect();
    let of = |state: CaseState| -> Vec<&Case> {
        ours.iter().filter(|c| c.state == state).copied().collect()
    };
    let sign = of(CaseState::Dispatched);
    let handling = of(CaseState::Handling);
    let back = of(CaseState::ReportedBack);
    Ok(staff_page(
        "部门处置",
        &viewer,
        "/ui/unit",
        html! {
            div.page-head {
                h1 { "部门收件箱" }
                p.muted { "本单位：" (units.iter().map(|u| super::layout::unit_label(&app, u)).collect::<Vec<_>>().join("、")) }
            }
            div.queues {
                @for (id, title, list, empty) in [
                    ("u-sign", "待签收", &sign, "没有待签收的事件"),
                    ("u-handling", "处置中", &handling, "没有处置中的事件"),
                    ("u-back", "已反馈待核查", &back, "暂无"),
                ] {
                    section.card.list-card id=(id) {
                        h2 { (title) span.count { (list.len()) } }
                        @if list.is_empty() { p.muted { (empty) } }
                        ul.cases { @for case in list.iter() { (case_row(&app, case, None)) } }
                    }
                }
            }
        },
    ))
}
