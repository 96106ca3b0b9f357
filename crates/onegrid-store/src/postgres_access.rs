//! The PostgreSQL engine's accounts, sessions, tokens, scoped case reads and security events:
//! each write in one transaction with the security event it causes.

use chrono::{DateTime, Utc};
use onegrid_domain::case::Case;
use sqlx::Row;
use sqlx::postgres::{PgConnection, PgPool, PgRow};

use crate::audit::{NewRecord, Record, time_text};
use crate::postgres::{append_record, case_from_body, record_from_row};
use crate::{
    Account, AccountChange, ApiToken, CaseScope, NewAccount, SECURITY_CHAIN, Session, StoreError,
    StoreResult, StoredAssignment,
};

/// Turns the `?` marks of a condition into `$n`, numbered after `already` earlier values.
pub(crate) fn number_marks(condition: &str, already: usize) -> String {
    let mut out = String::with_capacity(condition.len() + 8);
    let mut n = already;
    for c in condition.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

const ACCOUNT_COLUMNS: &str = "id, login, display_name, password_hash, totp_secret,
    totp_enabled, failed_logins, locked_until, disabled, created_at";

fn account_from_row(row: &PgRow) -> StoreResult<Account> {
    Ok(Account {
        id: row.try_get("id")?,
        login: row.try_get("login")?,
        display_name: row.try_get("display_name")?,
        password_hash: row.try_get("password_hash")?,
        totp_secret: row.try_get("totp_secret")?,
        totp_enabled: row.try_get("totp_enabled")?,
        failed_logins: u32::try_from(row.try_get::<i32, _>("failed_logins")?).unwrap_or(0),
        locked_until: row.try_get("locked_until")?,
        disabled: row.try_get("disabled")?,
        created_at: row.try_get("created_at")?,
        assignments: Vec::new(),
    })
}

async fn with_assignments(pool: &PgPool, mut account: Account) -> StoreResult<Account> {
    let rows =
        sqlx::query("SELECT role, scope FROM assignments WHERE user_id = $1 ORDER BY role, scope")
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
    pool: &PgPool,
    column: &'static str,
    value: &str,
) -> StoreResult<Option<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM users WHERE {column} = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(value)
        .fetch_optional(pool)
        .await?;
    match row {
        Some(row) => Ok(Some(with_assignments(pool, account_from_row(&row)?).await?)),
        None => Ok(None),
    }
}

