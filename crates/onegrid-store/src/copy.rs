//! Moving a city from the embedded SQLite store to PostgreSQL (`onegrid copy`), with nothing
//! lost.
//!
//! Every table is copied raw, row by row and column by column, converting only the storage
//! type (text times become `TIMESTAMPTZ`, `0/1` become booleans, JSON text becomes `JSONB`,
//! comma-joined roles become `TEXT[]`). Nothing is recomputed: the records keep their stored
//! text, sequence numbers and hashes, so their chains verify on the target exactly as they
//! did on the source.
//!
//! All or nothing: the source is read in one read transaction (one snapshot, even while it
//! serves), the target is written in one transaction that first locks every table and refuses
//! a target that holds any row, and before committing the copy compares every table's count
//! with the source's and walks the copied chains. Any difference rolls everything back.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::TryStreamExt;
use sqlx::postgres::{PgConnectOptions, PgConnection, Postgres};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteRow};
use sqlx::{Connection, QueryBuilder, Row};

use crate::{StoreError, StoreResult};

/// How a column is stored on each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Integer,
    /// `INTEGER` on PostgreSQL (32 bits).
    Integer32,
    Real,
    /// SQLite `0/1` → `BOOLEAN`.
    Boolean,
    /// SQLite RFC 3339 text → `TIMESTAMPTZ`.
    Time,
    /// SQLite `YYYY-MM-DD` or `YYYYMMDD` text → `DATE`.
    Day,
    /// SQLite JSON text → `JSONB`.
    Json,
    Bytes,
    /// SQLite comma-joined text → `TEXT[]`.
    Roles,
}

/// One table to copy: its columns in order, and whether PostgreSQL generates its first
/// column (an identity that the copy overrides and then moves past).
struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Kind)],
    identity: Option<&'static str>,
}

use Kind::{Boolean, Bytes, Day, Integer, Integer32, Json, Real, Roles, Text, Time};

const COUNTERS: [(&str, Kind); 18] = [
    ("reported", Integer),
    ("accepted", Integer),
    ("rejected", Integer),
    ("registered", Integer),
    ("dispatched", Integer),
    ("handled", Integer),
    ("handled_on_time", Integer),
    ("closed", Integer),
    ("closed_on_time", Integer),
    ("reworked", Integer),
    ("extended", Integer),
    ("overdue", Integer),
    ("voided", Integer),
    ("evaluated", Integer),
    ("satisfied", Integer),
    ("settled_in_grid", Integer),
    ("settled_in_township", Integer),
    ("handle_seconds", Integer),
];

const ROLLUP_COLUMNS: [(&str, Kind); 22] = {
    let mut columns = [("area_code", Text); 22];
    columns[1] = ("category", Text);
    columns[2] = ("channel", Text);
    columns[3] = ("day", Day);
    let mut i = 0;
    while i < COUNTERS.len() {
        columns[4 + i] = COUNTERS[i];
        i += 1;
    }
    columns
};

