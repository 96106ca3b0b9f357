//! The SQLite engine's accounts, sessions, tokens, scoped case reads and security events.
//! Writes run inside the writer task's transaction (`&mut SqliteConnection`) with the security
//! event they cause; reads run on the reader pool.

use chrono::{DateTime, Utc};
use onegrid_domain::case::Case;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};

use crate::audit::{NewRecord, Record, time_text};
use crate::sqlite_cases::{append_record, case_from_body, record_from_row};
use crate::sqlite_writer_state::WriterState;
use crate::{
    Account, AccountChange, ApiToken, CaseScope, NewAccount, SECURITY_CHAIN, Session, StoreError,
    StoreResult, StoredAssignment,
};

const ACCOUNT_COLUMNS: &str = "id, login, display_name, password_hash, totp_secret,
    totp_enabled, failed_logins, locked_until, disabled, created_at";

fn account_from_row(row: &SqliteRow) -> StoreResult<Account> {
    Ok(Account {
        id: row.try_get("id")?,
        login: row.try_get("login")?,
        display_name: row.try_get("display_name")?,
        password_hash: row.try_get("password_hash")?,
        totp_secret: row.try_get("totp_secret")?,
        totp_enabled: row.try_get("totp_enabled")?,
        failed_logins: u32::try_from(row.try_get::<i64, _>("failed_logins")?).unwrap_or(0),
        locked_until: row.try_get("locked_until")?,
        disabled: row.try_get("disabled")?,
        created_at: row.try_get("created_at")?,
        assignments: Vec::new(),
    })
}

async fn with_assignments(pool: &SqlitePool, mut account: Account) -> StoreResult<Account> {
    let rows =
        sqlx::query("SELECT role, scope FROM assignments WHERE user_id = ? ORDER BY role, scope")
            .bind(&account.id)
            .fetch_all(pool)
            .await?;
    for row in &rows {
        account.assignments.push(StoredAssignment {
            role: row.try_get("role")?,
            scope: row.try_get("scope")?,
        });
    }
    Ok(account)
}

pub(crate) async fn account(
    pool: &SqlitePool,
    column: &'static str,
    value: &str,
) -> StoreResult<Option<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM users WHERE {column} = ?");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(value)
        .fetch_optional(pool)
        .await?;
    match row {
        Some(row) => Ok(Some(with_assignments(pool, account_from_row(&row)?).await?)),
        None => Ok(None),
    }
}

pub(crate) async fn accounts(pool: &SqlitePool, limit: u32) -> StoreResult<Vec<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM users ORDER BY login LIMIT ?");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(with_assignments(pool, account_from_row(row)?).await?);
    }
    Ok(out)
}

async fn write_assignments(
    conn: &mut SqliteConnection,
    user_id: &str,
    assignments: &[StoredAssignment],
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM assignments WHERE user_id = ?")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    for assignment in assignments {
        sqlx::query(
            "INSERT INTO assignments (user_id, role, scope, granted_at) VALUES (?, ?, ?, ?)
             ON CONFLICT DO NOTHING",
        )
        .bind(user_id)
        .bind(&assignment.role)
        .bind(&assignment.scope)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub(crate) async fn create_account(
    conn: &mut SqliteConnection,
    state: &mut WriterState,
    account: NewAccount,
    event: NewRecord,
) -> StoreResult<Account> {
    let id = uuid::Uuid::now_v7().to_string();
    let at = event.at;
    let roles: Vec<&str> = account
        .assignments
        .iter()
        .map(|a| a.role.as_str())
        .collect();
    let scope = account
        .assignments
        .first()
        .map_or_else(String::new, |a| a.scope.clone());
    let done = sqlx::query(
        "INSERT INTO users (id, login, display_name, roles, scope_code, county_code, created_at,
                            password_hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (login) DO NOTHING",
    )
    .bind(&id)
    .bind(&account.login)
    .bind(&account.display_name)
    .bind(roles.join(","))
    .bind(&scope)
    .bind(scope.get(..6).map(str::to_owned))
    .bind(at)
    .bind(&account.password_hash)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!(
            "login '{}' is taken",
            account.login
        )));
    }
    write_assignments(conn, &id, &account.assignments, at).await?;
    append_record(conn, state, &event).await?;
    Ok(Account {
        id,
        login: account.login,
        display_name: account.display_name,
        password_hash: account.password_hash,
        totp_secret: None,
        totp_enabled: false,
        failed_logins: 0,
        locked_until: None,
        disabled: false,
        created_at: at,
        assignments: account.assignments,
    })
}

