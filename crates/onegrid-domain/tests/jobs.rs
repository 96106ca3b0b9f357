//! Which jobs a case's change enqueues: a deadline check whenever a new stage deadline
//! starts, a notice when a case is dispatched to a unit, nothing for a change that moves
//! neither.

use chrono::{DateTime, Duration, TimeZone, Utc};
use onegrid_domain::calendar::Calendar;
use onegrid_domain::case::{ActContext, ActInput, Case, Channel, NewCase, StageLimits, apply};
use onegrid_domain::jobs::{JobKind, jobs_for_change};
use onegrid_domain::taxonomy::{Taxonomy, Tier};

struct World {
    calendar: Calendar,
    taxonomy: Taxonomy,
    limits: StageLimits,
}

impl World {
    fn context(&self, now: DateTime<Utc>) -> ActContext<'_> {
        ActContext {
            now,
            calendar: &self.calendar,
            taxonomy: &self.taxonomy,
            limits: &self.limits,
        }
    }
}

fn world() -> World {
    World {
        calendar: Calendar::shipped(),
        taxonomy: Taxonomy::shipped(),
        limits: StageLimits::default(),
    }
}

/// Monday 2026-03-02, 09:00 in Shanghai.
fn monday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
}

fn reported(world: &World) -> Case {
    Case::new(
        NewCase {
            id: "c1".to_owned(),
            number: "140702202603020001".to_owned(),
            county: "140702".to_owned(),
            grid: Some("140702001001001".to_owned()),
            chain: vec![],
            lon: None,
            lat: None,
            address: None,
            description: "占道经营".to_owned(),
            channel: Channel::Resident,
            category: None,
            urgency: Default::default(),
            reporter: Default::default(),
            attachments: vec![],
            tier: Tier::Township,
        },
        &world.context(monday()),
    )
}

fn act(world: &World, case: &Case, input: ActInput, at: DateTime<Utc>) -> Case {
    apply(case, &input, &world.context(at)).unwrap().case
}

#[test]
fn a_new_case_gets_the_check_of_its_first_deadline() {
    let world = world();
    let case = reported(&world);
    let jobs = jobs_for_change(None, &case);
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].kind, JobKind::DeadlineCheck);
    assert_eq!(Some(jobs[0].run_at), case.stage_deadline);
    assert_eq!(jobs[0].key, "deadline_check:c1:1");
    assert_eq!(
        (jobs[0].county.as_str(), jobs[0].case_id.as_str()),
        ("140702", "c1")
    );
}

#[test]
fn each_new_deadline_gets_a_check_and_a_dispatch_a_notice() {
    let world = world();
    let case = reported(&world);
    let accepted = act(
        &world,
        &case,
        ActInput::Accept {
            note: String::new(),
        },
        monday() + Duration::minutes(30),
    );
    let jobs = jobs_for_change(Some(&case), &accepted);
    assert_ne!(accepted.stage_deadline, case.stage_deadline);
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].kind, JobKind::DeadlineCheck);
    assert_eq!(Some(jobs[0].run_at), accepted.stage_deadline);
    assert_eq!(
        jobs[0].key,
        format!("deadline_check:c1:{}", accepted.version)
    );

    let registered = act(
        &world,
        &accepted,
        ActInput::Register {
            category: Some("0901".to_owned()),
            urgency: None,
            note: String::new(),
        },
        monday() + Duration::minutes(40),
    );
    let dispatched = act(
        &world,
        &registered,
        ActInput::Dispatch {
            unit: "140702001:gov".to_owned(),
            tier: None,
            note: String::new(),
        },
        monday() + Duration::minutes(50),
    );
    let jobs = jobs_for_change(Some(&registered), &dispatched);
    let kinds: Vec<JobKind> = jobs.iter().map(|j| j.kind).collect();
    assert_eq!(kinds, [JobKind::DeadlineCheck, JobKind::NotifyUnit]);
    let notice = &jobs[1];
    assert_eq!(notice.payload["unit"], "140702001:gov");
    assert!(
        notice.payload["message"]
            .as_str()
            .unwrap()
            .contains("140702202603020001"),
        "{}",
        notice.payload
    );
    assert_eq!(notice.run_at, dispatched.updated_at);
}

#[test]
fn a_change_that_keeps_the_deadline_or_ends_the_case_enqueues_nothing() {
    let world = world();
    let case = reported(&world);
    let marked = act(
        &world,
        &case,
        ActInput::MarkOverdue {
            note: "超期".to_owned(),
        },
        case.stage_deadline.unwrap() + Duration::minutes(1),
    );
    assert!(jobs_for_change(Some(&case), &marked).is_empty());
    let rejected = act(
        &world,
        &case,
        ActInput::Reject {
            reason: onegrid_domain::case::RejectReason::Invalid,
            note: String::new(),
        },
        monday() + Duration::minutes(5),
    );
    assert!(!rejected.state.is_open());
    assert!(jobs_for_change(Some(&case), &rejected).is_empty());
}
