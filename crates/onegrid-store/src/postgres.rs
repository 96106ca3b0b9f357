//! The PostgreSQL engine: a connection pool and ordinary transactions.
//!
//! PostgreSQL takes many writers at once, so unlike SQLite there is no writer task: every write
//! is one transaction on a pooled connection, and the locks that matter are taken by the
//! statements themselves. A case change and its record commit together; an append locks its
//! county's chain head (`SELECT … FOR UPDATE`), so appends to one county serialise while
//! other counties go on; the version check is part of the `UPDATE`'s `WHERE`; an idempotency
//! key is claimed by its primary key, so of two creates with one key the second waits for the
//! first and then answers the first's case.
//!
//! Hashing is `audit.rs`'s, over exactly the text stored: a record verifies alike on both
//! engines. The schema lives in `migrations/postgres/`, embedded.

use std::str::FromStr;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc};
use futures_util::TryStreamExt;
use onegrid_domain::case::Case;
use onegrid_domain::metrics::Counters;
use onegrid_domain::{Level, Region, RegionCode};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Row};

use crate::audit::{GENESIS, NewRecord, Record, VerifyReport, checkpoint_hash, time_text};
use crate::jobs::{Job, JobFinish, JobOutcome};
use crate::postgres_access;
use crate::{Account, AccountChange, ApiToken, CaseScope, NewAccount, Session};
use crate::{
    AreaRecord, Attachment, CaseFilter, CasePage, CreateOutcome, DivisionChange, DivisionSummary,
    IDEMPOTENCY_DAYS, IdempotencyClaim, NewUser, RegionUpsert, Store, StoreError, StoreResult,
    User,
};

/// How many connections the pool keeps at most.
const MAX_CONNECTIONS: u32 = 16;

/// How often a create whose idempotency key was claimed meanwhile is tried again.
const CLAIM_ATTEMPTS: usize = 3;

/// The PostgreSQL engine.
pub struct PostgresStore {
    pool: PgPool,
    /// Where the dashboard's and the reports' reads go: a streaming replica's pool when one is
    /// configured, else the primary's pool itself.
    reads: PgPool,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://…`) and brings the schema up to date.
    pub async fn connect(url: &str) -> StoreResult<PostgresStore> {
        PostgresStore::connect_with_replica(url, None).await
    }

    /// Connects to the primary at `url` and brings its schema up to date; with `replica`, the
    /// rollup reads (figures, rankings, reports) go to that streaming replica.
    pub async fn connect_with_replica(
        url: &str,
        replica: Option<&str>,
    ) -> StoreResult<PostgresStore> {
        let options = PgConnectOptions::from_str(url)?.application_name("onegrid");
        // One plain connection first: a wrong URL or a server that is down fails at once (the
        // pool would retry until its acquire timeout), and the migrations run on it.
        let mut first = PgConnection::connect_with(&options).await?;
        if in_recovery(&mut first).await? {
            return Err(StoreError::ReadOnly(
                "--database names a standby (a streaming replica, in recovery), which refuses \
                 every write; point --database at the primary, and give the replica as \
                 --replica-url"
                    .to_owned(),
            ));
        }
        sqlx::migrate!("migrations/postgres")
            .run(&mut first)
            .await?;
        maintain_partitions(&mut first, Utc::now()).await?;
        first.close().await?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(StdDuration::from_secs(30))
            .connect_with(options)
            .await?;
        let reads = match replica {
            None => pool.clone(),
            Some(replica) => {
                // Every session there is read-only, so a write routed there by mistake fails
                // loudly even when the URL names a server that would take it.
                let replica_options = PgConnectOptions::from_str(replica)?
                    .application_name("onegrid replica reads")
                    .options([("default_transaction_read_only", "on")]);
                let mut probe = PgConnection::connect_with(&replica_options).await?;
                if !in_recovery(&mut probe).await? {
                    tracing::warn!(
                        "--replica-url names a server that is not in recovery (not a standby); \
                         reads go there all the same"
                    );
                }
                probe.close().await?;
                PgPoolOptions::new()
                    .max_connections(MAX_CONNECTIONS)
                    .acquire_timeout(StdDuration::from_secs(30))
                    .connect_with(replica_options)
                    .await?
            }
        };
        Ok(PostgresStore { pool, reads })
    }

    async fn try_create_case(
        &self,
        mut case: Case,
        mut record: NewRecord,
        claim: Option<&IdempotencyClaim>,
    ) -> StoreResult<CreateOutcome> {
        let mut tx = self.pool.begin().await?;
        if let Some(claim) = claim {
            if let Some(answer) = earlier_answer(&mut tx, claim, case.created_at).await? {
                return answer;
            }
            // Unknown, or older than the window: the key may be used afresh. Only an expired
            // claim is removed — a claim another create committed since the lookup above must
            // stay, so that this one fails on it below and answers that case.
            sqlx::query("DELETE FROM idempotency_keys WHERE key = $1 AND created_at <= $2")
                .bind(&claim.key)
                .bind(case.created_at - Duration::days(IDEMPOTENCY_DAYS))
                .execute(&mut *tx)
                .await?;
            // Claim the key before taking any other lock: a concurrent create with the same
            // key then waits here, holding nothing, and fails on the primary key once the
            // first commits (`create_case` answers it the first case). Claiming it last would
            // let the two wait on each other's counters and rollups.
            sqlx::query(
                "INSERT INTO idempotency_keys (key, request_hash, case_id, response, created_at)
                 VALUES ($1, $2, $3, 'null'::jsonb, $4)",
            )
            .bind(&claim.key)
            .bind(&claim.request_hash)
            .bind(&case.id)
            .bind(case.created_at)
            .execute(&mut *tx)
            .await?;
        }
        case.number = next_number(&mut tx, &case.county, case.created_at).await?;
        let body = to_json(&case)?;
        sqlx::query(
            "INSERT INTO cases (county_code, id, number, township_code, village_code, grid_code,
                                state, tier, channel, category, urgency, unit, overdue,
                                stage_overdue, is_open, stage_deadline, created_at, updated_at,
                                version, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                     $18, $19, $20::jsonb)",
        )
        .bind(&case.county)
        .bind(&case.id)
        .bind(&case.number)
        .bind(chain_code(&case, Level::Township))
        .bind(chain_code(&case, Level::Village))
        .bind(&case.grid)
        .bind(case.state.as_str())
        .bind(case.tier.as_str())
        .bind(case.channel.as_str())
        .bind(&case.category)
        .bind(case.urgency.as_str())
        .bind(&case.unit)
        .bind(case.overdue)
        .bind(case.stage_overdue)
        .bind(case.state.is_open())
        .bind(case.stage_deadline)
        .bind(case.created_at)
        .bind(case.updated_at)
        .bind(i64::from(case.version))
        .bind(&body)
        .execute(&mut *tx)
        .await?;
        if crate::reporter_has_access(&case.reporter) {
            sqlx::query(
                "INSERT INTO case_access (case_id, county_code, reporter_account, tracking_hash,
                                          phone_hash)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&case.id)
            .bind(&case.county)
            .bind(&case.reporter.account)
            .bind(&case.reporter.tracking_hash)
            .bind(&case.reporter.phone_hash)
            .execute(&mut *tx)
            .await?;
        }
        record.case_id = Some(case.id.clone());
        append_record(&mut tx, &record).await?;
        apply_rollups(&mut tx, None, &case).await?;
        enqueue_jobs(&mut tx, None, &case).await?;
        if let Some(claim) = claim {
            sqlx::query("UPDATE idempotency_keys SET response = $2::jsonb WHERE key = $1")
                .bind(&claim.key)
                .bind(&body)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(CreateOutcome::Created(case))
    }
}

