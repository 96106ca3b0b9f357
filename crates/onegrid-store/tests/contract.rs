//! The store contract: the same stories run against every engine. Each story gets a fresh,
//! empty store: a new SQLite directory, or a new PostgreSQL database (see `support`; the
//! PostgreSQL stories need `ONEGRID_TEST_DATABASE_URL`, which `scripts/test-postgres.sh` sets).

mod support;

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use onegrid_domain::case::{ActCounts, Case, CaseState, Channel, Reporter};
use onegrid_domain::taxonomy::{Tier, Urgency};
use onegrid_domain::{Level, RegionCode};
use onegrid_store::audit::{GENESIS, SYSTEM_CHAIN};
use onegrid_store::{
    AccountChange, ApiToken, AreaRecord, CaseFilter, CaseScope, CreateOutcome, DivisionChange,
    IdempotencyClaim, Location, NewAccount, NewRecord, NewUser, RegionUpsert, Retirement, Session,
    Store, StoreError, StoredAssignment,
};

fn code(text: &str) -> RegionCode {
    RegionCode::parse(text).unwrap()
}

fn upsert(text: &str, name: &str) -> RegionUpsert {
    let code = code(text);
    RegionUpsert {
        parent: code.parent(),
        code,
        name: name.to_owned(),
    }
}

fn chain_upserts() -> Vec<RegionUpsert> {
    vec![
        upsert("140000", "山西省"),
        upsert("140700", "晋中市"),
        upsert("140702", "榆次区"),
        upsert("140726", "太谷县"),
        upsert("140702001", "北关街道"),
    ]
}

fn area(text: &str) -> AreaRecord {
    AreaRecord {
        code: code(text),
        geometry: r#"{"type":"Polygon","coordinates":[[[112,37],[113,37],[113,38],[112,37]]]}"#
            .to_owned(),
        area_m2: 1.0e6,
        bbox: [112.0, 37.0, 113.0, 38.0],
        source_crs: "wgs84".to_owned(),
    }
}

async fn regions_keep_history_and_retire(store: Arc<dyn Store>) {
    let first = store
        .apply_divisions(DivisionChange {
            upserts: chain_upserts(),
            retirements: vec![],
            at: Some(Utc.with_ymd_and_hms(2018, 1, 1, 0, 0, 0).unwrap()),
        })
        .await
        .unwrap();
    assert_eq!(first.added, 5);
    let later = Utc.with_ymd_and_hms(2023, 6, 30, 0, 0, 0).unwrap();
    let second = store
        .apply_divisions(DivisionChange {
            upserts: vec![
                upsert("140703", "太谷区"),
                upsert("140702001", "北关新街道"),
            ],
            retirements: vec![Retirement {
                code: code("140726"),
                successor: Some(code("140703")),
            }],
            at: Some(later),
        })
        .await
        .unwrap();
    assert_eq!((second.added, second.changed, second.retired), (1, 1, 1));

    let retired = store.region(&code("140726")).await.unwrap().unwrap();
    assert_eq!(retired.valid_to, Some(later));
    assert_eq!(retired.successor.unwrap().as_str(), "140703");
    let children: Vec<String> = store
        .region_children(&code("140700"))
        .await
        .unwrap()
        .iter()
        .map(|r| r.code.to_string())
        .collect();
    assert_eq!(children, ["140702", "140703"]);
    let history = store.region_history(&code("140702001")).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].name, "北关街道");
    assert_eq!(history[0].valid_to, Some(later));
    let all = store.regions().await.unwrap();
    assert_eq!(all.len(), 6);
    // Parents before children.
    let position = |c: &str| all.iter().position(|r| r.code.as_str() == c).unwrap();
    assert!(position("140000") < position("140700"));
    assert!(position("140702") < position("140702001"));
}

async fn areas_are_all_or_nothing(store: Arc<dyn Store>) {
    store
        .apply_divisions(DivisionChange {
            upserts: chain_upserts(),
            ..DivisionChange::default()
        })
        .await
        .unwrap();
    store.put_areas(vec![], vec![area("140702")]).await.unwrap();
    // 140702001001 is no stored region: the whole batch, 140726 included, is refused.
    let refused = store
        .put_areas(vec![], vec![area("140726"), area("140702001001")])
        .await;
    assert!(refused.is_err());
    assert!(store.area(&code("140726")).await.unwrap().is_none());
    // With its region in the same call it goes in, and replaces nothing else.
    store
        .put_areas(
            vec![upsert("140702001001", "甲社区")],
            vec![area("140726"), area("140702001001")],
        )
        .await
        .unwrap();
    let counties = store.areas(Level::County).await.unwrap();
    assert_eq!(counties.len(), 2);
    assert_eq!(counties[0], area("140702"));
    let children = store.child_areas(&code("140700")).await.unwrap();
    assert_eq!(children.len(), 2);
}

