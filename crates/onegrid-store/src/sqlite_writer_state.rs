//! What the SQLite writer task keeps between the statements of a group: the chain heads and
//! case counters it owns (it is the only writer, so its copies are the truth while it runs),
//! and the rollup changes of the group, merged by row and written once before the commit.
//!
//! Fewer round trips per write is what lets one writer keep up with thousands of cases a
//! second: a case costs its own rows (case, record, idempotency key) and nothing else; heads,
//! counters and rollups are flushed per group in a few multi-row statements. A job whose
//! savepoint is rolled back undoes what it changed here through a journal; a group that fails
//! to commit drops the caches, which are then read afresh from the database.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use onegrid_domain::metrics::{Counters, RollupKey};
use sqlx::Row;
use sqlx::sqlite::SqliteConnection;

use crate::StoreResult;
use crate::audit::GENESIS;

enum Undo {
    Head {
        county: String,
        previous: Option<(i64, String)>,
    },
    Counter {
        key: (String, String),
        previous: Option<i64>,
    },
}

/// A new case waiting for the group's flush, with its stored columns.
pub(crate) struct PendingCase {
    pub case: onegrid_domain::case::Case,
    pub body: String,
    pub township: Option<String>,
    pub village: Option<String>,
}

/// An idempotency key claimed in this group.
#[derive(Clone)]
pub(crate) struct PendingKey {
    pub request_hash: String,
    pub case_id: String,
    pub response: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Default)]
pub(crate) struct WriterState {
    pub(crate) pending_cases: Vec<PendingCase>,
    /// Records waiting for the group's flush: every column as stored and hashed.
    pub(crate) pending_records: Vec<crate::audit::StoredRecord>,
    pub(crate) pending_keys: Vec<(String, PendingKey)>,
    job_marks: (usize, usize, usize),
    heads: HashMap<String, (i64, String)>,
    dirty_heads: BTreeSet<String>,
    counters: HashMap<(String, String), i64>,
    dirty_counters: BTreeSet<(String, String)>,
    rollups: BTreeMap<RollupKey, Counters>,
    job_rollups: Vec<(RollupKey, Counters)>,
    journal: Vec<Undo>,
}

/// SQLite's limit on bound parameters is 32,766: rollup rows bind 22 each, cases 20,
/// records 15, keys 5.
const ROLLUP_ROWS_PER_STATEMENT: usize = 1000;
const CASE_ROWS_PER_STATEMENT: usize = 1000;
const RECORD_ROWS_PER_STATEMENT: usize = 1000;
const KEY_ROWS_PER_STATEMENT: usize = 2000;

impl WriterState {
    pub(crate) fn begin_job(&mut self) {
        self.journal.clear();
        self.job_rollups.clear();
        self.job_marks = (
            self.pending_cases.len(),
            self.pending_records.len(),
            self.pending_keys.len(),
        );
    }

    /// Whether rows wait to be written.
    pub(crate) fn has_pending(&self) -> bool {
        !self.pending_cases.is_empty()
            || !self.pending_records.is_empty()
            || !self.pending_keys.is_empty()
            || !self.rollups.is_empty()
            || !self.dirty_heads.is_empty()
            || !self.dirty_counters.is_empty()
    }