/// Every table of the store, parents before children (areas refer to regions). A table the
/// source holds that is not listed here stops the copy: nothing is left behind silently.
const TABLES: &[Table] = &[
    Table {
        name: "regions",
        columns: &[
            ("code", Text),
            ("level", Text),
            ("name", Text),
            ("parent_code", Text),
            ("county_code", Text),
            ("valid_from", Time),
            ("valid_to", Time),
            ("successor_code", Text),
        ],
        identity: None,
    },
    Table {
        name: "region_history",
        columns: &[
            ("id", Integer),
            ("code", Text),
            ("level", Text),
            ("name", Text),
            ("parent_code", Text),
            ("valid_from", Time),
            ("valid_to", Time),
        ],
        identity: Some("id"),
    },
    Table {
        name: "areas",
        columns: &[
            ("code", Text),
            ("level", Text),
            ("county_code", Text),
            ("geometry", Text),
            ("area_m2", Real),
            ("min_lon", Real),
            ("min_lat", Real),
            ("max_lon", Real),
            ("max_lat", Real),
            ("source_crs", Text),
            ("imported_at", Time),
        ],
        identity: None,
    },
    Table {
        name: "users",
        columns: &[
            ("id", Text),
            ("login", Text),
            ("display_name", Text),
            ("roles", Roles),
            ("scope_code", Text),
            ("county_code", Text),
            ("created_at", Time),
            ("password_hash", Text),
            ("totp_secret", Text),
            ("totp_enabled", Boolean),
            ("failed_logins", Integer32),
            ("locked_until", Time),
            ("disabled", Boolean),
        ],
        identity: None,
    },
    Table {
        name: "assignments",
        columns: &[
            ("user_id", Text),
            ("role", Text),
            ("scope", Text),
            ("granted_at", Time),
        ],
        identity: None,
    },
    Table {
        name: "sessions",
        columns: &[
            ("id_hash", Text),
            ("user_id", Text),
            ("csrf", Text),
            ("created_at", Time),
            ("last_seen_at", Time),
            ("ended_at", Time),
        ],
        identity: None,
    },
    Table {
        name: "api_tokens",
        columns: &[
            ("id", Text),
            ("user_id", Text),
            ("name", Text),
            ("hash", Text),
            ("scope", Text),
            ("created_at", Time),
            ("last_used_at", Time),
            ("revoked_at", Time),
        ],
        identity: None,
    },
    Table {
        name: "meta",
        columns: &[("key", Text), ("value", Text)],
        identity: None,
    },
    Table {
        name: "cases",
        columns: &[
            ("county_code", Text),
            ("id", Text),
            ("number", Text),
            ("township_code", Text),
            ("village_code", Text),
            ("grid_code", Text),
            ("state", Text),
            ("tier", Text),
            ("channel", Text),
            ("category", Text),
            ("urgency", Text),
            ("unit", Text),
            ("overdue", Boolean),
            ("stage_overdue", Boolean),
            ("is_open", Boolean),
            ("stage_deadline", Time),
            ("created_at", Time),
            ("updated_at", Time),
            ("version", Integer),
            ("body", Json),
        ],
        identity: None,
    },
    Table {
        name: "case_access",
        columns: &[
            ("case_id", Text),
            ("county_code", Text),
            ("reporter_account", Text),
            ("tracking_hash", Text),
            ("phone_hash", Text),
        ],
        identity: None,
    },
    Table {
        name: "records",
        columns: &[
            ("county_code", Text),
            ("seq", Integer),
            ("id", Text),
            ("case_id", Text),
            ("act", Text),
            ("actor", Text),
            ("role", Text),
            ("from_state", Text),
            ("to_state", Text),
            ("at", Text),
            ("note", Text),
            ("attachments", Text),
            ("details", Text),
            ("prev_hash", Text),
            ("hash", Text),
        ],
        identity: None,
    },
    Table {
        name: "chain_heads",
        columns: &[("county_code", Text), ("seq", Integer), ("hash", Text)],
        identity: None,
    },
    Table {
        name: "checkpoints",
        columns: &[
            ("seq", Integer),
            ("at", Text),
            ("heads", Text),
            ("prev_hash", Text),
            ("hash", Text),
        ],
        identity: None,
    },
    Table {
        name: "idempotency_keys",
        columns: &[
            ("key", Text),
            ("request_hash", Text),
            ("case_id", Text),
            ("response", Json),
            ("created_at", Time),
        ],
        identity: None,
    },
    Table {
        name: "case_counters",
        columns: &[("county_code", Text), ("day", Day), ("last", Integer)],
        identity: None,
    },
    Table {
        name: "attachments",
        columns: &[
            ("hash", Text),
            ("content_type", Text),
            ("size", Integer),
            ("bytes", Bytes),
            ("created_at", Time),
        ],
        identity: None,
    },
    Table {
        name: "rollups",
        columns: &ROLLUP_COLUMNS,
        identity: None,
    },
    Table {
        name: "jobs",
        columns: &[
            ("id", Integer),
            ("key", Text),
            ("kind", Text),
            ("county_code", Text),
            ("case_id", Text),
            ("payload", Text),
            ("run_at", Time),
            ("state", Text),
            ("attempts", Integer32),
            ("locked_by", Text),
            ("locked_until", Time),
            ("last_error", Text),
            ("created_at", Time),
            ("done_at", Time),
        ],
        identity: Some("id"),
    },
    Table {
        name: "job_runs",
        columns: &[
            ("job_id", Integer),
            ("worker", Text),
            ("started_at", Time),
            ("finished_at", Time),
            ("outcome", Text),
            ("error", Text),
        ],
        identity: None,
    },
    Table {
        name: "notices",
        columns: &[
            ("id", Integer),
            ("job_id", Integer),
            ("unit", Text),
            ("county_code", Text),
            ("case_id", Text),
            ("message", Text),
            ("created_at", Time),
            ("read_at", Time),
        ],
        identity: Some("id"),
    },
];

/// PostgreSQL takes at most 65,535 bound values per statement.
const MAX_BINDS: usize = 60_000;

/// What one table's copy moved.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableCopy {
    pub table: String,
    /// Rows in the source (in the snapshot read).
    pub source: u64,
    /// Rows in the target before the commit; equal to `source`, or nothing was committed.
    pub target: u64,
}

/// What `copy_sqlite_to_postgres` did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CopyReport {
    pub source: String,
    pub tables: Vec<TableCopy>,
    /// Records whose chains were walked on the target before the commit.
    pub records_verified: u64,
    pub seconds: f64,
}