async fn concurrent_writes_group_and_one_failure_spoils_no_other(store: Arc<dyn Store>) {
    store
        .apply_divisions(DivisionChange {
            upserts: chain_upserts(),
            ..DivisionChange::default()
        })
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            if i == 100 {
                // This one fails (no such region); it shares a group with many others.
                return store
                    .put_areas(vec![], vec![area("140702001999")])
                    .await
                    .is_ok();
            }
            store
                .put_users(vec![NewUser {
                    login: format!("user{i}"),
                    display_name: format!("用户{i}"),
                    roles: vec!["grid_worker".to_owned()],
                    scope: code("140702001"),
                }])
                .await
                .is_ok()
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    assert!(!outcomes[100]);
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 199);
    assert_eq!(store.user_count().await.unwrap(), 199);
    let in_scope = store.users_in(&code("140700"), 1000).await.unwrap();
    assert_eq!(in_scope.len(), 199);
    assert!(
        store
            .users_in(&code("140703"), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn meta_is_kept(store: Arc<dyn Store>) {
    assert_eq!(store.meta("k").await.unwrap(), None);
    store.set_meta("k", "1").await.unwrap();
    store.set_meta("k", "2").await.unwrap();
    assert_eq!(store.meta("k").await.unwrap().as_deref(), Some("2"));
}

// ---- cases and the full-process record -------------------------------------------------

/// 2026-03-01 16:30 UTC is 2026-03-02 00:30 in Asia/Shanghai: the number carries the 2nd.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 16, 30, 0).unwrap()
}

/// A case just reported in `county`, under one grid of it.
fn new_case(county: &str, at: DateTime<Utc>) -> Case {
    let township = format!("{county}001");
    let village = format!("{township}001");
    let grid = format!("{village}001");
    Case {
        id: uuid::Uuid::now_v7().to_string(),
        number: String::new(),
        county: county.to_owned(),
        grid: Some(grid.clone()),
        chain: vec![
            grid,
            village,
            township,
            county.to_owned(),
            format!("{}00", &county[..4]),
            format!("{}0000", &county[..2]),
        ],
        lon: Some(112.75),
        lat: Some(37.687_654_321),
        address: Some("榆次区北关街道".to_owned()),
        description: "井盖缺失".to_owned(),
        channel: Channel::Resident,
        category: Some("0101".to_owned()),
        urgency: Urgency::Normal,
        reporter: Reporter {
            name: Some("张三".to_owned()),
            phone: Some("13800001234".to_owned()),
            ..Reporter::default()
        },
        attachments: vec![],
        state: CaseState::Reported,
        tier: Tier::Township,
        unit: None,
        version: 1,
        created_at: at,
        updated_at: at,
        stage_started_at: at,
        stage_deadline: Some(at + Duration::hours(2)),
        suspended_from: None,
        reject_reason: None,
        satisfaction: None,
        urge_due: None,
        overdue: false,
        stage_overdue: false,
        dispatched_at: None,
        handled_at: None,
        closed_at: None,
        counts: ActCounts::default(),
    }
}

fn act_record(case: &Case, act: &str, from: Option<CaseState>, at: DateTime<Utc>) -> NewRecord {
    NewRecord {
        county: case.county.clone(),
        case_id: Some(case.id.clone()),
        act: act.to_owned(),
        actor: "李四".to_owned(),
        role: "centre_intake".to_owned(),
        from_state: from.map(|s| s.as_str().to_owned()),
        to_state: Some(case.state.as_str().to_owned()),
        at,
        note: format!("{act}：备注"),
        attachments: vec!["ab".repeat(32)],
        details: serde_json::json!({"urgency": "normal", "n": 1.5, "中文": "是"}),
    }
}

fn claim(key: &str, request: &str) -> Option<IdempotencyClaim> {
    Some(IdempotencyClaim {
        key: key.to_owned(),
        request_hash: onegrid_store::audit::sha256_hex(request.as_bytes()),
    })
}

async fn create(store: &Arc<dyn Store>, case: Case) -> Case {
    let record = act_record(&case, "report", None, case.created_at);
    match store.create_case(case, record, None).await.unwrap() {
        CreateOutcome::Created(case) => case,
        other => panic!("expected a new case, got {other:?}"),
    }
}

/// The case moved on by one act, as the domain would leave it.
fn moved(case: &Case, to: CaseState, at: DateTime<Utc>) -> Case {
    let mut next = case.clone();
    next.state = to;
    next.version += 1;
    next.updated_at = at;
    next.stage_started_at = at;
    next.stage_deadline = Some(at + Duration::hours(4));
    next
}

async fn cases_are_numbered_and_read_back(store: Arc<dyn Store>) {
    let first = create(&store, new_case("140702", t0())).await;
    let second = create(&store, new_case("140702", t0() + Duration::minutes(1))).await;
    let elsewhere = create(&store, new_case("140703", t0())).await;
    let next_day = create(&store, new_case("140702", t0() + Duration::hours(24))).await;
    assert_eq!(first.number, "1407022026030200001");
    assert_eq!(second.number, "1407022026030200002");
    assert_eq!(elsewhere.number, "1407032026030200001");
    assert_eq!(next_day.number, "1407022026030300001");

    assert_eq!(store.case(&first.id).await.unwrap(), Some(first.clone()));
    assert_eq!(
        store.case_by_number(&second.number).await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(store.case("no-such-case").await.unwrap(), None);
    assert_eq!(store.case_by_number("1").await.unwrap(), None);

    let records = store.case_records(&first.id).await.unwrap();
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(
        (record.county.as_str(), record.seq, record.act.as_str()),
        ("140702", 1, "report")
    );
    assert_eq!(record.case_id.as_deref(), Some(first.id.as_str()));
    assert_eq!(record.prev_hash, GENESIS);
    assert_eq!(record.at, "2026-03-01T16:30:00.000000Z");
    assert_eq!(record.attachments, vec!["ab".repeat(32)]);
    assert_eq!(record.details["中文"], "是");
    let second_records = store.case_records(&second.id).await.unwrap();
    assert_eq!(second_records[0].seq, 2);
    assert_eq!(second_records[0].prev_hash, record.hash);
    assert_eq!(store.record_count().await.unwrap(), 4);
}

async fn a_claimed_key_replays_and_refuses_another_request(store: Arc<dyn Store>) {
    let case = new_case("140702", t0());
    let record = act_record(&case, "report", None, t0());
    let CreateOutcome::Created(first) = store
        .create_case(case, record.clone(), claim("k1", "body"))
        .await
        .unwrap()
    else {
        panic!("the first use of a key creates");
    };
    // The retry carries a case of its own (a new id): the first case is answered.
    let retry = new_case("140702", t0() + Duration::seconds(5));
    let answer = store
        .create_case(retry, record.clone(), claim("k1", "body"))
        .await
        .unwrap();
    assert_eq!(answer, CreateOutcome::Replayed(first.clone()));
    let other = store
        .create_case(
            new_case("140702", t0() + Duration::seconds(6)),
            record.clone(),
            claim("k1", "another body"),
        )
        .await;
    assert!(matches!(other, Err(StoreError::KeyReused)), "{other:?}");
    assert_eq!(store.record_count().await.unwrap(), 1);
    let all = store
        .list_cases(&CaseFilter::default(), None, 10)
        .await
        .unwrap();
    assert_eq!(all.cases, vec![first.clone()]);

    // Another key, and no key, create.
    let two = store
        .create_case(
            new_case("140702", t0() + Duration::seconds(7)),
            record.clone(),
            claim("k2", "body"),
        )
        .await
        .unwrap();
    assert!(matches!(two, CreateOutcome::Created(ref c) if c.number.ends_with("00002")));
    let three = store
        .create_case(
            new_case("140702", t0() + Duration::seconds(8)),
            record.clone(),
            None,
        )
        .await
        .unwrap();
    assert!(matches!(three, CreateOutcome::Created(ref c) if c.number.ends_with("00003")));

    // After 30 days the key is forgotten: it may carry another request.
    let later = new_case("140702", t0() + Duration::days(31));
    let fresh = store
        .create_case(later.clone(), record, claim("k1", "another body"))
        .await
        .unwrap();
    match fresh {
        CreateOutcome::Created(case) => assert_eq!(case.id, later.id),
        other => panic!("an expired key creates afresh, got {other:?}"),
    }
    assert_eq!(store.record_count().await.unwrap(), 4);
}

async fn concurrent_creates_with_one_key_answer_one_case(store: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let case = new_case("140702", t0() + Duration::milliseconds(i));
            let record = act_record(&case, "report", None, case.created_at);
            store
                .create_case(case, record, claim("same-key", "body"))
                .await
                .unwrap()
        }));
    }
    let mut created = Vec::new();
    let mut replayed = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            CreateOutcome::Created(case) => created.push(case),
            CreateOutcome::Replayed(case) => replayed.push(case),
        }
    }
    assert_eq!(created.len(), 1, "exactly one create wins");
    assert_eq!(replayed.len(), 7);
    assert!(replayed.iter().all(|case| *case == created[0]));
    assert_eq!(created[0].number, "1407022026030200001");
    assert_eq!(store.record_count().await.unwrap(), 1);
    // The losers left no gap in the numbers and no record behind.
    let next = create(&store, new_case("140702", t0())).await;
    assert_eq!(next.number, "1407022026030200002");
    let report = store.verify_records().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.records, 2);
}

