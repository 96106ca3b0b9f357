//! A resident rates their own closed case (by tracking code, or as the account that reported
//! it), recorded as `follow_up` in the role `resident`; nobody rates another's case, nor a case
//! not yet closed. A grid worker's patrol becomes one record in the county's chain.

mod common;

use chrono::{Duration, Utc};
use common::{SMALL_DIVISIONS, collection, file, fresh_app, polygon_feature, square};
use onegrid_app::AppError;
use onegrid_app::access::{Principal, parse_assignment_list};
use onegrid_app::areas::AreaImportOptions;
use onegrid_app::cases::{Actor, ReportInput};
use onegrid_app::patrol::TrackPoint;
use onegrid_app::residents::Owner;
use onegrid_domain::Level;
use onegrid_domain::case::{ActInput, Case, CaseState, Channel, Reporter, Satisfaction};
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

fn report(phone: &str) -> ReportInput {
    ReportInput {
        description: "小区门口垃圾堆放".to_owned(),
        lon: Some(112.75),
        lat: Some(37.65),
        grid: None,
        address: None,
        channel: Channel::Resident,
        category: Some("0901".to_owned()),
        urgency: None,
        reporter: Reporter {
            name: Some("张三".to_owned()),
            phone: Some(phone.to_owned()),
            ..Reporter::default()
        },
        attachments: Vec::new(),
    }
}

/// Drives a case to 已结案 as the system.
async fn close(app: &onegrid_app::App, mut case: Case) -> Case {
    let acts = [
        ActInput::Accept {
            note: String::new(),
        },
        ActInput::Register {
            category: None,
            urgency: None,
            note: String::new(),
        },
        ActInput::Dispatch {
            unit: "140702001:gov".to_owned(),
            tier: None,
            note: String::new(),
        },
        ActInput::Sign {
            note: String::new(),
        },
        ActInput::ReportBack {
            note: "已清运".to_owned(),
            attachments: Vec::new(),
        },
        ActInput::VerifyPass {
            note: String::new(),
        },
        ActInput::Close {
            note: String::new(),
        },
    ];
    for act in acts {
        case = app
            .act_on_case(&case.id, case.version, act, &Actor::system())
            .await
            .unwrap();
    }
    assert_eq!(case.state, CaseState::Closed);
    case
}

#[tokio::test]
async fn an_anonymous_resident_rates_their_closed_case_by_tracking_code() {
    let t = city().await;
    let app = &t.app;
    let reported = app
        .report_case_as(None, report("13812341234"), None, "10.0.0.1")
        .await
        .unwrap();
    let code = reported.tracking_code.clone().unwrap();
    let owner = Owner::TrackingCode {
        code: &code,
        address: "10.0.0.1",
    };

    // Not yet closed: refused, nothing recorded.
    let early = app
        .rate_own_case(owner, None, Satisfaction::Satisfied, "")
        .await;
    assert!(matches!(early, Err(AppError::Conflict(_))), "{early:?}");

    let closed = close(app, reported.case).await;
    // A wrong code finds nothing.
    let wrong = app
        .rate_own_case(
            Owner::TrackingCode {
                code: "AAAA-BBBB-CCCC-DDDD",
                address: "10.0.0.1",
            },
            None,
            Satisfaction::Unsatisfied,
            "",
        )
        .await;
    assert!(matches!(wrong, Err(AppError::NotFound { .. })), "{wrong:?}");

    let rated = app
        .rate_own_case(owner, None, Satisfaction::BasicallySatisfied, "处理及时")
        .await
        .unwrap();
    assert_eq!(rated.state, CaseState::Evaluated);
    assert_eq!(rated.satisfaction, Some(Satisfaction::BasicallySatisfied));
    assert_eq!(rated.version, closed.version + 1);
    let records = app.store().case_records(&rated.id).await.unwrap();
    let last = records.last().unwrap();
    assert_eq!(last.act, "follow_up");
    assert_eq!(last.role, "resident");
    assert_eq!(last.note, "处理及时");

    // The general path still refuses a resident the act: only this own-case path takes it.
    assert!(!onegrid_domain::case::may_take(
        "resident",
        onegrid_domain::case::Act::FollowUp
    ));
    assert_eq!(
        onegrid_domain::case::RESIDENT_ACTS,
        &[onegrid_domain::case::Act::FollowUp]
    );

    // Once rated, a second rating is a conflict.
    let again = app
        .rate_own_case(owner, None, Satisfaction::Unsatisfied, "")
        .await;
    assert!(matches!(again, Err(AppError::Conflict(_))), "{again:?}");
    assert!(app.verify_audit().await.unwrap().is_intact());
}

