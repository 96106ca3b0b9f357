//! The overdue sweep: cases past their stage's deadline are marked once per stage, escalated
//! while they wait for dispatch below county tier, urged while overdue in handling; suspended
//! cases are left alone; the traffic light turns yellow then red.

mod common;

use chrono::{Duration, Utc};
use common::{SMALL_DIVISIONS, collection, file, fresh_app, polygon_feature, square};
use onegrid_app::App;
use onegrid_app::areas::AreaImportOptions;
use onegrid_app::cases::{Actor, ReportInput};
use onegrid_domain::Level;
use onegrid_domain::calendar::Alert;
use onegrid_domain::case::{ActInput, Case, CaseState, Channel};
use onegrid_domain::taxonomy::Tier;
use onegrid_geo::crs::Crs;
use onegrid_geo::geojson_io::FieldNames;

async fn city() -> common::TestApp {
    let t = fresh_app().await;
    t.app
        .import_divisions(&[file("small.csv", SMALL_DIVISIONS)])
        .await
        .unwrap();
    t.app
        .import_areas(
            &collection(&[polygon_feature(
                "140702001001001",
                &square(112.7, 37.6, 0.1),
            )]),
            &AreaImportOptions {
                level: Level::Grid,
                fields: FieldNames::default(),
                crs: Crs::Wgs84,
            },
        )
        .await
        .unwrap();
    t
}

async fn report(app: &App, channel: Channel) -> Case {
    app.report_case(
        ReportInput {
            description: "道路积水".to_owned(),
            lon: Some(112.75),
            lat: Some(37.65),
            grid: None,
            address: None,
            channel,
            category: None,
            urgency: None,
            reporter: Default::default(),
            attachments: vec![],
        },
        &Actor {
            name: "网格员".to_owned(),
            role: "grid_worker".to_owned(),
        },
        None,
    )
    .await
    .unwrap()
    .0
}

async fn act(app: &App, case: &Case, role: &str, input: ActInput) -> Case {
    app.act_on_case(
        &case.id,
        case.version,
        input,
        &Actor {
            name: "测试".to_owned(),
            role: role.to_owned(),
        },
    )
    .await
    .unwrap()
}

async fn reload(app: &App, case: &Case) -> Case {
    app.store().case(&case.id).await.unwrap().unwrap()
}

#[tokio::test]
async fn overdue_cases_are_marked_once_and_escalated_up_to_the_county() {
    let t = city().await;
    let case = report(&t.app, Channel::GridPatrol).await;
    assert_eq!(case.tier, Tier::Grid);
    let rules = t.app.rules();
    assert_eq!(case.alert(&rules.calendar, Utc::now(), 0.8), Alert::Normal);
    let deadline = case.stage_deadline.unwrap();
    assert_eq!(
        case.alert(&rules.calendar, deadline + Duration::seconds(1), 0.8),
        Alert::Red
    );

    let mut now = Utc::now() + Duration::days(30);
    let sweep = t.app.sweep_overdue(now).await.unwrap();
    assert_eq!((sweep.marked, sweep.escalated), (1, 1));
    let case = reload(&t.app, &case).await;
    assert!(case.overdue);
    assert_eq!(
        (case.tier, case.state),
        (Tier::Village, CaseState::Registered)
    );
    // The same moment again: nothing new is due.
    assert_eq!(t.app.sweep_overdue(now).await.unwrap().marked, 0);
    // Each later sweep escalates one tier further, and stops at the county.
    for expected in [Tier::Township, Tier::County, Tier::County] {
        now += Duration::days(30);
        t.app.sweep_overdue(now).await.unwrap();
        assert_eq!(reload(&t.app, &case).await.tier, expected);
    }
    let view = t.app.case_view(&case.id).await.unwrap();
    let acts: Vec<&str> = view.records.iter().map(|r| r.act.as_str()).collect();
    assert_eq!(
        acts,
        [
            "report",
            "mark_overdue",
            "escalate",
            "mark_overdue",
            "escalate",
            "mark_overdue",
            "escalate",
            "mark_overdue"
        ]
    );
    assert!(
        view.records[1..]
            .iter()
            .all(|r| r.actor == "system" && r.role == "system")
    );
    assert!(t.app.verify_audit().await.unwrap().is_intact());
}

