//! Access use cases: signing in (password, TOTP, lockout), sessions and their timeouts, API
//! tokens, accounts and the roles they hold (三权分立), revealing personal data, and the
//! security events every one of them appends to the hash-chained record.
//!
//! A request on behalf of a person carries a [`Principal`]: the account and the assignments it
//! holds. Case reads turn the principal into a `CaseScope` that the store applies in its
//! queries; acts need one assignment whose scope holds the case and whose role may take the
//! act.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use onegrid_domain::access::{Assignment, Capability, PasswordPolicy, Role, Scope};
use onegrid_domain::case::{Act, Case};
use onegrid_domain::{Level, RegionCode};
use onegrid_store::{
    Account, AccountChange, ApiToken, CaseScope, NewAccount, NewRecord, Record, SECURITY_CHAIN,
    Session, StoreError, StoredAssignment,
};
use serde::Serialize;

use crate::cases::Actor;
use crate::limits::Rate;
use crate::secrets::{self, Keys};
use crate::{App, AppError, AppResult};

/// How a request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A session cookie; unsafe requests must echo its CSRF token.
    Session { id_hash: String, csrf: String },
    /// `Authorization: Bearer`: another system; no CSRF (no ambient cookie).
    Token { id: String },
    /// The process itself (command line, sweeps).
    System,
}

/// Who is asking, with every assignment they hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub user_id: String,
    pub login: String,
    pub display_name: String,
    pub assignments: Vec<Assignment>,
    pub credential: Credential,
}

impl Principal {
    /// The process's own principal: every capability everywhere, for the command line.
    pub fn system() -> Principal {
        Principal {
            user_id: "system".to_owned(),
            login: "system".to_owned(),
            display_name: "系统".to_owned(),
            assignments: Vec::new(),
            credential: Credential::System,
        }
    }

    pub fn is_system(&self) -> bool {
        self.credential == Credential::System
    }

    /// Whether any assignment grants `capability` anywhere.
    pub fn holds(&self, capability: Capability) -> bool {
        self.is_system() || self.assignments.iter().any(|a| a.role.may(capability))
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.assignments.iter().any(|a| a.role == role)
    }

    /// The cases this principal may see for `capability`: `None` (all) for the system.
    pub fn case_scope(&self, capability: Capability) -> Option<CaseScope> {
        if self.is_system() {
            return None;
        }
        let mut scope = CaseScope::default();
        for assignment in self.assignments.iter().filter(|a| a.role.may(capability)) {
            match &assignment.scope {
                Scope::Region(code) => scope.regions.push(code.clone()),
                Scope::Unit(unit) => scope.units.push(unit.clone()),
                Scope::Own => scope.reporter_account = Some(self.user_id.clone()),
            }
        }
        Some(scope)
    }

    /// Whether some assignment grants `capability` over `region` (its subtree).
    pub fn may_in_region(&self, capability: Capability, region: &RegionCode) -> bool {
        self.is_system()
            || self
                .assignments
                .iter()
                .any(|a| a.role.may(capability) && a.scope.holds_region(region))
    }

    /// The assignment through which this principal may take `act` on `case`, if any.
    pub fn assignment_for(&self, act: Act, case: &Case) -> Option<&Assignment> {
        self.assignments.iter().find(|a| {
            a.role.may(Capability::ActOnCases)
                && onegrid_domain::case::may_take(a.role.as_str(), act)
                && scope_holds_case(&a.scope, case, &self.user_id)
        })
    }

    /// The actor a record names for an act taken through `assignment`.
    pub fn actor(&self, role: Role) -> Actor {
        Actor {
            name: format!("{}({})", self.display_name, self.login),
            role: role.as_str().to_owned(),
        }
    }

    /// The first region this principal may see reports of: where a screen or report opens.
    pub fn home_region(&self) -> Option<RegionCode> {
        self.assignments
            .iter()
            .filter(|a| a.role.may(Capability::ReadReports))
            .filter_map(|a| a.scope.region())
            .min_by_key(RegionCode::level)
    }
}

