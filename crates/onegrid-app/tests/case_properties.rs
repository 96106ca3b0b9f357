//! Property: random sequences of acts, legal or not, never bring a case into a state the loop
//! does not know or past a final state, every refused act leaves the case untouched, and the
//! full-process record always verifies and tells the same story as the case, and the rollups
//! kept beside the cases always equal a full recount.

mod common;

use chrono::{Duration, Utc};
use common::{SMALL_DIVISIONS, collection, file, fresh_app, polygon_feature, square};
use onegrid_app::areas::AreaImportOptions;
use onegrid_app::cases::{Actor, ReportInput};
use onegrid_domain::Level;
use onegrid_domain::calendar::LimitUnit;
use onegrid_domain::case::{ActInput, CaseState, Channel, RejectReason, Satisfaction, legal_acts};
use onegrid_geo::crs::Crs;
use onegrid_geo::geojson_io::FieldNames;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn act_strategy() -> impl Strategy<Value = usize> {
    0usize..20
}

fn make_act(choice: usize, category: &str) -> ActInput {
    let note = "处理说明".to_owned();
    match choice {
        0 => ActInput::Accept {
            note: String::new(),
        },
        1 => ActInput::Reject {
            reason: RejectReason::Invalid,
            note: String::new(),
        },
        2 => ActInput::Register {
            category: Some(category.to_owned()),
            urgency: None,
            note: String::new(),
        },
        3 => ActInput::Dispatch {
            unit: "140702:城管局".to_owned(),
            tier: None,
            note: String::new(),
        },
        4 => ActInput::Sign {
            note: String::new(),
        },
        5 => ActInput::Return { reason: note },
        6 => ActInput::Handle { note },
        7 => ActInput::ReportBack {
            note,
            attachments: vec![],
        },
        8 => ActInput::VerifyPass {
            note: String::new(),
        },
        9 => ActInput::VerifyFail { note },
        10 => ActInput::Close {
            note: String::new(),
        },
        11 => ActInput::FollowUp {
            satisfaction: Satisfaction::Unsatisfied,
            note: String::new(),
        },
        12 => ActInput::Reopen { reason: note },
        13 => ActInput::Suspend {
            reason: note,
            until: None,
        },
        14 => ActInput::Resume {
            note: String::new(),
        },
        15 => ActInput::Extend {
            amount: 1,
            unit: LimitUnit::WorkingDays,
            reason: note,
        },
        16 => ActInput::Void { reason: note },
        17 => ActInput::Escalate { reason: note },
        18 => ActInput::Urge {
            due: Utc::now() + Duration::days(3),
            note: String::new(),
        },
        _ => ActInput::SettleOnSpot {
            note,
            attachments: vec![],
        },
    }
}

/// The counters of every stored case, summed.
async fn recount(app: &onegrid_app::App) -> onegrid_domain::metrics::Counters {
    let mut total = onegrid_domain::metrics::Counters::default();
    let mut cursor: Option<String> = None;
    loop {
        let page = app
            .list_cases(&Default::default(), cursor.as_deref(), 500)
            .await
            .unwrap();
        for case in &page.cases {
            total = total.plus(onegrid_domain::metrics::Counters::of(case));
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return total,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_acts_keep_the_loop_and_the_record_sound() {
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
    let category = t.app.rules().taxonomy.categories[3].minors[0].code.clone();
    let app = t.app.clone();
    let handle = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config {
        cases: 40,
        ..Config::default()
    });
    let strategy = (
        prop_oneof![
            Just(Channel::GridPatrol),
            Just(Channel::Resident),
            Just(Channel::Hotline)
        ],
        proptest::collection::vec(act_strategy(), 1..40),
    );
    let result = tokio::task::spawn_blocking(move || {
        runner.run(&strategy, |(channel, choices)| {
            handle.block_on(async {
                let actor = Actor {
                    name: "测试员".to_owned(),
                    role: "centre_dispatcher".to_owned(),
                };
                // Each act is taken by a role that may take it, so that the state machine is
                // what refuses or allows.
                let actor_for = |act: onegrid_domain::case::Act| Actor {
                    name: "测试员".to_owned(),
                    role: act
                        .permitted_roles()
                        .first()
                        .copied()
                        .unwrap_or("system")
                        .to_owned(),
                };
                let (mut case, _) = app
                    .report_case(
                        ReportInput {
                            description: "随机事件".to_owned(),
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
                        &actor,
                        None,
                    )
                    .await
                    .unwrap();
                let mut applied = vec!["report".to_owned()];
                let mut legal_taken = 0usize;
                for choice in choices {
                    let input = make_act(choice, &category);
                    let legal = legal_acts(&case);
                    let was_legal = legal.contains(&input.act());
                    match app
                        .act_on_case(
                            &case.id,
                            case.version,
                            input.clone(),
                            &actor_for(input.act()),
                        )
                        .await
                    {
                        Ok(next) => {
                            prop_assert!(
                                was_legal,
                                "{:?} was applied in {:?}",
                                input.act(),
                                case.state
                            );
                            prop_assert_eq!(next.version, case.version + 1);
                            prop_assert!(CaseState::ALL.contains(&next.state));
                            applied.push(input.act().as_str().to_owned());
                            case = next;
                        }
                        Err(_) => {
                            // A refused act changes nothing.
                            let stored = app.store().case(&case.id).await.unwrap().unwrap();
                            prop_assert_eq!(&stored, &case);
                        }
                    }
                    if was_legal {
                        legal_taken += 1;
                    }
                    if matches!(case.state, CaseState::Rejected | CaseState::Voided) {
                        prop_assert!(legal_acts(&case).is_empty());
                    }
                }
                // Every legal act by a permitted role went through (escalation from the city
                // tier and acts with invalid fields aside, none here).
                prop_assert_eq!(applied.len() - 1, legal_taken);
                let view = app.case_view(&case.id).await.unwrap();
                let recorded: Vec<String> = view.records.iter().map(|r| r.act.clone()).collect();
                prop_assert_eq!(recorded, applied);
                let last = view.records.last().unwrap();
                prop_assert_eq!(last.to_state.as_deref(), Some(case.state.as_str()));
                let report = app.verify_audit().await.unwrap();
                prop_assert!(report.is_intact(), "{:?}", report);
                // Every rollup the store kept equals a full recount of the cases.
                let recount = recount(&app).await;
                let period = onegrid_app::figures::Period::new(
                    chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
                    chrono::NaiveDate::from_ymd_opt(2999, 12, 31).unwrap(),
                )
                .unwrap();
                let kept = app
                    .counters(
                        &[
                            "140702".to_owned(),
                            "140702001001001".to_owned(),
                            "140700".to_owned(),
                        ],
                        period,
                    )
                    .await
                    .unwrap();
                prop_assert_eq!(kept, vec![recount, recount, recount]);
                Ok(())
            })
        })
    })
    .await
    .unwrap();
    result.unwrap();
    // And a rebuild from the cases gives the same rollups.
    let before = t
        .app
        .counters(&["140702".to_owned()], wide_period())
        .await
        .unwrap();
    t.app.rebuild_rollups().await.unwrap();
    let after = t
        .app
        .counters(&["140702".to_owned()], wide_period())
        .await
        .unwrap();
    assert_eq!(before, after);
    assert_eq!(after[0], recount(&t.app).await);
    assert!(after[0].reported >= 40);
}

fn wide_period() -> onegrid_app::figures::Period {
    onegrid_app::figures::Period::new(
        chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
        chrono::NaiveDate::from_ymd_opt(2999, 12, 31).unwrap(),
    )
    .unwrap()
}
