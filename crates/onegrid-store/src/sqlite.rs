//! The embedded SQLite engine: WAL, durable commits, and one writer task that group-commits.
//!
//! SQLite admits one writer at a time. Rather than let request tasks queue on the file lock,
//! every write is a job sent to one task that owns the write connection; the task takes every
//! job waiting at that moment, runs each inside its own savepoint of one transaction, commits
//! once (one fsync for the whole group under `synchronous=FULL`) and only then answers each
//! caller. An acknowledged write is therefore durable, and a failing job rolls back its
//! savepoint without spoiling the others in its group. Reads go to a pool of connections that
//! WAL lets run beside the writer.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use onegrid_domain::{Level, Region, RegionCode};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Connection, Row};
use tokio::sync::{mpsc, oneshot};

use crate::Breakdown;
use crate::sqlite_access;
use crate::sqlite_cases;
use crate::sqlite_writer_state::WriterState;
use crate::{Account, AccountChange, ApiToken, CaseScope, NewAccount, Session};
use crate::{
    AreaRecord, Attachment, CaseFilter, CasePage, CreateOutcome, DivisionChange, DivisionSummary,
    IdempotencyClaim, NewRecord, NewUser, Record, RegionUpsert, Store, StoreError, StoreResult,
    User, VerifyReport,
};
use onegrid_domain::case::Case;
use onegrid_domain::metrics::Counters;

/// The file name of the database inside the data directory.
pub const DATABASE_FILE: &str = "onegrid.sqlite3";

/// Fault injection for the crash harness only: with this variable set to `1`, the writer
/// answers its callers before it commits, and waits a little before committing, so that a
/// SIGKILL loses acknowledged writes. The harness runs with it once to prove that it would
/// notice such a loss. Never set it anywhere else.
pub const FAULT_ACK_BEFORE_COMMIT: &str = "ONEGRID_FAULT_ACK_BEFORE_COMMIT";

/// How many waiting writes one transaction may take.
const MAX_GROUP: usize = 512;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A write that runs inside the writer task's transaction and is answered after the commit.
trait WriteJob: Send {
    /// Runs the write; `false` when it failed and its savepoint must be rolled back.
    fn run<'c>(
        &'c mut self,
        conn: &'c mut SqliteConnection,
        state: &'c mut WriterState,
    ) -> BoxFuture<'c, bool>;
    /// Answers the caller once the group's fate is known.
    fn finish(self: Box<Self>, commit_error: Option<&str>);
    /// A buffered job writes nothing itself (its rows wait in the writer state), so it needs
    /// no savepoint; any other job writes directly and runs after the buffered rows are
    /// flushed, inside a savepoint of its own.
    fn buffered(&self) -> bool;
}

struct TypedJob<T, F> {
    buffered: bool,
    work: Option<F>,
    outcome: Option<StoreResult<T>>,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> WriteJob for TypedJob<T, F>
where
    T: Send + 'static,
    F: for<'c> FnOnce(
            &'c mut SqliteConnection,
            &'c mut WriterState,
        ) -> BoxFuture<'c, StoreResult<T>>
        + Send
        + 'static,
{
    fn run<'c>(
        &'c mut self,
        conn: &'c mut SqliteConnection,
        state: &'c mut WriterState,
    ) -> BoxFuture<'c, bool> {
        Box::pin(async move {
            let Some(work) = self.work.take() else {
                return false;
            };
            let outcome = work(conn, state).await;
            let ok = outcome.is_ok();
            self.outcome = Some(outcome);
            ok
        })
    }

    fn buffered(&self) -> bool {
        self.buffered
    }

    fn finish(self: Box<Self>, commit_error: Option<&str>) {
        let outcome = match (self.outcome, commit_error) {
            (Some(Err(error)), _) => Err(error),
            (Some(Ok(_)), Some(commit_error)) => Err(StoreError::Corrupt(format!(
                "the transaction could not be committed: {commit_error}"
            ))),
            (Some(Ok(value)), None) => Ok(value),
            (None, _) => Err(StoreError::Closed),
        };
        // The caller may have gone away (a dropped request); its answer is then not needed.
        let _ = self.reply.send(outcome);
    }
}