/// The SQLite file behind `from`: the data directory's store file, or the file itself.
pub fn sqlite_source(from: &Path) -> StoreResult<PathBuf> {
    let path = if from.is_dir() {
        from.join(crate::sqlite::DATABASE_FILE)
    } else {
        from.to_owned()
    };
    if !path.is_file() {
        return Err(StoreError::Unsupported(format!(
            "--from: {} is neither a onegrid data directory nor a SQLite store file",
            from.display()
        )));
    }
    Ok(path)
}

/// Copies the SQLite store at `from` (a data directory or its file) into the empty
/// PostgreSQL database at `to`, whose schema it first brings up to date. See the module
/// documentation for what "nothing lost" means here.
pub async fn copy_sqlite_to_postgres(from: &Path, to: &str) -> StoreResult<CopyReport> {
    let started = Instant::now();
    let source_path = sqlite_source(from)?;
    // The source is brought up to date like every store the binary opens, so that both sides
    // hold the same tables; its rows are only read.
    let source_options = SqliteConnectOptions::new()
        .filename(&source_path)
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(30));
    let mut source = SqliteConnection::connect_with(&source_options).await?;
    sqlx::migrate!("migrations/sqlite").run(&mut source).await?;
    check_source_tables(&mut source).await?;

    let target_options = PgConnectOptions::from_str(to)?.application_name("onegrid copy");
    let mut target = PgConnection::connect_with(&target_options).await?;
    sqlx::migrate!("migrations/postgres")
        .run(&mut target)
        .await?;

    // One snapshot of the source for the whole copy: a deferred transaction's snapshot starts
    // at its first read and holds until the end (WAL mode), even while the source serves.
    sqlx::raw_sql("BEGIN").execute(&mut source).await?;
    let mut tx = target.begin().await?;
    let names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
    // Nobody else writes the target while it is filled; a server started on it waits.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
        names.join(", ")
    )))
    .execute(&mut *tx)
    .await?;
    for table in TABLES {
        let rows = pg_count(&mut tx, table.name).await?;
        if rows > 0 {
            return Err(StoreError::Conflict(format!(
                "--to: the target database is not empty (table {} holds {rows} rows); copy \
                 only into a new, empty database",
                table.name
            )));
        }
    }
    make_partitions(&mut source, &mut tx).await?;
    let mut tables = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let source_rows = sqlite_count(&mut source, table.name).await?;
        copy_table(&mut source, &mut tx, table).await?;
        if let Some(column) = table.identity
            && source_rows > 0
        {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT setval(pg_get_serial_sequence('{0}', '{column}'), max({column}))
                 FROM {0}",
                table.name
            )))
            .execute(&mut *tx)
            .await?;
        }
        let target_rows = pg_count(&mut tx, table.name).await?;
        tables.push(TableCopy {
            table: table.name.to_owned(),
            source: source_rows,
            target: target_rows,
        });
    }
    sqlx::raw_sql("COMMIT").execute(&mut source).await?;
    if let Some(differs) = tables.iter().find(|t| t.source != t.target) {
        return Err(StoreError::Corrupt(format!(
            "table {}: {} rows in the source but {} copied; nothing was committed",
            differs.table, differs.source, differs.target
        )));
    }
    let report = crate::postgres::verify(&mut tx).await?;
    if let Some(problem) = report.first_problem {
        return Err(StoreError::Corrupt(format!(
            "the copied record does not verify ({problem}); nothing was committed"
        )));
    }
    tx.commit().await?;
    let _ = source.close().await;
    let _ = target.close().await;
    Ok(CopyReport {
        source: source_path.display().to_string(),
        tables,
        records_verified: report.records,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Makes the target's partitions (migration 0006) for every county and month the source's
/// cases and records fall in, before they are copied, so that every row lands in its place
/// at once rather than in a default partition to be moved later.
async fn make_partitions(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
) -> StoreResult<()> {
    let months: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT county_code, substr(created_at, 1, 7) FROM cases
         UNION SELECT DISTINCT county_code, substr(at, 1, 7) FROM records",
    )
    .fetch_all(&mut *source)
    .await?;
    for (county, month) in &months {
        let first_day =
            NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").map_err(|_| {
                StoreError::Corrupt(format!("source: county {county} has a time '{month}…'"))
            })?;
        sqlx::query("SELECT onegrid_ensure_partitions($1, $2)")
            .bind(county)
            .bind(first_day)
            .execute(&mut *target)
            .await?;
    }
    Ok(())
}

/// Refuses a source holding a table this copy does not know: it would be left behind.
async fn check_source_tables(source: &mut SqliteConnection) -> StoreResult<()> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master
         WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'
         ORDER BY name",
    )
    .fetch_all(&mut *source)
    .await?;
    let unknown: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|name| !TABLES.iter().any(|t| t.name == *name))
        .collect();
    if !unknown.is_empty() {
        return Err(StoreError::Unsupported(format!(
            "the source holds tables this copy does not know ({}): it would leave them \
             behind, so it copies nothing",
            unknown.join(", ")
        )));
    }
    Ok(())
}