/// Makes the partitions of every county that holds data for this month and the next, and of
/// every month whose rows wait in a default partition, moving them in (migration 0006). One
/// county at a time, each in its own transaction, so that no transaction holds the locks of
/// every new partition of a province at once.
async fn maintain_partitions(conn: &mut PgConnection, now: DateTime<Utc>) -> StoreResult<()> {
    let this_month = now.date_naive();
    let next_month = this_month
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(this_month);
    let counties: Vec<String> = sqlx::query_scalar("SELECT onegrid_partitioned_counties()")
        .fetch_all(&mut *conn)
        .await?;
    let mut wanted: Vec<(String, NaiveDate)> = Vec::with_capacity(counties.len() * 2);
    for county in counties {
        wanted.push((county.clone(), this_month));
        wanted.push((county, next_month));
    }
    let waiting: Vec<(String, NaiveDate)> =
        sqlx::query_as("SELECT county, month FROM onegrid_waiting_months()")
            .fetch_all(&mut *conn)
            .await?;
    wanted.extend(waiting);
    for (county, month) in &wanted {
        sqlx::query("SELECT onegrid_ensure_partitions($1, $2)")
            .bind(county)
            .bind(month)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Whether the server is a standby replaying another's write-ahead log.
async fn in_recovery(conn: &mut PgConnection) -> StoreResult<bool> {
    Ok(sqlx::query_scalar("SELECT pg_is_in_recovery()")
        .fetch_one(&mut *conn)
        .await?)
}

fn to_json(case: &Case) -> StoreResult<String> {
    serde_json::to_string(case).map_err(|e| StoreError::Corrupt(format!("case to JSON: {e}")))
}

pub(crate) fn case_from_body(body: &str) -> StoreResult<Case> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("stored case: {e}")))
}

fn chain_code(case: &Case, level: Level) -> Option<&str> {
    let width = match level {
        Level::Township => 9,
        Level::Village => 12,
        _ => return None,
    };
    case.chain
        .iter()
        .find(|code| code.len() == width)
        .map(String::as_str)
}

fn county_of(code: &RegionCode) -> Option<String> {
    code.county().map(|county| county.to_string())
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

/// Whether `error` is the idempotency key's primary key refusing a second claim.
fn is_claim_taken(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            db.code().as_deref() == Some("23505")
                && db.constraint() == Some("idempotency_keys_pkey")
        }
        _ => false,
    }
}

/// The answer to a claim whose key was seen within the window: the first case, or
/// `KeyReused` when the request differs. `None` when the key is unknown or expired.
async fn earlier_answer(
    conn: &mut PgConnection,
    claim: &IdempotencyClaim,
    now: DateTime<Utc>,
) -> StoreResult<Option<StoreResult<CreateOutcome>>> {
    let earlier = sqlx::query(
        "SELECT request_hash, response::text AS response, created_at
         FROM idempotency_keys WHERE key = $1",
    )
    .bind(&claim.key)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = earlier else { return Ok(None) };
    let created: DateTime<Utc> = row.try_get("created_at")?;
    if created + Duration::days(IDEMPOTENCY_DAYS) <= now {
        return Ok(None);
    }
    let request_hash: String = row.try_get("request_hash")?;
    if request_hash != claim.request_hash {
        return Ok(Some(Err(StoreError::KeyReused)));
    }
    let response: String = row.try_get("response")?;
    Ok(Some(Ok(CreateOutcome::Replayed(case_from_body(
        &response,
    )?))))
}

/// The case number: county code, the day in Asia/Shanghai and a daily sequence.
async fn next_number(
    conn: &mut PgConnection,
    county: &str,
    at: DateTime<Utc>,
) -> StoreResult<String> {
    let shanghai = FixedOffset::east_opt(8 * 3600).ok_or_else(|| {
        StoreError::Corrupt("UTC+8 is a valid offset".to_owned()) // cannot happen
    })?;
    let day: NaiveDate = at.with_timezone(&shanghai).date_naive();
    let last: i64 = sqlx::query_scalar(
        "INSERT INTO case_counters (county_code, day, last) VALUES ($1, $2, 1)
         ON CONFLICT (county_code, day) DO UPDATE SET last = case_counters.last + 1
         RETURNING last",
    )
    .bind(county)
    .bind(day)
    .fetch_one(&mut *conn)
    .await?;
    Ok(format!("{county}{}{last:05}", day.format("%Y%m%d")))
}