#[tokio::test]
async fn a_signed_in_resident_rates_only_their_own_case() {
    let t = city().await;
    let app = &t.app;
    let system = Principal::system();
    let mut residents = Vec::new();
    for login in ["wang", "zhao"] {
        let assignments = parse_assignment_list(&["resident@own".to_owned()], "").unwrap();
        let account = app
            .create_account(&system, login, login, Some("Resident#2026x"), assignments)
            .await
            .unwrap();
        let mut principal = Principal::system();
        principal.user_id = account.id.clone();
        principal.login = login.to_owned();
        principal.display_name = login.to_owned();
        principal.assignments = parse_assignment_list(&["resident@own".to_owned()], "").unwrap();
        principal.credential = onegrid_app::access::Credential::Token {
            id: format!("test-{login}"),
        };
        residents.push(principal);
    }
    let reported = app
        .report_case_as(Some(&residents[0]), report("13900001111"), None, "10.0.0.2")
        .await
        .unwrap();
    let closed = close(app, reported.case).await;

    let stranger = app
        .rate_own_case(
            Owner::Account(&residents[1]),
            Some(&closed.id),
            Satisfaction::Unsatisfied,
            "",
        )
        .await;
    assert!(
        matches!(stranger, Err(AppError::NotFound { .. })),
        "{stranger:?}"
    );
    // Staff cannot take this path either.
    let staff_roles = parse_assignment_list(&["centre_intake@140702".to_owned()], "").unwrap();
    let mut staff = residents[1].clone();
    staff.assignments = staff_roles;
    let by_staff = app
        .rate_own_case(
            Owner::Account(&staff),
            Some(&closed.id),
            Satisfaction::Satisfied,
            "",
        )
        .await;
    assert!(
        matches!(by_staff, Err(AppError::Forbidden(_))),
        "{by_staff:?}"
    );

    let rated = app
        .rate_own_case(
            Owner::Account(&residents[0]),
            Some(&closed.number),
            Satisfaction::Satisfied,
            "",
        )
        .await
        .unwrap();
    assert_eq!(rated.state, CaseState::Evaluated);
    let records = app.store().case_records(&rated.id).await.unwrap();
    assert_eq!(records.last().unwrap().role, "resident");
    assert!(records.last().unwrap().actor.contains("wang"));
}

#[tokio::test]
async fn a_patrol_is_one_record_in_the_county_chain_and_only_in_ones_own_grid() {
    let t = city().await;
    let app = &t.app;
    let mut worker = Principal::system();
    worker.user_id = "w1".to_owned();
    worker.login = "w1".to_owned();
    worker.display_name = "网格员甲".to_owned();
    worker.assignments =
        parse_assignment_list(&["grid_worker@140702001001001".to_owned()], "").unwrap();
    worker.credential = onegrid_app::access::Credential::Token {
        id: "test".to_owned(),
    };
    let start = Utc::now() - Duration::minutes(30);
    let points: Vec<TrackPoint> = (0..4)
        .map(|i| TrackPoint {
            lon: 112.75 + f64::from(i) * 0.001,
            lat: 37.65,
            at: start + Duration::minutes(i64::from(i) * 10),
        })
        .collect();
    let before = app.store().record_count().await.unwrap();
    let summary = app
        .record_patrol(&worker, &points, "例行巡查")
        .await
        .unwrap();
    assert_eq!(summary.grid.as_deref(), Some("140702001001001"));
    assert_eq!(summary.county, "140702");
    assert_eq!(summary.points, 4);
    // Three steps of 0.001° of longitude at 37.65°N: about 264 m.
    assert!((summary.metres - 264.0).abs() < 3.0, "{}", summary.metres);
    assert_eq!(app.store().record_count().await.unwrap(), before + 1);
    assert!(app.verify_audit().await.unwrap().is_intact());

    // Outside the city, no track, or not a grid worker: refused, nothing recorded.
    let outside = [TrackPoint {
        lon: 100.0,
        lat: 30.0,
        at: start,
    }];
    assert!(app.record_patrol(&worker, &outside, "").await.is_err());
    assert!(app.record_patrol(&worker, &[], "").await.is_err());
    let mut staff = worker.clone();
    staff.assignments = parse_assignment_list(&["centre_intake@140702".to_owned()], "").unwrap();
    assert!(matches!(
        app.record_patrol(&staff, &points, "").await,
        Err(AppError::Forbidden(_))
    ));
    assert_eq!(app.store().record_count().await.unwrap(), before + 1);
}
