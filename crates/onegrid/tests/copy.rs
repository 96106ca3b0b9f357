//! `onegrid copy`: a SQLite city moved to PostgreSQL answers every figure, ranking, report and
//! case exactly as before, and its record verifies there; a non-empty target is refused with
//! nothing written; bad arguments are named.
//!
//! Needs `ONEGRID_TEST_DATABASE_URL` (see `scripts/test-postgres.sh`).

mod city;

use city::support::PgDatabase;
use onegrid_store::Location;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_city_copied_to_postgres_answers_the_same_and_verifies() {
    let Some(database) = PgDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (before_dashboard, before_cases) = {
        let app = city::sqlite_city(&data).await;
        let reported = city::cases_in_many_states(&app).await;
        let dashboard = city::dashboard(&app).await;
        assert_eq!(
            dashboard["figures 140700"]["figures"]["counters"]["reported"], reported,
            "the fixture is what the comparison is about"
        );
        let cases = city::all_cases(&app).await;
        assert_eq!(cases.as_array().unwrap().len(), reported);
        (dashboard, cases)
    };

    // An account with a token, made by the command line, its secrets sealed with the key the
    // data directory keeps beside the store (as the binary makes it on first start).
    std::fs::write(data.join("secret.key"), city::SECRET_KEY).unwrap();
    let data_arg = data.display().to_string();
    city::make_token(
        &["--data", &data_arg],
        "copy-clerk",
        "centre_intake@140700,audit_admin@140700",
    );

    // Creating them appended security events to the record.
    let before_records = {
        let app = city::app_at(&Location::Directory(data.clone())).await;
        app.store().record_count().await.unwrap()
    };

    // From the data directory.
    let out = city::onegrid()
        .env_remove("ONEGRID_SECRET_KEY")
        .args(["copy", "--from"])
        .arg(&data)
        .args(["--to", &database.url])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("secret.key") && stderr.contains("ONEGRID_SECRET_KEY"),
        "the key the contacts are sealed with is named: {stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tables = report["tables"].as_array().unwrap();
    for table in tables {
        assert_eq!(table["source"], table["target"], "{table}");
    }
    let count = |name: &str| {
        tables
            .iter()
            .find(|t| t["table"] == name)
            .unwrap_or_else(|| panic!("{name} in {report}"))["target"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(count("cases"), 9);
    assert_eq!(count("records"), before_records);
    assert_eq!(count("idempotency_keys"), 1);
    assert_eq!(count("attachments"), 1);
    assert_eq!(count("api_tokens"), 1);
    assert_eq!(count("assignments"), 2);
    assert!(
        count("jobs") >= 9,
        "a deadline check for each case at least"
    );
    assert!(count("checkpoints") >= 1);
    assert!(count("rollups") > 0);
    assert_eq!(report["records_verified"], before_records);

    // Every row went straight to its county's partition of its month.
    let mut conn = database.connect().await;
    for table in ["cases", "records"] {
        let waiting: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM {table} WHERE tableoid::regclass::text LIKE '%default'"
        )))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(waiting, 0, "{table} rows in a default partition");
    }

    let app = city::app_at(&Location::Postgres(database.url.clone())).await;
    assert_eq!(app.store().engine(), "postgres");
    assert_eq!(city::dashboard(&app).await, before_dashboard);
    assert_eq!(city::all_cases(&app).await, before_cases);
    assert_eq!(app.store().record_count().await.unwrap(), before_records);
    // The rollups copied are the rollups a recount gives.
    app.rebuild_rollups().await.unwrap();
    assert_eq!(city::dashboard(&app).await, before_dashboard);
    // The retried key still answers the first case on the new engine.
    let retried = app
        .report_case(
            onegrid_app::cases::ReportInput {
                description: "垃圾清运不及时".to_owned(),
                lon: Some(112.75),
                lat: Some(37.65),
                grid: None,
                address: None,
                channel: onegrid_domain::case::Channel::Open311,
                category: None,
                urgency: None,
                reporter: Default::default(),
                attachments: vec![],
            },
            &city::actor("resident"),
            Some("key-1"),
        )
        .await
        .unwrap();
    assert!(retried.1);

    let verify = city::onegrid()
        .args(["--database", &database.url, "audit", "verify"])
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    let verified: serde_json::Value = serde_json::from_slice(&verify.stdout).unwrap();
    assert_eq!(verified["intact"], true);
    assert_eq!(verified["records"], before_records);

    // The same city again onto the filled target: refused, nothing added.
    let file = data.join(onegrid_store::sqlite_file_name());
    let again = city::onegrid()
        .args(["copy", "--from"])
        .arg(&file)
        .args(["--to", &database.url])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success());
    assert!(
        stderr.contains("not empty") && stderr.contains("table regions"),
        "{stderr}"
    );
    assert_eq!(app.store().record_count().await.unwrap(), before_records);
}

#[tokio::test]
async fn a_copy_from_its_store_file_into_a_new_database_works_too() {
    let Some(database) = PgDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let before = {
        let app = city::sqlite_city(&data).await;
        city::report(
            &app,
            onegrid_domain::case::Channel::Resident,
            "路面破损",
            112.75,
            37.65,
        )
        .await;
        city::dashboard(&app).await
    };
    let out = city::onegrid()
        .args(["copy", "--from"])
        .arg(data.join(onegrid_store::sqlite_file_name()))
        .args(["--to", &database.url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let app = city::app_at(&Location::Postgres(database.url.clone())).await;
    assert_eq!(city::dashboard(&app).await, before);
}

#[test]
fn bad_arguments_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = city::onegrid()
        .args(["copy", "--from"])
        .arg(dir.path())
        .args(["--to", "/srv/onegrid"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--to: expected a postgres:// URL"),
        "{stderr}"
    );

    let out = city::onegrid()
        .args(["copy", "--from"])
        .arg(dir.path().join("missing"))
        .args(["--to", "postgres://127.0.0.1:1/none"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--from") && stderr.contains("missing"),
        "{stderr}"
    );
}