/// The SQLite engine.
pub struct SqliteStore {
    reads: SqlitePool,
    /// One connection that may write files outside the database (VACUUM INTO, for backups);
    /// it never writes to the database itself.
    reads_writable: SqlitePool,
    writes: mpsc::Sender<Box<dyn WriteJob>>,
}

impl SqliteStore {
    /// Opens (creating when missing) `DIR/onegrid.sqlite3` and runs the migrations.
    pub async fn open_dir(dir: &Path) -> StoreResult<SqliteStore> {
        std::fs::create_dir_all(dir).map_err(|error| {
            StoreError::Unsupported(format!(
                "cannot create data directory {}: {error}",
                dir.display()
            ))
        })?;
        SqliteStore::open_file(&dir.join(DATABASE_FILE)).await
    }

    pub async fn open_file(path: &Path) -> StoreResult<SqliteStore> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory");
        let mut writer = SqliteConnection::connect_with(&options).await?;
        sqlx::migrate!("migrations/sqlite").run(&mut writer).await?;
        // The writer never copies the write-ahead log back into the database itself: that
        // work (and its fsync) would stall every write waiting behind it. A second connection
        // checkpoints in the background instead, on the other core.
        sqlx::raw_sql("PRAGMA wal_autocheckpoint = 0")
            .execute(&mut writer)
            .await?;
        let checkpointer = SqliteConnection::connect_with(&options).await?;
        tokio::spawn(checkpoint_loop(checkpointer));
        let reads = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(options.clone().read_only(true))
            .await?;
        let reads_writable = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .connect_with(options.clone())
            .await?;
        let (sender, receiver) = mpsc::channel(4096);
        let fault = std::env::var(FAULT_ACK_BEFORE_COMMIT).is_ok_and(|v| v == "1");
        if fault {
            tracing::warn!(
                "{FAULT_ACK_BEFORE_COMMIT}=1: writes are acknowledged BEFORE they are committed; \
                 this exists only to prove the crash harness notices lost writes"
            );
        }
        // The writer runs on a thread of its own: each of its statements is a round trip to
        // SQLite's worker thread, and on the shared runtime every one of those wake-ups would
        // queue behind the HTTP work, so that the one writer — which every write waits for —
        // would spend most of its time waiting to be scheduled.
        std::thread::Builder::new()
            .name("onegrid-writer".to_owned())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(writer_loop(writer, receiver, fault)),
                    Err(error) => tracing::error!(%error, "cannot start the writer's runtime"),
                }
            })
            .map_err(|error| {
                StoreError::Unsupported(format!("cannot start the writer: {error}"))
            })?;
        Ok(SqliteStore {
            reads,
            reads_writable,
            writes: sender,
        })
    }

    /// Sends `work` to the writer task and waits until its group is committed.
    async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(
                &'c mut SqliteConnection,
                &'c mut WriterState,
            ) -> BoxFuture<'c, StoreResult<T>>
            + Send
            + 'static,
    {
        self.send_job(false, work).await
    }

    /// Like `write`, for work that only buffers rows in the writer state.
    async fn write_buffered<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(
                &'c mut SqliteConnection,
                &'c mut WriterState,
            ) -> BoxFuture<'c, StoreResult<T>>
            + Send
            + 'static,
    {
        self.send_job(true, work).await
    }

    async fn send_job<T, F>(&self, buffered: bool, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(
                &'c mut SqliteConnection,
                &'c mut WriterState,
            ) -> BoxFuture<'c, StoreResult<T>>
            + Send
            + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = TypedJob {
            buffered,
            work: Some(work),
            outcome: None,
            reply,
        };
        self.writes
            .send(Box::new(job))
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

/// How often the background connection copies the write-ahead log into the database.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(500);

async fn checkpoint_loop(mut conn: SqliteConnection) {
    let mut interval = tokio::time::interval(CHECKPOINT_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        // PASSIVE never waits for readers or the writer; what it cannot copy now it copies
        // next time. TRUNCATE-ing now and then keeps the log file from growing for good.
        if let Err(error) = sqlx::raw_sql("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut conn)
            .await
        {
            tracing::warn!(%error, "background WAL checkpoint failed");
        }
    }
}

async fn writer_loop(
    mut conn: SqliteConnection,
    mut jobs: mpsc::Receiver<Box<dyn WriteJob>>,
    ack_before_commit: bool,
) {
    let mut state = WriterState::default();
    while let Some(first) = jobs.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        if let Err(error) = sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut conn).await {
            let message = error.to_string();
            tracing::error!(%message, "cannot begin a write transaction");
            for job in group {
                job.finish(Some(&message));
            }
            continue;
        }
        let group_started = std::time::Instant::now();
        let mut broken = None;
        for job in group.iter_mut() {
            let buffered = job.buffered();
            if !buffered {
                // Direct writers see everything buffered before them.
                if state.has_pending()
                    && let Err(error) = state.flush(&mut conn).await
                {
                    broken = Some(error.to_string());
                    break;
                }
                if let Err(error) = sqlx::raw_sql("SAVEPOINT job").execute(&mut conn).await {
                    broken = Some(error.to_string());
                    break;
                }
            }
            state.begin_job();
            let ok = job.run(&mut conn, &mut state).await;
            if ok {
                state.keep_job();
            } else {
                state.undo_job();
            }
            if buffered {
                continue;
            }
            let end = if ok {
                sqlx::raw_sql("RELEASE job").execute(&mut conn).await
            } else {
                match sqlx::raw_sql("ROLLBACK TO job").execute(&mut conn).await {
                    Ok(_) => sqlx::raw_sql("RELEASE job").execute(&mut conn).await,
                    Err(error) => Err(error),
                }
            };
            if let Err(error) = end {
                broken = Some(error.to_string());
                break;
            }
        }
        let jobs_done = group_started.elapsed();
        if broken.is_none()
            && let Err(error) = state.flush(&mut conn).await
        {
            broken = Some(error.to_string());
        }
        let flushed = group_started.elapsed();
        if ack_before_commit && broken.is_none() {
            for job in group.drain(..) {
                job.finish(None);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let commit_error = match broken {
            Some(message) => Some(message),
            None => sqlx::raw_sql("COMMIT")
                .execute(&mut conn)
                .await
                .err()
                .map(|error| error.to_string()),
        };
        tracing::debug!(
            jobs = group.len(),
            jobs_us = jobs_done.as_micros() as u64,
            flush_us = (flushed - jobs_done).as_micros() as u64,
            commit_us = (group_started.elapsed() - flushed).as_micros() as u64,
            "write group"
        );
        if let Some(message) = &commit_error {
            tracing::error!(%message, "a write group failed and was rolled back");
            let _ = sqlx::raw_sql("ROLLBACK").execute(&mut conn).await;
            state.forget();
        }
        for job in group {
            job.finish(commit_error.as_deref());
        }
    }
    let _ = conn.close().await;
}

fn region_from_row(row: &SqliteRow) -> StoreResult<Region> {
    let code: String = row.try_get("code")?;
    let level: String = row.try_get("level")?;
    let level = Level::from_str(&level).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let code =
        RegionCode::parse_at(level, &code).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let parent = match row.try_get::<Option<String>, _>("parent_code")? {
        Some(text) => Some(parse_stored_code(&text)?),
        None => None,
    };
    let successor = match row.try_get::<Option<String>, _>("successor_code")? {
        Some(text) => Some(parse_stored_code(&text)?),
        None => None,
    };
    Ok(Region {
        code,
        name: row.try_get("name")?,
        parent,
        valid_from: row.try_get("valid_from")?,
        valid_to: row.try_get("valid_to")?,
        successor,
    })
}

fn parse_stored_code(text: &str) -> StoreResult<RegionCode> {
    RegionCode::parse(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn area_from_row(row: &SqliteRow) -> StoreResult<AreaRecord> {
    let code: String = row.try_get("code")?;
    let level: String = row.try_get("level")?;
    let level = Level::from_str(&level).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(AreaRecord {
        code: RegionCode::parse_at(level, &code).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        geometry: row.try_get("geometry")?,
        area_m2: row.try_get("area_m2")?,
        bbox: [
            row.try_get("min_lon")?,
            row.try_get("min_lat")?,
            row.try_get("max_lon")?,
            row.try_get("max_lat")?,
        ],
        source_crs: row.try_get("source_crs")?,
    })
}

fn user_from_row(row: &SqliteRow) -> StoreResult<User> {
    let roles: String = row.try_get("roles")?;
    Ok(User {
        id: row.try_get("id")?,
        login: row.try_get("login")?,
        display_name: row.try_get("display_name")?,
        roles: roles.split(',').map(str::to_owned).collect(),
        scope: row.try_get("scope_code")?,
        created_at: row.try_get("created_at")?,
    })
}

fn county_of(code: &RegionCode) -> Option<String> {
    code.county().map(|county| county.to_string())
}

/// Inserts or updates one region inside the writer's transaction; an existing row whose name or
/// parent differs is copied to `region_history` first. Returns what happened.
async fn upsert_region(
    conn: &mut SqliteConnection,
    region: &RegionUpsert,
    at: DateTime<Utc>,
) -> StoreResult<UpsertOutcome> {
    let existing =
        sqlx::query("SELECT name, parent_code, valid_from, valid_to FROM regions WHERE code = ?")
            .bind(region.code.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    let parent = region.parent.as_ref().map(RegionCode::to_string);
    let Some(existing) = existing else {
        sqlx::query(
            "INSERT INTO regions (code, level, name, parent_code, county_code, valid_from)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(region.code.as_str())
        .bind(region.code.level().as_str())
        .bind(&region.name)
        .bind(&parent)
        .bind(county_of(&region.code))
        .bind(at)
        .execute(&mut *conn)
        .await?;
        return Ok(UpsertOutcome::Added);
    };
    let old_name: String = existing.try_get("name")?;
    let old_parent: Option<String> = existing.try_get("parent_code")?;
    let old_from: DateTime<Utc> = existing.try_get("valid_from")?;
    let was_retired = existing
        .try_get::<Option<DateTime<Utc>>, _>("valid_to")?
        .is_some();
    if old_name == region.name && old_parent == parent && !was_retired {
        return Ok(UpsertOutcome::Unchanged);
    }
    sqlx::query(
        "INSERT INTO region_history (code, level, name, parent_code, valid_from, valid_to)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(region.code.as_str())
    .bind(region.code.level().as_str())
    .bind(&old_name)
    .bind(&old_parent)
    .bind(old_from)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE regions SET name = ?, parent_code = ?, valid_from = ?, valid_to = NULL,
                successor_code = NULL
         WHERE code = ?",
    )
    .bind(&region.name)
    .bind(&parent)
    .bind(at)
    .bind(region.code.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(UpsertOutcome::Changed)
}

enum UpsertOutcome {
    Added,
    Changed,
    Unchanged,
}

#[async_trait]
impl Store for SqliteStore {
    fn engine(&self) -> &'static str {
        "sqlite"
    }

    async fn regions(&self) -> StoreResult<Vec<Region>> {
        let rows = sqlx::query(
            "SELECT code, level, name, parent_code, valid_from, valid_to, successor_code
             FROM regions ORDER BY length(code), code",
        )
        .fetch_all(&self.reads)
        .await?;
        rows.iter().map(region_from_row).collect()
    }

    async fn region(&self, code: &RegionCode) -> StoreResult<Option<Region>> {
        let row = sqlx::query(
            "SELECT code, level, name, parent_code, valid_from, valid_to, successor_code
             FROM regions WHERE code = ?",
        )
        .bind(code.as_str())
        .fetch_optional(&self.reads)
        .await?;
        row.as_ref().map(region_from_row).transpose()
    }

    async fn region_children(&self, code: &RegionCode) -> StoreResult<Vec<Region>> {
        let rows = sqlx::query(
            "SELECT code, level, name, parent_code, valid_from, valid_to, successor_code
             FROM regions WHERE parent_code = ? AND valid_to IS NULL ORDER BY code",
        )
        .bind(code.as_str())
        .fetch_all(&self.reads)
        .await?;
        rows.iter().map(region_from_row).collect()
    }

    async fn region_history(&self, code: &RegionCode) -> StoreResult<Vec<Region>> {
        let rows = sqlx::query(
            "SELECT code, level, name, parent_code, valid_from, valid_to,
                    NULL AS successor_code
             FROM region_history WHERE code = ? ORDER BY id",
        )
        .bind(code.as_str())
        .fetch_all(&self.reads)
        .await?;
        rows.iter().map(region_from_row).collect()
    }

    async fn apply_divisions(&self, change: DivisionChange) -> StoreResult<DivisionSummary> {
        self.write(move |conn, _state| {
            Box::pin(async move {
                let at = change.at.unwrap_or_else(Utc::now);
                let mut summary = DivisionSummary::default();
                for region in &change.upserts {
                    match upsert_region(conn, region, at).await? {
                        UpsertOutcome::Added => summary.added += 1,
                        UpsertOutcome::Changed => summary.changed += 1,
                        UpsertOutcome::Unchanged => summary.unchanged += 1,
                    }
                }
                for retirement in &change.retirements {
                    let done = sqlx::query(
                        "UPDATE regions SET valid_to = ?, successor_code = ?
                         WHERE code = ? AND valid_to IS NULL",
                    )
                    .bind(at)
                    .bind(retirement.successor.as_ref().map(RegionCode::to_string))
                    .bind(retirement.code.as_str())
                    .execute(&mut *conn)
                    .await?;
                    summary.retired += usize::try_from(done.rows_affected()).unwrap_or(0);
                }
                Ok(summary)
            })
        })
        .await
    }

    async fn put_areas(
        &self,
        regions: Vec<RegionUpsert>,
        areas: Vec<AreaRecord>,
    ) -> StoreResult<()> {
        self.write(move |conn, _state| {
            Box::pin(async move {
                let at = Utc::now();
                for region in &regions {
                    upsert_region(conn, region, at).await?;
                }
                for area in &areas {
                    sqlx::query(
                        "INSERT INTO areas (code, level, county_code, geometry, area_m2,
                                            min_lon, min_lat, max_lon, max_lat, source_crs,
                                            imported_at)
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                         ON CONFLICT (code) DO UPDATE SET
                            geometry = excluded.geometry, area_m2 = excluded.area_m2,
                            min_lon = excluded.min_lon, min_lat = excluded.min_lat,
                            max_lon = excluded.max_lon, max_lat = excluded.max_lat,
                            source_crs = excluded.source_crs, imported_at = excluded.imported_at",
                    )
                    .bind(area.code.as_str())
                    .bind(area.code.level().as_str())
                    .bind(county_of(&area.code))
                    .bind(&area.geometry)
                    .bind(area.area_m2)
                    .bind(area.bbox[0])
                    .bind(area.bbox[1])
                    .bind(area.bbox[2])
                    .bind(area.bbox[3])
                    .bind(&area.source_crs)
                    .bind(at)
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(())
            })
        })
        .await
    }

    async fn areas(&self, level: Level) -> StoreResult<Vec<AreaRecord>> {
        let rows = sqlx::query(
            "SELECT code, level, geometry, area_m2, min_lon, min_lat, max_lon, max_lat, source_crs
             FROM areas WHERE level = ? ORDER BY code",
        )
        .bind(level.as_str())
        .fetch_all(&self.reads)
        .await?;
        rows.iter().map(area_from_row).collect()
    }

    async fn area(&self, code: &RegionCode) -> StoreResult<Option<AreaRecord>> {
        let row = sqlx::query(
            "SELECT code, level, geometry, area_m2, min_lon, min_lat, max_lon, max_lat, source_crs
             FROM areas WHERE code = ?",
        )
        .bind(code.as_str())
        .fetch_optional(&self.reads)
        .await?;
        row.as_ref().map(area_from_row).transpose()
    }

    async fn child_areas(&self, code: &RegionCode) -> StoreResult<Vec<AreaRecord>> {
        let rows = sqlx::query(
            "SELECT a.code, a.level, a.geometry, a.area_m2, a.min_lon, a.min_lat, a.max_lon,
                    a.max_lat, a.source_crs
             FROM areas a JOIN regions r ON r.code = a.code
             WHERE r.parent_code = ? AND r.valid_to IS NULL ORDER BY a.code",
        )
        .bind(code.as_str())
        .fetch_all(&self.reads)
        .await?;
        rows.iter().map(area_from_row).collect()
    }

    async fn put_users(&self, users: Vec<NewUser>) -> StoreResult<usize> {
        self.write(move |conn, _state| {
            Box::pin(async move {
                let at = Utc::now();
                let mut added = 0;
                for user in &users {
                    let id = uuid::Uuid::now_v7().to_string();
                    let done = sqlx::query(
                        "INSERT INTO users (id, login, display_name, roles, scope_code,
                                            county_code, created_at)
                         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (login) DO NOTHING",
                    )
                    .bind(&id)
                    .bind(&user.login)
                    .bind(&user.display_name)
                    .bind(user.roles.join(","))
                    .bind(user.scope.as_str())
                    .bind(county_of(&user.scope))
                    .bind(at)
                    .execute(&mut *conn)
                    .await?;
                    if done.rows_affected() == 0 {
                        continue;
                    }
                    added += 1;
                    for role in &user.roles {
                        sqlx::query(
                            "INSERT INTO assignments (user_id, role, scope, granted_at)
                             VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        )
                        .bind(&id)
                        .bind(role)
                        .bind(user.scope.as_str())
                        .bind(at)
                        .execute(&mut *conn)
                        .await?;
                    }
                }
                Ok(added)
            })
        })
        .await
    }

    async fn users_in(&self, scope: &RegionCode, limit: u32) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(
            "SELECT id, login, display_name, roles, scope_code, created_at FROM users
             WHERE scope_code = ? OR scope_code LIKE ? ORDER BY login LIMIT ?",
        )
        .bind(scope.as_str())
        .bind(format!("{}%", scope_prefix(scope)))
        .bind(i64::from(limit))
        .fetch_all(&self.reads)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn user_count(&self) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&self.reads)
            .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn meta(&self, key: &str) -> StoreResult<Option<String>> {
        let value = sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.reads)
            .await?;
        Ok(value)
    }

    async fn set_meta(&self, key: &str, value: &str) -> StoreResult<()> {
        let key = key.to_owned();
        let value = value.to_owned();
        self.write(move |conn, _state| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO meta (key, value) VALUES (?, ?)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(&key)
                .bind(&value)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    async fn create_case(
        &self,
        case: Case,
        record: NewRecord,
        claim: Option<IdempotencyClaim>,
    ) -> StoreResult<CreateOutcome> {
        self.write_buffered(move |conn, state| {
            Box::pin(
                async move { sqlite_cases::create_case(conn, state, case, record, claim).await },
            )
        })
        .await
    }

    async fn update_case(
        &self,
        case: Case,
        expected_version: u32,
        record: NewRecord,
    ) -> StoreResult<()> {
        self.write(move |conn, _state| {
            Box::pin(async move {
                sqlite_cases::update_case(conn, _state, case, expected_version, record).await
            })
        })
        .await
    }

    async fn claim_jobs(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<crate::jobs::Job>> {
        let worker = worker.to_owned();
        self.write(move |conn, _state| {
            Box::pin(async move { sqlite_cases::claim_jobs(conn, &worker, now, limit).await })
        })
        .await
    }

    async fn finish_job(&self, finish: crate::jobs::JobFinish) -> StoreResult<bool> {
        self.write(move |conn, _state| {
            Box::pin(async move { sqlite_cases::finish_job(conn, &finish).await })
        })
        .await
    }

    async fn case(&self, id: &str) -> StoreResult<Option<Case>> {
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM cases WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.reads)
            .await?;
        body.as_deref()
            .map(sqlite_cases::case_from_body)
            .transpose()
    }

    async fn case_by_number(&self, number: &str) -> StoreResult<Option<Case>> {
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM cases WHERE number = ?")
            .bind(number)
            .fetch_optional(&self.reads)
            .await?;
        body.as_deref()
            .map(sqlite_cases::case_from_body)
            .transpose()
    }

    async fn case_records(&self, case_id: &str) -> StoreResult<Vec<Record>> {
        let rows = sqlx::query(
            "SELECT county_code, seq, id, case_id, act, actor, role, from_state, to_state, at,
                    note, attachments, details, prev_hash, hash
             FROM records WHERE case_id = ? ORDER BY county_code, seq",
        )
        .bind(case_id)
        .fetch_all(&self.reads)
        .await?;
        rows.iter().map(sqlite_cases::record_from_row).collect()
    }

    async fn list_cases(
        &self,
        filter: &CaseFilter,
        cursor: Option<&str>,
        limit: u32,
    ) -> StoreResult<CasePage> {
        sqlite_cases::list(&self.reads, filter, cursor, limit).await
    }

    async fn cases_past_deadline(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Case>> {
        let bodies: Vec<String> = sqlx::query_scalar(
            "SELECT body FROM cases
             WHERE is_open = 1 AND stage_overdue = 0 AND state != 'suspended'
               AND stage_deadline IS NOT NULL AND stage_deadline < ?
             ORDER BY stage_deadline LIMIT ?",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.reads)
        .await?;
        bodies
            .iter()
            .map(|body| sqlite_cases::case_from_body(body))
            .collect()
    }

    async fn append_records(&self, records: Vec<NewRecord>) -> StoreResult<()> {
        self.write(move |conn, _state| {
            Box::pin(async move {
                for record in &records {
                    sqlite_cases::append_record(conn, _state, record).await?;
                }
                Ok(())
            })
        })
        .await
    }

    async fn security_events(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        actor: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Record>> {
        sqlite_access::security_events(&self.reads, from, to, actor, limit).await
    }

    async fn case_in_scope(&self, id: &str, scope: &CaseScope) -> StoreResult<Option<Case>> {
        sqlite_access::case_in_scope(&self.reads, id, scope).await
    }

    async fn case_by_tracking(&self, tracking_hash: &str) -> StoreResult<Option<Case>> {
        sqlite_access::case_by_tracking(&self.reads, tracking_hash).await
    }

    async fn create_account(&self, account: NewAccount, event: NewRecord) -> StoreResult<Account> {
        self.write(move |conn, state| {
            Box::pin(
                async move { sqlite_access::create_account(conn, state, account, event).await },
            )
        })
        .await
    }

    async fn account(&self, id: &str) -> StoreResult<Option<Account>> {
        sqlite_access::account(&self.reads, "id", id).await
    }

    async fn account_by_login(&self, login: &str) -> StoreResult<Option<Account>> {
        sqlite_access::account(&self.reads, "login", login).await
    }

    async fn accounts(&self, limit: u32) -> StoreResult<Vec<Account>> {
        sqlite_access::accounts(&self.reads, limit).await
    }

    async fn change_account(
        &self,
        user_id: &str,
        change: AccountChange,
        event: Option<NewRecord>,
    ) -> StoreResult<()> {
        let user_id = user_id.to_owned();
        self.write(move |conn, state| {
            Box::pin(async move {
                sqlite_access::change_account(conn, state, &user_id, change, event).await
            })
        })
        .await
    }

    async fn put_session(&self, session: Session, event: Option<NewRecord>) -> StoreResult<()> {
        self.write(move |conn, state| {
            Box::pin(async move { sqlite_access::put_session(conn, state, session, event).await })
        })
        .await
    }

    async fn session(&self, id_hash: &str) -> StoreResult<Option<Session>> {
        sqlite_access::session(&self.reads, id_hash).await
    }

    async fn put_token(&self, token: ApiToken, event: Option<NewRecord>) -> StoreResult<()> {
        self.write(move |conn, state| {
            Box::pin(async move { sqlite_access::put_token(conn, state, token, event).await })
        })
        .await
    }

    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<ApiToken>> {
        Ok(sqlite_access::tokens(&self.reads, "hash", hash)
            .await?
            .into_iter()
            .next())
    }

    async fn token(&self, id: &str) -> StoreResult<Option<ApiToken>> {
        Ok(sqlite_access::tokens(&self.reads, "id", id)
            .await?
            .into_iter()
            .next())
    }

    async fn tokens_of(&self, user_id: &str) -> StoreResult<Vec<ApiToken>> {
        sqlite_access::tokens(&self.reads, "user_id", user_id).await
    }

    async fn write_checkpoint(&self, at: DateTime<Utc>) -> StoreResult<bool> {
        self.write(move |conn, _state| {
            Box::pin(async move { sqlite_cases::write_checkpoint(conn, _state, at).await })
        })
        .await
    }

    async fn verify_records(&self) -> StoreResult<VerifyReport> {
        sqlite_cases::verify(&self.reads).await
    }

    async fn record_count(&self) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM records")
            .fetch_one(&self.reads)
            .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn put_attachment(&self, content_type: &str, bytes: Vec<u8>) -> StoreResult<String> {
        let hash = crate::audit::sha256_hex(&bytes);
        let content_type = content_type.to_owned();
        let key = hash.clone();
        self.write(move |conn, _state| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO attachments (hash, content_type, size, bytes, created_at)
                     VALUES (?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING",
                )
                .bind(&key)
                .bind(&content_type)
                .bind(bytes.len() as i64)
                .bind(&bytes)
                .bind(Utc::now())
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await?;
        Ok(hash)
    }

    async fn rollup_sums(
        &self,
        areas: &[String],
        category: &str,
        channel: &str,
        from_day: &str,
        to_day: &str,
    ) -> StoreResult<Vec<(String, Counters)>> {
        sqlite_cases::rollup_sums(&self.reads, areas, category, channel, from_day, to_day).await
    }

    async fn rollup_breakdown(
        &self,
        areas: &[String],
        by: Breakdown,
        from_day: &str,
        to_day: &str,
    ) -> StoreResult<Vec<(String, Counters)>> {
        sqlite_cases::rollup_breakdown(&self.reads, areas, by, from_day, to_day).await
    }

    async fn rollup_mix(
        &self,
        areas: &[String],
        by: Breakdown,
        from_day: &str,
        to_day: &str,
    ) -> StoreResult<Vec<(String, i64)>> {
        sqlite_cases::rollup_mix(&self.reads, areas, by, from_day, to_day).await
    }

    async fn backup_to(&self, path: &Path) -> StoreResult<()> {
        if path.exists() {
            return Err(StoreError::Unsupported(format!(
                "{} exists already; a backup never overwrites a file",
                path.display()
            )));
        }
        let target = path.to_string_lossy().into_owned();
        // VACUUM INTO reads one snapshot: the copy is consistent while writes go on.
        sqlx::query("VACUUM INTO ?")
            .bind(target)
            .execute(&self.reads_writable)
            .await?;
        Ok(())
    }

    async fn rebuild_rollups(&self) -> StoreResult<u64> {
        self.write(|conn, state| {
            Box::pin(async move { sqlite_cases::rebuild_rollups(conn, state).await })
        })
        .await
    }

    async fn attachment(&self, hash: &str) -> StoreResult<Option<Attachment>> {
        let row = sqlx::query("SELECT hash, content_type, bytes FROM attachments WHERE hash = ?")
            .bind(hash)
            .fetch_optional(&self.reads)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Attachment {
            hash: row.try_get("hash")?,
            content_type: row.try_get("content_type")?,
            bytes: row.try_get("bytes")?,
        }))
    }

    async fn chain_positions(&self) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT county_code, seq FROM chain_heads ORDER BY county_code")
            .fetch_all(&self.reads)
            .await?;
        let mut positions = Vec::with_capacity(rows.len());
        for row in &rows {
            positions.push((row.try_get("county_code")?, row.try_get("seq")?));
        }
        Ok(positions)
    }
}

/// The digits that every code inside `scope` starts with.
fn scope_prefix(scope: &RegionCode) -> String {
    let code = scope.as_str();
    let keep = match scope.level() {
        Level::Province => 2,
        Level::City => 4,
        _ => code.len(),
    };
    code[..keep].to_owned()
}
