//! What the store's tests share: a fresh PostgreSQL database per story.
//!
//! The PostgreSQL stories need a server: `ONEGRID_TEST_DATABASE_URL` names an admin URL
//! (`postgres://postgres@127.0.0.1:PORT/postgres`), through which each story creates its own
//! database and drops it afterwards. `scripts/test-postgres.sh` starts a throwaway server and
//! sets the variable. Without it the PostgreSQL stories fail — a green run never silently
//! skipped them — unless `ONEGRID_SKIP_POSTGRES=1` says to skip them.

#![allow(dead_code)]

use sqlx::{AssertSqlSafe, Connection, PgConnection};

pub const URL_VAR: &str = "ONEGRID_TEST_DATABASE_URL";
pub const SKIP_VAR: &str = "ONEGRID_SKIP_POSTGRES";

/// The admin URL, or `None` when the PostgreSQL stories are explicitly skipped.
pub fn admin_url() -> Option<String> {
    if let Ok(url) = std::env::var(URL_VAR)
        && !url.trim().is_empty()
    {
        return Some(url);
    }
    if std::env::var(SKIP_VAR).is_ok_and(|v| v == "1") {
        eprintln!("PostgreSQL story skipped: {SKIP_VAR}=1");
        return None;
    }
    panic!(
        "{URL_VAR} is not set, so the PostgreSQL stories cannot run. Run them with a throwaway \
         server: `bash scripts/test-postgres.sh cargo test -p onegrid-store` (it installs \
         PostgreSQL when missing, starts it and sets {URL_VAR}), or point {URL_VAR} at an admin \
         URL such as postgres://postgres@127.0.0.1:5432/postgres. To skip them on purpose, set \
         {SKIP_VAR}=1."
    );
}

/// `admin` with its database replaced by `name`, query parameters kept.
pub fn database_url(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (admin, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{root}/{name}?{query}"),
        None => format!("{root}/{name}"),
    }
}

/// A database made for one story, dropped (connections and all) when this goes out of scope,
/// also when the story panics.
pub struct PgDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    /// A new, empty database; `None` when the PostgreSQL stories are explicitly skipped.
    pub async fn create() -> Option<PgDatabase> {
        let admin_url = admin_url()?;
        let name = format!("onegrid_test_{}", uuid::Uuid::now_v7().simple());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {URL_VAR}={admin_url}: {e}"));
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        let _ = admin.close().await;
        let url = database_url(&admin_url, &name);
        Some(PgDatabase {
            admin_url,
            name,
            url,
        })
    }

    /// A raw connection to the story's database, behind the store's back.
    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url).await.unwrap()
    }

    /// Runs `sql` on a raw connection (statements separated by `;`).
    pub async fn execute(&self, sql: &str) {
        let mut conn = self.connect().await;
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let _ = conn.close().await;
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside the story's runtime, which must not be blocked on: the database is
        // dropped from a thread with a runtime of its own.
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    if let Err(error) = sqlx::raw_sql(AssertSqlSafe(drop)).execute(&mut admin).await
                    {
                        eprintln!("could not drop test database {name}: {error}");
                    }
                    let _ = admin.close().await;
                }
            });
        });
        let _ = dropper.join();
    }
}

#[test]
fn database_urls_keep_host_and_options() {
    assert_eq!(
        database_url("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
        "postgres://postgres@127.0.0.1:5432/t1"
    );
    assert_eq!(
        database_url("postgres://u:p@h:1/db?sslmode=disable", "t2"),
        "postgres://u:p@h:1/t2?sslmode=disable"
    );
    assert_eq!(database_url("postgres://h", "t3"), "postgres://h/t3");
}