async fn a_stale_version_is_a_conflict(store: Arc<dyn Store>) {
    let case = create(&store, new_case("140702", t0())).await;
    let at = t0() + Duration::minutes(10);
    let accepted = moved(&case, CaseState::Accepted, at);
    store
        .update_case(
            accepted.clone(),
            1,
            act_record(&accepted, "accept", Some(CaseState::Reported), at),
        )
        .await
        .unwrap();
    assert_eq!(store.case(&case.id).await.unwrap(), Some(accepted.clone()));

    // Someone else saw version 1 too.
    let stale = moved(&case, CaseState::Rejected, at);
    let refused = store
        .update_case(
            stale.clone(),
            1,
            act_record(&stale, "reject", Some(CaseState::Reported), at),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(store.case(&case.id).await.unwrap().unwrap().version, 2);
    assert_eq!(store.case_records(&case.id).await.unwrap().len(), 2);

    // Two at once from version 2: exactly one wins.
    let mut tasks = Vec::new();
    for to in [CaseState::Registered, CaseState::Voided] {
        let store = Arc::clone(&store);
        let next = moved(&accepted, to, at + Duration::minutes(1));
        tasks.push(tokio::spawn(async move {
            let record = act_record(&next, "act", Some(CaseState::Accepted), next.updated_at);
            store.update_case(next, 2, record).await
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1);
    assert!(
        outcomes
            .iter()
            .any(|o| matches!(o, Err(StoreError::Conflict(_))))
    );
    assert_eq!(store.case(&case.id).await.unwrap().unwrap().version, 3);
    assert_eq!(store.case_records(&case.id).await.unwrap().len(), 3);

    let ghost = new_case("140702", at);
    let missing = store
        .update_case(ghost.clone(), 1, act_record(&ghost, "accept", None, at))
        .await;
    assert!(
        matches!(missing, Err(StoreError::Conflict(_))),
        "{missing:?}"
    );
    let report = store.verify_records().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.records, 3);
}

async fn lists_are_newest_first_with_a_cursor(store: Arc<dyn Store>) {
    let mut made = Vec::new();
    for (i, county) in ["140702", "140703", "140702", "140702", "140703"]
        .into_iter()
        .enumerate()
    {
        let at = t0() + Duration::hours(i as i64);
        made.push(create(&store, new_case(county, at)).await);
    }
    let accepted = moved(&made[1], CaseState::Accepted, t0() + Duration::hours(6));
    store
        .update_case(
            accepted.clone(),
            1,
            act_record(&accepted, "accept", Some(CaseState::Reported), t0()),
        )
        .await
        .unwrap();
    made[1] = accepted;
    let ids = |cases: &[Case]| cases.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
    let newest_first: Vec<String> = made.iter().rev().map(|c| c.id.clone()).collect();

    let all = CaseFilter::default();
    let page1 = store.list_cases(&all, None, 2).await.unwrap();
    assert_eq!(ids(&page1.cases), newest_first[..2]);
    assert_eq!(page1.next_cursor.as_deref(), Some(newest_first[1].as_str()));
    let page2 = store
        .list_cases(&all, page1.next_cursor.as_deref(), 2)
        .await
        .unwrap();
    assert_eq!(ids(&page2.cases), newest_first[2..4]);
    let page3 = store
        .list_cases(&all, page2.next_cursor.as_deref(), 2)
        .await
        .unwrap();
    assert_eq!(ids(&page3.cases), newest_first[4..]);
    assert_eq!(page3.next_cursor, None);
    let exact = store.list_cases(&all, None, 5).await.unwrap();
    assert_eq!(exact.next_cursor, None);
    assert_eq!(exact.cases[3], made[1]);

    let in_county = |code: &str| CaseFilter {
        region: Some(self::code(code)),
        ..CaseFilter::default()
    };
    let county = store
        .list_cases(&in_county("140703"), None, 10)
        .await
        .unwrap();
    assert_eq!(ids(&county.cases), [made[4].id.clone(), made[1].id.clone()]);
    let city = store
        .list_cases(&in_county("140700"), None, 10)
        .await
        .unwrap();
    assert_eq!(city.cases.len(), 5);
    let township = store
        .list_cases(&in_county("140702001"), None, 10)
        .await
        .unwrap();
    assert_eq!(township.cases.len(), 3);
    let grid = store
        .list_cases(&in_county("140703001001001"), None, 10)
        .await
        .unwrap();
    assert_eq!(grid.cases.len(), 2);
    let states = CaseFilter {
        states: vec![CaseState::Accepted, CaseState::Closed],
        ..CaseFilter::default()
    };
    assert_eq!(
        ids(&store.list_cases(&states, None, 10).await.unwrap().cases),
        [made[1].id.clone()]
    );
    let window = CaseFilter {
        created_from: Some(t0() + Duration::hours(1)),
        created_to: Some(t0() + Duration::hours(3)),
        category: Some("01".to_owned()),
        channel: Some(Channel::Resident),
        tier: Some(Tier::Township),
        overdue: Some(false),
        ..CaseFilter::default()
    };
    assert_eq!(
        ids(&store.list_cases(&window, None, 10).await.unwrap().cases),
        [made[2].id.clone(), made[1].id.clone()]
    );
    let none = CaseFilter {
        overdue: Some(true),
        ..CaseFilter::default()
    };
    assert!(
        store
            .list_cases(&none, None, 10)
            .await
            .unwrap()
            .cases
            .is_empty()
    );
    let unit = CaseFilter {
        unit: Some("市政".to_owned()),
        category: Some("0102".to_owned()),
        ..CaseFilter::default()
    };
    assert!(
        store
            .list_cases(&unit, None, 10)
            .await
            .unwrap()
            .cases
            .is_empty()
    );
}

/// Ids are ordered byte by byte (UUIDv7 text), on every engine, whatever its collation.
async fn list_order_is_the_byte_order_of_ids(store: Arc<dyn Store>) {
    for id in ["B", "a", "A", "b", "_", "0"] {
        let mut case = new_case("140702", t0());
        case.id = id.to_owned();
        create(&store, case).await;
    }
    let page = store
        .list_cases(&CaseFilter::default(), None, 3)
        .await
        .unwrap();
    let ids: Vec<&str> = page.cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["b", "a", "_"]);
    let rest = store
        .list_cases(&CaseFilter::default(), page.next_cursor.as_deref(), 10)
        .await
        .unwrap();
    let ids: Vec<&str> = rest.cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["B", "A", "0"]);
}

async fn the_sweep_selects_open_cases_past_their_deadline(store: Arc<dyn Store>) {
    let due = |minutes: i64| Some(t0() + Duration::minutes(minutes));
    let mut cases = Vec::new();
    for (state, deadline, stage_overdue) in [
        (CaseState::Reported, due(60), false),    // 0: past at +90
        (CaseState::Handling, due(120), false),   // 1: past at +150
        (CaseState::Reported, due(30), true),     // 2: already marked
        (CaseState::Suspended, due(30), false),   // 3: suspended: waits
        (CaseState::Closed, due(30), false),      // 4: not open
        (CaseState::Accepted, None, false),       // 5: no deadline
        (CaseState::Registered, due(100), false), // 6: past at +150
    ] {
        let mut case = new_case("140702", t0());
        case.state = state;
        case.stage_deadline = deadline;
        case.stage_overdue = stage_overdue;
        cases.push(create(&store, case).await);
    }
    let ids = |cases: Vec<Case>| cases.into_iter().map(|c| c.id).collect::<Vec<_>>();
    let at_90 = store
        .cases_past_deadline(t0() + Duration::minutes(90), 10)
        .await
        .unwrap();
    assert_eq!(ids(at_90), [cases[0].id.clone()]);
    let at_150 = store
        .cases_past_deadline(t0() + Duration::minutes(150), 10)
        .await
        .unwrap();
    assert_eq!(
        ids(at_150),
        [
            cases[0].id.clone(),
            cases[6].id.clone(),
            cases[1].id.clone()
        ]
    );
    let limited = store
        .cases_past_deadline(t0() + Duration::minutes(150), 1)
        .await
        .unwrap();
    assert_eq!(ids(limited), [cases[0].id.clone()]);
    // Marked overdue by the sweep: no longer selected.
    let mut marked = moved(&cases[0], CaseState::Reported, t0() + Duration::minutes(91));
    marked.stage_deadline = cases[0].stage_deadline;
    marked.stage_overdue = true;
    marked.overdue = true;
    store
        .update_case(
            marked.clone(),
            1,
            act_record(&marked, "mark_overdue", Some(CaseState::Reported), t0()),
        )
        .await
        .unwrap();
    assert!(
        store
            .cases_past_deadline(t0() + Duration::minutes(90), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let overdue = CaseFilter {
        overdue: Some(true),
        ..CaseFilter::default()
    };
    let listed = store.list_cases(&overdue, None, 10).await.unwrap();
    assert_eq!(listed.cases, vec![marked]);
}

async fn records_chain_and_checkpoint(store: Arc<dyn Store>) {
    assert!(
        !store.write_checkpoint(t0()).await.unwrap(),
        "nothing to checkpoint"
    );
    let one = create(&store, new_case("140702", t0())).await;
    create(&store, new_case("140703", t0())).await;
    let accepted = moved(&one, CaseState::Accepted, t0() + Duration::minutes(5));
    store
        .update_case(
            accepted.clone(),
            1,
            act_record(
                &accepted,
                "accept",
                Some(CaseState::Reported),
                accepted.updated_at,
            ),
        )
        .await
        .unwrap();
    let report = store.verify_records().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(
        (report.records, report.chains, report.checkpoints),
        (3, 2, 0)
    );
    let records = store.case_records(&one.id).await.unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].prev_hash, records[0].hash);
    assert_eq!(records[1].from_state.as_deref(), Some("reported"));

    assert!(store.write_checkpoint(t0()).await.unwrap());
    assert!(
        !store.write_checkpoint(t0()).await.unwrap(),
        "heads did not move"
    );
    store
        .append_records(vec![NewRecord {
            county: SYSTEM_CHAIN.to_owned(),
            case_id: None,
            act: "login_failed".to_owned(),
            actor: "system".to_owned(),
            role: "system".to_owned(),
            from_state: None,
            to_state: None,
            at: t0() + Duration::microseconds(123_456_789),
            note: String::new(),
            attachments: vec![],
            details: serde_json::json!({}),
        }])
        .await
        .unwrap();
    assert!(
        store
            .write_checkpoint(t0() + Duration::hours(1))
            .await
            .unwrap()
    );
    let report = store.verify_records().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(
        (report.records, report.chains, report.checkpoints),
        (4, 3, 2)
    );
    assert_eq!(store.record_count().await.unwrap(), 4);
}

async fn concurrent_appends_keep_every_chain_whole(store: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for i in 0..30 {
        let writer = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut batch = Vec::new();
            for county in ["140702", "140703", "140702"] {
                let mut record = act_record(&new_case(county, t0()), "urge", None, t0());
                record.note = format!("第{i}批");
                batch.push(record);
            }
            if i % 2 == 0 {
                batch.reverse();
            }
            writer.append_records(batch).await.unwrap();
        }));
        if i % 10 == 0 {
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                store.write_checkpoint(Utc::now()).await.unwrap();
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    store.write_checkpoint(Utc::now()).await.unwrap();
    let report = store.verify_records().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!((report.records, report.chains), (90, 2));
    assert!(report.checkpoints >= 1);
}