/// Whether a case lies inside a scope, judged as the store's condition judges it.
pub fn scope_holds_case(scope: &Scope, case: &Case, user_id: &str) -> bool {
    match scope {
        Scope::Region(code) => match code.level() {
            Level::Grid => case.grid.as_deref() == Some(code.as_str()),
            Level::Province => case.county.starts_with(&code.as_str()[..2]),
            Level::City => case.county.starts_with(&code.as_str()[..4]),
            _ => case.chain.iter().any(|c| c == code.as_str()),
        },
        Scope::Unit(unit) => case.unit.as_deref() == Some(unit.as_str()),
        Scope::Own => case.reporter.account.as_deref() == Some(user_id),
    }
}

/// A new session: the cookie's token (shown once) and the CSRF token pages send back.
#[derive(Debug, Clone)]
pub struct SessionGrant {
    pub token: String,
    pub csrf: String,
    pub principal: Principal,
    pub expires_at: DateTime<Utc>,
}

/// A new API token (shown once).
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub token: String,
    pub record: ApiToken,
}

/// A person's full contact, as revealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

/// What signing in needs beside the password.
#[derive(Debug, Clone, Default)]
pub struct LoginAttempt {
    pub login: String,
    pub password: String,
    pub totp: Option<String>,
    /// The client's address, for the record.
    pub address: String,
}

/// The settings access runs by, from the configuration.
#[derive(Debug, Clone)]
pub struct AccessSettings {
    pub keys: Keys,
    pub policy: PasswordPolicy,
    /// Sign-in attempts per address, and per account, in a minute.
    pub login_rate: Rate,
    /// Public (anonymous) reports per address in an hour.
    pub public_report_rate: Rate,
    /// Tracking-code lookups per address in a minute.
    pub tracking_rate: Rate,
}

impl AccessSettings {
    pub fn new(keys: Keys, policy: PasswordPolicy) -> AccessSettings {
        AccessSettings {
            keys,
            policy,
            login_rate: Rate {
                limit: 10,
                window: StdDuration::from_secs(60),
            },
            public_report_rate: Rate {
                limit: 20,
                window: StdDuration::from_secs(3600),
            },
            tracking_rate: Rate {
                limit: 30,
                window: StdDuration::from_secs(60),
            },
        }
    }
}

/// How long a token's principal is kept in memory: without it every request of another
/// system costs three reads (token, account, roles). A revocation or role change made through
/// this process clears it at once; one made through another process takes effect within this.
const TOKEN_CACHE_SECONDS: u64 = 5;

/// Principals of recently used tokens, by the token's hash.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, Principal)>>,
}

impl TokenCache {
    fn get(&self, hash: &str) -> Option<Principal> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(hash)
            .filter(|(at, _)| at.elapsed().as_secs() < TOKEN_CACHE_SECONDS)
            .map(|(_, principal)| principal.clone())
    }

    fn put(&self, hash: String, principal: Principal) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() > 10_000 {
            entries.retain(|_, (at, _)| at.elapsed().as_secs() < TOKEN_CACHE_SECONDS);
        }
        entries.insert(hash, (std::time::Instant::now(), principal));
    }

    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// How long a session's last use is trusted before it is written again: touching the session
/// on every request would make every read a write.
const TOUCH_EVERY_SECONDS: i64 = 60;

fn security_event(
    act: &str,
    actor: &str,
    role: &str,
    note: impl Into<String>,
    details: serde_json::Value,
) -> NewRecord {
    NewRecord {
        county: SECURITY_CHAIN.to_owned(),
        case_id: None,
        act: act.to_owned(),
        actor: actor.to_owned(),
        role: role.to_owned(),
        from_state: None,
        to_state: None,
        at: Utc::now(),
        note: note.into(),
        attachments: Vec::new(),
        details,
    }
}

fn unauthenticated(message: &str) -> AppError {
    AppError::Unauthenticated(message.to_owned())
}

/// Parses stored assignments; one that no longer parses (a retired role id) is skipped, never
/// widened.
fn parse_assignments(stored: &[StoredAssignment]) -> Vec<Assignment> {
    stored
        .iter()
        .filter_map(|a| {
            let role = Role::parse(&a.role).ok()?;
            let scope = Scope::parse(&a.scope).ok()?;
            Assignment::new(role, scope).ok()
        })
        .collect()
}