/// Locks the head of `county`'s chain for the rest of the transaction, creating it (at the
/// genesis) when the county has no chain yet, and returns its sequence number and hash.
async fn lock_head(conn: &mut PgConnection, county: &str) -> StoreResult<(i64, String)> {
    sqlx::query(
        "INSERT INTO chain_heads (county_code, seq, hash) VALUES ($1, 0, $2)
         ON CONFLICT (county_code) DO NOTHING",
    )
    .bind(county)
    .bind(GENESIS)
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query("SELECT seq, hash FROM chain_heads WHERE county_code = $1 FOR UPDATE")
        .bind(county)
        .fetch_one(&mut *conn)
        .await?;
    Ok((row.try_get("seq")?, row.try_get("hash")?))
}

/// Appends one record to its county's chain and moves the head, which it locks (again) first.
pub(crate) async fn append_record(conn: &mut PgConnection, record: &NewRecord) -> StoreResult<()> {
    let (head_seq, prev_hash) = lock_head(conn, &record.county).await?;
    let r = crate::audit::StoredRecord::seal(record, head_seq + 1, prev_hash);
    sqlx::query(
        "INSERT INTO records (county_code, seq, id, case_id, act, actor, role, from_state,
                              to_state, at, note, attachments, details, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&r.county)
    .bind(r.seq)
    .bind(&r.id)
    .bind(&r.case_id)
    .bind(&r.act)
    .bind(&r.actor)
    .bind(&r.role)
    .bind(&r.from_state)
    .bind(&r.to_state)
    .bind(&r.at)
    .bind(&r.note)
    .bind(&r.attachments)
    .bind(&r.details)
    .bind(&r.prev_hash)
    .bind(&r.hash)
    .execute(&mut *conn)
    .await?;
    let (seq, hash) = (r.seq, r.hash);
    sqlx::query("UPDATE chain_heads SET seq = $2, hash = $3 WHERE county_code = $1")
        .bind(&record.county)
        .bind(seq)
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(crate) fn record_from_row(row: &PgRow) -> StoreResult<Record> {
    let attachments: String = row.try_get("attachments")?;
    let details: String = row.try_get("details")?;
    Ok(Record {
        county: row.try_get("county_code")?,
        seq: row.try_get("seq")?,
        id: row.try_get("id")?,
        case_id: row.try_get("case_id")?,
        act: row.try_get("act")?,
        actor: row.try_get("actor")?,
        role: row.try_get("role")?,
        from_state: row.try_get("from_state")?,
        to_state: row.try_get("to_state")?,
        at: row.try_get("at")?,
        note: row.try_get("note")?,
        attachments: serde_json::from_str(&attachments).unwrap_or_default(),
        details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

fn region_from_row(row: &PgRow) -> StoreResult<Region> {
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

fn area_from_row(row: &PgRow) -> StoreResult<AreaRecord> {
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

fn user_from_row(row: &PgRow) -> StoreResult<User> {
    Ok(User {
        id: row.try_get("id")?,
        login: row.try_get("login")?,
        display_name: row.try_get("display_name")?,
        roles: row.try_get("roles")?,
        scope: row.try_get("scope_code")?,
        created_at: row.try_get("created_at")?,
    })
}

enum UpsertOutcome {
    Added,
    Changed,
    Unchanged,
}

/// Inserts or updates one region; an existing row whose name or parent differs is copied to
/// `region_history` first.
async fn upsert_region(
    conn: &mut PgConnection,
    region: &RegionUpsert,
    at: DateTime<Utc>,
) -> StoreResult<UpsertOutcome> {
    let existing = sqlx::query(
        "SELECT name, parent_code, valid_from, valid_to FROM regions WHERE code = $1 FOR UPDATE",
    )
    .bind(region.code.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let parent = region.parent.as_ref().map(RegionCode::to_string);
    let Some(existing) = existing else {
        sqlx::query(
            "INSERT INTO regions (code, level, name, parent_code, county_code, valid_from)
             VALUES ($1, $2, $3, $4, $5, $6)",
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
         VALUES ($1, $2, $3, $4, $5, $6)",
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
        "UPDATE regions SET name = $1, parent_code = $2, valid_from = $3, valid_to = NULL,
                successor_code = NULL
         WHERE code = $4",
    )
    .bind(&region.name)
    .bind(&parent)
    .bind(at)
    .bind(region.code.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(UpsertOutcome::Changed)
}

const REGION_COLUMNS: &str = "code, level, name, parent_code, valid_from, valid_to, successor_code";

#[async_trait]
impl Store for PostgresStore {
    fn engine(&self) -> &'static str {
        "postgres"
    }

    async fn regions(&self) -> StoreResult<Vec<Region>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REGION_COLUMNS} FROM regions ORDER BY length(code), code"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(region_from_row).collect()
    }

    async fn region(&self, code: &RegionCode) -> StoreResult<Option<Region>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REGION_COLUMNS} FROM regions WHERE code = $1"
        )))
        .bind(code.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(region_from_row).transpose()
    }

    async fn region_children(&self, code: &RegionCode) -> StoreResult<Vec<Region>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REGION_COLUMNS} FROM regions
             WHERE parent_code = $1 AND valid_to IS NULL ORDER BY code"
        )))
        .bind(code.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(region_from_row).collect()
    }

    async fn region_history(&self, code: &RegionCode) -> StoreResult<Vec<Region>> {
        let rows = sqlx::query(
            "SELECT code, level, name, parent_code, valid_from, valid_to,
                    NULL::text AS successor_code
             FROM region_history WHERE code = $1 ORDER BY id",
        )
        .bind(code.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(region_from_row).collect()
    }

    async fn apply_divisions(&self, change: DivisionChange) -> StoreResult<DivisionSummary> {
        let at = change.at.unwrap_or_else(Utc::now);
        let mut summary = DivisionSummary::default();
        let mut tx = self.pool.begin().await?;
        for region in &change.upserts {
            match upsert_region(&mut tx, region, at).await? {
                UpsertOutcome::Added => summary.added += 1,
                UpsertOutcome::Changed => summary.changed += 1,
                UpsertOutcome::Unchanged => summary.unchanged += 1,
            }
        }
        for retirement in &change.retirements {
            let done = sqlx::query(
                "UPDATE regions SET valid_to = $1, successor_code = $2
                 WHERE code = $3 AND valid_to IS NULL",
            )
            .bind(at)
            .bind(retirement.successor.as_ref().map(RegionCode::to_string))
            .bind(retirement.code.as_str())
            .execute(&mut *tx)
            .await?;
            summary.retired += usize::try_from(done.rows_affected()).unwrap_or(0);
        }
        tx.commit().await?;
        Ok(summary)
    }

    async fn put_areas(
        &self,
        regions: Vec<RegionUpsert>,
        areas: Vec<AreaRecord>,
    ) -> StoreResult<()> {
        let at = Utc::now();
        let mut tx = self.pool.begin().await?;
        for region in &regions {
            upsert_region(&mut tx, region, at).await?;
        }
        for area in &areas {
            sqlx::query(
                "INSERT INTO areas (code, level, county_code, geometry, area_m2, min_lon, min_lat,
                                    max_lon, max_lat, source_crs, imported_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
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
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn areas(&self, level: Level) -> StoreResult<Vec<AreaRecord>> {
        let rows = sqlx::query(
            "SELECT code, level, geometry, area_m2, min_lon, min_lat, max_lon, max_lat, source_crs
             FROM areas WHERE level = $1 ORDER BY code",
        )
        .bind(level.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(area_from_row).collect()
    }

    async fn area(&self, code: &RegionCode) -> StoreResult<Option<AreaRecord>> {
        let row = sqlx::query(
            "SELECT code, level, geometry, area_m2, min_lon, min_lat, max_lon, max_lat, source_crs
             FROM areas WHERE code = $1",
        )
        .bind(code.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(area_from_row).transpose()
    }

    async fn child_areas(&self, code: &RegionCode) -> StoreResult<Vec<AreaRecord>> {
        let rows = sqlx::query(
            "SELECT a.code, a.level, a.geometry, a.area_m2, a.min_lon, a.min_lat, a.max_lon,
                    a.max_lat, a.source_crs
             FROM areas a JOIN regions r ON r.code = a.code
             WHERE r.parent_code = $1 AND r.valid_to IS NULL ORDER BY a.code",
        )
        .bind(code.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(area_from_row).collect()
    }

    async fn put_users(&self, users: Vec<NewUser>) -> StoreResult<usize> {
        let at = Utc::now();
        let mut added = 0;
        let mut tx = self.pool.begin().await?;
        for user in &users {
            let id = uuid::Uuid::now_v7().to_string();
            let done = sqlx::query(
                "INSERT INTO users (id, login, display_name, roles, scope_code, county_code,
                                    created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (login) DO NOTHING",
            )
            .bind(&id)
            .bind(&user.login)
            .bind(&user.display_name)
            .bind(&user.roles)
            .bind(user.scope.as_str())
            .bind(county_of(&user.scope))
            .bind(at)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                continue;
            }
            added += 1;
            for role in &user.roles {
                sqlx::query(
                    "INSERT INTO assignments (user_id, role, scope, granted_at)
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(&id)
                .bind(role)
                .bind(user.scope.as_str())
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(added)
    }

    async fn users_in(&self, scope: &RegionCode, limit: u32) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(
            "SELECT id, login, display_name, roles, scope_code, created_at FROM users
             WHERE scope_code = $1 OR scope_code LIKE $2 ORDER BY login LIMIT $3",
        )
        .bind(scope.as_str())
        .bind(format!("{}%", scope_prefix(scope)))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn user_count(&self) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn meta(&self, key: &str) -> StoreResult<Option<String>> {
        let value = sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(value)
    }

    async fn set_meta(&self, key: &str, value: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn create_case(
        &self,
        case: Case,
        record: NewRecord,
        claim: Option<IdempotencyClaim>,
    ) -> StoreResult<CreateOutcome> {
        let Some(claim) = claim else {
            return self.try_create_case(case, record, None).await;
        };
        let mut attempt = 1;
        loop {
            match self
                .try_create_case(case.clone(), record.clone(), Some(&claim))
                .await
            {
                Err(StoreError::Database(error)) if is_claim_taken(&error) => {
                    // A concurrent create with this key committed first: answer as a retry
                    // after it would have been answered.
                    let mut conn = self.pool.acquire().await?;
                    if let Some(answer) = earlier_answer(&mut conn, &claim, case.created_at).await?
                    {
                        return answer;
                    }
                    if attempt >= CLAIM_ATTEMPTS {
                        return Err(StoreError::Database(error));
                    }
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    async fn update_case(
        &self,
        case: Case,
        expected_version: u32,
        record: NewRecord,
    ) -> StoreResult<()> {
        let body = to_json(&case)?;
        let mut tx = self.pool.begin().await?;
        let before: Option<serde_json::Value> = sqlx::query_scalar(
            "SELECT body FROM cases WHERE county_code = $1 AND id = $2 AND version = $3
             FOR UPDATE",
        )
        .bind(&case.county)
        .bind(&case.id)
        .bind(i64::from(expected_version))
        .fetch_optional(&mut *tx)
        .await?;
        let before: Option<Case> = before
            .map(|body| {
                serde_json::from_value(body)
                    .map_err(|e| StoreError::Corrupt(format!("stored case: {e}")))
            })
            .transpose()?;
        let done = sqlx::query(
            "UPDATE cases SET grid_code = $1, state = $2, tier = $3, category = $4, urgency = $5,
                    unit = $6, overdue = $7, stage_overdue = $8, is_open = $9,
                    stage_deadline = $10, updated_at = $11, version = $12, body = $13::jsonb
             WHERE county_code = $14 AND id = $15 AND version = $16",
        )
        .bind(&case.grid)
        .bind(case.state.as_str())
        .bind(case.tier.as_str())
        .bind(&case.category)
        .bind(case.urgency.as_str())
        .bind(&case.unit)
        .bind(case.overdue)
        .bind(case.stage_overdue)
        .bind(case.state.is_open())
        .bind(case.stage_deadline)
        .bind(case.updated_at)
        .bind(i64::from(case.version))
        .bind(&body)
        .bind(&case.county)
        .bind(&case.id)
        .bind(i64::from(expected_version))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            let current: Option<i64> =
                sqlx::query_scalar("SELECT version FROM cases WHERE id = $1")
                    .bind(&case.id)
                    .fetch_optional(&mut *tx)
                    .await?;
            return Err(match current {
                Some(version) => StoreError::Conflict(format!(
                    "case {} is at version {version}, not {expected_version}",
                    case.id
                )),
                None => StoreError::Conflict(format!("case {} does not exist", case.id)),
            });
        }
        append_record(&mut tx, &record).await?;
        apply_rollups(&mut tx, before.as_ref(), &case).await?;
        enqueue_jobs(&mut tx, before.as_ref(), &case).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn rollup_sums(
        &self,
        areas: &[String],
        category: &str,
        channel: &str,
        from_day: &str,
        to_day: &str,
    ) -> StoreResult<Vec<(String, Counters)>> {
        let (from, to) = (parse_day(from_day)?, parse_day(to_day)?);
        let sql = format!(
            "SELECT area_code, {} FROM rollups
             WHERE area_code = ANY($1) AND category = $2 AND channel = $3
               AND day >= $4 AND day < $5
             GROUP BY area_code",
            sum_columns()
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(areas)
            .bind(category)
            .bind(channel)
            .bind(from)
            .bind(to)
            .fetch_all(&self.reads)
            .await?;
        let mut found = std::collections::HashMap::with_capacity(rows.len());
        for row in &rows {
            found.insert(row.try_get::<String, _>(0)?, pg_counters(row, 1)?);
        }
        Ok(areas
            .iter()
            .map(|area| (area.clone(), found.get(area).copied().unwrap_or_default()))
            .collect())
    }

    async fn rollup_breakdown(
        &self,
        areas: &[String],
        by: crate::Breakdown,
        from_day: &str,
        to_day: &str,
    ) -> StoreResult<Vec<(String, Counters)>> {
        let (from, to) = (parse_day(from_day)?, parse_day(to_day)?);
        let (group, filter) = pg_breakdown_sql(by);
        let sql = format!(
            "SELECT {group} AS k, {} FROM rollups
             WHERE area_code = ANY($1) AND {filter} AND day >= $2 AND day < $3
             GROUP BY k ORDER BY k",
            sum_columns()
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(areas)
            .bind(from)
            .bind(to)
            .fetch_all(&self.reads)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push((row.try_get::<String, _>(0)?, pg_counters(row, 1)?));
        }
        Ok(out)
    }

    async fn rollup_mix(
        &self,
        areas: &[String],
        by: crate::Breakdown,
        from_day: &str,
        to_day: &str,
    ) -> StoreResult<Vec<(String, i64)>> {
        let (from, to) = (parse_day(from_day)?, parse_day(to_day)?);
        let (group, filter) = pg_breakdown_sql(by);
        let sql = format!(
            "SELECT {group} AS k, sum(reported)::BIGINT FROM rollups
             WHERE area_code = ANY($1) AND {filter} AND day >= $2 AND day < $3
             GROUP BY k ORDER BY k"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(areas)
            .bind(from)
            .bind(to)
            .fetch_all(&self.reads)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push((
                row.try_get::<String, _>(0)?,
                row.try_get::<Option<i64>, _>(1)?.unwrap_or(0),
            ));
        }
        Ok(out)
    }

    async fn rebuild_rollups(&self) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("LOCK TABLE cases IN SHARE MODE")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM rollups").execute(&mut *tx).await?;
        let bodies: Vec<serde_json::Value> = sqlx::query_scalar("SELECT body FROM cases")
            .fetch_all(&mut *tx)
            .await?;
        for body in &bodies {
            let case: Case = serde_json::from_value(body.clone())
                .map_err(|e| StoreError::Corrupt(format!("stored case: {e}")))?;
            apply_rollups(&mut tx, None, &case).await?;
        }
        tx.commit().await?;
        Ok(bodies.len() as u64)
    }

    async fn maintain(&self, now: DateTime<Utc>) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await?;
        maintain_partitions(&mut conn, now).await
    }

    async fn claim_jobs(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        // SKIP LOCKED: a row another worker's claim holds right now is passed over, so
        // concurrent claims never wait on each other and never take the same job.
        let rows = sqlx::query(
            "UPDATE jobs SET locked_by = $1, locked_until = $2, attempts = attempts + 1
             WHERE id IN (
                 SELECT id FROM jobs
                 WHERE state = 'pending' AND run_at <= $3
                   AND (locked_until IS NULL OR locked_until < $3)
                 ORDER BY run_at, id
                 LIMIT $4
                 FOR UPDATE SKIP LOCKED)
             RETURNING id, key, kind, county_code, case_id, payload, run_at, attempts",
        )
        .bind(worker)
        .bind(now + Duration::seconds(crate::jobs::LEASE_SECONDS))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut jobs = Vec::with_capacity(rows.len());
        for row in &rows {
            let payload: String = row.try_get("payload")?;
            jobs.push(Job {
                id: row.try_get("id")?,
                key: row.try_get("key")?,
                kind: row.try_get("kind")?,
                county: row.try_get("county_code")?,
                case_id: row.try_get("case_id")?,
                payload: crate::jobs::payload_from_text(&payload)?,
                run_at: row.try_get("run_at")?,
                attempts: u32::try_from(row.try_get::<i32, _>("attempts")?).unwrap_or(0),
            });
        }
        jobs.sort_by_key(|job| (job.run_at, job.id));
        Ok(jobs)
    }

    async fn finish_job(&self, finish: JobFinish) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let (state, run_at) = match &finish.outcome {
            JobOutcome::Done(_) => ("done", None),
            JobOutcome::Retry { at, .. } => ("pending", Some(*at)),
            JobOutcome::Failed(_) => ("failed", None),
        };
        let held = sqlx::query(
            "UPDATE jobs SET state = $3, run_at = coalesce($4, run_at), last_error = $5,
                    locked_by = NULL, locked_until = NULL,
                    done_at = CASE WHEN $3 = 'pending' THEN NULL ELSE $6 END
             WHERE id = $1 AND locked_by = $2 AND state = 'pending'",
        )
        .bind(finish.job_id)
        .bind(&finish.worker)
        .bind(state)
        .bind(run_at)
        .bind(finish.outcome.error())
        .bind(finish.finished_at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if held && let JobOutcome::Done(Some(notice)) = &finish.outcome {
            sqlx::query(
                "INSERT INTO notices (job_id, unit, county_code, case_id, message, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (job_id) DO NOTHING",
            )
            .bind(finish.job_id)
            .bind(&notice.unit)
            .bind(&notice.county)
            .bind(&notice.case_id)
            .bind(&notice.message)
            .bind(finish.finished_at)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO job_runs (job_id, worker, started_at, finished_at, outcome, error)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(finish.job_id)
        .bind(&finish.worker)
        .bind(finish.started_at)
        .bind(finish.finished_at)
        .bind(if held {
            finish.outcome.as_str()
        } else {
            "lost"
        })
        .bind(finish.outcome.error())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(held)
    }

    async fn case(&self, id: &str) -> StoreResult<Option<Case>> {
        let body: Option<String> = sqlx::query_scalar("SELECT body::text FROM cases WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        body.as_deref().map(case_from_body).transpose()
    }

    async fn case_by_number(&self, number: &str) -> StoreResult<Option<Case>> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body::text FROM cases WHERE number = $1")
                .bind(number)
                .fetch_optional(&self.pool)
                .await?;
        body.as_deref().map(case_from_body).transpose()
    }

    async fn case_records(&self, case_id: &str) -> StoreResult<Vec<Record>> {
        let rows = sqlx::query(
            "SELECT county_code, seq, id, case_id, act, actor, role, from_state, to_state, at,
                    note, attachments, details, prev_hash, hash
             FROM records WHERE case_id = $1 ORDER BY county_code, seq",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(record_from_row).collect()
    }

    async fn list_cases(
        &self,
        filter: &CaseFilter,
        cursor: Option<&str>,
        limit: u32,
    ) -> StoreResult<CasePage> {
        let limit = limit.clamp(1, 500);
        let (where_clause, binds) = filter_sql(filter, cursor);
        let sql = format!(
            "SELECT id, body::text AS body FROM cases {where_clause} ORDER BY id DESC LIMIT ${}",
            binds.len() + 1
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for bind in binds {
            query = match bind {
                Bind::Text(text) => query.bind(text),
                Bind::Texts(texts) => query.bind(texts),
                Bind::Time(time) => query.bind(time),
            };
        }
        let rows = query
            .bind(i64::from(limit) + 1)
            .fetch_all(&self.pool)
            .await?;
        let mut cases = Vec::with_capacity(rows.len());
        for row in rows.iter().take(limit as usize) {
            let body: String = row.try_get("body")?;
            cases.push(case_from_body(&body)?);
        }
        let next_cursor = if rows.len() > limit as usize {
            cases.last().map(|c| c.id.clone())
        } else {
            None
        };
        Ok(CasePage { cases, next_cursor })
    }

    async fn cases_past_deadline(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Case>> {
        let bodies: Vec<String> = sqlx::query_scalar(
            "SELECT body::text FROM cases
             WHERE is_open AND NOT stage_overdue AND state <> 'suspended'
               AND stage_deadline IS NOT NULL AND stage_deadline < $1
             ORDER BY stage_deadline, id LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        bodies.iter().map(|body| case_from_body(body)).collect()
    }

    async fn append_records(&self, records: Vec<NewRecord>) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        // Every county's head is locked up front, in one order, so that two batches touching
        // the same counties cannot deadlock.
        let counties: std::collections::BTreeSet<&str> =
            records.iter().map(|r| r.county.as_str()).collect();
        for county in counties {
            lock_head(&mut tx, county).await?;
        }
        for record in &records {
            append_record(&mut tx, record).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn security_events(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        actor: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Record>> {
        postgres_access::security_events(&self.pool, from, to, actor, limit).await
    }

    async fn case_in_scope(&self, id: &str, scope: &CaseScope) -> StoreResult<Option<Case>> {
        postgres_access::case_in_scope(&self.pool, id, scope).await
    }

    async fn case_by_tracking(&self, tracking_hash: &str) -> StoreResult<Option<Case>> {
        postgres_access::case_by_tracking(&self.pool, tracking_hash).await
    }

    async fn create_account(&self, account: NewAccount, event: NewRecord) -> StoreResult<Account> {
        postgres_access::create_account(&self.pool, account, event).await
    }

    async fn account(&self, id: &str) -> StoreResult<Option<Account>> {
        postgres_access::account(&self.pool, "id", id).await
    }

    async fn account_by_login(&self, login: &str) -> StoreResult<Option<Account>> {
        postgres_access::account(&self.pool, "login", login).await
    }

    async fn accounts(&self, limit: u32) -> StoreResult<Vec<Account>> {
        postgres_access::accounts(&self.pool, limit).await
    }

    async fn change_account(
        &self,
        user_id: &str,
        change: AccountChange,
        event: Option<NewRecord>,
    ) -> StoreResult<()> {
        postgres_access::change_account(&self.pool, user_id, change, event).await
    }

    async fn put_session(&self, session: Session, event: Option<NewRecord>) -> StoreResult<()> {
        postgres_access::put_session(&self.pool, session, event).await
    }

    async fn session(&self, id_hash: &str) -> StoreResult<Option<Session>> {
        postgres_access::session(&self.pool, id_hash).await
    }

    async fn put_token(&self, token: ApiToken, event: Option<NewRecord>) -> StoreResult<()> {
        postgres_access::put_token(&self.pool, token, event).await
    }

    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<ApiToken>> {
        Ok(postgres_access::tokens(&self.pool, "hash", hash)
            .await?
            .into_iter()
            .next())
    }

    async fn token(&self, id: &str) -> StoreResult<Option<ApiToken>> {
        Ok(postgres_access::tokens(&self.pool, "id", id)
            .await?
            .into_iter()
            .next())
    }

    async fn tokens_of(&self, user_id: &str) -> StoreResult<Vec<ApiToken>> {
        postgres_access::tokens(&self.pool, "user_id", user_id).await
    }

    async fn write_checkpoint(&self, at: DateTime<Utc>) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        // One checkpoint writer at a time; appends and readers go on.
        sqlx::query("LOCK TABLE checkpoints IN EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
        let rows =
            sqlx::query("SELECT county_code, seq, hash FROM chain_heads ORDER BY county_code")
                .fetch_all(&mut *tx)
                .await?;
        let mut heads = Vec::with_capacity(rows.len());
        for row in &rows {
            heads.push(serde_json::json!([
                row.try_get::<String, _>("county_code")?,
                row.try_get::<i64, _>("seq")?,
                row.try_get::<String, _>("hash")?,
            ]));
        }
        let heads = serde_json::Value::Array(heads).to_string();
        let last =
            sqlx::query("SELECT seq, heads, hash FROM checkpoints ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?;
        let (seq, prev_hash) = match &last {
            Some(row) => {
                let last_heads: String = row.try_get("heads")?;
                if last_heads == heads {
                    return Ok(false);
                }
                (
                    row.try_get::<i64, _>("seq")? + 1,
                    row.try_get::<String, _>("hash")?,
                )
            }
            None if rows.is_empty() => return Ok(false),
            None => (1, GENESIS.to_owned()),
        };
        let at = time_text(at);
        let hash = checkpoint_hash(&prev_hash, seq, &at, &heads);
        sqlx::query(
            "INSERT INTO checkpoints (seq, at, heads, prev_hash, hash) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(seq)
        .bind(&at)
        .bind(&heads)
        .bind(&prev_hash)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn verify_records(&self) -> StoreResult<VerifyReport> {
        // One snapshot for the whole walk: appends committing meanwhile must not look like a
        // chain whose head and records disagree.
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let report = verify(&mut tx).await?;
        tx.commit().await?;
        Ok(report)
    }

    async fn record_count(&self) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM records")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn put_attachment(&self, content_type: &str, bytes: Vec<u8>) -> StoreResult<String> {
        let hash = crate::audit::sha256_hex(&bytes);
        sqlx::query(
            "INSERT INTO attachments (hash, content_type, size, bytes, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (hash) DO NOTHING",
        )
        .bind(&hash)
        .bind(content_type)
        .bind(bytes.len() as i64)
        .bind(&bytes)
        .bind(Utc::now())
        .execute(&self.pool)
        .await?;
        Ok(hash)
    }

    async fn attachment(&self, hash: &str) -> StoreResult<Option<Attachment>> {
        let row = sqlx::query("SELECT hash, content_type, bytes FROM attachments WHERE hash = $1")
            .bind(hash)
            .fetch_optional(&self.pool)
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
            .fetch_all(&self.pool)
            .await?;
        let mut positions = Vec::with_capacity(rows.len());
        for row in &rows {
            positions.push((row.try_get("county_code")?, row.try_get("seq")?));
        }
        Ok(positions)
    }
}

/// Walks every chain and the checkpoint log; stops at the first problem. The same walk, and
/// the same words, as the SQLite engine's.
/// Walks every chain and the checkpoint log (`audit::ChainWalker`, the same walk as SQLite's);
/// stops at the first problem.
pub(crate) async fn verify(conn: &mut PgConnection) -> StoreResult<VerifyReport> {
    let mut walker = crate::audit::ChainWalker::default();
    {
        let mut rows = sqlx::query(
            "SELECT county_code, seq, id, case_id, act, actor, role, from_state, to_state, at,
                    note, attachments, details, prev_hash, hash
             FROM records ORDER BY county_code, seq",
        )
        .fetch(&mut *conn);
        while let Some(row) = rows.try_next().await? {
            let record = crate::audit::StoredRecord {
                county: row.try_get("county_code")?,
                seq: row.try_get("seq")?,
                id: row.try_get("id")?,
                case_id: row.try_get("case_id")?,
                act: row.try_get("act")?,
                actor: row.try_get("actor")?,
                role: row.try_get("role")?,
                from_state: row.try_get("from_state")?,
                to_state: row.try_get("to_state")?,
                at: row.try_get("at")?,
                note: row.try_get("note")?,
                attachments: row.try_get("attachments")?,
                details: row.try_get("details")?,
                prev_hash: row.try_get("prev_hash")?,
                hash: row.try_get("hash")?,
            };
            if !walker.record(&record) {
                return Ok(walker.finish());
            }
        }
    }
    let mut heads = Vec::new();
    for row in sqlx::query("SELECT county_code, seq, hash FROM chain_heads")
        .fetch_all(&mut *conn)
        .await?
    {
        heads.push((
            row.try_get("county_code")?,
            row.try_get("seq")?,
            row.try_get("hash")?,
        ));
    }
    if !walker.heads(&heads) {
        return Ok(walker.finish());
    }
    let checkpoints =
        sqlx::query("SELECT seq, at, heads, prev_hash, hash FROM checkpoints ORDER BY seq")
            .fetch_all(&mut *conn)
            .await?;
    for row in &checkpoints {
        let checkpoint = crate::audit::StoredCheckpoint {
            seq: row.try_get("seq")?,
            at: row.try_get("at")?,
            heads: row.try_get("heads")?,
            prev_hash: row.try_get("prev_hash")?,
            hash: row.try_get("hash")?,
        };
        let Some(listed) = walker.checkpoint(&checkpoint) else {
            return Ok(walker.finish());
        };
        for (county, seq, hash) in listed {
            let at_seq: Option<String> =
                sqlx::query_scalar("SELECT hash FROM records WHERE county_code = $1 AND seq = $2")
                    .bind(&county)
                    .bind(seq)
                    .fetch_optional(&mut *conn)
                    .await?;
            if at_seq.as_deref() != Some(hash.as_str()) {
                walker.checkpoint_head_missing(checkpoint.seq, &county, seq);
                return Ok(walker.finish());
            }
        }
    }
    Ok(walker.finish())
}

/// A value bound to a list query.
enum Bind {
    Text(String),
    Texts(Vec<String>),
    Time(DateTime<Utc>),
}

/// The `WHERE` clause of a case list, with `$n` placeholders, and its values in order. The
/// same selection as the SQLite engine's.
fn filter_sql(filter: &CaseFilter, cursor: Option<&str>) -> (String, Vec<Bind>) {
    let mut clauses: Vec<String> = Vec::new();
    let mut binds: Vec<Bind> = Vec::new();
    let mut add = |clauses: &mut Vec<String>, template: &str, bind: Bind| {
        binds.push(bind);
        clauses.push(template.replace('?', &format!("${}", binds.len())));
    };
    if let Some(region) = &filter.region {
        let code = region.as_str().to_owned();
        let (template, value) = match region.level() {
            Level::Province => ("county_code LIKE ?", format!("{}%", &code[..2])),
            Level::City => ("county_code LIKE ?", format!("{}%", &code[..4])),
            Level::County => ("county_code = ?", code),
            Level::Township => ("township_code = ?", code),
            Level::Village => ("village_code = ?", code),
            Level::Grid => ("grid_code = ?", code),
        };
        add(&mut clauses, template, Bind::Text(value));
    }
    if !filter.states.is_empty() {
        let states = filter
            .states
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect();
        add(&mut clauses, "state = ANY(?)", Bind::Texts(states));
    }
    if let Some(category) = &filter.category {
        if category.len() == 2 {
            add(
                &mut clauses,
                "category LIKE ?",
                Bind::Text(format!("{category}%")),
            );
        } else {
            add(&mut clauses, "category = ?", Bind::Text(category.clone()));
        }
    }
    if let Some(tier) = filter.tier {
        add(
            &mut clauses,
            "tier = ?",
            Bind::Text(tier.as_str().to_owned()),
        );
    }
    if let Some(channel) = filter.channel {
        add(
            &mut clauses,
            "channel = ?",
            Bind::Text(channel.as_str().to_owned()),
        );
    }
    if let Some(unit) = &filter.unit {
        add(&mut clauses, "unit = ?", Bind::Text(unit.clone()));
    }
    if let Some(overdue) = filter.overdue {
        clauses.push(if overdue { "overdue" } else { "NOT overdue" }.to_owned());
    }
    if let Some(from) = filter.created_from {
        add(&mut clauses, "created_at >= ?", Bind::Time(from));
    }
    if let Some(to) = filter.created_to {
        add(&mut clauses, "created_at < ?", Bind::Time(to));
    }
    if let Some(cursor) = cursor {
        add(&mut clauses, "id < ?", Bind::Text(cursor.to_owned()));
    }
    if let Some(scope) = &filter.scope {
        let (condition, values) = scope.condition();
        clauses.push(crate::postgres_access::number_marks(
            &condition,
            binds.len(),
        ));
        binds.extend(values.into_iter().map(Bind::Text));
    }
    let where_clause = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    (where_clause, binds)
}

const COUNTER_COLUMNS: [&str; 18] = [
    "reported",
    "accepted",
    "rejected",
    "registered",
    "dispatched",
    "handled",
    "handled_on_time",
    "closed",
    "closed_on_time",
    "reworked",
    "extended",
    "overdue",
    "voided",
    "evaluated",
    "satisfied",
    "settled_in_grid",
    "settled_in_township",
    "handle_seconds",
];

/// The `GROUP BY` key and the row filter of a breakdown.
fn pg_breakdown_sql(by: crate::Breakdown) -> (&'static str, &'static str) {
    match by {
        crate::Breakdown::Category => ("category", "category != '' AND channel = ''"),
        crate::Breakdown::Channel => ("channel", "category = '' AND channel != ''"),
        crate::Breakdown::Day => (
            "to_char(day, 'YYYY-MM-DD')",
            "category = '' AND channel = ''",
        ),
    }
}

fn sum_columns() -> String {
    COUNTER_COLUMNS
        .iter()
        .map(|c| format!("sum({c})::BIGINT"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn pg_counters(row: &PgRow, offset: usize) -> StoreResult<Counters> {
    let mut values = [0i64; 18];
    for (i, value) in values.iter_mut().enumerate() {
        *value = row.try_get::<Option<i64>, _>(offset + i)?.unwrap_or(0);
    }
    Ok(Counters::from_values(values))
}

fn parse_day(text: &str) -> StoreResult<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|e| StoreError::Corrupt(format!("day '{text}': {e}")))
}

/// Enqueues the jobs a case's change causes (`onegrid_domain::jobs`), in the change's
/// transaction; a job already enqueued for the same change is kept as it is.
async fn enqueue_jobs(
    conn: &mut PgConnection,
    before: Option<&Case>,
    after: &Case,
) -> StoreResult<()> {
    for job in onegrid_domain::jobs::jobs_for_change(before, after) {
        sqlx::query(
            "INSERT INTO jobs (key, kind, county_code, case_id, payload, run_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING",
        )
        .bind(&job.key)
        .bind(job.kind.as_str())
        .bind(&job.county)
        .bind(&job.case_id)
        .bind(job.payload.to_string())
        .bind(job.run_at)
        .bind(after.updated_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Adds what a case's change does to the rollups, in the change's transaction. The rows come
/// sorted by key, so concurrent transactions lock them in the same order.
async fn apply_rollups(
    conn: &mut PgConnection,
    before: Option<&Case>,
    after: &Case,
) -> StoreResult<()> {
    let changes = onegrid_domain::metrics::rollup_changes(before, after);
    if changes.is_empty() {
        return Ok(());
    }
    let width = 4 + COUNTER_COLUMNS.len();
    let rows: Vec<String> = (0..changes.len())
        .map(|row| {
            let marks: Vec<String> = (1..=width)
                .map(|column| {
                    let n = row * width + column;
                    if column == 4 {
                        format!("${n}::date")
                    } else {
                        format!("${n}")
                    }
                })
                .collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    let updates: Vec<String> = COUNTER_COLUMNS
        .iter()
        .map(|c| format!("{c} = rollups.{c} + excluded.{c}"))
        .collect();
    let sql = format!(
        "INSERT INTO rollups (area_code, category, channel, day, {}) VALUES {}
         ON CONFLICT (area_code, category, channel, day) DO UPDATE SET {}",
        COUNTER_COLUMNS.join(", "),
        rows.join(", "),
        updates.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (key, delta) in &changes {
        query = query
            .bind(key.area.clone())
            .bind(key.category.clone())
            .bind(key.channel.clone())
            .bind(key.day.clone());
        for (_, value) in delta.fields() {
            query = query.bind(value);
        }
    }
    query.execute(&mut *conn).await?;
    Ok(())
}