async fn attachments_are_stored_once(store: Arc<dyn Store>) {
    let bytes = vec![0u8, 1, 2, 255, 0];
    let hash = store
        .put_attachment("image/jpeg", bytes.clone())
        .await
        .unwrap();
    assert_eq!(hash, onegrid_store::audit::sha256_hex(&bytes));
    let again = store
        .put_attachment("image/png", bytes.clone())
        .await
        .unwrap();
    assert_eq!(again, hash);
    let stored = store.attachment(&hash).await.unwrap().unwrap();
    assert_eq!(
        (stored.content_type.as_str(), stored.bytes),
        ("image/jpeg", bytes)
    );
    assert!(store.attachment(&"0".repeat(64)).await.unwrap().is_none());
}

fn security_event(act: &str, at: DateTime<Utc>) -> NewRecord {
    NewRecord {
        county: SYSTEM_CHAIN.to_owned(),
        case_id: None,
        act: act.to_owned(),
        actor: "admin".to_owned(),
        role: "security_admin".to_owned(),
        from_state: None,
        to_state: None,
        at,
        note: String::new(),
        attachments: vec![],
        details: serde_json::json!({}),
    }
}

/// Accounts with their assignments, login state, sessions and tokens round-trip; each change
/// appends its security event in the same transaction; a taken login is a conflict.
async fn accounts_sessions_and_tokens(store: Arc<dyn Store>) {
    let at = t0();
    let assignment = |role: &str, scope: &str| StoredAssignment {
        role: role.to_owned(),
        scope: scope.to_owned(),
    };
    let account = store
        .create_account(
            NewAccount {
                login: "wang".to_owned(),
                display_name: "王主任".to_owned(),
                password_hash: Some("$argon2id$stub".to_owned()),
                assignments: vec![
                    assignment("centre_lead", "140702"),
                    assignment("grid_worker", "140702001001001"),
                ],
            },
            security_event("account_created", at),
        )
        .await
        .unwrap();
    let again = store
        .create_account(
            NewAccount {
                login: "wang".to_owned(),
                display_name: "另一个王".to_owned(),
                password_hash: None,
                assignments: vec![],
            },
            security_event("account_created", at),
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let read = store.account_by_login("wang").await.unwrap().unwrap();
    assert_eq!(read.id, account.id);
    assert_eq!(read.assignments.len(), 2);
    assert_eq!(read.assignments[0].role, "centre_lead");
    let locked = at + Duration::minutes(15);
    store
        .change_account(
            &account.id,
            AccountChange::LoginState {
                failed_logins: 0,
                locked_until: Some(locked),
            },
            Some(security_event("account_locked", at)),
        )
        .await
        .unwrap();
    store
        .change_account(
            &account.id,
            AccountChange::Assignments(vec![assignment("leader", "140700")]),
            Some(security_event("role_changed", at)),
        )
        .await
        .unwrap();
    let read = store.account(&account.id).await.unwrap().unwrap();
    assert_eq!(read.locked_until, Some(locked));
    assert_eq!(read.assignments, vec![assignment("leader", "140700")]);
    assert!(matches!(
        store
            .change_account("nobody", AccountChange::Disabled(true), None)
            .await,
        Err(StoreError::Conflict(_))
    ));

    let session = Session {
        id_hash: "s1".to_owned(),
        user_id: account.id.clone(),
        csrf: "c1".to_owned(),
        created_at: at,
        last_seen_at: at,
        ended_at: None,
    };
    store
        .put_session(session.clone(), Some(security_event("login", at)))
        .await
        .unwrap();
    let touched = Session {
        last_seen_at: at + Duration::minutes(5),
        ..session.clone()
    };
    store.put_session(touched.clone(), None).await.unwrap();
    assert_eq!(store.session("s1").await.unwrap(), Some(touched));
    assert_eq!(store.session("s2").await.unwrap(), None);

    let token = ApiToken {
        id: "t1".to_owned(),
        user_id: account.id.clone(),
        name: "12345热线".to_owned(),
        hash: "h1".to_owned(),
        scope: Some("140702".to_owned()),
        created_at: at,
        last_used_at: None,
        revoked_at: None,
    };
    store
        .put_token(token.clone(), Some(security_event("token_created", at)))
        .await
        .unwrap();
    let revoked = ApiToken {
        revoked_at: Some(at + Duration::hours(1)),
        ..token.clone()
    };
    store.put_token(revoked.clone(), None).await.unwrap();
    assert_eq!(
        store.token_by_hash("h1").await.unwrap(),
        Some(revoked.clone())
    );
    assert_eq!(store.tokens_of(&account.id).await.unwrap(), vec![revoked]);

    let events = store
        .security_events(at - Duration::hours(1), at + Duration::hours(1), None, 10)
        .await
        .unwrap();
    let acts: Vec<&str> = events.iter().map(|e| e.act.as_str()).collect();
    assert_eq!(
        acts,
        vec![
            "token_created",
            "login",
            "role_changed",
            "account_locked",
            "account_created"
        ]
    );
    assert!(store.verify_records().await.unwrap().is_intact());
}

/// A scoped read sees only the cases inside the scope — by region at every level, by unit, by
/// the reporter's account — and a tracking code's hash finds its case.
async fn scoped_reads_see_only_their_cases(store: Arc<dyn Store>) {
    let mut mine = new_case("140702", t0());
    mine.reporter.account = Some("resident-1".to_owned());
    mine.reporter.tracking_hash = Some("track-1".to_owned());
    let mine = create(&store, mine).await;
    let other = create(&store, new_case("140703", t0())).await;
    let scope = |regions: &[&str], units: &[&str], account: Option<&str>| CaseScope {
        regions: regions.iter().map(|r| code(r)).collect(),
        units: units.iter().map(|u| (*u).to_owned()).collect(),
        reporter_account: account.map(str::to_owned),
    };
    let grid = mine.grid.clone().unwrap();
    for (scope, sees_mine, sees_other) in [
        (scope(&["140700"], &[], None), true, true),
        (scope(&["140702"], &[], None), true, false),
        (scope(&["140703"], &[], None), false, true),
        (scope(&[&grid], &[], None), true, false),
        (scope(&[&mine.chain[1]], &[], None), true, false),
        (scope(&[], &[], Some("resident-1")), true, false),
        (scope(&[], &[], Some("resident-2")), false, false),
        (scope(&[], &["140702:城管局"], None), false, false),
        (CaseScope::default(), false, false),
    ] {
        let seen = |id: &str| {
            let store = Arc::clone(&store);
            let scope = scope.clone();
            let id = id.to_owned();
            async move { store.case_in_scope(&id, &scope).await.unwrap().is_some() }
        };
        assert_eq!(seen(&mine.id).await, sees_mine, "{scope:?}");
        assert_eq!(seen(&mine.number).await, sees_mine, "{scope:?} by number");
        assert_eq!(seen(&other.id).await, sees_other, "{scope:?}");
        let listed = store
            .list_cases(
                &CaseFilter {
                    scope: Some(scope.clone()),
                    ..CaseFilter::default()
                },
                None,
                50,
            )
            .await
            .unwrap();
        assert_eq!(
            listed.cases.len(),
            usize::from(sees_mine) + usize::from(sees_other),
            "{scope:?}"
        );
    }
    let found = store.case_by_tracking("track-1").await.unwrap().unwrap();
    assert_eq!(found.id, mine.id);
    assert!(store.case_by_tracking("track-2").await.unwrap().is_none());
}

/// Every story, on every engine: `mod sqlite` and `mod postgres` hold one test per story.
macro_rules! stories {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = onegrid_store::open(&super::Location::Directory(dir.path().to_owned()))
                        .await
                        .unwrap();
                    assert_eq!(store.engine(), "sqlite");
                    super::$story(store).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    let Some(database) = super::support::PgDatabase::create().await else {
                        return;
                    };
                    let store = onegrid_store::open(&super::Location::Postgres(database.url.clone()))
                        .await
                        .unwrap();
                    assert_eq!(store.engine(), "postgres");
                    super::$story(store).await;
                }
            )*
        }
    };
}