fn to_stored(assignments: &[Assignment]) -> Vec<StoredAssignment> {
    let mut stored: Vec<StoredAssignment> = assignments
        .iter()
        .map(|a| StoredAssignment {
            role: a.role.as_str().to_owned(),
            scope: a.scope.code(),
        })
        .collect();
    stored.sort();
    stored.dedup();
    stored
}

/// Parses `role@scope` lists (`grid_worker@140702001001001,centre_intake@140702`).
pub fn parse_assignment_list(roles: &[String], scope: &str) -> AppResult<Vec<Assignment>> {
    let mut out = Vec::new();
    for role in roles {
        let (role, scope) = role.split_once('@').unwrap_or((role.as_str(), scope));
        let role = Role::parse(role).map_err(|e| AppError::invalid(e.to_string()))?;
        let scope = if role == Role::Resident {
            Scope::Own
        } else {
            Scope::parse(scope).map_err(|e| AppError::invalid(e.to_string()))?
        };
        out.push(Assignment::new(role, scope).map_err(|e| AppError::invalid(e.to_string()))?);
    }
    if out.is_empty() {
        return Err(AppError::invalid("role: give at least one role"));
    }
    Ok(out)
}

impl App {
    pub fn access(&self) -> &AccessSettings {
        &self.access
    }

    fn principal_of(&self, account: &Account, credential: Credential) -> Principal {
        Principal {
            user_id: account.id.clone(),
            login: account.login.clone(),
            display_name: account.display_name.clone(),
            assignments: parse_assignments(&account.assignments),
            credential,
        }
    }

    /// Signs in with a password (and a TOTP code where the account has one), counting failures
    /// and locking the account after the policy's number of them.
    pub async fn login(&self, attempt: LoginAttempt) -> AppResult<SessionGrant> {
        let policy = &self.access.policy;
        let login = attempt.login.trim().to_owned();
        if let Err(wait) = self
            .limits
            .check(&format!("login-account:{login}"), self.access.login_rate)
        {
            return Err(AppError::RateLimited {
                retry_after_seconds: wait,
            });
        }
        let details = serde_json::json!({"address": attempt.address});
        let Some(account) = self.store().account_by_login(&login).await? else {
            // As long as a real check, so the answer does not tell which logins exist.
            secrets::verify_password(&attempt.password, secrets::decoy_hash());
            self.store()
                .append_records(vec![security_event(
                    "login_failed",
                    &login,
                    "",
                    "登录失败：账户不存在",
                    details,
                )])
                .await?;
            return Err(unauthenticated("登录名或密码错误"));
        };
        let now = Utc::now();
        if account.disabled {
            return Err(unauthenticated("账户已停用"));
        }
        if let Some(until) = account.locked_until
            && until > now
        {
            self.store()
                .append_records(vec![security_event(
                    "login_refused_locked",
                    &login,
                    "",
                    "账户锁定期间尝试登录",
                    details,
                )])
                .await?;
            return Err(AppError::Locked {
                message: format!("账户已锁定，请于{}后再试", crate::shanghai_time_text(until)),
                retry_after_seconds: u64::try_from((until - now).num_seconds().max(1)).unwrap_or(1),
            });
        }
        let password_ok = account
            .password_hash
            .as_deref()
            .is_some_and(|hash| secrets::verify_password(&attempt.password, hash));
        // Whether a second factor is required; no principal is made before the checks pass.
        let administrator = parse_assignments(&account.assignments)
            .iter()
            .any(|a| a.role.is_administrator());
        let second_factor_ok = if account.totp_enabled {
            let secret = account
                .totp_secret
                .as_deref()
                .and_then(|sealed| self.access.keys.open(sealed));
            match (secret, attempt.totp.as_deref()) {
                (Some(secret), Some(code)) => secrets::totp_accepts(&secret, code, now.timestamp()),
                _ => false,
            }
        } else {
            !administrator
        };
        if !password_ok || !second_factor_ok {
            // A stale lock that ran out counts from zero again.
            let previous = if account.locked_until.is_some() {
                0
            } else {
                account.failed_logins
            };
            let failed = previous + 1;
            let (locked_until, act, note) = if failed >= policy.max_failures {
                (
                    Some(now + Duration::minutes(policy.lock_minutes)),
                    "account_locked",
                    format!(
                        "连续{failed}次登录失败，账户锁定{}分钟",
                        policy.lock_minutes
                    ),
                )
            } else {
                (None, "login_failed", format!("登录失败（第{failed}次）"))
            };
            self.store()
                .change_account(
                    &account.id,
                    AccountChange::LoginState {
                        failed_logins: if locked_until.is_some() { 0 } else { failed },
                        locked_until,
                    },
                    Some(security_event(act, &login, "", note, details)),
                )
                .await?;
            if !password_ok {
                return Err(unauthenticated("登录名或密码错误"));
            }
            if administrator && !account.totp_enabled {
                return Err(unauthenticated(
                    "管理员账户须先启用双因素认证（TOTP），请联系安全管理员",
                ));
            }
            return Err(unauthenticated("动态口令错误"));
        }
        if account.failed_logins > 0 || account.locked_until.is_some() {
            self.store()
                .change_account(
                    &account.id,
                    AccountChange::LoginState {
                        failed_logins: 0,
                        locked_until: None,
                    },
                    None,
                )
                .await?;
        }
        let token = secrets::random_token();
        let csrf = secrets::random_token();
        let id_hash = secrets::token_hash(&token);
        let session = Session {
            id_hash: id_hash.clone(),
            user_id: account.id.clone(),
            csrf: csrf.clone(),
            created_at: now,
            last_seen_at: now,
            ended_at: None,
        };
        self.store()
            .put_session(
                session,
                Some(security_event("login", &login, "", "登录成功", details)),
            )
            .await?;
        Ok(SessionGrant {
            token,
            csrf: csrf.clone(),
            principal: self.principal_of(&account, Credential::Session { id_hash, csrf }),
            expires_at: now + Duration::hours(policy.absolute_hours),
        })
    }