pub(crate) async fn accounts(pool: &PgPool, limit: u32) -> StoreResult<Vec<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM users ORDER BY login LIMIT $1");
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
    conn: &mut PgConnection,
    user_id: &str,
    assignments: &[StoredAssignment],
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM assignments WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    for assignment in assignments {
        sqlx::query(
            "INSERT INTO assignments (user_id, role, scope, granted_at) VALUES ($1, $2, $3, $4)
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

/// Security events go to their own chain; its head is locked first, like every append.
async fn append_event(conn: &mut PgConnection, event: &NewRecord) -> StoreResult<()> {
    append_record(conn, event).await
}

pub(crate) async fn create_account(
    pool: &PgPool,
    account: NewAccount,
    event: NewRecord,
) -> StoreResult<Account> {
    let id = uuid::Uuid::now_v7().to_string();
    let at = event.at;
    let roles: Vec<String> = account.assignments.iter().map(|a| a.role.clone()).collect();
    let scope = account
        .assignments
        .first()
        .map_or_else(String::new, |a| a.scope.clone());
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "INSERT INTO users (id, login, display_name, roles, scope_code, county_code, created_at,
                            password_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (login) DO NOTHING",
    )
    .bind(&id)
    .bind(&account.login)
    .bind(&account.display_name)
    .bind(&roles)
    .bind(&scope)
    .bind(scope.get(..6).map(str::to_owned))
    .bind(at)
    .bind(&account.password_hash)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!(
            "login '{}' is taken",
            account.login
        )));
    }
    write_assignments(&mut tx, &id, &account.assignments, at).await?;
    append_event(&mut tx, &event).await?;
    tx.commit().await?;
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
    pool: &PgPool,
    user_id: &str,
    change: AccountChange,
    event: Option<NewRecord>,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_none() {
        return Err(StoreError::Conflict(format!("no account {user_id}")));
    }
    match change {
        AccountChange::LoginState {
            failed_logins,
            locked_until,
        } => {
            sqlx::query("UPDATE users SET failed_logins = $1, locked_until = $2 WHERE id = $3")
                .bind(i32::try_from(failed_logins).unwrap_or(i32::MAX))
                .bind(locked_until)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        AccountChange::Password(hash) => {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(hash)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        AccountChange::Totp { secret, enabled } => {
            sqlx::query("UPDATE users SET totp_secret = $1, totp_enabled = $2 WHERE id = $3")
                .bind(secret)
                .bind(enabled)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        AccountChange::Assignments(assignments) => {
            let at = event.as_ref().map_or_else(Utc::now, |e| e.at);
            write_assignments(&mut tx, user_id, &assignments, at).await?;
        }
        AccountChange::Disabled(disabled) => {
            sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
                .bind(disabled)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
    }
    if let Some(event) = event {
        append_event(&mut tx, &event).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn put_session(
    pool: &PgPool,
    session: Session,
    event: Option<NewRecord>,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, csrf, created_at, last_seen_at, ended_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id_hash) DO UPDATE SET last_seen_at = excluded.last_seen_at,
                                            ended_at = excluded.ended_at",
    )
    .bind(&session.id_hash)
    .bind(&session.user_id)
    .bind(&session.csrf)
    .bind(session.created_at)
    .bind(session.last_seen_at)
    .bind(session.ended_at)
    .execute(&mut *tx)
    .await?;
    if let Some(event) = event {
        append_event(&mut tx, &event).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn session(pool: &PgPool, id_hash: &str) -> StoreResult<Option<Session>> {
    let row = sqlx::query(
        "SELECT id_hash, user_id, csrf, created_at, last_seen_at, ended_at FROM sessions
         WHERE id_hash = $1",
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
    pool: &PgPool,
    token: ApiToken,
    event: Option<NewRecord>,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, name, hash, scope, created_at, last_used_at,
                                 revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
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
    .execute(&mut *tx)
    .await?;
    if let Some(event) = event {
        append_event(&mut tx, &event).await?;
    }
    tx.commit().await?;
    Ok(())
}

fn token_from_row(row: &PgRow) -> StoreResult<ApiToken> {
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
    pool: &PgPool,
    column: &'static str,
    value: &str,
) -> StoreResult<Vec<ApiToken>> {
    let sql = format!(
        "SELECT id, user_id, name, hash, scope, created_at, last_used_at, revoked_at
         FROM api_tokens WHERE {column} = $1 ORDER BY created_at"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(value)
        .fetch_all(pool)
        .await?;
    rows.iter().map(token_from_row).collect()
}

pub(crate) async fn case_in_scope(
    pool: &PgPool,
    id: &str,
    scope: &CaseScope,
) -> StoreResult<Option<Case>> {
    let (condition, binds) = scope.condition();
    let sql = format!(
        "SELECT body::text FROM cases WHERE (id = $1 OR number = $1) AND {}",
        number_marks(&condition, 1)
    );
    let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).bind(id.to_owned());
    for bind in binds {
        query = query.bind(bind);
    }
    let body = query.fetch_optional(pool).await?;
    body.as_deref().map(case_from_body).transpose()
}

pub(crate) async fn case_by_tracking(
    pool: &PgPool,
    tracking_hash: &str,
) -> StoreResult<Option<Case>> {
    let body: Option<String> = sqlx::query_scalar(
        "SELECT c.body::text FROM case_access a
         JOIN cases c ON c.id = a.case_id AND c.county_code = a.county_code
         WHERE a.tracking_hash = $1",
    )
    .bind(tracking_hash)
    .fetch_optional(pool)
    .await?;
    body.as_deref().map(case_from_body).transpose()
}

pub(crate) async fn security_events(
    pool: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    actor: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<Record>> {
    let rows = sqlx::query(
        "SELECT county_code, seq, id, case_id, act, actor, role, from_state, to_state, at,
                note, attachments, details, prev_hash, hash
         FROM records
         WHERE county_code = $1 AND at >= $2 AND at < $3 AND ($4::text IS NULL OR actor = $4)
         ORDER BY seq DESC LIMIT $5",
    )
    .bind(SECURITY_CHAIN)
    .bind(time_text(from))
    .bind(time_text(to))
    .bind(actor)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(record_from_row).collect()
}
