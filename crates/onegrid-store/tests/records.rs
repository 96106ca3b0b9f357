//! The full-process record against tampering: every change made behind the application's
//! back — editing the database file directly — is found, and the first bad record is named.

use chrono::Utc;
use onegrid_store::{Location, NewRecord, SqliteStore, Store};
use sqlx::{Connection, SqliteConnection};

fn record(county: &str, n: usize) -> NewRecord {
    NewRecord {
        county: county.to_owned(),
        case_id: Some(format!("case-{n}")),
        act: "accept".to_owned(),
        actor: "张三".to_owned(),
        role: "centre_intake".to_owned(),
        from_state: Some("reported".to_owned()),
        to_state: Some("accepted".to_owned()),
        at: Utc::now(),
        note: format!("第{n}条"),
        attachments: vec![],
        details: serde_json::json!({"n": n}),
    }
}

/// A store with 10 records in each of two counties and a checkpoint after the first 12.
async fn seeded() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = onegrid_store::open(&Location::Directory(dir.path().to_owned()))
        .await
        .unwrap();
    let mut batch = Vec::new();
    for n in 0..6 {
        batch.push(record("140702", n));
        batch.push(record("140703", n));
    }
    store.append_records(batch).await.unwrap();
    assert!(store.write_checkpoint(Utc::now()).await.unwrap());
    assert!(
        !store.write_checkpoint(Utc::now()).await.unwrap(),
        "heads did not move"
    );
    let mut more = Vec::new();
    for n in 6..10 {
        more.push(record("140702", n));
        more.push(record("140703", n));
    }
    store.append_records(more).await.unwrap();
    let report = store.verify_records().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(
        (report.records, report.chains, report.checkpoints),
        (20, 2, 1)
    );
    let path = dir.path().join(onegrid_store::sqlite_file_name());
    (dir, path)
}

async fn tamper(path: &std::path::Path, sql: &str) {
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

async fn first_problem(path: &std::path::Path) -> String {
    let store = SqliteStore::open_file(path).await.unwrap();
    store
        .verify_records()
        .await
        .unwrap()
        .first_problem
        .expect("the tampering is found")
}

#[tokio::test]
async fn a_changed_record_is_named() {
    let (_dir, path) = seeded().await;
    tamper(
        &path,
        "UPDATE records SET note = '改过' WHERE county_code = '140703' AND seq = 4",
    )
    .await;
    let problem = first_problem(&path).await;
    assert!(problem.starts_with("record 140703#4"), "{problem}");
    assert!(problem.contains("changed"), "{problem}");
}

#[tokio::test]
async fn a_changed_actor_or_time_is_named() {
    let (_dir, path) = seeded().await;
    tamper(&path, "UPDATE records SET at = '2020-01-01T00:00:00.000000Z' WHERE county_code = '140702' AND seq = 7").await;
    assert!(first_problem(&path).await.starts_with("record 140702#7"));
}

#[tokio::test]
async fn a_deleted_record_is_named() {
    let (_dir, path) = seeded().await;
    tamper(
        &path,
        "DELETE FROM records WHERE county_code = '140702' AND seq = 3",
    )
    .await;
    let problem = first_problem(&path).await;
    assert!(problem.starts_with("record 140702#4"), "{problem}");
    assert!(problem.contains("deleted or inserted"), "{problem}");
}

#[tokio::test]
async fn an_inserted_record_is_named() {
    let (_dir, path) = seeded().await;
    // Shift the tail up by one and slip a copy of record 5 in at 6, rehashed or not.
    tamper(
        &path,
        "UPDATE records SET seq = seq + 100 WHERE county_code = '140702' AND seq >= 6;
         UPDATE records SET seq = seq - 99 WHERE county_code = '140702' AND seq >= 106;
         INSERT INTO records SELECT county_code, 6, id || 'x', case_id, act, actor, role,
             from_state, to_state, at, note, attachments, details, prev_hash, hash
         FROM records WHERE county_code = '140702' AND seq = 5;",
    )
    .await;
    let problem = first_problem(&path).await;
    assert!(problem.starts_with("record 140702#6"), "{problem}");
}

#[tokio::test]
async fn reordered_records_are_named() {
    let (_dir, path) = seeded().await;
    tamper(
        &path,
        "UPDATE records SET seq = 100 WHERE county_code = '140703' AND seq = 2;
         UPDATE records SET seq = 2 WHERE county_code = '140703' AND seq = 3;
         UPDATE records SET seq = 3 WHERE county_code = '140703' AND seq = 100;",
    )
    .await;
    let problem = first_problem(&path).await;
    assert!(problem.starts_with("record 140703#2"), "{problem}");
}

#[tokio::test]
async fn cutting_the_tail_is_noticed_even_with_the_head_moved_back() {
    let (_dir, path) = seeded().await;
    tamper(
        &path,
        "DELETE FROM records WHERE county_code = '140702' AND seq > 8;",
    )
    .await;
    let problem = first_problem(&path).await;
    assert!(problem.contains("chain 140702"), "{problem}");
    // Moving the head back too is caught by the checkpoint only if the cut reaches behind it.
    let (_dir2, path2) = seeded().await;
    tamper(
        &path2,
        "DELETE FROM records WHERE county_code = '140702' AND seq > 4;
         UPDATE chain_heads SET seq = 4, hash = (SELECT hash FROM records WHERE county_code = '140702' AND seq = 4)
         WHERE county_code = '140702';",
    )
    .await;
    let problem = first_problem(&path2).await;
    assert!(problem.starts_with("checkpoint #1"), "{problem}");
}

#[tokio::test]
async fn a_rewritten_checkpoint_is_named() {
    let (_dir, path) = seeded().await;
    tamper(
        &path,
        "UPDATE checkpoints SET at = '2000-01-01T00:00:00.000000Z'",
    )
    .await;
    assert!(first_problem(&path).await.starts_with("checkpoint #1"));
}
