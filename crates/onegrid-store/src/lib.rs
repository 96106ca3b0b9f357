//! The `Store` trait and its engines: the only door through which onegrid reads and writes
//! lasting data.
//!
//! The trait is worded in the domain's language (regions, areas, users), never in SQL. The
//! engine is chosen once, by [`open`], from the configured location: a `postgres://` URL selects
//! PostgreSQL, anything else is a directory for the embedded SQLite file. No other code knows
//! which engine runs.

pub mod audit;
pub mod copy;
pub mod jobs;
mod postgres;
mod postgres_access;
mod sqlite;
mod sqlite_access;
mod sqlite_cases;
mod sqlite_writer_state;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use onegrid_domain::case::{Case, CaseState, Channel};
use onegrid_domain::metrics::Counters;
use onegrid_domain::taxonomy::Tier;
use onegrid_domain::{Level, Region, RegionCode};

pub use audit::{NewRecord, Record, VerifyReport};
pub use jobs::{Job, JobFinish, JobOutcome, Notice};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Why a store call failed. Callers off the request path add context with `anyhow`; the server
/// maps every variant but `Conflict` to a 500 whose body says nothing internal.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("idempotency key reused with a different request")]
    KeyReused,
    #[error("the store is shutting down")]
    Closed,
    #[error("unsupported location: {0}")]
    Unsupported(String),
    /// The server refuses writes: a streaming replica (standby), or a read-only session.
    #[error("the database is read-only: {0}")]
    ReadOnly(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The SQLite file's name inside the data directory.
pub fn sqlite_file_name() -> &'static str {
    sqlite::DATABASE_FILE
}

/// Where the data lives, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A directory holding `onegrid.sqlite3` (created when missing).
    Directory(PathBuf),
    /// A `postgres://` URL.
    Postgres(String),
}

/// Opens the configured store and brings its schema up to date.
pub async fn open(location: &Location) -> StoreResult<Arc<dyn Store>> {
    open_with(location, &OpenOptions::default()).await
}

/// What else may be configured about a store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// A `postgres://` URL of a streaming replica of the store's database: the dashboard's
    /// and the reports' reads (the rollups) go there, everything else to the primary.
    pub replica_url: Option<String>,
}

/// Opens the configured store with its options and brings its schema up to date.
pub async fn open_with(location: &Location, options: &OpenOptions) -> StoreResult<Arc<dyn Store>> {
    match (location, &options.replica_url) {
        (Location::Directory(dir), None) => Ok(Arc::new(SqliteStore::open_dir(dir).await?)),
        (Location::Directory(_), Some(_)) => Err(StoreError::Unsupported(
            "a read replica (replica_url) needs the PostgreSQL store: give --database \
             postgres://… too, or drop the replica setting"
                .to_owned(),
        )),
        (Location::Postgres(url), replica) => Ok(Arc::new(
            PostgresStore::connect_with_replica(url, replica.as_deref()).await?,
        )),
    }
}

/// A region as written by an import: the store keeps history when a stored code's name or
/// parent changes.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionUpsert {
    pub code: RegionCode,
    pub name: String,
    pub parent: Option<RegionCode>,
}

/// One division import, applied in one transaction: every upsert, and every code that the new
/// data no longer lists retired (with its successor where one was found).
#[derive(Debug, Clone, Default)]
pub struct DivisionChange {
    pub upserts: Vec<RegionUpsert>,
    pub retirements: Vec<Retirement>,
    pub at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Retirement {
    pub code: RegionCode,
    pub successor: Option<RegionCode>,
}

/// What a division import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DivisionSummary {
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub retired: usize,
}

/// A stored polygon: GeoJSON geometry text in WGS-84, with the figures computed on import.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaRecord {
    pub code: RegionCode,
    /// GeoJSON `geometry` object as text, WGS-84.
    pub geometry: String,
    pub area_m2: f64,
    /// min lon, min lat, max lon, max lat.
    pub bbox: [f64; 4],
    /// The coordinate system the polygon arrived in (`wgs84`, `cgcs2000`, `gcj02`).
    pub source_crs: String,
}

/// A person's account as the demo city and the command line create it. Roles and scopes grow
/// into assignments in the access issue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    pub login: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub scope: RegionCode,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct User {
    pub id: String,
    pub login: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub scope: String,
    pub created_at: DateTime<Utc>,
}

/// A claim on an `Idempotency-Key` for a creating write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyClaim {
    pub key: String,
    /// SHA-256 of the request's canonical body: the same key with another body is refused.
    pub request_hash: String,
}

/// What `create_case` did.
#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome {
    /// A new case, with its number assigned.
    Created(Case),
    /// The key was seen before with the same request: the case as it was first answered.
    Replayed(Case),
}

/// How long an idempotency key is remembered.
pub const IDEMPOTENCY_DAYS: i64 = 30;