    /// The principal of a session cookie, when the session is alive: not ended, used within
    /// the idle timeout and younger than the absolute timeout.
    pub async fn session_principal(&self, token: &str) -> AppResult<Principal> {
        self.session_principal_at(token, Utc::now()).await
    }

    pub async fn session_principal_at(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Principal> {
        let policy = &self.access.policy;
        let id_hash = secrets::token_hash(token);
        let Some(mut session) = self.store().session(&id_hash).await? else {
            return Err(unauthenticated("未登录或会话无效，请重新登录"));
        };
        if session.ended_at.is_some() {
            return Err(unauthenticated("会话已结束，请重新登录"));
        }
        let idle = now - session.last_seen_at > Duration::minutes(policy.idle_minutes);
        let old = now - session.created_at > Duration::hours(policy.absolute_hours);
        if idle || old {
            let (act, note) = if idle {
                ("session_idle_timeout", "会话空闲超时")
            } else {
                ("session_expired", "会话达到最长时限")
            };
            session.ended_at = Some(now);
            let user = session.user_id.clone();
            self.store()
                .put_session(
                    session,
                    Some(security_event(act, &user, "", note, serde_json::json!({}))),
                )
                .await?;
            return Err(unauthenticated("会话已超时，请重新登录"));
        }
        let Some(account) = self.store().account(&session.user_id).await? else {
            return Err(unauthenticated("账户不存在"));
        };
        if account.disabled {
            return Err(unauthenticated("账户已停用"));
        }
        if now - session.last_seen_at > Duration::seconds(TOUCH_EVERY_SECONDS) {
            session.last_seen_at = now;
            self.store().put_session(session.clone(), None).await?;
        }
        Ok(self.principal_of(
            &account,
            Credential::Session {
                id_hash,
                csrf: session.csrf,
            },
        ))
    }

    /// Ends a session (signing out).
    pub async fn logout(&self, principal: &Principal) -> AppResult<()> {
        let Credential::Session { id_hash, .. } = &principal.credential else {
            return Ok(());
        };
        if let Some(mut session) = self.store().session(id_hash).await? {
            session.ended_at = Some(Utc::now());
            self.store()
                .put_session(
                    session,
                    Some(security_event(
                        "logout",
                        &principal.login,
                        "",
                        "退出登录",
                        serde_json::json!({}),
                    )),
                )
                .await?;
        }
        Ok(())
    }

    /// The principal of an API token: the owner's assignments, narrowed to the token's scope.
    pub async fn token_principal(&self, token: &str) -> AppResult<Principal> {
        let hash = secrets::token_hash(token);
        if let Some(principal) = self.token_cache.get(&hash) {
            return Ok(principal);
        }
        let principal = self.token_principal_from_store(&hash).await?;
        self.token_cache.put(hash, principal.clone());
        Ok(principal)
    }

    async fn token_principal_from_store(&self, hash: &str) -> AppResult<Principal> {
        let Some(mut record) = self.store().token_by_hash(hash).await? else {
            return Err(unauthenticated("令牌无效"));
        };
        if record.revoked_at.is_some() {
            return Err(unauthenticated("令牌已吊销"));
        }
        let Some(account) = self.store().account(&record.user_id).await? else {
            return Err(unauthenticated("令牌的账户不存在"));
        };
        if account.disabled {
            return Err(unauthenticated("账户已停用"));
        }
        let now = Utc::now();
        if record
            .last_used_at
            .is_none_or(|at| now - at > Duration::seconds(TOUCH_EVERY_SECONDS))
        {
            record.last_used_at = Some(now);
            self.store().put_token(record.clone(), None).await?;
        }
        let mut principal = self.principal_of(&account, Credential::Token { id: record.id });
        if let Some(narrow) = record.scope.as_deref().and_then(|s| Scope::parse(s).ok()) {
            principal.assignments.retain(|a| match (&a.scope, &narrow) {
                (Scope::Region(held), Scope::Region(to)) => held.is_within(to),
                (held, to) => held == to,
            });
        }
        Ok(principal)
    }

    /// Creates an account. The granter must be allowed to grant every role it gets; the
    /// password must meet the policy.
    pub async fn create_account(
        &self,
        by: &Principal,
        login: &str,
        display_name: &str,
        password: Option<&str>,
        assignments: Vec<Assignment>,
    ) -> AppResult<Account> {
        self.check_may_grant(by, &assignments)?;
        let login = login.trim();
        let valid_login = (2..=64).contains(&login.chars().count())
            && login
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
        if !valid_login {
            return Err(AppError::invalid(
                "login: 2 to 64 letters, digits or . _ - @",
            ));
        }
        let password_hash = match password {
            Some(password) => {
                if let Err(problems) = self.access.policy.check_password(password, login) {
                    return Err(AppError::invalid(format!(
                        "password: {}",
                        problems.join("；")
                    )));
                }
                Some(secrets::hash_password(password)?)
            }
            None => None,
        };
        let stored = to_stored(&assignments);
        let event = security_event(
            "account_created",
            &by.login,
            &primary_role(by),
            format!("创建账户 {login}"),
            serde_json::json!({"login": login, "assignments": stored}),
        );
        self.store()
            .create_account(
                NewAccount {
                    login: login.to_owned(),
                    display_name: display_name.trim().to_owned(),
                    password_hash,
                    assignments: stored,
                },
                event,
            )
            .await
            .map_err(|error| match error {
                StoreError::Conflict(message) => AppError::Conflict(message),
                other => AppError::Store(other),
            })
    }

    fn check_may_grant(&self, by: &Principal, assignments: &[Assignment]) -> AppResult<()> {
        if by.is_system() {
            return Ok(());
        }
        for assignment in assignments {
            let allowed = by
                .assignments
                .iter()
                .any(|held| held.role.may_grant(assignment.role));
            if !allowed {
                return Err(AppError::Forbidden(format!(
                    "{} may not grant {} ({})",
                    primary_role(by),
                    assignment.role.as_str(),
                    assignment.role.label()
                )));
            }
        }
        Ok(())
    }

    /// Replaces an account's assignments. Nobody changes their own (no granting roles to
    /// oneself); the change and who made it go into the record.
    pub async fn set_assignments(
        &self,
        by: &Principal,
        user_id: &str,
        assignments: Vec<Assignment>,
    ) -> AppResult<()> {
        if !by.is_system() && by.user_id == user_id {
            return Err(AppError::Forbidden(
                "nobody may change their own roles (三权分立)".to_owned(),
            ));
        }
        let account = self
            .store()
            .account(user_id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("account {user_id}")))?;
        // Taking a role away needs the same right as granting it.
        let current = parse_assignments(&account.assignments);
        self.check_may_grant(by, &current)?;
        self.check_may_grant(by, &assignments)?;
        let stored = to_stored(&assignments);
        self.token_cache.clear();
        self.store()
            .change_account(
                user_id,
                AccountChange::Assignments(stored.clone()),
                Some(security_event(
                    "role_changed",
                    &by.login,
                    &primary_role(by),
                    format!("变更 {} 的角色", account.login),
                    serde_json::json!({
                        "login": account.login,
                        "before": account.assignments,
                        "after": stored,
                    }),
                )),
            )
            .await?;
        Ok(())
    }

