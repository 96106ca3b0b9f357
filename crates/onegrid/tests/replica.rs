//! A real streaming replica: figures, rankings and reports are read there, everything else
//! on the primary; the replica refuses writes with an error that says what to do.
//!
//! How the test knows the read went to the replica: it pauses the replica's replay, writes
//! cases on the primary, and the figures still show the count from before the pause (the
//! primary already holds the new cases, and the case list, read there, shows them); once
//! replay resumes the figures catch up.
//!
//! Needs `ONEGRID_TEST_DATABASE_URL` and `ONEGRID_TEST_REPLICA_URL` (a standby of it), which
//! `scripts/test-postgres.sh` sets.

mod city;

use std::time::{Duration as StdDuration, Instant};

use city::support::{PgDatabase, SKIP_VAR, database_url};
use onegrid_app::App;
use onegrid_domain::case::Channel;
use onegrid_store::{Location, OpenOptions, StoreError};
use sqlx::{Connection, PgConnection};

const REPLICA_VAR: &str = "ONEGRID_TEST_REPLICA_URL";

/// The replica's admin URL, or `None` when the PostgreSQL stories are skipped on purpose.
fn replica_admin() -> Option<String> {
    if let Ok(url) = std::env::var(REPLICA_VAR)
        && !url.trim().is_empty()
    {
        return Some(url);
    }
    if std::env::var(SKIP_VAR).is_ok_and(|v| v == "1") {
        return None;
    }
    panic!(
        "{REPLICA_VAR} is not set: run `bash scripts/test-postgres.sh cargo test -p onegrid \
         --test replica`, which starts a primary and a streaming replica of it"
    );
}

/// Waits until `check` holds, up to 30 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + StdDuration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "after 30 s: {what}");
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

/// Cases reported in the city today, by its figures; an error while the replica has not yet
/// replayed the schema.
async fn try_reported(app: &App) -> onegrid_app::AppResult<i64> {
    let city = onegrid_domain::RegionCode::parse("140700").unwrap();
    let today = city::today();
    let period = onegrid_app::figures::Period::new(today, today).unwrap();
    let figures = app.region_figures(&city, period).await?;
    Ok(figures.figures.counters.reported)
}

async fn reported(app: &App) -> i64 {
    try_reported(app).await.unwrap()
}

/// Resumes the replica's replay when the story ends, also when it fails, so that no later
/// story finds the replica stopped.
struct Resume(String);

impl Drop for Resume {
    fn drop(&mut self) {
        let url = self.0.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&url).await {
                    let _ = sqlx::query("SELECT pg_wal_replay_resume()")
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_and_reports_read_the_replica_and_the_replica_refuses_writes() {
    let Some(database) = PgDatabase::create().await else {
        return;
    };
    let Some(replica_admin) = replica_admin() else {
        return;
    };
    let replica_url = database_url(&replica_admin, &database.name);
    // The new database reaches the standby with the write-ahead log.
    eventually("the database appears on the replica", || async {
        PgConnection::connect(&replica_url).await.is_ok()
    })
    .await;

    let primary_location = Location::Postgres(database.url.clone());
    let options = OpenOptions {
        replica_url: Some(replica_url.clone()),
    };
    let store = onegrid_store::open_with(&primary_location, &options)
        .await
        .unwrap();
    let app = App::load(store).await.unwrap();
    city::seed_regions(&app).await;
    let primary_only = city::app_at(&primary_location).await;
    for i in 0..3 {
        city::report(
            &app,
            Channel::Resident,
            &format!("噪音扰民{i}"),
            112.75,
            37.65,
        )
        .await;
    }
    eventually("the replica replays the first three cases", || async {
        matches!(try_reported(&app).await, Ok(3))
    })
    .await;

    // Replay paused: the replica stays where it is while the primary moves on.
    let mut replica = PgConnection::connect(&replica_url).await.unwrap();
    let _resume = Resume(replica_url.clone());
    sqlx::query("SELECT pg_wal_replay_pause()")
        .execute(&mut replica)
        .await
        .unwrap();
    eventually("replay is paused", || {
        let url = replica_url.clone();
        async move {
            let mut conn = PgConnection::connect(&url).await.unwrap();
            let state: String = sqlx::query_scalar("SELECT pg_get_wal_replay_pause_state()")
                .fetch_one(&mut conn)
                .await
                .unwrap();
            state == "paused"
        }
    })
    .await;
    for i in 3..5 {
        city::report(
            &app,
            Channel::Resident,
            &format!("噪音扰民{i}"),
            112.75,
            37.65,
        )
        .await;
    }
    assert_eq!(reported(&primary_only).await, 5, "the primary holds five");
    assert_eq!(reported(&app).await, 3, "the figures are the replica's");
    let city_code = onegrid_domain::RegionCode::parse("140700").unwrap();
    let today = city::today();
    let period = onegrid_app::figures::Period::new(today, today).unwrap();
    let report = app.report(&city_code, period).await.unwrap();
    assert_eq!(
        report.figures.counters.reported, 3,
        "the report is the replica's"
    );
    let listed = app.list_cases(&Default::default(), None, 50).await.unwrap();
    assert_eq!(
        listed.cases.len(),
        5,
        "the case list is read on the primary"
    );

    // The command line takes the replica from the environment (ONEGRID_REPLICA_URL).
    let day = today.to_string();
    let cli_report = |replica: Option<&str>| {
        let mut command = city::onegrid();
        command.args([
            "--database",
            &database.url,
            "report",
            "--region",
            "140700",
            "--from",
            &day,
            "--to",
            &day,
            "--format",
            "json",
        ]);
        if let Some(replica) = replica {
            command.env("ONEGRID_REPLICA_URL", replica);
        }
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report["figures"]["counters"]["reported"].as_i64().unwrap()
    };
    assert_eq!(cli_report(Some(&replica_url)), 3);
    assert_eq!(cli_report(None), 5);

    sqlx::query("SELECT pg_wal_replay_resume()")
        .execute(&mut replica)
        .await
        .unwrap();
    eventually("the replica catches up", || async {
        reported(&app).await == 5
    })
    .await;

    // Writes there are refused, and the error says what to do.
    let refused = onegrid_store::open(&Location::Postgres(replica_url.clone())).await;
    match refused {
        Err(StoreError::ReadOnly(message)) => {
            assert!(message.contains("standby"), "{message}");
        }
        Err(other) => panic!("expected a read-only error, got {other}"),
        Ok(_) => panic!("a store on the replica opened for writing"),
    }
    let out = city::onegrid()
        .args(["--database", &replica_url, "migrate"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("read-only") && stderr.contains("--replica-url"),
        "{stderr}"
    );
    // Even a session that tries: the replica's pool is read-only.
    let write = sqlx::query("INSERT INTO meta (key, value) VALUES ('x', 'y')")
        .execute(&mut replica)
        .await
        .unwrap_err();
    assert!(
        write.to_string().contains("read-only transaction"),
        "{write}"
    );
    let _ = replica.close().await;
}

#[tokio::test]
async fn a_replica_beside_the_sqlite_store_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let refused = onegrid_store::open_with(
        &Location::Directory(dir.path().to_owned()),
        &OpenOptions {
            replica_url: Some("postgres://127.0.0.1:1/x".to_owned()),
        },
    )
    .await;
    match refused {
        Err(StoreError::Unsupported(message)) => {
            assert!(message.contains("--database"), "{message}")
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("a SQLite store opened with a replica"),
    }
}