    /// A key claimed earlier in this group.
    pub(crate) fn pending_key(&self, key: &str) -> Option<&PendingKey> {
        self.pending_keys
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, pending)| pending)
    }

    /// The job succeeded: its rollup changes join the group's.
    pub(crate) fn keep_job(&mut self) {
        for (key, delta) in self.job_rollups.drain(..) {
            let entry = self.rollups.entry(key).or_default();
            *entry = entry.plus(delta);
        }
        self.journal.clear();
    }

    /// The job's savepoint was rolled back: so is what it did here.
    pub(crate) fn undo_job(&mut self) {
        self.job_rollups.clear();
        let (cases, records, keys) = self.job_marks;
        self.pending_cases.truncate(cases);
        self.pending_records.truncate(records);
        self.pending_keys.truncate(keys);
        while let Some(undo) = self.journal.pop() {
            match undo {
                Undo::Head { county, previous } => match previous {
                    Some(head) => {
                        self.heads.insert(county, head);
                    }
                    None => {
                        self.heads.remove(&county);
                        self.dirty_heads.remove(&county);
                    }
                },
                Undo::Counter { key, previous } => match previous {
                    Some(last) => {
                        self.counters.insert(key, last);
                    }
                    None => {
                        self.counters.remove(&key);
                        self.dirty_counters.remove(&key);
                    }
                },
            }
        }
    }

    /// The group did not commit: nothing cached can be trusted.
    pub(crate) fn forget(&mut self) {
        *self = WriterState::default();
    }

    /// The head of a county's chain: `(0, GENESIS)` for a chain not begun.
    pub(crate) async fn head(
        &mut self,
        conn: &mut SqliteConnection,
        county: &str,
    ) -> StoreResult<(i64, String)> {
        if let Some(head) = self.heads.get(county) {
            return Ok(head.clone());
        }
        let row = sqlx::query("SELECT seq, hash FROM chain_heads WHERE county_code = ?")
            .bind(county)
            .fetch_optional(&mut *conn)
            .await?;
        let head = match row {
            Some(row) => (row.try_get("seq")?, row.try_get("hash")?),
            None => (0, GENESIS.to_owned()),
        };
        self.heads.insert(county.to_owned(), head.clone());
        Ok(head)
    }

    pub(crate) fn move_head(&mut self, county: &str, seq: i64, hash: String) {
        let previous = self.heads.insert(county.to_owned(), (seq, hash));
        self.journal.push(Undo::Head {
            county: county.to_owned(),
            previous,
        });
        self.dirty_heads.insert(county.to_owned());
    }

    /// The next number of a county's day.
    pub(crate) async fn next_counter(
        &mut self,
        conn: &mut SqliteConnection,
        county: &str,
        day: &str,
    ) -> StoreResult<i64> {
        let key = (county.to_owned(), day.to_owned());
        let last = match self.counters.get(&key) {
            Some(last) => *last,
            None => {
                let stored: Option<i64> = sqlx::query_scalar(
                    "SELECT last FROM case_counters WHERE county_code = ? AND day = ?",
                )
                .bind(county)
                .bind(day)
                .fetch_optional(&mut *conn)
                .await?;
                stored.unwrap_or(0)
            }
        };
        let previous = self.counters.insert(key.clone(), last + 1);
        self.journal.push(Undo::Counter {
            key: key.clone(),
            previous,
        });
        self.dirty_counters.insert(key);
        Ok(last + 1)
    }

    pub(crate) fn add_rollups(&mut self, changes: Vec<(RollupKey, Counters)>) {
        self.job_rollups.extend(changes);
    }

    /// Writes the moved heads (so that a checkpoint in the same group reads them).
    pub(crate) async fn flush_heads(&mut self, conn: &mut SqliteConnection) -> StoreResult<()> {
        for county in std::mem::take(&mut self.dirty_heads) {
            let Some((seq, hash)) = self.heads.get(&county) else {
                continue;
            };
            sqlx::query(
                "INSERT INTO chain_heads (county_code, seq, hash) VALUES (?, ?, ?)
                 ON CONFLICT (county_code) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            )
            .bind(&county)
            .bind(seq)
            .bind(hash)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// Writes everything the group changed here, before its commit.
    pub(crate) async fn flush(&mut self, conn: &mut SqliteConnection) -> StoreResult<()> {
        self.flush_rows(conn).await?;
        self.flush_heads(conn).await?;
        for (county, day) in std::mem::take(&mut self.dirty_counters) {
            let Some(last) = self.counters.get(&(county.clone(), day.clone())) else {
                continue;
            };
            sqlx::query(
                "INSERT INTO case_counters (county_code, day, last) VALUES (?, ?, ?)
                 ON CONFLICT (county_code, day) DO UPDATE SET last = excluded.last",
            )
            .bind(&county)
            .bind(&day)
            .bind(last)
            .execute(&mut *conn)
            .await?;
        }
        self.flush_rollups(conn).await
    }

    /// The buffered cases, records and idempotency keys, in multi-row inserts.
    async fn flush_rows(&mut self, conn: &mut SqliteConnection) -> StoreResult<()> {
        let cases = std::mem::take(&mut self.pending_cases);
        for chunk in cases.chunks(CASE_ROWS_PER_STATEMENT) {
            let row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
            let sql = format!(
                "INSERT INTO cases (id, number, county_code, township_code, village_code,
                    grid_code, state, tier, channel, category, urgency, unit, overdue,
                    stage_overdue, is_open, stage_deadline, created_at, updated_at, version, body)
                 VALUES {}",
                vec![row; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for pending in chunk {
                let case = &pending.case;
                query = query
                    .bind(case.id.clone())
                    .bind(case.number.clone())
                    .bind(case.county.clone())
                    .bind(pending.township.clone())
                    .bind(pending.village.clone())
                    .bind(case.grid.clone())
                    .bind(case.state.as_str())
                    .bind(case.tier.as_str())
                    .bind(case.channel.as_str())
                    .bind(case.category.clone())
                    .bind(case.urgency.as_str())
                    .bind(case.unit.clone())
                    .bind(case.overdue)
                    .bind(case.stage_overdue)
                    .bind(case.state.is_open())
                    .bind(case.stage_deadline)
                    .bind(case.created_at)
                    .bind(case.updated_at)
                    .bind(i64::from(case.version))
                    .bind(pending.body.clone());
            }
            query.execute(&mut *conn).await?;
        }
        let access: Vec<&PendingCase> = cases
            .iter()
            .filter(|pending| crate::reporter_has_access(&pending.case.reporter))
            .collect();
        for chunk in access.chunks(CASE_ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO case_access (case_id, county_code, reporter_account, tracking_hash,
                    phone_hash) VALUES {}",
                vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for pending in chunk {
                let reporter = &pending.case.reporter;
                query = query
                    .bind(pending.case.id.clone())
                    .bind(pending.case.county.clone())
                    .bind(reporter.account.clone())
                    .bind(reporter.tracking_hash.clone())
                    .bind(reporter.phone_hash.clone());
            }
            query.execute(&mut *conn).await?;
        }
        let records = std::mem::take(&mut self.pending_records);
        for chunk in records.chunks(RECORD_ROWS_PER_STATEMENT) {
            let row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
            let sql = format!(
                "INSERT INTO records (county_code, seq, id, case_id, act, actor, role,
                    from_state, to_state, at, note, attachments, details, prev_hash, hash)
                 VALUES {}",
                vec![row; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                query = query
                    .bind(r.county.clone())
                    .bind(r.seq)
                    .bind(r.id.clone())
                    .bind(r.case_id.clone())
                    .bind(r.act.clone())
                    .bind(r.actor.clone())
                    .bind(r.role.clone())
                    .bind(r.from_state.clone())
                    .bind(r.to_state.clone())
                    .bind(r.at.clone())
                    .bind(r.note.clone())
                    .bind(r.attachments.clone())
                    .bind(r.details.clone())
                    .bind(r.prev_hash.clone())
                    .bind(r.hash.clone());
            }
            query.execute(&mut *conn).await?;
        }
        let keys = std::mem::take(&mut self.pending_keys);
        for chunk in keys.chunks(KEY_ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO idempotency_keys (key, request_hash, case_id, response, created_at)
                 VALUES {}",
                vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (key, pending) in chunk {
                query = query
                    .bind(key.clone())
                    .bind(pending.request_hash.clone())
                    .bind(pending.case_id.clone())
                    .bind(pending.response.clone())
                    .bind(pending.created_at);
            }
            query.execute(&mut *conn).await?;
        }
        Ok(())
    }

    pub(crate) async fn flush_rollups(&mut self, conn: &mut SqliteConnection) -> StoreResult<()> {
        let rows: Vec<(RollupKey, Counters)> = std::mem::take(&mut self.rollups)
            .into_iter()
            .filter(|(_, c)| !c.is_zero())
            .collect();
        for chunk in rows.chunks(ROLLUP_ROWS_PER_STATEMENT) {
            let placeholders = vec![
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
                chunk.len()
            ]
            .join(", ");
            let sql = crate::sqlite_cases::rollup_upsert_sql(&placeholders);
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (key, delta) in chunk {
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
        }
        Ok(())
    }
}