    /// Lifts a lock (安全管理员).
    pub async fn unlock_account(&self, by: &Principal, user_id: &str) -> AppResult<()> {
        if !by.holds(Capability::ManagePolicy) {
            return Err(AppError::Forbidden(
                "only the security administrator unlocks accounts".to_owned(),
            ));
        }
        self.store()
            .change_account(
                user_id,
                AccountChange::LoginState {
                    failed_logins: 0,
                    locked_until: None,
                },
                Some(security_event(
                    "account_unlocked",
                    &by.login,
                    &primary_role(by),
                    "解除锁定",
                    serde_json::json!({"user": user_id}),
                )),
            )
            .await?;
        Ok(())
    }

    /// Gives an account a TOTP secret and turns the second factor on; returns the secret for
    /// the authenticator app. The account's owner or an account manager may do it.
    pub async fn enroll_totp(&self, by: &Principal, user_id: &str) -> AppResult<String> {
        if !(by.is_system() || by.user_id == user_id || by.holds(Capability::ManageAccounts)) {
            return Err(AppError::Forbidden(
                "only the owner or an account manager enrols a second factor".to_owned(),
            ));
        }
        let secret = secrets::totp_secret();
        self.store()
            .change_account(
                user_id,
                AccountChange::Totp {
                    secret: Some(self.access.keys.seal(&secret)),
                    enabled: true,
                },
                Some(security_event(
                    "totp_enrolled",
                    &by.login,
                    &primary_role(by),
                    "启用双因素认证",
                    serde_json::json!({"user": user_id}),
                )),
            )
            .await?;
        Ok(secret)
    }

