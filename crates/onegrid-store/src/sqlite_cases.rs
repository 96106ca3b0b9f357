//! The SQLite engine's cases and records: the statements behind the case half of `Store`.
//! Everything here runs either inside the writer task's transaction (`&mut SqliteConnection`)
//! or on the reader pool.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use futures_util::TryStreamExt;
use onegrid_domain::Level;
use onegrid_domain::case::Case;
use onegrid_domain::metrics::{Counters, rollup_changes};
use sqlx::Row;
use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};

use crate::audit::{
    ChainWalker, GENESIS, NewRecord, Record, StoredCheckpoint, StoredRecord, VerifyReport,
    checkpoint_hash, time_text,
};
use crate::sqlite_writer_state::{PendingCase, PendingKey, WriterState};
use crate::{
    CaseFilter, CasePage, CreateOutcome, IDEMPOTENCY_DAYS, IdempotencyClaim, StoreError,
    StoreResult,
};

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

/// The case number: county code, the day in Asia/Shanghai and a daily sequence.
async fn next_number(
    conn: &mut SqliteConnection,
    state: &mut WriterState,
    county: &str,
    at: DateTime<Utc>,
) -> StoreResult<String> {
    let shanghai = FixedOffset::east_opt(8 * 3600).ok_or_else(|| {
        StoreError::Corrupt("UTC+8 is a valid offset".to_owned()) // cannot happen
    })?;
    let day = at.with_timezone(&shanghai).format("%Y%m%d").to_string();
    let last = state.next_counter(conn, county, &day).await?;
    Ok(format!("{county}{day}{last:05}"))
}

/// Takes a new case into the group. Nothing is written here: the case, its record and its
/// key wait in the writer state and go to the database with the rest of the group, so that a
/// new case costs the writer one lookup (its key) rather than a round trip per row.
pub(crate) async fn create_case(
    conn: &mut SqliteConnection,
    state: &mut WriterState,
    mut case: Case,
    record: NewRecord,
    claim: Option<IdempotencyClaim>,
) -> StoreResult<CreateOutcome> {
    if let Some(claim) = &claim {
        if let Some(earlier) = state.pending_key(&claim.key) {
            if earlier.request_hash != claim.request_hash {
                return Err(StoreError::KeyReused);
            }
            return Ok(CreateOutcome::Replayed(case_from_body(&earlier.response)?));
        }
        let earlier = sqlx::query(
            "SELECT request_hash, response, created_at FROM idempotency_keys WHERE key = ?",
        )
        .bind(&claim.key)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = earlier {
            let created: DateTime<Utc> = row.try_get("created_at")?;
            if created + Duration::days(IDEMPOTENCY_DAYS) > case.created_at {
                let request_hash: String = row.try_get("request_hash")?;
                if request_hash != claim.request_hash {
                    return Err(StoreError::KeyReused);
                }
                let response: String = row.try_get("response")?;
                return Ok(CreateOutcome::Replayed(case_from_body(&response)?));
            }
            // Older than the window: the key may be used afresh.
            sqlx::query("DELETE FROM idempotency_keys WHERE key = ?")
                .bind(&claim.key)
                .execute(&mut *conn)
                .await?;
        }
    }
    case.number = next_number(conn, state, &case.county, case.created_at).await?;
    let body = to_json(&case)?;
    state.add_rollups(rollup_changes(None, &case));
    let mut record = record;
    record.case_id = Some(case.id.clone());
    append_record(conn, state, &record).await?;
    // Written directly, last of the fallible steps: it commits or rolls back with the group,
    // and a failure here leaves nothing behind (the buffered rows are undone).
    enqueue_jobs(conn, None, &case).await?;
    if let Some(claim) = claim {
        state.pending_keys.push((
            claim.key,
            PendingKey {
                request_hash: claim.request_hash,
                case_id: case.id.clone(),
                response: body.clone(),
                created_at: case.created_at,
            },
        ));
    }
    state.pending_cases.push(PendingCase {
        township: chain_code(&case, Level::Township).map(str::to_owned),
        village: chain_code(&case, Level::Village).map(str::to_owned),
        case: case.clone(),
        body,
    });
    Ok(CreateOutcome::Created(case))
}

