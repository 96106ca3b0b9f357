//! PostgreSQL partitions (migration 0006): cases and records land in their county's partition
//! of their month; rows that arrive before their partition wait in a default one and are moved
//! into it, unchanged, when it is made; a store that held data before the migration keeps all
//! of it. The contract suite (`contract.rs`) runs on this partitioned schema too.
//!
//! Needs `ONEGRID_TEST_DATABASE_URL` (see `scripts/test-postgres.sh`).

mod support;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use onegrid_domain::RegionCode;
use onegrid_domain::case::{ActCounts, Case, CaseState, Channel, Reporter};
use onegrid_domain::taxonomy::{Tier, Urgency};
use onegrid_store::{
    CreateOutcome, DivisionChange, Location, NewRecord, PostgresStore, RegionUpsert, Store,
};
use sqlx::{Connection, Row};

fn upsert(text: &str, name: &str) -> RegionUpsert {
    let code = RegionCode::parse(text).unwrap();
    RegionUpsert {
        parent: code.parent(),
        code,
        name: name.to_owned(),
    }
}

fn case_in(county: &str, at: DateTime<Utc>) -> Case {
    let grid = format!("{county}001001001");
    Case {
        id: uuid::Uuid::now_v7().to_string(),
        number: String::new(),
        county: county.to_owned(),
        grid: Some(grid.clone()),
        chain: vec![
            grid,
            format!("{county}001001"),
            format!("{county}001"),
            county.to_owned(),
        ],
        lon: None,
        lat: None,
        address: None,
        description: "路灯不亮".to_owned(),
        channel: Channel::Resident,
        category: None,
        urgency: Urgency::Normal,
        reporter: Reporter::default(),
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

async fn create(store: &dyn Store, case: Case) -> Case {
    let record = NewRecord {
        county: case.county.clone(),
        case_id: Some(case.id.clone()),
        act: "report".to_owned(),
        actor: "张三".to_owned(),
        role: "resident".to_owned(),
        from_state: None,
        to_state: Some("reported".to_owned()),
        at: case.created_at,
        note: case.description.clone(),
        attachments: vec![],
        details: serde_json::json!({}),
    };
    match store.create_case(case, record, None).await.unwrap() {
        CreateOutcome::Created(case) => case,
        other => panic!("{other:?}"),
    }
}

/// Rows per partition of `table`.
async fn placement(url: &str, table: &str) -> BTreeMap<String, i64> {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT tableoid::regclass::text AS part, count(*) AS n FROM {table} GROUP BY 1"
    )))
    .fetch_all(&mut conn)
    .await
    .unwrap();
    rows.iter()
        .map(|row| (row.get("part"), row.get("n")))
        .collect()
}