/// Rollups follow every create and update (a refused update changes nothing), sum by day and
/// break down by category, channel and day, and a rebuild gives the same rows.
async fn rollups_follow_every_change(store: Arc<dyn Store>) {
    use onegrid_domain::metrics::Counters;
    let a = create(&store, new_case("140702", t0())).await;
    let b = create(&store, new_case("140702", t0() + Duration::hours(30))).await;
    create(&store, new_case("140703", t0())).await;
    let at = t0() + Duration::hours(1);
    let accepted = moved(&a, CaseState::Accepted, at);
    store
        .update_case(
            accepted.clone(),
            1,
            act_record(&accepted, "accept", Some(CaseState::Reported), at),
        )
        .await
        .unwrap();
    let stale = moved(&a, CaseState::Rejected, at);
    assert!(
        store
            .update_case(stale.clone(), 1, act_record(&stale, "reject", None, at))
            .await
            .is_err()
    );
    let sum = |cases: &[&Case]| {
        cases
            .iter()
            .fold(Counters::default(), |t, c| t.plus(Counters::of(c)))
    };
    let days = ("2026-03-01", "2026-03-10");
    let sums = store
        .rollup_sums(
            &[
                "140702".to_owned(),
                "140702001001001".to_owned(),
                "140703".to_owned(),
            ],
            "",
            "",
            days.0,
            days.1,
        )
        .await
        .unwrap();
    assert_eq!(sums[0], ("140702".to_owned(), sum(&[&accepted, &b])));
    assert_eq!(sums[1].1, sum(&[&accepted, &b]));
    assert_eq!(sums[2].1.reported, 1);
    assert_eq!(sums[0].1.accepted, 1);
    // One day only: a was reported on 3-02 (Shanghai), b on 3-03.
    let one_day = store
        .rollup_sums(&["140702".to_owned()], "", "", "2026-03-02", "2026-03-03")
        .await
        .unwrap();
    assert_eq!(one_day[0].1, Counters::of(&accepted));
    let county = ["140702".to_owned()];
    let by_day = store
        .rollup_breakdown(&county, onegrid_store::Breakdown::Day, days.0, days.1)
        .await
        .unwrap();
    let labels: Vec<&str> = by_day.iter().map(|(d, _)| d.as_str()).collect();
    assert_eq!(labels, ["2026-03-02", "2026-03-03"]);
    let by_channel = store
        .rollup_breakdown(&county, onegrid_store::Breakdown::Channel, days.0, days.1)
        .await
        .unwrap();
    assert_eq!(
        by_channel,
        vec![("resident".to_owned(), sum(&[&accepted, &b]))]
    );
    let by_category = store
        .rollup_breakdown(&county, onegrid_store::Breakdown::Category, days.0, days.1)
        .await
        .unwrap();
    assert_eq!(by_category[0].0, "01");
    // Several areas at once are summed together; a mix is the breakdown's `reported` alone.
    let both = ["140702".to_owned(), "140703".to_owned()];
    for by in [
        onegrid_store::Breakdown::Day,
        onegrid_store::Breakdown::Channel,
        onegrid_store::Breakdown::Category,
    ] {
        let each: Vec<Vec<(String, Counters)>> = vec![
            store
                .rollup_breakdown(&both[..1], by, days.0, days.1)
                .await
                .unwrap(),
            store
                .rollup_breakdown(&both[1..], by, days.0, days.1)
                .await
                .unwrap(),
        ];
        let mut expected: std::collections::BTreeMap<String, Counters> = Default::default();
        for (key, counters) in each.into_iter().flatten() {
            let entry = expected.entry(key).or_default();
            *entry = entry.plus(counters);
        }
        let together = store
            .rollup_breakdown(&both, by, days.0, days.1)
            .await
            .unwrap();
        assert_eq!(together, expected.into_iter().collect::<Vec<_>>(), "{by:?}");
        let mix = store.rollup_mix(&both, by, days.0, days.1).await.unwrap();
        let reported: Vec<(String, i64)> = together
            .iter()
            .map(|(key, counters)| (key.clone(), counters.reported))
            .collect();
        assert_eq!(mix, reported, "{by:?}");
    }
    assert_eq!(
        store
            .rollup_mix(&both, onegrid_store::Breakdown::Day, days.0, days.1)
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum::<i64>(),
        3
    );
    // Sums answer every area asked, in order, with zeros for one without rows.
    let asked = [
        "140703".to_owned(),
        "140799".to_owned(),
        "140702".to_owned(),
    ];
    let answered = store
        .rollup_sums(&asked, "", "", days.0, days.1)
        .await
        .unwrap();
    assert_eq!(
        answered,
        vec![
            ("140703".to_owned(), sums[2].1),
            ("140799".to_owned(), Counters::default()),
            ("140702".to_owned(), sums[0].1),
        ]
    );
    // The chain positions a screen polls: one per county, by code, summing to every record.
    let positions = store.chain_positions().await.unwrap();
    let counties: Vec<&str> = positions.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(counties, ["140702", "140703"]);
    assert_eq!(
        positions.iter().map(|(_, seq)| seq).sum::<i64>() as u64,
        store.record_count().await.unwrap()
    );
    assert_eq!(store.rebuild_rollups().await.unwrap(), 3);
    let again = store
        .rollup_sums(
            &[
                "140702".to_owned(),
                "140702001001001".to_owned(),
                "140703".to_owned(),
            ],
            "",
            "",
            days.0,
            days.1,
        )
        .await
        .unwrap();
    assert_eq!(again, sums);
}