async fn sqlite_count(conn: &mut SqliteConnection, table: &str) -> StoreResult<u64> {
    let count: i64 =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&mut *conn)
            .await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

async fn pg_count(conn: &mut PgConnection, table: &str) -> StoreResult<u64> {
    let count: i64 =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&mut *conn)
            .await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// One value read from SQLite, typed for PostgreSQL.
enum Value {
    Text(Option<String>),
    Integer(Option<i64>),
    Integer32(Option<i32>),
    Real(Option<f64>),
    Boolean(Option<bool>),
    Time(Option<DateTime<Utc>>),
    Day(Option<NaiveDate>),
    Json(Option<String>),
    Bytes(Option<Vec<u8>>),
    Roles(Option<Vec<String>>),
}

fn read_value(row: &SqliteRow, index: usize, kind: Kind, table: &str) -> StoreResult<Value> {
    let column = |error: sqlx::Error| {
        StoreError::Corrupt(format!("source table {table}, column {index}: {error}"))
    };
    Ok(match kind {
        Kind::Text => Value::Text(row.try_get(index).map_err(column)?),
        Kind::Integer => Value::Integer(row.try_get(index).map_err(column)?),
        Kind::Integer32 => Value::Integer32(row.try_get(index).map_err(column)?),
        Kind::Real => Value::Real(row.try_get(index).map_err(column)?),
        Kind::Boolean => Value::Boolean(row.try_get(index).map_err(column)?),
        Kind::Time => Value::Time(row.try_get(index).map_err(column)?),
        Kind::Day => {
            // Rollups write `2026-11-29`; case counters `20261129` (as in the case number).
            let text: Option<String> = row.try_get(index).map_err(column)?;
            let day = match text {
                Some(text) => Some(
                    NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                        .or_else(|_| NaiveDate::parse_from_str(&text, "%Y%m%d"))
                        .map_err(|_| {
                            StoreError::Corrupt(format!(
                                "source table {table}, column {index}: '{text}' is no day"
                            ))
                        })?,
                ),
                None => None,
            };
            Value::Day(day)
        }
        Kind::Json => Value::Json(row.try_get(index).map_err(column)?),
        Kind::Bytes => Value::Bytes(row.try_get(index).map_err(column)?),
        Kind::Roles => {
            let joined: Option<String> = row.try_get(index).map_err(column)?;
            Value::Roles(joined.map(|text| {
                if text.is_empty() {
                    Vec::new()
                } else {
                    text.split(',').map(str::to_owned).collect()
                }
            }))
        }
    })
}

/// Streams one table from the source and writes it in multi-row inserts, in primary-key
/// order (the order in which SQLite hands the rows out).
async fn copy_table(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
    table: &Table,
) -> StoreResult<()> {
    let columns: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
    let select = format!("SELECT {} FROM {}", columns.join(", "), table.name);
    let per_statement = MAX_BINDS / table.columns.len();
    let mut batch: Vec<Vec<Value>> = Vec::with_capacity(per_statement);
    let mut rows = sqlx::query(sqlx::AssertSqlSafe(select)).fetch(&mut *source);
    while let Some(row) = rows.try_next().await? {
        let mut values = Vec::with_capacity(table.columns.len());
        for (index, (_, kind)) in table.columns.iter().enumerate() {
            values.push(read_value(&row, index, *kind, table.name)?);
        }
        batch.push(values);
        if batch.len() == per_statement {
            insert_batch(target, table, &columns, std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        insert_batch(target, table, &columns, batch).await?;
    }
    Ok(())
}

async fn insert_batch(
    target: &mut PgConnection,
    table: &Table,
    columns: &[&str],
    batch: Vec<Vec<Value>>,
) -> StoreResult<()> {
    let overriding = if table.identity.is_some() {
        " OVERRIDING SYSTEM VALUE"
    } else {
        ""
    };
    let mut insert: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "INSERT INTO {} ({}){overriding} ",
        table.name,
        columns.join(", ")
    ));
    insert.push_values(batch, |mut row, values| {
        for value in values {
            match value {
                Value::Text(v) => row.push_bind(v),
                Value::Integer(v) => row.push_bind(v),
                Value::Integer32(v) => row.push_bind(v),
                Value::Real(v) => row.push_bind(v),
                Value::Boolean(v) => row.push_bind(v),
                Value::Time(v) => row.push_bind(v),
                Value::Day(v) => row.push_bind(v),
                Value::Json(v) => row.push_bind(v).push_unseparated("::jsonb"),
                Value::Bytes(v) => row.push_bind(v),
                Value::Roles(v) => row.push_bind(v),
            };
        }
    });
    insert.build().execute(&mut *target).await?;
    Ok(())
}