async fn in_handling(app: &App) -> Case {
    let category = app.rules().taxonomy.categories[8].minors[0].code.clone();
    let case = report(app, Channel::Hotline).await;
    let case = act(
        app,
        &case,
        "centre_intake",
        ActInput::Accept {
            note: String::new(),
        },
    )
    .await;
    let case = act(
        app,
        &case,
        "centre_intake",
        ActInput::Register {
            category: Some(category),
            urgency: None,
            note: String::new(),
        },
    )
    .await;
    let case = act(
        app,
        &case,
        "centre_dispatcher",
        ActInput::Dispatch {
            unit: "140702:城管局".to_owned(),
            tier: None,
            note: String::new(),
        },
    )
    .await;
    let case = act(
        app,
        &case,
        "unit_handler",
        ActInput::Sign {
            note: String::new(),
        },
    )
    .await;
    assert_eq!(case.state, CaseState::Handling);
    case
}

#[tokio::test]
async fn overdue_handling_is_urged_and_suspended_cases_wait() {
    let t = city().await;
    let handling = in_handling(&t.app).await;
    let waiting = in_handling(&t.app).await;
    let waiting = act(
        &t.app,
        &waiting,
        "centre_lead",
        ActInput::Suspend {
            reason: "等待上级批复".to_owned(),
            until: None,
        },
    )
    .await;
    let now = Utc::now() + Duration::days(60);
    let sweep = t.app.sweep_overdue(now).await.unwrap();
    assert_eq!(
        (sweep.marked, sweep.urged, sweep.escalated),
        (1, 1, 0),
        "{sweep:?}"
    );
    let urged = reload(&t.app, &handling).await;
    assert!(urged.overdue && urged.stage_overdue);
    assert_eq!(urged.counts.urges, 1);
    assert!(urged.urge_due.unwrap() > now);
    let still = reload(&t.app, &waiting).await;
    assert!(!still.overdue);
    assert_eq!(still.state, CaseState::Suspended);
    // An extension moves the deadline: the case may become overdue again only after it.
    let extended = act(
        &t.app,
        &urged,
        "centre_lead",
        ActInput::Extend {
            amount: 5,
            unit: onegrid_domain::calendar::LimitUnit::WorkingDays,
            reason: "需协调多部门".to_owned(),
        },
    )
    .await;
    assert!(!extended.stage_overdue);
    assert!(extended.stage_deadline.unwrap() > Utc::now() + Duration::days(5));
}

#[tokio::test]
async fn the_yellow_share_is_configurable() {
    let t = city().await;
    let case = report(&t.app, Channel::GridPatrol).await;
    let rules = t.app.rules();
    let (start, deadline) = (case.stage_started_at, case.stage_deadline.unwrap());
    // The moment when 60% of the stage's working time is used.
    let total = rules.calendar.working_seconds_between(start, deadline);
    let mut at = start;
    while rules.calendar.working_seconds_between(start, at) < total * 6 / 10 {
        at += Duration::minutes(1);
    }
    assert_eq!(
        case.alert(&rules.calendar, at, rules.limits.yellow_share),
        Alert::Normal
    );
    t.app.set_yellow_share(0.5).unwrap();
    let rules = t.app.rules();
    assert_eq!(rules.limits.yellow_share, 0.5);
    assert_eq!(
        case.alert(&rules.calendar, at, rules.limits.yellow_share),
        Alert::Yellow
    );
    assert!(t.app.set_yellow_share(1.5).is_err());
}