/// Filters of the case list; all given ones must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseFilter {
    /// The case lies in this region's subtree (or this grid).
    pub region: Option<RegionCode>,
    pub states: Vec<CaseState>,
    /// A 小类 code, or a 大类 code (2 digits) for all its 小类.
    pub category: Option<String>,
    pub tier: Option<Tier>,
    pub channel: Option<Channel>,
    pub unit: Option<String>,
    pub overdue: Option<bool>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// What the asker may see: `None` only for the system's own work (sweeps, reports run
    /// from the command line); every request on behalf of a person carries one.
    pub scope: Option<CaseScope>,
}

/// The cases a person may see, as the union of their assignments' scopes. Enforced in the
/// queries themselves, so that a case outside it is never read, only "not found".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseScope {
    /// Region subtrees (or single grids).
    pub regions: Vec<RegionCode>,
    /// Units the cases were dispatched to.
    pub units: Vec<String>,
    /// A resident's account: the cases they reported while signed in.
    pub reporter_account: Option<String>,
}

impl CaseScope {
    /// The SQL condition (with `?` marks) that holds for the cases inside the scope, and its
    /// values in order. An empty scope sees nothing.
    pub(crate) fn condition(&self) -> (String, Vec<String>) {
        let mut parts = Vec::new();
        let mut binds = Vec::new();
        for region in &self.regions {
            let code = region.as_str();
            let (part, value) = match region.level() {
                Level::Province => ("county_code LIKE ?", format!("{}%", &code[..2])),
                Level::City => ("county_code LIKE ?", format!("{}%", &code[..4])),
                Level::County => ("county_code = ?", code.to_owned()),
                Level::Township => ("township_code = ?", code.to_owned()),
                Level::Village => ("village_code = ?", code.to_owned()),
                Level::Grid => ("grid_code = ?", code.to_owned()),
            };
            parts.push(part.to_owned());
            binds.push(value);
        }
        for unit in &self.units {
            parts.push("unit = ?".to_owned());
            binds.push(unit.clone());
        }
        if let Some(account) = &self.reporter_account {
            parts.push(
                "id IN (SELECT case_id FROM case_access WHERE reporter_account = ?)".to_owned(),
            );
            binds.push(account.clone());
        }
        if parts.is_empty() {
            return ("1 = 0".to_owned(), binds);
        }
        (format!("({})", parts.join(" OR ")), binds)
    }
}

/// A person's account, with the assignments they hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: String,
    pub login: String,
    pub display_name: String,
    /// argon2id PHC string; `None` for accounts that only sign in with tokens.
    pub password_hash: Option<String>,
    /// The TOTP secret, sealed with the configured key.
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    pub failed_logins: u32,
    pub locked_until: Option<DateTime<Utc>>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub assignments: Vec<StoredAssignment>,
}

/// A role held in a scope, as stored (ids as in the outside contract).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct StoredAssignment {
    pub role: String,
    pub scope: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAccount {
    pub login: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub assignments: Vec<StoredAssignment>,
}

/// One change to an account, written with its security event in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum AccountChange {
    LoginState {
        failed_logins: u32,
        locked_until: Option<DateTime<Utc>>,
    },
    Password(String),
    Totp {
        secret: Option<String>,
        enabled: bool,
    },
    Assignments(Vec<StoredAssignment>),
    Disabled(bool),
}

/// A signed-in session. The cookie carries the token; the store keeps only its SHA-256.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id_hash: String,
    pub user_id: String,
    /// The token a page sends back with every form (CSRF).
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// A token another system authenticates with (`Authorization: Bearer`). Only its SHA-256 is
/// stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ApiToken {
    pub id: String,
    pub user_id: String,
    pub name: String,
    #[serde(skip)]
    pub hash: String,
    /// Narrows the owner's assignments to this region or unit; `None` keeps them all.
    pub scope: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Whether a case's reporter leaves anything to find the case by (an account, a tracking code,
/// a phone number's hash): such cases get a `case_access` row.
pub(crate) fn reporter_has_access(reporter: &onegrid_domain::case::Reporter) -> bool {
    reporter.account.is_some() || reporter.tracking_hash.is_some() || reporter.phone_hash.is_some()
}

/// The chain security events are appended to: they belong to no county.
pub const SECURITY_CHAIN: &str = audit::SYSTEM_CHAIN;

/// One page of cases, newest first, and the cursor of the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct CasePage {
    pub cases: Vec<Case>,
    pub next_cursor: Option<String>,
}

/// How `rollup_breakdown` splits an area's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdown {
    /// By 大类 code.
    Category,
    /// By channel.
    Channel,
    /// By day (Asia/Shanghai).
    Day,
}

