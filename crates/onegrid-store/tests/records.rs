//! The full-process record against tampering: every change made behind the application's
//! back — editing the database file directly — is found, and the first bad record is named.

mod support;

use chrono::Utc;
use onegrid_store::{Location, NewRecord, SqliteStore, Store};
use sqlx::{Connection, Row, SqliteConnection};

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
    seed(&*store).await;
    let path = dir.path().join(onegrid_store::sqlite_file_name());
    (dir, path)
}

/// 10 records in each of two counties and a checkpoint after the first 12, verified.
async fn seed(store: &dyn Store) {
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

// ---- PostgreSQL: the same tampering, through a raw connection ---------------------------

/// A PostgreSQL database seeded like the SQLite file; `None` when explicitly skipped.
async fn seeded_postgres() -> Option<support::PgDatabase> {
    let database = support::PgDatabase::create().await?;
    let store = onegrid_store::open(&Location::Postgres(database.url.clone()))
        .await
        .unwrap();
    seed(&*store).await;
    Some(database)
}

async fn first_problem_postgres(database: &support::PgDatabase) -> String {
    let store = onegrid_store::open(&Location::Postgres(database.url.clone()))
        .await
        .unwrap();
    store
        .verify_records()
        .await
        .unwrap()
        .first_problem
        .expect("the tampering is found")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_changed_record_is_named() {
    let Some(database) = seeded_postgres().await else {
        return;
    };
    database
        .execute("UPDATE records SET note = '改过' WHERE county_code = '140703' AND seq = 4")
        .await;
    let problem = first_problem_postgres(&database).await;
    assert!(problem.starts_with("record 140703#4"), "{problem}");
    assert!(problem.contains("changed"), "{problem}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_deleted_record_is_named() {
    let Some(database) = seeded_postgres().await else {
        return;
    };
    database
        .execute("DELETE FROM records WHERE county_code = '140702' AND seq = 3")
        .await;
    let problem = first_problem_postgres(&database).await;
    assert!(problem.starts_with("record 140702#4"), "{problem}");
    assert!(problem.contains("deleted or inserted"), "{problem}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cutting_the_tail_behind_a_checkpoint_is_noticed() {
    let Some(database) = seeded_postgres().await else {
        return;
    };
    database
        .execute(
            "DELETE FROM records WHERE county_code = '140702' AND seq > 4;
             UPDATE chain_heads SET seq = 4, hash = (SELECT hash FROM records
                 WHERE county_code = '140702' AND seq = 4)
             WHERE county_code = '140702';",
        )
        .await;
    let problem = first_problem_postgres(&database).await;
    assert!(problem.starts_with("checkpoint #1"), "{problem}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_rewritten_checkpoint_is_named() {
    let Some(database) = seeded_postgres().await else {
        return;
    };
    database
        .execute("UPDATE checkpoints SET at = '2000-01-01T00:00:00.000000Z'")
        .await;
    assert!(
        first_problem_postgres(&database)
            .await
            .starts_with("checkpoint #1")
    );
}

// ---- one record, two engines --------------------------------------------------------------

/// The stored text of every hashed table, engine-neutral.
#[derive(Debug, Default, PartialEq)]
struct Dump {
    records: Vec<Vec<Option<String>>>,
    heads: Vec<(String, i64, String)>,
    checkpoints: Vec<(i64, String, String, String, String)>,
}

const RECORD_TEXT: [&str; 13] = [
    "county_code",
    "id",
    "case_id",
    "act",
    "actor",
    "role",
    "from_state",
    "to_state",
    "at",
    "note",
    "attachments",
    "details",
    "prev_hash",
];

fn record_columns() -> String {
    format!("seq, {}, hash", RECORD_TEXT.join(", "))
}

macro_rules! dump_from {
    ($conn:expr) => {{
        let conn = $conn;
        let mut dump = Dump::default();
        let sql = format!(
            "SELECT {} FROM records ORDER BY county_code, seq",
            record_columns()
        );
        for row in sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *conn)
            .await
            .unwrap()
        {
            let mut fields = vec![Some(row.get::<i64, _>("seq").to_string())];
            for name in RECORD_TEXT.iter().chain(["hash"].iter()) {
                fields.push(row.get::<Option<String>, _>(*name));
            }
            dump.records.push(fields);
        }
        for row in
            sqlx::query("SELECT county_code, seq, hash FROM chain_heads ORDER BY county_code")
                .fetch_all(&mut *conn)
                .await
                .unwrap()
        {
            dump.heads
                .push((row.get("county_code"), row.get("seq"), row.get("hash")));
        }
        for row in
            sqlx::query("SELECT seq, at, heads, prev_hash, hash FROM checkpoints ORDER BY seq")
                .fetch_all(&mut *conn)
                .await
                .unwrap()
        {
            dump.checkpoints.push((
                row.get("seq"),
                row.get("at"),
                row.get("heads"),
                row.get("prev_hash"),
                row.get("hash"),
            ));
        }
        dump
    }};
}

/// Writes `dump` into an empty store's tables; `$n` or `?` placeholders as the engine wants.
macro_rules! load_into {
    ($conn:expr, $dump:expr, $mark:expr) => {{
        let conn = $conn;
        let dump: &Dump = $dump;
        let mark = |n: usize| -> String {
            if $mark == "$" {
                format!("${n}")
            } else {
                "?".to_owned()
            }
        };
        let marks = |count: usize| (1..=count).map(mark).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "INSERT INTO records ({}) VALUES ({})",
            record_columns(),
            marks(15)
        );
        for fields in &dump.records {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(fields[0].as_deref().unwrap().parse::<i64>().unwrap());
            for field in &fields[1..] {
                query = query.bind(field.clone());
            }
            query.execute(&mut *conn).await.unwrap();
        }
        let sql = format!(
            "INSERT INTO chain_heads (county_code, seq, hash) VALUES ({})",
            marks(3)
        );
        for (county, seq, hash) in &dump.heads {
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(county)
                .bind(seq)
                .bind(hash)
                .execute(&mut *conn)
                .await
                .unwrap();
        }
        let sql = format!(
            "INSERT INTO checkpoints (seq, at, heads, prev_hash, hash) VALUES ({})",
            marks(5)
        );
        for (seq, at, heads, prev_hash, hash) in &dump.checkpoints {
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(seq)
                .bind(at)
                .bind(heads)
                .bind(prev_hash)
                .bind(hash)
                .execute(&mut *conn)
                .await
                .unwrap();
        }
    }};
}

/// Records written by either engine, copied byte for byte into the other, verify there: both
/// hash the same text and store it unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_verify_alike_on_both_engines() {
    let Some(from_postgres) = seeded_postgres().await else {
        return;
    };
    let (_dir, sqlite_path) = seeded().await;
    let sqlite_url = format!("sqlite://{}", sqlite_path.display());

    // SQLite → PostgreSQL.
    let mut sqlite = SqliteConnection::connect(&sqlite_url).await.unwrap();
    let sqlite_dump = dump_from!(&mut sqlite);
    let _ = sqlite.close().await;
    let into_postgres = support::PgDatabase::create().await.unwrap();
    let store = onegrid_store::open(&Location::Postgres(into_postgres.url.clone()))
        .await
        .unwrap();
    let mut pg = into_postgres.connect().await;
    load_into!(&mut pg, &sqlite_dump, "$");
    assert_eq!(dump_from!(&mut pg), sqlite_dump);
    let report = store.verify_records().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(
        (report.records, report.chains, report.checkpoints),
        (20, 2, 1)
    );
    let _ = pg.close().await;

    // PostgreSQL → SQLite.
    let mut pg = from_postgres.connect().await;
    let postgres_dump = dump_from!(&mut pg);
    let _ = pg.close().await;
    let dir = tempfile::tempdir().unwrap();
    let store = onegrid_store::open(&Location::Directory(dir.path().to_owned()))
        .await
        .unwrap();
    let path = dir.path().join(onegrid_store::sqlite_file_name());
    let mut sqlite = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    load_into!(&mut sqlite, &postgres_dump, "?");
    assert_eq!(dump_from!(&mut sqlite), postgres_dump);
    let _ = sqlite.close().await;
    let report = store.verify_records().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(
        (report.records, report.chains, report.checkpoints),
        (20, 2, 1)
    );
}
