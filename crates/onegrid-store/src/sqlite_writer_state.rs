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

#[derive(Default)]
pub(crate) struct WriterState {
    heads: HashMap<String, (i64, String)>,
    dirty_heads: BTreeSet<String>,
    counters: HashMap<(String, String), i64>,
    dirty_counters: BTreeSet<(String, String)>,
    rollups: BTreeMap<RollupKey, Counters>,
    job_rollups: Vec<(RollupKey, Counters)>,
    journal: Vec<Undo>,
}

/// SQLite's limit on bound parameters is 32,766; rollup rows bind 22 each.
const ROLLUP_ROWS_PER_STATEMENT: usize = 1000;

impl WriterState {
    pub(crate) fn begin_job(&mut self) {
        self.journal.clear();
        self.job_rollups.clear();
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