    /// Creates an API token for an account, optionally narrowed to a region or unit.
    pub async fn create_token(
        &self,
        by: &Principal,
        login: &str,
        name: &str,
        scope: Option<&str>,
    ) -> AppResult<TokenGrant> {
        let account = self
            .store()
            .account_by_login(login)
            .await?
            .ok_or_else(|| AppError::not_found(format!("account {login}")))?;
        if !(by.is_system() || by.holds(Capability::ManageAccounts)) {
            return Err(AppError::Forbidden(
                "only an account manager creates tokens".to_owned(),
            ));
        }
        if let Some(scope) = scope {
            Scope::parse(scope).map_err(|e| AppError::invalid(e.to_string()))?;
        }
        let token = format!("og_{}", secrets::random_token());
        let record = ApiToken {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: account.id.clone(),
            name: name.trim().to_owned(),
            hash: secrets::token_hash(&token),
            scope: scope.map(str::to_owned),
            created_at: Utc::now(),
            last_used_at: None,
            revoked_at: None,
        };
        self.store()
            .put_token(
                record.clone(),
                Some(security_event(
                    "token_created",
                    &by.login,
                    &primary_role(by),
                    format!("为 {login} 创建令牌 {name}"),
                    serde_json::json!({"token": record.id, "login": login, "scope": scope}),
                )),
            )
            .await?;
        Ok(TokenGrant { token, record })
    }

