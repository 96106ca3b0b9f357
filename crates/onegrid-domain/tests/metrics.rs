//! The figures of a fixed set of cases, checked against values computed by hand.

use chrono::{Duration, TimeZone, Utc};
use onegrid_domain::calendar::Calendar;
use onegrid_domain::case::{
    ActContext, ActInput, Case, Channel, NewCase, RejectReason, Satisfaction, StageLimits, apply,
};
use onegrid_domain::metrics::{Counters, Figures};
use onegrid_domain::taxonomy::{Taxonomy, Tier};

struct World {
    calendar: Calendar,
    taxonomy: Taxonomy,
    limits: StageLimits,
}

fn new_case(world: &World, n: usize, tier: Tier) -> Case {
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap(); // Monday 09:00 in Shanghai
    Case::new(
        NewCase {
            id: format!("c{n}"),
            number: format!("N{n}"),
            county: "140702".to_owned(),
            grid: Some("140702001001001".to_owned()),
            chain: vec![],
            lon: None,
            lat: None,
            address: None,
            description: "x".to_owned(),
            channel: Channel::Resident,
            category: None,
            urgency: Default::default(),
            reporter: Default::default(),
            attachments: vec![],
            tier,
        },
        &ActContext {
            now,
            calendar: &world.calendar,
            taxonomy: &world.taxonomy,
            limits: &world.limits,
        },
    )
}

/// Applies acts one hour apart.
fn run(world: &World, mut case: Case, acts: Vec<ActInput>) -> Case {
    let mut now = case.created_at;
    for act in acts {
        now += Duration::hours(1);
        let ctx = ActContext {
            now,
            calendar: &world.calendar,
            taxonomy: &world.taxonomy,
            limits: &world.limits,
        };
        case = apply(&case, &act, &ctx).unwrap().case;
    }
    case
}

fn loop_to_close(category: &str) -> Vec<ActInput> {
    vec![
        ActInput::Accept {
            note: String::new(),
        },
        ActInput::Register {
            category: Some(category.to_owned()),
            urgency: None,
            note: String::new(),
        },
        ActInput::Dispatch {
            unit: "u".to_owned(),
            tier: None,
            note: String::new(),
        },
        ActInput::Sign {
            note: String::new(),
        },
        ActInput::ReportBack {
            note: "done".to_owned(),
            attachments: vec![],
        },
        ActInput::VerifyPass {
            note: String::new(),
        },
        ActInput::Close {
            note: String::new(),
        },
    ]
}

#[test]
fn figures_match_hand_computed_values() {
    let world = World {
        calendar: Calendar::shipped(),
        taxonomy: Taxonomy::shipped(),
        limits: StageLimits::default(),
    };
    let category = world.taxonomy.categories[3].minors[0].code.clone();
    let mut cases = Vec::new();
    // 1. Closed at township tier, rated satisfied.
    let mut acts = loop_to_close(&category);
    acts.push(ActInput::FollowUp {
        satisfaction: Satisfaction::Satisfied,
        note: String::new(),
    });
    cases.push(run(&world, new_case(&world, 1, Tier::Township), acts));
    // 2. Settled on the spot in the grid, closed, rated unsatisfied.
    cases.push(run(
        &world,
        new_case(&world, 2, Tier::Grid),
        vec![
            ActInput::SettleOnSpot {
                note: "ok".to_owned(),
                attachments: vec![],
            },
            ActInput::VerifyPass {
                note: String::new(),
            },
            ActInput::Close {
                note: String::new(),
            },
            ActInput::FollowUp {
                satisfaction: Satisfaction::Unsatisfied,
                note: String::new(),
            },
        ],
    ));
    // 3. Reworked once, extended, then handled (reported back), not closed yet.
    let mut acts = loop_to_close(&category);
    acts.truncate(4);
    acts.push(ActInput::Extend {
        amount: 1,
        unit: onegrid_domain::calendar::LimitUnit::WorkingDays,
        reason: "r".to_owned(),
    });
    acts.push(ActInput::ReportBack {
        note: "a".to_owned(),
        attachments: vec![],
    });
    acts.push(ActInput::VerifyFail {
        note: "no".to_owned(),
    });
    acts.push(ActInput::ReportBack {
        note: "b".to_owned(),
        attachments: vec![],
    });
    cases.push(run(&world, new_case(&world, 3, Tier::Township), acts));
    // 4. Rejected as invalid.
    cases.push(run(
        &world,
        new_case(&world, 4, Tier::Township),
        vec![ActInput::Reject {
            reason: RejectReason::Invalid,
            note: String::new(),
        }],
    ));
    // 5. Registered, dispatched, in handling, marked overdue.
    let mut acts = loop_to_close(&category);
    acts.truncate(4);
    acts.push(ActInput::MarkOverdue {
        note: String::new(),
    });
    cases.push(run(&world, new_case(&world, 5, Tier::County), acts));
    // 6. Just reported.
    cases.push(new_case(&world, 6, Tier::Township));

    let total = cases
        .iter()
        .map(Counters::of)
        .fold(Counters::default(), Counters::plus);
    let figures = Figures::from_counters(total);
    // By hand: 6 reported; accepted = 1,2,3,5 (the on-the-spot case 2 left `reported` by
    // settling) = 4; rejected 1; registered = 1,2,3,5 = 4 (settling on the spot registers and
    // handles in one act); dispatched 1,3,5 = 3; handled = 1,2,3 = 3; closed 1,2 = 2.
    assert_eq!(total.reported, 6);
    assert_eq!(figures.accepted, 4);
    assert_eq!(figures.rejected, 1);
    assert_eq!(figures.registered, 4);
    assert_eq!(figures.dispatched, 3);
    assert_eq!(figures.handled, 3);
    assert_eq!(figures.closed, 2);
    assert_eq!(figures.overdue, 1);
    assert_eq!(
        (
            figures.handle_rate.numerator,
            figures.handle_rate.denominator
        ),
        (3, 4)
    );
    assert_eq!(figures.close_rate.value, Some(0.5));
    assert_eq!(
        (
            figures.rework_rate.numerator,
            figures.rework_rate.denominator
        ),
        (1, 3)
    );
    assert_eq!(
        (
            figures.extension_rate.numerator,
            figures.extension_rate.denominator
        ),
        (1, 4)
    );
    assert_eq!(
        (
            figures.satisfaction_rate.numerator,
            figures.satisfaction_rate.denominator
        ),
        (1, 2)
    );
    // Case 2 closed in the grid, case 1 at the township: both within the township.
    assert_eq!(figures.grid_settlement_rate.value, Some(0.5));
    assert_eq!(figures.township_settlement_rate.value, Some(1.0));
    // Handling times: case 1 reported back after 5 h, case 2 after 1 h, case 3 after 8 h
    // (the last report-back; the rework cleared the first).
    assert_eq!(figures.mean_hours_to_handle, Some((5.0 + 1.0 + 8.0) / 3.0));
    assert_eq!(figures.on_time_handle_rate.value, Some(1.0));
}