/// A stored attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub hash: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// The storage operations of onegrid.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `sqlite` or `postgres`, for logs and health checks.
    fn engine(&self) -> &'static str;

    /// Every region ever stored, current and retired, parents before children.
    async fn regions(&self) -> StoreResult<Vec<Region>>;
    async fn region(&self, code: &RegionCode) -> StoreResult<Option<Region>>;
    /// Current regions whose parent is `code`, by code.
    async fn region_children(&self, code: &RegionCode) -> StoreResult<Vec<Region>>;
    /// Earlier versions of a region (name or parent changes), oldest first.
    async fn region_history(&self, code: &RegionCode) -> StoreResult<Vec<Region>>;
    async fn apply_divisions(&self, change: DivisionChange) -> StoreResult<DivisionSummary>;

    /// Writes regions and their polygons in one transaction: all of them or none.
    async fn put_areas(
        &self,
        regions: Vec<RegionUpsert>,
        areas: Vec<AreaRecord>,
    ) -> StoreResult<()>;
    /// Every stored polygon of one level, by code.
    async fn areas(&self, level: Level) -> StoreResult<Vec<AreaRecord>>;
    async fn area(&self, code: &RegionCode) -> StoreResult<Option<AreaRecord>>;
    /// The polygons of the current children of `code`, by code.
    async fn child_areas(&self, code: &RegionCode) -> StoreResult<Vec<AreaRecord>>;

    async fn put_users(&self, users: Vec<NewUser>) -> StoreResult<usize>;
    async fn users_in(&self, scope: &RegionCode, limit: u32) -> StoreResult<Vec<User>>;
    async fn user_count(&self) -> StoreResult<u64>;

    async fn meta(&self, key: &str) -> StoreResult<Option<String>>;
    async fn set_meta(&self, key: &str, value: &str) -> StoreResult<()>;

    /// Stores a new case and its first record in one transaction, assigning its number;
    /// with a claim, a key seen before within 30 days answers the first case instead
    /// (`Replayed`), or `StoreError::KeyReused` when the request differs.
    async fn create_case(
        &self,
        case: Case,
        record: NewRecord,
        claim: Option<IdempotencyClaim>,
    ) -> StoreResult<CreateOutcome>;
    /// Stores the case as an act left it, and the act's record, in one transaction — only
    /// when the stored version is still `expected_version` (else `StoreError::Conflict`).
    async fn update_case(
        &self,
        case: Case,
        expected_version: u32,
        record: NewRecord,
    ) -> StoreResult<()>;
    async fn case(&self, id: &str) -> StoreResult<Option<Case>>;
    async fn case_by_number(&self, number: &str) -> StoreResult<Option<Case>>;
    /// The case's records, oldest first.
    async fn case_records(&self, case_id: &str) -> StoreResult<Vec<Record>>;
    async fn list_cases(
        &self,
        filter: &CaseFilter,
        cursor: Option<&str>,
        limit: u32,
    ) -> StoreResult<CasePage>;
    /// Open, not suspended cases whose current stage's deadline has passed and that are not
    /// yet marked for it.
    async fn cases_past_deadline(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Case>>;
    /// Appends records that belong to no case change (security events).
    async fn append_records(&self, records: Vec<NewRecord>) -> StoreResult<()>;
    /// Security events (records of no case), newest first, in `[from, to)`.
    async fn security_events(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        actor: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Record>>;

    /// A case by id or number, only when it lies inside `scope`.
    async fn case_in_scope(&self, id: &str, scope: &CaseScope) -> StoreResult<Option<Case>>;
    /// The case a tracking code (its keyed hash) was given for.
    async fn case_by_tracking(&self, tracking_hash: &str) -> StoreResult<Option<Case>>;

    /// Creates an account with its assignments and its security event; `Conflict` when the
    /// login is taken.
    async fn create_account(&self, account: NewAccount, event: NewRecord) -> StoreResult<Account>;
    async fn account(&self, id: &str) -> StoreResult<Option<Account>>;
    async fn account_by_login(&self, login: &str) -> StoreResult<Option<Account>>;
    /// Accounts by login, at most `limit`.
    async fn accounts(&self, limit: u32) -> StoreResult<Vec<Account>>;
    /// Changes an account and appends its security event (when given) in one transaction.
    async fn change_account(
        &self,
        user_id: &str,
        change: AccountChange,
        event: Option<NewRecord>,
    ) -> StoreResult<()>;
    /// Writes a session (new, touched or ended) and its event, when given.
    async fn put_session(&self, session: Session, event: Option<NewRecord>) -> StoreResult<()>;
    async fn session(&self, id_hash: &str) -> StoreResult<Option<Session>>;
    /// Writes a token (new, used or revoked) and its event, when given.
    async fn put_token(&self, token: ApiToken, event: Option<NewRecord>) -> StoreResult<()>;
    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<ApiToken>>;
    async fn token(&self, id: &str) -> StoreResult<Option<ApiToken>>;
    async fn tokens_of(&self, user_id: &str) -> StoreResult<Vec<ApiToken>>;
    /// Chains the heads of all county chains into the checkpoint log, when they moved.
    async fn write_checkpoint(&self, at: DateTime<Utc>) -> StoreResult<bool>;
    /// Recomputes every chain and checkpoint; names the first broken one.
    async fn verify_records(&self) -> StoreResult<VerifyReport>;
    async fn record_count(&self) -> StoreResult<u64>;

    /// Stores content by its SHA-256 (hex); storing the same content again is a no-op.
    async fn put_attachment(&self, content_type: &str, bytes: Vec<u8>) -> StoreResult<String>;
    async fn attachment(&self, hash: &str) -> StoreResult<Option<Attachment>>;

    /// The rollups of each area summed over the days `[from_day, to_day)` (`YYYY-MM-DD`,
    /// Asia/Shanghai), for all cases (`category` and `channel` empty) or one 大类 or channel:
    /// one answer per area, in the order asked, zero where an area has no rows. Asked in one
    /// query (`area_code IN (…)`), not one per area.
    async fn rollup_sums(
        &self,
        areas: &[String],
        category: &str,
        channel: &str,
        from_day: &str,
        to_day: &str,
    ) -> StoreResult<Vec<(String, Counters)>> {
        let _ = (areas, category, channel, from_day, to_day);
        Err(StoreError::Unsupported(format!(
            "rollups are not built for the {} engine yet",
            self.engine()
        )))
    }
    /// The rollups of some areas over `[from_day, to_day)`, summed together, by 大类, channel
    /// or day, ordered by that key.
    async fn rollup_breakdown(
        &self,
        areas: &[String],
        by: Breakdown,
        from_day: &str,
        to_day: &str,
    ) -> StoreResult<Vec<(String, Counters)>> {
        let _ = (areas, by, from_day, to_day);
        Err(StoreError::Unsupported(format!(
            "rollups are not built for the {} engine yet",
            self.engine()
        )))
    }
    /// The cases reported in some areas over `[from_day, to_day)`, by 大类, channel or day,
    /// ordered by that key: `rollup_breakdown`'s `reported` alone, reading one column where
    /// that reads eighteen (a city's year of mixes is some 90,000 rows).
    async fn rollup_mix(
        &self,
        areas: &[String],
        by: Breakdown,
        from_day: &str,
        to_day: &str,
    ) -> StoreResult<Vec<(String, i64)>> {
        let _ = (areas, by, from_day, to_day);
        Err(StoreError::Unsupported(format!(
            "rollups are not built for the {} engine yet",
            self.engine()
        )))
    }
    /// Writes a consistent copy of the whole store to `path` (a new file), while it serves.
    async fn backup_to(&self, path: &std::path::Path) -> StoreResult<()> {
        let _ = path;
        Err(StoreError::Unsupported(format!(
            "backups of the {} engine are taken with its own tools (pg_dump)",
            self.engine()
        )))
    }
    /// Claims up to `limit` jobs due at `now` for `worker`, for `jobs::LEASE_SECONDS`: jobs
    /// pending, due, and not leased to another worker (or whose lease ran out). Jobs another
    /// worker is claiming at the same moment are skipped, not waited for.
    async fn claim_jobs(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        let _ = (worker, now, limit);
        Err(StoreError::Unsupported(format!(
            "jobs are not built for the {} engine",
            self.engine()
        )))
    }
    /// Ends a run of a claimed job in one transaction: the job's new state, its notice, and a
    /// row in `job_runs`. `false` (and no notice) when `worker` no longer holds the job.
    async fn finish_job(&self, finish: JobFinish) -> StoreResult<bool> {
        let _ = finish;
        Err(StoreError::Unsupported(format!(
            "jobs are not built for the {} engine",
            self.engine()
        )))
    }
    /// Periodic upkeep of the storage itself, called every minute by the sweep: on PostgreSQL,
    /// the partitions of every county for this month and the next (see
    /// `migrations/postgres/0006_partitions.sql`). Nothing to do on SQLite.
    async fn maintain(&self, now: DateTime<Utc>) -> StoreResult<()> {
        let _ = now;
        Ok(())
    }
    /// Recomputes every rollup from the cases; returns the cases counted.
    async fn rebuild_rollups(&self) -> StoreResult<u64> {
        Err(StoreError::Unsupported(format!(
            "rollups are not built for the {} engine yet",
            self.engine()
        )))
    }
    /// How far each county's record chain has grown: `(county code, last seq)`, by code. Every
    /// change of a case appends to its county's chain in the change's transaction, so a
    /// reader polling this cheap query sees the changes of any process writing the store.
    async fn chain_positions(&self) -> StoreResult<Vec<(String, i64)>>;
}