    pub async fn revoke_token(&self, by: &Principal, id: &str) -> AppResult<()> {
        let mut token = self
            .store()
            .token(id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("token {id}")))?;
        if !(by.is_system() || by.holds(Capability::ManageAccounts) || by.user_id == token.user_id)
        {
            return Err(AppError::Forbidden(
                "only the owner or an account manager revokes a token".to_owned(),
            ));
        }
        if token.revoked_at.is_some() {
            return Ok(());
        }
        token.revoked_at = Some(Utc::now());
        let token_id = token.id.clone();
        self.token_cache.clear();
        self.store()
            .put_token(
                token,
                Some(security_event(
                    "token_revoked",
                    &by.login,
                    &primary_role(by),
                    "吊销令牌",
                    serde_json::json!({"token": token_id}),
                )),
            )
            .await?;
        Ok(())
    }

    /// Security events for the audit administrator, newest first.
    pub async fn security_events(
        &self,
        by: &Principal,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        actor: Option<&str>,
        limit: u32,
    ) -> AppResult<Vec<Record>> {
        if !by.holds(Capability::ReadAudit) {
            return Err(AppError::Forbidden(
                "only the audit administrator reads the security record".to_owned(),
            ));
        }
        Ok(self
            .store()
            .security_events(from, to, actor, limit.clamp(1, 1000))
            .await?)
    }

    /// Whether the principal may read (or export) a region's figures and reports: inside one
    /// of their scopes, else "not found" for someone who holds the right elsewhere and
    /// "forbidden" for a role without it.
    pub fn authorize_region(
        &self,
        principal: &Principal,
        capability: Capability,
        region: &RegionCode,
    ) -> AppResult<()> {
        if principal.may_in_region(capability, region) {
            return Ok(());
        }
        if principal.holds(capability) {
            return Err(AppError::not_found(format!("region {region}")));
        }
        Err(AppError::Forbidden(format!(
            "none of your roles may {}",
            match capability {
                Capability::ExportReports => "export reports",
                _ => "read figures and reports",
            }
        )))
    }

    /// Records an export (reports, case lists) in the security record.
    pub async fn record_export(&self, by: &Principal, what: &str) -> AppResult<()> {
        self.store()
            .append_records(vec![security_event(
                "export",
                &by.login,
                &primary_role(by),
                format!("导出：{what}"),
                serde_json::json!({"what": what}),
            )])
            .await?;
        Ok(())
    }

    /// The reporter's full contact, for a role that needs it (回访, supported prosecution);
    /// every reveal is recorded.
    pub async fn reveal_contact(&self, by: &Principal, case_id: &str) -> AppResult<Contact> {
        if !by.holds(Capability::RevealPersonalData) {
            return Err(AppError::Forbidden(
                "roles that may see full personal data: centre_intake, centre_lead, procurator"
                    .to_owned(),
            ));
        }
        let scope = by
            .case_scope(Capability::RevealPersonalData)
            .unwrap_or_default();
        let case = self
            .store()
            .case_in_scope(case_id, &scope)
            .await?
            .ok_or_else(|| AppError::not_found(format!("case {case_id}")))?;
        let contact = self.open_contact(&case);
        self.store()
            .append_records(vec![security_event(
                "personal_data_revealed",
                &by.login,
                &primary_role(by),
                format!("查看案件 {} 报告人完整信息", case.number),
                serde_json::json!({"case": case.id, "number": case.number}),
            )])
            .await?;
        Ok(contact)
    }

    /// The reporter's contact, opened (for masking or a recorded reveal).
    pub fn open_contact(&self, case: &Case) -> Contact {
        let keys = &self.access.keys;
        let open =
            |value: &Option<String>| value.as_deref().map(|v| keys.open(v).unwrap_or_default());
        Contact {
            name: case.reporter.name.clone(),
            phone: open(&case.reporter.phone),
            id_number: open(&case.reporter.id_number),
        }
    }
}

/// The role a principal's security events name: their first assignment's.
fn primary_role(principal: &Principal) -> String {
    if principal.is_system() {
        return onegrid_domain::case::SYSTEM_ROLE.to_owned();
    }
    principal
        .assignments
        .first()
        .map_or_else(String::new, |a| a.role.as_str().to_owned())
}