/// Adds what a case's change does to the rollups, directly (the rebuild's path; case changes
/// go through the writer state's buffer).
async fn apply_rollups(
    conn: &mut SqliteConnection,
    before: Option<&Case>,
    after: &Case,
) -> StoreResult<()> {
    let single =
        rollup_upsert_sql("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (key, delta) in rollup_changes(before, after) {
        let values = delta.fields();
        sqlx::query(sqlx::AssertSqlSafe(single.clone()))
            .bind(&key.area)
            .bind(&key.category)
            .bind(&key.channel)
            .bind(&key.day)
            .bind(values[0].1)
            .bind(values[1].1)
            .bind(values[2].1)
            .bind(values[3].1)
            .bind(values[4].1)
            .bind(values[5].1)
            .bind(values[6].1)
            .bind(values[7].1)
            .bind(values[8].1)
            .bind(values[9].1)
            .bind(values[10].1)
            .bind(values[11].1)
            .bind(values[12].1)
            .bind(values[13].1)
            .bind(values[14].1)
            .bind(values[15].1)
            .bind(values[16].1)
            .bind(values[17].1)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The upsert of rollup rows, for the given `VALUES` placeholders: adds to existing rows.
pub(crate) fn rollup_upsert_sql(placeholders: &str) -> String {
    format!("{ROLLUP_INSERT} VALUES {placeholders} {ROLLUP_ON_CONFLICT}")
}

const ROLLUP_INSERT: &str =
    "INSERT INTO rollups (area_code, category, channel, day, reported, accepted,
        rejected, registered, dispatched, handled, handled_on_time, closed, closed_on_time,
        reworked, extended, overdue, voided, evaluated, satisfied, settled_in_grid,
        settled_in_township, handle_seconds)";

const ROLLUP_ON_CONFLICT: &str = "ON CONFLICT (area_code, category, channel, day) DO UPDATE SET
        reported = reported + excluded.reported, accepted = accepted + excluded.accepted,
        rejected = rejected + excluded.rejected, registered = registered + excluded.registered,
        dispatched = dispatched + excluded.dispatched, handled = handled + excluded.handled,
        handled_on_time = handled_on_time + excluded.handled_on_time,
        closed = closed + excluded.closed, closed_on_time = closed_on_time + excluded.closed_on_time,
        reworked = reworked + excluded.reworked, extended = extended + excluded.extended,
        overdue = overdue + excluded.overdue, voided = voided + excluded.voided,
        evaluated = evaluated + excluded.evaluated, satisfied = satisfied + excluded.satisfied,
        settled_in_grid = settled_in_grid + excluded.settled_in_grid,
        settled_in_township = settled_in_township + excluded.settled_in_township,
        handle_seconds = handle_seconds + excluded.handle_seconds";

/// The counter columns, in `Counters::fields` order.
pub(crate) const COUNTER_COLUMNS: &str = "reported, accepted, rejected, registered, dispatched,
    handled, handled_on_time, closed, closed_on_time, reworked, extended, overdue, voided,
    evaluated, satisfied, settled_in_grid, settled_in_township, handle_seconds";

pub(crate) fn counters_from_row(row: &SqliteRow, offset: usize) -> StoreResult<Counters> {
    let mut values = [0i64; 18];
    for (i, value) in values.iter_mut().enumerate() {
        *value = row.try_get::<Option<i64>, _>(offset + i)?.unwrap_or(0);
    }
    Ok(Counters::from_values(values))
}

/// The most area codes bound in one statement (SQLite allows 32,766 variables).
const AREAS_PER_QUERY: usize = 500;

fn placeholders(count: usize) -> String {
    vec!["?"; count].join(", ")
}

/// The rollups of each area over a period, for all cases or one 大类 or channel: one query
/// per 500 areas (`area_code IN (…)`, grouped by area), one answer per area asked, in order,
/// zero where an area has no rows.
pub(crate) async fn rollup_sums(
    pool: &SqlitePool,
    areas: &[String],
    category: &str,
    channel: &str,
    from_day: &str,
    to_day: &str,
) -> StoreResult<Vec<(String, Counters)>> {
    let sum_columns = COUNTER_COLUMNS
        .split(',')
        .map(|c| format!("sum({})", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut found: std::collections::HashMap<String, Counters> = Default::default();
    for chunk in areas.chunks(AREAS_PER_QUERY) {
        let sql = format!(
            "SELECT area_code, {sum_columns} FROM rollups
             WHERE area_code IN ({}) AND category = ? AND channel = ? AND day >= ? AND day < ?
             GROUP BY area_code",
            placeholders(chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for area in chunk {
            query = query.bind(area);
        }
        let rows = query
            .bind(category)
            .bind(channel)
            .bind(from_day)
            .bind(to_day)
            .fetch_all(pool)
            .await?;
        for row in &rows {
            found.insert(row.try_get("area_code")?, counters_from_row(row, 1)?);
        }
    }
    Ok(areas
        .iter()
        .map(|area| (area.clone(), found.get(area).copied().unwrap_or_default()))
        .collect())
}

/// The key and the row filter of a breakdown. The filters are ranges of the primary key
/// (`category > ''`, not `!= ''`), and the queries group by `area_code, key`, the key's
/// order: SQLite then walks each area's rows in key order and sums them as it goes, where
/// grouping by the key alone sorted every row first (a city's year of channel rows: 40 ms
/// against 5 ms, measured on the 10-million-case bench store).
fn breakdown_sql(by: crate::Breakdown) -> (&'static str, &'static str) {
    match by {
        crate::Breakdown::Category => ("category", "category > '' AND channel = ''"),
        crate::Breakdown::Channel => ("channel", "category = '' AND channel > ''"),
        crate::Breakdown::Day => ("day", "category = '' AND channel = ''"),
    }
}

/// The rows of several areas over a period, summed together and broken down by 大类, channel
/// or day.
pub(crate) async fn rollup_breakdown(
    pool: &SqlitePool,
    areas: &[String],
    by: crate::Breakdown,
    from_day: &str,
    to_day: &str,
) -> StoreResult<Vec<(String, Counters)>> {
    let sum_columns = COUNTER_COLUMNS
        .split(',')
        .map(|c| format!("sum({})", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let (group, filter) = breakdown_sql(by);
    let mut merged: std::collections::BTreeMap<String, Counters> = Default::default();
    for chunk in areas.chunks(AREAS_PER_QUERY) {
        let sql = format!(
            "SELECT {group}, {sum_columns} FROM rollups
             WHERE area_code IN ({}) AND {filter} AND day >= ? AND day < ?
             GROUP BY area_code, {group}",
            placeholders(chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for area in chunk {
            query = query.bind(area);
        }
        let rows = query.bind(from_day).bind(to_day).fetch_all(pool).await?;
        for row in &rows {
            let entry = merged.entry(row.try_get::<String, _>(0)?).or_default();
            *entry = entry.plus(counters_from_row(row, 1)?);
        }
    }
    Ok(merged.into_iter().collect())
}

/// Cases reported in several areas over a period, by 大类, channel or day: the one column a
/// mix needs, so a city's year reads one integer per row instead of eighteen.
pub(crate) async fn rollup_mix(
    pool: &SqlitePool,
    areas: &[String],
    by: crate::Breakdown,
    from_day: &str,
    to_day: &str,
) -> StoreResult<Vec<(String, i64)>> {
    let (group, filter) = breakdown_sql(by);
    let mut merged: std::collections::BTreeMap<String, i64> = Default::default();
    for chunk in areas.chunks(AREAS_PER_QUERY) {
        let sql = format!(
            "SELECT {group}, sum(reported) FROM rollups
             WHERE area_code IN ({}) AND {filter} AND day >= ? AND day < ?
             GROUP BY area_code, {group}",
            placeholders(chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for area in chunk {
            query = query.bind(area);
        }
        let rows = query.bind(from_day).bind(to_day).fetch_all(pool).await?;
        for row in &rows {
            *merged.entry(row.try_get::<String, _>(0)?).or_default() +=
                row.try_get::<Option<i64>, _>(1)?.unwrap_or(0);
        }
    }
    Ok(merged.into_iter().collect())
}

/// Recomputes every rollup row from the cases.
pub(crate) async fn rebuild_rollups(
    conn: &mut SqliteConnection,
    state: &mut WriterState,
) -> StoreResult<u64> {
    // Changes buffered by earlier jobs of this group are about to be counted from the cases.
    state.flush_rollups(conn).await?;
    sqlx::query("DELETE FROM rollups")
        .execute(&mut *conn)
        .await?;
    let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM cases")
        .fetch_all(&mut *conn)
        .await?;
    for body in &bodies {
        let case = case_from_body(body)?;
        apply_rollups(conn, None, &case).await?;
    }
    Ok(bodies.len() as u64)
}

pub(crate) async fn update_case(
    conn: &mut SqliteConnection,
    state: &mut WriterState,
    case: Case,
    expected_version: u32,
    record: NewRecord,
) -> StoreResult<()> {
    let body = to_json(&case)?;
    let before: Option<String> =
        sqlx::query_scalar("SELECT body FROM cases WHERE id = ? AND version = ?")
            .bind(&case.id)
            .bind(i64::from(expected_version))
            .fetch_optional(&mut *conn)
            .await?;
    let before = before.as_deref().map(case_from_body).transpose()?;
    let done = sqlx::query(
        "UPDATE cases SET grid_code = ?, state = ?, tier = ?, category = ?, urgency = ?,
                unit = ?, overdue = ?, stage_overdue = ?, is_open = ?, stage_deadline = ?,
                updated_at = ?, version = ?, body = ?
         WHERE id = ? AND version = ?",
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
    .bind(&case.id)
    .bind(i64::from(expected_version))
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        let current: Option<i64> = sqlx::query_scalar("SELECT version FROM cases WHERE id = ?")
            .bind(&case.id)
            .fetch_optional(&mut *conn)
            .await?;
        return Err(match current {
            Some(version) => StoreError::Conflict(format!(
                "case {} is at version {version}, not {expected_version}",
                case.id
            )),
            None => StoreError::Conflict(format!("case {} does not exist", case.id)),
        });
    }
    state.add_rollups(rollup_changes(before.as_ref(), &case));
    append_record(conn, state, &record).await?;
    enqueue_jobs(conn, before.as_ref(), &case).await
}

/// Enqueues the jobs a case's change causes (`onegrid_domain::jobs`), in the change's
/// transaction; a job already enqueued for the same change is kept as it is.
pub(crate) async fn enqueue_jobs(
    conn: &mut SqliteConnection,
    before: Option<&Case>,
    after: &Case,
) -> StoreResult<()> {
    for job in onegrid_domain::jobs::jobs_for_change(before, after) {
        sqlx::query(
            "INSERT INTO jobs (key, kind, county_code, case_id, payload, run_at, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
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

/// Claims due jobs for `worker` (see `Store::claim_jobs`). The writer is alone, so no row
/// locks are needed: the claim is one statement in the writer's transaction.
pub(crate) async fn claim_jobs(
    conn: &mut SqliteConnection,
    worker: &str,
    now: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<crate::jobs::Job>> {
    let rows = sqlx::query(
        "UPDATE jobs SET locked_by = ?1, locked_until = ?2, attempts = attempts + 1
         WHERE id IN (
             SELECT id FROM jobs
             WHERE state = 'pending' AND run_at <= ?3
               AND (locked_until IS NULL OR locked_until < ?3)
             ORDER BY run_at, id
             LIMIT ?4)
         RETURNING id, key, kind, county_code, case_id, payload, run_at, attempts",
    )
    .bind(worker)
    .bind(now + Duration::seconds(crate::jobs::LEASE_SECONDS))
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    let mut jobs = Vec::with_capacity(rows.len());
    for row in &rows {
        let payload: String = row.try_get("payload")?;
        jobs.push(crate::jobs::Job {
            id: row.try_get("id")?,
            key: row.try_get("key")?,
            kind: row.try_get("kind")?,
            county: row.try_get("county_code")?,
            case_id: row.try_get("case_id")?,
            payload: crate::jobs::payload_from_text(&payload)?,
            run_at: row.try_get("run_at")?,
            attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(0),
        });
    }
    jobs.sort_by_key(|job| (job.run_at, job.id));
    Ok(jobs)
}

/// Ends a run of a claimed job (see `Store::finish_job`).
pub(crate) async fn finish_job(
    conn: &mut SqliteConnection,
    finish: &crate::jobs::JobFinish,
) -> StoreResult<bool> {
    use crate::jobs::JobOutcome;
    let (state, run_at) = match &finish.outcome {
        JobOutcome::Done(_) => ("done", None),
        JobOutcome::Retry { at, .. } => ("pending", Some(*at)),
        JobOutcome::Failed(_) => ("failed", None),
    };
    let done_at = (state != "pending").then_some(finish.finished_at);
    let held = sqlx::query(
        "UPDATE jobs SET state = ?3, run_at = coalesce(?4, run_at), last_error = ?5,
                locked_by = NULL, locked_until = NULL, done_at = ?6
         WHERE id = ?1 AND locked_by = ?2 AND state = 'pending'",
    )
    .bind(finish.job_id)
    .bind(&finish.worker)
    .bind(state)
    .bind(run_at)
    .bind(finish.outcome.error())
    .bind(done_at)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if held && let JobOutcome::Done(Some(notice)) = &finish.outcome {
        sqlx::query(
            "INSERT INTO notices (job_id, unit, county_code, case_id, message, created_at)
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING",
        )
        .bind(finish.job_id)
        .bind(&notice.unit)
        .bind(&notice.county)
        .bind(&notice.case_id)
        .bind(&notice.message)
        .bind(finish.finished_at)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "INSERT INTO job_runs (job_id, worker, started_at, finished_at, outcome, error)
         VALUES (?, ?, ?, ?, ?, ?)",
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
    .execute(&mut *conn)
    .await?;
    Ok(held)
}

/// Appends one record to its county's chain, moving the chain's head.
pub(crate) async fn append_record(
    conn: &mut SqliteConnection,
    state: &mut WriterState,
    record: &NewRecord,
) -> StoreResult<()> {
    let (last_seq, prev_hash) = state.head(conn, &record.county).await?;
    let sealed = StoredRecord::seal(record, last_seq + 1, prev_hash);
    let (seq, hash) = (sealed.seq, sealed.hash.clone());
    state.pending_records.push(sealed);
    state.move_head(&record.county, seq, hash);
    Ok(())
}

pub(crate) fn record_from_row(row: &SqliteRow) -> StoreResult<Record> {
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

pub(crate) async fn write_checkpoint(
    conn: &mut SqliteConnection,
    state: &mut WriterState,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    state.flush_heads(conn).await?;
    let rows = sqlx::query("SELECT county_code, seq, hash FROM chain_heads ORDER BY county_code")
        .fetch_all(&mut *conn)
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
    let last = sqlx::query("SELECT seq, heads, hash FROM checkpoints ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
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
    sqlx::query("INSERT INTO checkpoints (seq, at, heads, prev_hash, hash) VALUES (?, ?, ?, ?, ?)")
        .bind(seq)
        .bind(&at)
        .bind(&heads)
        .bind(&prev_hash)
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// Walks every chain and the checkpoint log (`audit::ChainWalker`); stops at the first problem.
pub(crate) async fn verify(pool: &SqlitePool) -> StoreResult<VerifyReport> {
    let mut walker = ChainWalker::default();
    {
        let mut rows = sqlx::query(
            "SELECT county_code, seq, id, case_id, act, actor, role, from_state, to_state, at,
                    note, attachments, details, prev_hash, hash
             FROM records ORDER BY county_code, seq",
        )
        .fetch(pool);
        while let Some(row) = rows.try_next().await? {
            if !walker.record(&stored_record(&row)?) {
                return Ok(walker.finish());
            }
        }
    }
    let mut heads = Vec::new();
    for row in sqlx::query("SELECT county_code, seq, hash FROM chain_heads")
        .fetch_all(pool)
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
            .fetch_all(pool)
            .await?;
    for row in &checkpoints {
        let checkpoint = StoredCheckpoint {
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
                sqlx::query_scalar("SELECT hash FROM records WHERE county_code = ? AND seq = ?")
                    .bind(&county)
                    .bind(seq)
                    .fetch_optional(pool)
                    .await?;
            if at_seq.as_deref() != Some(hash.as_str()) {
                walker.checkpoint_head_missing(checkpoint.seq, &county, seq);
                return Ok(walker.finish());
            }
        }
    }
    Ok(walker.finish())
}

fn stored_record(row: &SqliteRow) -> StoreResult<StoredRecord> {
    Ok(StoredRecord {
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
    })
}

/// A value bound to a list query.
pub(crate) enum Bind {
    Text(String),
    Time(DateTime<Utc>),
}

impl From<String> for Bind {
    fn from(text: String) -> Bind {
        Bind::Text(text)
    }
}

pub(crate) fn filter_sql(filter: &CaseFilter, cursor: Option<&str>) -> (String, Vec<Bind>) {
    let mut clauses: Vec<String> = Vec::new();
    let mut binds: Vec<Bind> = Vec::new();
    if let Some(region) = &filter.region {
        let code = region.as_str().to_owned();
        match region.level() {
            Level::Province => {
                clauses.push("county_code LIKE ?".to_owned());
                binds.push(format!("{}%", &code[..2]).into());
            }
            Level::City => {
                clauses.push("county_code LIKE ?".to_owned());
                binds.push(format!("{}%", &code[..4]).into());
            }
            Level::County => {
                clauses.push("county_code = ?".to_owned());
                binds.push(code.into());
            }
            Level::Township => {
                clauses.push("township_code = ?".to_owned());
                binds.push(code.into());
            }
            Level::Village => {
                clauses.push("village_code = ?".to_owned());
                binds.push(code.into());
            }
            Level::Grid => {
                clauses.push("grid_code = ?".to_owned());
                binds.push(code.into());
            }
        }
    }
    if !filter.states.is_empty() {
        let marks = vec!["?"; filter.states.len()].join(", ");
        clauses.push(format!("state IN ({marks})"));
        binds.extend(
            filter
                .states
                .iter()
                .map(|s| Bind::Text(s.as_str().to_owned())),
        );
    }
    if let Some(category) = &filter.category {
        if category.len() == 2 {
            clauses.push("category LIKE ?".to_owned());
            binds.push(format!("{category}%").into());
        } else {
            clauses.push("category = ?".to_owned());
            binds.push(category.clone().into());
        }
    }
    if let Some(tier) = filter.tier {
        clauses.push("tier = ?".to_owned());
        binds.push(tier.as_str().to_owned().into());
    }
    if let Some(channel) = filter.channel {
        clauses.push("channel = ?".to_owned());
        binds.push(channel.as_str().to_owned().into());
    }
    if let Some(unit) = &filter.unit {
        clauses.push("unit = ?".to_owned());
        binds.push(unit.clone().into());
    }
    if let Some(overdue) = filter.overdue {
        clauses.push(
            if overdue {
                "overdue = 1"
            } else {
                "overdue = 0"
            }
            .to_owned(),
        );
    }
    if let Some(from) = filter.created_from {
        clauses.push("created_at >= ?".to_owned());
        binds.push(Bind::Time(from));
    }
    if let Some(to) = filter.created_to {
        clauses.push("created_at < ?".to_owned());
        binds.push(Bind::Time(to));
    }
    if let Some(scope) = &filter.scope {
        let (condition, values) = scope.condition();
        clauses.push(condition);
        binds.extend(values.into_iter().map(Bind::Text));
    }
    if let Some(cursor) = cursor {
        clauses.push("id < ?".to_owned());
        binds.push(cursor.to_owned().into());
    }
    let where_clause = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    (where_clause, binds)
}

pub(crate) async fn list(
    pool: &SqlitePool,
    filter: &CaseFilter,
    cursor: Option<&str>,
    limit: u32,
) -> StoreResult<CasePage> {
    let (where_clause, binds) = filter_sql(filter, cursor);
    let limit = limit.clamp(1, 500);
    let sql = format!("SELECT id, body FROM cases {where_clause} ORDER BY id DESC LIMIT ?");
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for bind in binds {
        query = match bind {
            Bind::Text(text) => query.bind(text),
            Bind::Time(time) => query.bind(time),
        };
    }
    let rows = query.bind(i64::from(limit) + 1).fetch_all(pool).await?;
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