/// A case's changes enqueue their jobs in the same write; a due job is claimed by one worker
/// only, until its lease runs out; only the holder finishes it; a retry waits its time.
async fn jobs_are_enqueued_with_changes_and_claimed_under_a_lease(store: Arc<dyn Store>) {
    use onegrid_store::jobs::{JobFinish, JobOutcome, LEASE_SECONDS, Notice};

    let case = create(&store, new_case("140702", t0())).await;
    let deadline = t0() + Duration::hours(2);
    assert!(
        store
            .claim_jobs("w1", t0() + Duration::hours(1), 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing is due before the deadline"
    );
    let at = t0() + Duration::hours(3);
    let first = store.claim_jobs("w1", at, 10).await.unwrap();
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].kind, "deadline_check");
    assert_eq!(first[0].case_id.as_deref(), Some(case.id.as_str()));
    assert_eq!(first[0].county.as_deref(), Some("140702"));
    assert_eq!(first[0].run_at, deadline);
    assert_eq!(first[0].attempts, 1);
    assert!(store.claim_jobs("w2", at, 10).await.unwrap().is_empty());

    // Dispatching enqueues a notice to the unit (due at once) and the next stage's check.
    let mut dispatched = moved(&case, CaseState::Dispatched, t0() + Duration::hours(1));
    dispatched.unit = Some("140702001:gov".to_owned());
    let record = act_record(
        &dispatched,
        "dispatch",
        Some(CaseState::Reported),
        dispatched.updated_at,
    );
    store
        .update_case(dispatched.clone(), 1, record)
        .await
        .unwrap();
    let second = store.claim_jobs("w2", at, 10).await.unwrap();
    assert_eq!(second.len(), 1, "{second:?}");
    assert_eq!(second[0].kind, "notify_unit");
    assert_eq!(second[0].payload["unit"], "140702001:gov");

    let finish = |job: i64, worker: &str, outcome: JobOutcome| JobFinish {
        job_id: job,
        worker: worker.to_owned(),
        started_at: at,
        finished_at: at,
        outcome,
    };
    assert!(
        store
            .finish_job(finish(first[0].id, "w1", JobOutcome::Done(None)))
            .await
            .unwrap()
    );
    assert!(
        !store
            .finish_job(finish(first[0].id, "w1", JobOutcome::Done(None)))
            .await
            .unwrap(),
        "a finished job is not finished again"
    );
    let notice = Notice {
        unit: "140702001:gov".to_owned(),
        county: Some("140702".to_owned()),
        case_id: case.id.clone(),
        message: "请签收".to_owned(),
    };
    assert!(
        !store
            .finish_job(finish(
                second[0].id,
                "w1",
                JobOutcome::Done(Some(notice.clone()))
            ))
            .await
            .unwrap(),
        "only the holder finishes a job"
    );
    assert!(
        store
            .finish_job(finish(second[0].id, "w2", JobOutcome::Done(Some(notice))))
            .await
            .unwrap()
    );

    // The dispatched stage's check, claimed and abandoned: free again once its lease ends.
    let later = dispatched.stage_deadline.unwrap() + Duration::minutes(1);
    let third = store.claim_jobs("w3", later, 10).await.unwrap();
    assert_eq!(third.len(), 1, "{third:?}");
    assert!(store.claim_jobs("w4", later, 10).await.unwrap().is_empty());
    let after_lease = later + Duration::seconds(LEASE_SECONDS + 1);
    let again = store.claim_jobs("w4", after_lease, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].id, again[0].attempts), (third[0].id, 2));
    assert!(
        !store
            .finish_job(finish(third[0].id, "w3", JobOutcome::Done(None)))
            .await
            .unwrap()
    );
    // A retry waits for its time.
    let retry_at = after_lease + Duration::hours(1);
    let retry = JobOutcome::Retry {
        error: "busy".to_owned(),
        at: retry_at,
    };
    assert!(
        store
            .finish_job(finish(again[0].id, "w4", retry))
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_jobs("w5", retry_at - Duration::minutes(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let retried = store.claim_jobs("w5", retry_at, 10).await.unwrap();
    assert_eq!((retried.len(), retried[0].attempts), (1, 3));
}

stories!(
    jobs_are_enqueued_with_changes_and_claimed_under_a_lease,
    rollups_follow_every_change,
    regions_keep_history_and_retire,
    areas_are_all_or_nothing,
    concurrent_writes_group_and_one_failure_spoils_no_other,
    meta_is_kept,
    cases_are_numbered_and_read_back,
    a_claimed_key_replays_and_refuses_another_request,
    concurrent_creates_with_one_key_answer_one_case,
    a_stale_version_is_a_conflict,
    lists_are_newest_first_with_a_cursor,
    list_order_is_the_byte_order_of_ids,
    the_sweep_selects_open_cases_past_their_deadline,
    records_chain_and_checkpoint,
    concurrent_appends_keep_every_chain_whole,
    attachments_are_stored_once,
    accounts_sessions_and_tokens,
    scoped_reads_see_only_their_cases,
);

#[tokio::test]
async fn sqlite_acknowledged_writes_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let location = Location::Directory(dir.path().to_owned());
    {
        let store = onegrid_store::open(&location).await.unwrap();
        store.set_meta("durable", "yes").await.unwrap();
    }
    let store = onegrid_store::open(&location).await.unwrap();
    assert_eq!(store.meta("durable").await.unwrap().as_deref(), Some("yes"));
    assert_eq!(store.engine(), "sqlite");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_reopens_with_its_data_and_migrations_applied_once() {
    let Some(database) = support::PgDatabase::create().await else {
        return;
    };
    let location = Location::Postgres(database.url.clone());
    {
        let store = onegrid_store::open(&location).await.unwrap();
        store.set_meta("durable", "yes").await.unwrap();
    }
    let store = onegrid_store::open(&location).await.unwrap();
    assert_eq!(store.meta("durable").await.unwrap().as_deref(), Some("yes"));
    assert_eq!(store.engine(), "postgres");
}

#[tokio::test]
async fn an_unreachable_postgres_is_an_error() {
    // Nothing listens on port 1: the open fails (no panic, no hang).
    let refused =
        onegrid_store::open(&Location::Postgres("postgres://127.0.0.1:1/x".to_owned())).await;
    assert!(matches!(refused, Err(StoreError::Database(_))));
}

/// An append holds its county's chain head until it commits: appends to that county wait,
/// appends to another county do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_appends_wait_only_on_their_own_county() {
    use sqlx::Connection;

    let Some(database) = support::PgDatabase::create().await else {
        return;
    };
    let store = onegrid_store::open(&Location::Postgres(database.url.clone()))
        .await
        .unwrap();
    let record = |county: &str| act_record(&new_case(county, t0()), "urge", None, t0());
    store
        .append_records(vec![record("140702"), record("140703")])
        .await
        .unwrap();
    // Someone holds 140702's head, as an append in flight would.
    let mut holder = database.connect().await;
    let mut tx = holder.begin().await.unwrap();
    sqlx::query("SELECT seq FROM chain_heads WHERE county_code = '140702' FOR UPDATE")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    let waiting = {
        let store = Arc::clone(&store);
        let record = record("140702");
        tokio::spawn(async move { store.append_records(vec![record]).await })
    };
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        store.append_records(vec![record("140703")]),
    )
    .await
    .expect("another county's append does not wait")
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "the same county's append waits");
    tx.commit().await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), waiting)
        .await
        .expect("the append goes on once the head is free")
        .unwrap()
        .unwrap();
    let report = store.verify_records().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!((report.records, report.chains), (4, 2));
}