pub(crate) async fn change_account(
    conn: &mut SqliteConnection,
    state: &mut WriterState,
    user_id: &str,
    change: AccountChange,
    event: Option<NewRecord>,
) -> StoreResult<()> {
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE id = ?")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
    if exists.is_none() {
        return Err(StoreError::Conflict(format!("no account {user_id}")));
    }
    match change {
        AccountChange::LoginState {
            failed_logins,
            locked_until,
        } => {
            sqlx::query("UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?")
                .bind(i64::from(failed_logins))
                .bind(locked_until)
                .bind(user_id)
                .execute(&mut *conn)
                .await?;
        }
        AccountChange::Password(hash) => {
            sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
                .bind(hash)
                .bind(user_id)
                .execute(&mut *conn)
                .await?;
        }
        AccountChange::Totp { secret, enabled } => {
            sqlx::query("UPDATE users SET totp_secret = ?, totp_enabled = ? WHERE id = ?")
                .bind(secret)
                .bind(enabled)
                .bind(user_id)
                .execute(&mut *conn)
                .await?;
        }
        AccountChange::Assignments(assignments) => {
            let at = event.as_ref().map_or_else(Utc::now, |e| e.at);
            write_assignments(conn, user_id, &assignments, at).await?;
        }
        AccountChange::Disabled(disabled) => {
            sqlx::query("UPDATE users SET disabled = ? WHERE id = ?")
                .bind(disabled)
                .bind(user_id)
                .execute(&mut *conn)
                .await?;
        }
    }
    if let Some(event) = event {
        append_record(conn, state, &event).await?;
    }
    Ok(())
}

pub(crate) async fn put_session(
    conn: &mut SqliteConnection,
    state: &mut WriterState,
    session: Session,
    event: Option<NewRecord>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, csrf, created_at, last_seen_at, ended_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (id_hash) DO UPDATE SET last_seen_at = excluded.last_seen_at,
                                            ended_at = excluded.ended_at",
    )
    .bind(&session.id_hash)
    .bind(&session.user_id)
    .bind(&session.csrf)
    .bind(session.created_at)
    .bind(session.last_seen_at)
    .bind(session.ended_at)
    .execute(&mut *conn)
    .await?;
    if let Some(event) = event {
        append_record(conn, state, &event).await?;
    }
    Ok(())
}

pub(crate) async fn session(pool: &SqlitePool, id_hash: &str) -> StoreResult<Option<Session>> {
    let row = sqlx::query(
        "SELECT id_hash, user_id, csrf, created_at, last_seen_at, ended_at FROM sessions
         WHERE id_hash = ?",
    )
    .bind(id_hash)
    .fetch_optional(pool)
    .await?;
    row.map(|row| {
        Ok(Session {
            id_hash: row.try_get("id_hash")?,
            user_id: row.try_get("user_id")?,
            csrf: row.try_get("csrf")?,
            created_at: row.try_get("created_at")?,
            last_seen_at: row.try_get("last_seen_at")?,
            ended_at: row.try_get("ended_at")?,
        })
    })
    .transpose()
}

pub(crate) async fn put_token(
    conn: &mut SqliteConnection,
    state: &mut WriterState,
    token: ApiToken,
    event: Option<NewRecord>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, name, hash, scope, created_at, last_used_at,
                                 revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET last_used_at = excluded.last_used_at,
                                       revoked_at = excluded.revoked_at",
    )
    .bind(&token.id)
    .bind(&token.user_id)
    .bind(&token.name)
    .bind(&token.hash)
    .bind(&token.scope)
    .bind(token.created_at)
    .bind(token.last_used_at)
    .bind(token.revoked_at)
    .execute(&mut *conn)
    .await?;
    if let Some(event) = event {
        append_record(conn, state, &event).await?;
    }
    Ok(())
}

fn token_from_row(row: &SqliteRow) -> StoreResult<ApiToken> {
    Ok(ApiToken {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        hash: row.try_get("hash")?,
        scope: row.try_get("scope")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

pub(crate) async fn tokens(
    pool: &SqlitePool,
    column: &'static str,
    value: &str,
) -> StoreResult<Vec<ApiToken>> {
    let sql = format!(
        "SELECT id, user_id, name, hash, scope, created_at, last_used_at, revoked_at
         FROM api_tokens WHERE {column} = ? ORDER BY created_at"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(value)
        .fetch_all(pool)
        .await?;
    rows.iter().map(token_from_row).collect()
}

pub(crate) async fn case_in_scope(
    pool: &SqlitePool,
    id: &str,
    scope: &CaseScope,
) -> StoreResult<Option<Case>> {
    let (condition, binds) = scope.condition();
    let sql = format!("SELECT body FROM cases WHERE (id = ? OR number = ?) AND {condition}");
    let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql))
        .bind(id.to_owned())
        .bind(id.to_owned());
    for bind in binds {
        query = query.bind(bind);
    }
    let body = query.fetch_optional(pool).await?;
    body.as_deref().map(case_from_body).transpose()
}

pub(crate) async fn case_by_tracking(
    pool: &SqlitePool,
    tracking_hash: &str,
) -> StoreResult<Option<Case>> {
    let body: Option<String> = sqlx::query_scalar(
        "SELECT c.body FROM case_access a JOIN cases c ON c.id = a.case_id
         WHERE a.tracking_hash = ?",
    )
    .bind(tracking_hash)
    .fetch_optional(pool)
    .await?;
    body.as_deref().map(case_from_body).transpose()
}

pub(crate) async fn security_events(
    pool: &SqlitePool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    actor: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<Record>> {
    let rows = sqlx::query(
        "SELECT county_code, seq, id, case_id, act, actor, role, from_state, to_state, at,
                note, attachments, details, prev_hash, hash
         FROM records
         WHERE county_code = ? AND at >= ? AND at < ? AND (? IS NULL OR actor = ?)
         ORDER BY seq DESC LIMIT ?",
    )
    .bind(SECURITY_CHAIN)
    .bind(time_text(from))
    .bind(time_text(to))
    .bind(actor)
    .bind(actor)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(record_from_row).collect()
}