fn month(at: DateTime<Utc>) -> String {
    at.format("%Y%m").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_land_in_their_county_and_month_and_late_partitions_take_them_over() {
    let Some(database) = support::PgDatabase::create().await else {
        return;
    };
    let store = onegrid_store::open(&Location::Postgres(database.url.clone()))
        .await
        .unwrap();
    store
        .apply_divisions(DivisionChange {
            upserts: vec![
                upsert("140000", "山西省"),
                upsert("140700", "晋中市"),
                upsert("140702", "榆次区"),
                upsert("140703", "太谷区"),
            ],
            ..DivisionChange::default()
        })
        .await
        .unwrap();
    let now = Utc::now();
    let this_month = month(now);
    let march = Utc.with_ymd_and_hms(2026, 3, 10, 2, 0, 0).unwrap();
    // A county's first case waits in the default partition: importing divisions makes no
    // partitions (an import may list every county of the country).
    let first = create(store.as_ref(), case_in("140702", now)).await;
    assert_eq!(
        placement(&database.url, "cases").await,
        BTreeMap::from([("cases_default".to_owned(), 1)])
    );
    // The upkeep makes the county's partitions for this month and the next, and moves it in.
    store.maintain(now).await.unwrap();
    assert_eq!(
        placement(&database.url, "cases").await,
        BTreeMap::from([(format!("cases_140702_{this_month}"), 1)])
    );
    let yuci = create(store.as_ref(), case_in("140702", now)).await;
    create(store.as_ref(), case_in("140703", now)).await;
    // A month with no partition yet (an old case, as a copy brings).
    let old = create(store.as_ref(), case_in("140702", march)).await;

    let expected = |parent: &str| {
        BTreeMap::from([
            (format!("{parent}_140702_{this_month}"), 2),
            (format!("{parent}_140702_default"), 1),
            (format!("{parent}_default"), 1),
        ])
    };
    assert_eq!(placement(&database.url, "cases").await, expected("cases"));
    assert_eq!(
        placement(&database.url, "records").await,
        expected("records")
    );

    store.maintain(now).await.unwrap();
    let expected = |parent: &str| {
        BTreeMap::from([
            (format!("{parent}_140702_{this_month}"), 2),
            (format!("{parent}_140702_202603"), 1),
            (format!("{parent}_140703_{this_month}"), 1),
        ])
    };
    assert_eq!(placement(&database.url, "cases").await, expected("cases"));
    assert_eq!(
        placement(&database.url, "records").await,
        expected("records")
    );
    // Next month's partitions wait ready.
    let next = now
        .date_naive()
        .checked_add_months(chrono::Months::new(1))
        .unwrap()
        .format("%Y%m")
        .to_string();
    let mut conn = database.connect().await;
    let ready: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT to_regclass('cases_140703_{next}')::text"
    )))
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(ready, Some(format!("cases_140703_{next}")));
    assert_eq!(store.case(&first.id).await.unwrap().unwrap(), first);
    // Moved, not changed: the case reads back as stored, the chains verify.
    assert_eq!(store.case(&old.id).await.unwrap().unwrap(), old);
    assert_eq!(store.case(&yuci.id).await.unwrap().unwrap(), yuci);
    let report = store.verify_records().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!((report.records, report.chains), (4, 2));

    // A query for one county reads only that county's partitions.
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN (COSTS OFF) SELECT count(*) FROM cases WHERE county_code = '140703'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let plan = plan.join("\n");
    assert!(plan.contains("cases_140703_"), "{plan}");
    assert!(!plan.contains("cases_140702"), "{plan}");
    // Bad input to the partition function is named.
    let refused = sqlx::query("SELECT onegrid_ensure_partitions('14x702', current_date)")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("six digits expected"),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_migrated_with_data_keeps_all_of_it_partitioned() {
    let Some(database) = support::PgDatabase::create().await else {
        return;
    };
    // The schema as it stood before partitions (migrations up to 0005), with a case and its
    // record in it.
    let mut conn = database.connect().await;
    sqlx::migrate!("migrations/postgres")
        .run_direct(Some(5), &mut conn, false)
        .await
        .unwrap();
    sqlx::raw_sql(
        "INSERT INTO regions (code, level, name, parent_code, county_code, valid_from)
         VALUES ('140702', 'county', '榆次区', '140700', '140702', now());
         INSERT INTO cases (county_code, id, number, state, tier, channel, urgency, is_open,
                            created_at, updated_at, version, body)
         VALUES ('140702', '0190a0a0-0000-7000-8000-000000000001', '1407022026011000001',
                 'reported', 'township', 'resident', 'normal', true,
                 '2026-01-10 02:00:00+00', '2026-01-10 02:00:00+00', 1, '{\"k\": 1}');
         INSERT INTO records (county_code, seq, id, case_id, act, actor, role, at, note,
                              attachments, details, prev_hash, hash)
         VALUES ('140702', 1, 'r1', '0190a0a0-0000-7000-8000-000000000001', 'report', 'a',
                 'resident', '2026-01-10T02:00:00.000000Z', '', '[]', '{}', 'p', 'h');",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let _ = conn.close().await;

    // Opening the store runs 0006 and the upkeep.
    let store = PostgresStore::connect(&database.url).await.unwrap();
    assert_eq!(
        placement(&database.url, "cases").await,
        BTreeMap::from([("cases_140702_202601".to_owned(), 1)])
    );
    assert_eq!(
        placement(&database.url, "records").await,
        BTreeMap::from([("records_140702_202601".to_owned(), 1)])
    );
    let mut conn = database.connect().await;
    let row = sqlx::query("SELECT number, body::text AS body FROM cases")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("number"), "1407022026011000001");
    assert_eq!(row.get::<String, _>("body"), r#"{"k": 1}"#);
    let hash: String = sqlx::query_scalar("SELECT hash FROM records WHERE seq = 1")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(hash, "h");
    drop(store);
}
