//! The case use cases: report, act, read, list, the overdue sweep and the audit.
//!
//! Each applies the domain's state machine (`onegrid_domain::case::apply`) to a case read from
//! the store and hands the result and its record to the store, which writes both in one
//! transaction and only if nobody changed the case meanwhile (its version).

use chrono::{DateTime, Utc};
use onegrid_domain::case::{
    ActContext, ActError, ActInput, Case, CaseState, Channel, NewCase, Reporter, apply, legal_acts,
};
use onegrid_domain::taxonomy::{Basis, ResponsibilityRole, Tier, Urgency};
use onegrid_domain::{Level, RegionCode};
use onegrid_store::audit::sha256_hex;
use onegrid_store::{
    CaseFilter, CasePage, CreateOutcome, IdempotencyClaim, NewRecord, Record, StoreError,
    VerifyReport,
};
use serde::{Deserialize, Serialize};

use onegrid_domain::access::{Capability, Role, Scope};

use crate::access::Principal;
use crate::{App, AppError, AppResult};

/// Who acts. Until accounts and sessions exist (the access issue), callers name themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub name: String,
    pub role: String,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            name: "system".to_owned(),
            role: onegrid_domain::case::SYSTEM_ROLE.to_owned(),
        }
    }
}

/// A report as it arrives from any channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportInput {
    pub description: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// A grid chosen by hand where there is no point.
    pub grid: Option<String>,
    pub address: Option<String>,
    pub channel: Channel,
    pub category: Option<String>,
    pub urgency: Option<Urgency>,
    #[serde(default)]
    pub reporter: Reporter,
    #[serde(default)]
    pub attachments: Vec<String>,
}

/// A suggested unit to dispatch to, from the responsibility matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DispatchSuggestion {
    /// A unit code: `{region code}:gov` for the territorial government, or
    /// `{county code}:{department}` for a line department.
    pub unit: String,
    pub unit_name: String,
    pub tier: Tier,
    /// `lead` (主办) or `assist` (协办).
    pub role: ResponsibilityRole,
}

/// The case, its record and what a client shows beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseView {
    pub case: Case,
    pub records: Vec<Record>,
    pub legal_acts: Vec<onegrid_domain::case::Act>,
    pub suggestions: Vec<DispatchSuggestion>,
}

/// How a report is taken in: who it is recorded as, and what ties it to its reporter.
#[derive(Debug, Clone, Default)]
struct ReportOptions {
    actor: Actor,
    /// A resident's account the case belongs to.
    account: Option<String>,
    /// Whether the reporter gets a tracking code, and its keyed hash.
    tracking: bool,
    tracking_hash: Option<String>,
    /// Where a staff member may report; `None` for the system and residents.
    report_scopes: Option<Vec<Scope>>,
}

/// A report taken in.
#[derive(Debug, Clone, PartialEq)]
pub struct Reported {
    pub case: Case,
    /// A retry with the same key answered the first case.
    pub replayed: bool,
    /// The code a resident follows the case with (shown once).
    pub tracking_code: Option<String>,
}

/// What the overdue sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub marked: usize,
    pub escalated: usize,
    pub urged: usize,
}

/// What handling one overdue case did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct OverdueOutcome {
    pub marked: bool,
    pub escalated: bool,
    pub urged: bool,
    /// Someone changed the case meanwhile, so (part of) the work was left to the next look.
    pub conflict: bool,
}

const MAX_DESCRIPTION_CHARS: usize = 4000;

fn intake_tier(channel: Channel) -> Tier {
    match channel {
        // A grid worker's own report starts in the grid: it may be settled on the spot.
        Channel::GridPatrol => Tier::Grid,
        // Residents' reports land at the township/street centre (综治中心).
        Channel::Resident | Channel::Open311 => Tier::Township,
        // The hotline and other networks hand over at the county centre.
        Channel::Hotline | Channel::OtherNetwork => Tier::County,
    }
}

fn store_error(error: StoreError) -> AppError {
    match error {
        StoreError::Conflict(message) => AppError::Conflict(message),
        StoreError::KeyReused => AppError::KeyReused,
        other => AppError::Store(other),
    }
}

fn act_context(rules: &crate::Rules, now: DateTime<Utc>) -> ActContext<'_> {
    ActContext {
        now,
        calendar: &rules.calendar,
        taxonomy: &rules.taxonomy,
        limits: &rules.limits,
    }
}

impl App {
    /// Takes in a report from any channel: resolves its place, stores the case and its first
    /// record. With an idempotency key, a retry returns the first answer (`true`).
    pub async fn report_case(
        &self,
        input: ReportInput,
        actor: &Actor,
        idempotency_key: Option<&str>,
    ) -> AppResult<(Case, bool)> {
        let options = ReportOptions {
            actor: actor.clone(),
            ..ReportOptions::default()
        };
        let (case, replayed) = self.store_report(input, &options, idempotency_key).await?;
        Ok((case, replayed))
    }

    /// Takes in a report on behalf of a caller: a signed-in person (inside the scopes where
    /// they may report), a resident with an account (the case is theirs to follow), or nobody
    /// (a public report: a resident's, with a phone number, answered with a tracking code).
    pub async fn report_case_as(
        &self,
        principal: Option<&Principal>,
        input: ReportInput,
        idempotency_key: Option<&str>,
        address: &str,
    ) -> AppResult<Reported> {
        let mut options = ReportOptions::default();
        match principal {
            None => {
                if input.channel != Channel::Resident {
                    return Err(AppError::Unauthenticated(format!(
                        "渠道 {} 须登录后上报；公众上报请用 resident 渠道",
                        input.channel.as_str()
                    )));
                }
                if input
                    .reporter
                    .phone
                    .as_deref()
                    .is_none_or(|p| p.trim().is_empty())
                {
                    return Err(AppError::invalid(
                        "reporter.phone: 未登录上报须留手机号码，以便回访",
                    ));
                }
                if let Err(wait) = self.limiter().check(
                    &format!("public-report:{address}"),
                    self.access().public_report_rate,
                ) {
                    return Err(AppError::RateLimited {
                        retry_after_seconds: wait,
                    });
                }
                // And per person: the same phone number from many addresses.
                let phone: String = input
                    .reporter
                    .phone
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect();
                let phone_key = self.access().keys.lookup_hash(&phone);
                if let Err(wait) = self.limiter().check(
                    &format!("public-report-phone:{phone_key}"),
                    self.access().public_report_rate,
                ) {
                    return Err(AppError::RateLimited {
                        retry_after_seconds: wait,
                    });
                }
                options.actor = Actor {
                    name: "公众".to_owned(),
                    role: Role::Resident.as_str().to_owned(),
                };
                options.tracking = true;
            }
            Some(principal) if principal.is_system() => {
                options.actor = Actor::system();
            }
            Some(principal) => {
                let Some(assignment) = principal
                    .assignments
                    .iter()
                    .find(|a| a.role.may(Capability::ReportCases))
                else {
                    return Err(AppError::Forbidden(
                        "none of your roles may report cases".to_owned(),
                    ));
                };
                options.actor = principal.actor(assignment.role);
                if assignment.role == Role::Resident {
                    if input.channel != Channel::Resident {
                        return Err(AppError::invalid("channel: residents report as resident"));
                    }
                    if let Err(wait) = self.limiter().check(
                        &format!("resident-report:{}", principal.user_id),
                        self.access().public_report_rate,
                    ) {
                        return Err(AppError::RateLimited {
                            retry_after_seconds: wait,
                        });
                    }
                    options.account = Some(principal.user_id.clone());
                    options.tracking = true;
                } else {
                    options.report_scopes = Some(
                        principal
                            .assignments
                            .iter()
                            .filter(|a| a.role.may(Capability::ReportCases))
                            .map(|a| a.scope.clone())
                            .collect(),
                    );
                }
            }
        }
        let tracking_code = options.tracking.then(|| match idempotency_key {
            // A retry must be answered with the same code, so it is derived from the key.
            Some(key) => {
                let digest = self.access().keys.lookup_hash(&format!("tracking:{key}"));
                crate::secrets::normalise_tracking_code(&digest[..20])
            }
            None => crate::secrets::tracking_code(),
        });
        options.tracking_hash = tracking_code
            .as_deref()
            .map(|code| self.access().keys.lookup_hash(code));
        let (case, replayed) = self.store_report(input, &options, idempotency_key).await?;
        Ok(Reported {
            case,
            replayed,
            tracking_code,
        })
    }

    async fn store_report(
        &self,
        input: ReportInput,
        options: &ReportOptions,
        idempotency_key: Option<&str>,
    ) -> AppResult<(Case, bool)> {
        let actor = &options.actor;
        let description = input.description.trim();
        if description.is_empty() {
            return Err(AppError::invalid("description: must not be empty"));
        }
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(AppError::invalid(format!(
                "description: at most {MAX_DESCRIPTION_CHARS} characters"
            )));
        }
        let atlas = self.atlas();
        let (grid, chain) = match (input.lon, input.lat, input.grid.as_deref()) {
            (Some(lon), Some(lat), _) => {
                if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                    return Err(AppError::invalid("lon/lat: out of range"));
                }
                let located = atlas.locate(lon, lat).ok_or_else(|| {
                    AppError::invalid(format!(
                        "lon/lat: the point ({lon}, {lat}) lies in no area of this city"
                    ))
                })?;
                let chain: Vec<String> = located.chain.iter().map(|l| l.code.clone()).collect();
                (located.grid.map(|g| g.code), chain)
            }
            (None, None, Some(grid)) => {
                let code = RegionCode::parse_at(Level::Grid, grid)
                    .map_err(|e| AppError::invalid(format!("grid: {e}")))?;
                if atlas.region(code.as_str()).is_none_or(|r| !r.is_current()) {
                    return Err(AppError::invalid(format!(
                        "grid: {code} is not a grid of this city"
                    )));
                }
                let chain = atlas
                    .chain(code.as_str())
                    .into_iter()
                    .map(|l| l.code)
                    .collect();
                (Some(code.to_string()), chain)
            }
            _ => {
                return Err(AppError::invalid(
                    "give the place: lon and lat, or a grid code",
                ));
            }
        };
        let county = chain
            .iter()
            .find(|code| code.len() == 6 && !code.ends_with("00"))
            .cloned()
            .ok_or_else(|| AppError::invalid("the place lies above county level"))?;
        if let Some(scopes) = &options.report_scopes {
            let inside = scopes.iter().any(|scope| match scope {
                Scope::Region(code) => grid
                    .as_deref()
                    .or(chain.first().map(String::as_str))
                    .and_then(|deepest| RegionCode::parse(deepest).ok())
                    .is_some_and(|deepest| deepest.is_within(code)),
                // A unit reports where it works: its region.
                Scope::Unit(_) => scope
                    .region()
                    .is_some_and(|region| chain.iter().any(|c| c == region.as_str())),
                Scope::Own => true,
            });
            if !inside {
                return Err(AppError::Forbidden(
                    "上报位置不在您的辖区内 (the place lies outside your scopes)".to_owned(),
                ));
            }
        }
        let rules = self.rules();
        if let Some(category) = &input.category
            && rules.taxonomy.minor(category).is_none()
        {
            return Err(AppError::invalid(format!(
                "category: '{category}' is not a 小类 of the taxonomy"
            )));
        }
        let request_hash = sha256_hex(
            serde_json::to_string(&input)
                .map_err(|e| AppError::invalid(e.to_string()))?
                .as_bytes(),
        );
        let now = Utc::now();
        let context = act_context(&rules, now);
        let case = Case::new(
            NewCase {
                id: uuid::Uuid::now_v7().to_string(),
                number: String::new(),
                county: county.clone(),
                grid,
                chain,
                lon: input.lon,
                lat: input.lat,
                address: input.address.clone(),
                description: description.to_owned(),
                channel: input.channel,
                category: input.category.clone(),
                urgency: input.urgency.unwrap_or_default(),
                reporter: self.seal_reporter(&input.reporter, options),
                attachments: input.attachments.clone(),
                tier: intake_tier(input.channel),
            },
            &context,
        );
        let record = NewRecord {
            county,
            case_id: Some(case.id.clone()),
            act: "report".to_owned(),
            actor: actor.name.clone(),
            role: actor.role.clone(),
            from_state: None,
            to_state: Some(CaseState::Reported.as_str().to_owned()),
            at: now,
            note: case.description.clone(),
            attachments: case.attachments.clone(),
            // The reporter's contact stays in the case, not in the everlasting record.
            details: serde_json::json!({
                "channel": case.channel,
                "grid": case.grid,
                "category": case.category,
                "urgency": case.urgency,
                "tier": case.tier,
            }),
        };
        let claim = idempotency_key.map(|key| IdempotencyClaim {
            key: key.to_owned(),
            request_hash,
        });
        match self.store().create_case(case, record, claim).await {
            Ok(CreateOutcome::Created(case)) => Ok((case, false)),
            Ok(CreateOutcome::Replayed(case)) => Ok((case, true)),
            Err(error) => Err(store_error(error)),
        }
    }

    /// Seals the reporter's phone and ID numbers for storage, with the keyed hash of the phone
    /// for lookups, and ties the case to an account or a tracking code.
    fn seal_reporter(&self, reporter: &Reporter, options: &ReportOptions) -> Reporter {
        let keys = &self.access().keys;
        let clean = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let phone = clean(&reporter.phone);
        let id_number = clean(&reporter.id_number);
        Reporter {
            name: clean(&reporter.name),
            phone_hash: phone.as_deref().map(|p| {
                keys.lookup_hash(&p.chars().filter(char::is_ascii_digit).collect::<String>())
            }),
            phone: phone.as_deref().map(|p| keys.seal(p)),
            id_number: id_number
                .as_deref()
                .map(|n| keys.seal(&n.to_ascii_uppercase())),
            account: options.account.clone(),
            tracking_hash: options.tracking_hash.clone(),
        }
    }

    /// Takes one act on a case, on behalf of a principal: the case must lie inside what they
    /// may see (else it is "not found"), and one of their assignments must hold the case and
    /// allow the act.
    pub async fn act_on_case_as(
        &self,
        principal: &Principal,
        id: &str,
        version: u32,
        input: ActInput,
    ) -> AppResult<Case> {
        if principal.is_system() {
            return self.act_on_case(id, version, input, &Actor::system()).await;
        }
        let case = self.visible_case(principal, id).await?;
        let act = input.act();
        let Some(assignment) = principal.assignment_for(act, &case) else {
            return Err(AppError::Forbidden(format!(
                "none of your roles may {} ({}) on case {}; roles that may: {}",
                act.as_str(),
                act.label(),
                case.number,
                act.permitted_roles().join(", ")
            )));
        };
        let actor = principal.actor(assignment.role);
        self.act_on_case(&case.id, version, input, &actor).await
    }

    /// A case the principal may read, or "not found" — never a hint that it exists elsewhere.
    pub async fn visible_case(&self, principal: &Principal, id: &str) -> AppResult<Case> {
        if !principal.holds(Capability::ReadCases) {
            return Err(AppError::Forbidden(
                "none of your roles may read cases".to_owned(),
            ));
        }
        let found = match principal.case_scope(Capability::ReadCases) {
            None => match self.store().case(id).await? {
                Some(case) => Some(case),
                None => self.store().case_by_number(id).await?,
            },
            Some(scope) => self.store().case_in_scope(id, &scope).await?,
        };
        found.ok_or_else(|| AppError::not_found(format!("case {id}")))
    }

    /// The case view for a principal (see [`App::case_view`]).
    pub async fn case_view_as(&self, principal: &Principal, id: &str) -> AppResult<CaseView> {
        let case = self.visible_case(principal, id).await?;
        let records = self.store().case_records(&case.id).await?;
        Ok(CaseView {
            legal_acts: legal_acts(&case),
            suggestions: self.dispatch_suggestions(&case),
            case,
            records,
        })
    }

    /// The case list inside what the principal may list.
    pub async fn list_cases_as(
        &self,
        principal: &Principal,
        filter: &CaseFilter,
        cursor: Option<&str>,
        limit: u32,
    ) -> AppResult<CasePage> {
        if !principal.holds(Capability::ListCases) {
            return Err(AppError::Forbidden(
                "none of your roles may list cases".to_owned(),
            ));
        }
        let mut filter = filter.clone();
        filter.scope = principal.case_scope(Capability::ListCases);
        self.list_cases(&filter, cursor, limit).await
    }

    /// The cases inside what the principal may export, as CSV with personal data masked;
    /// the export goes into the security record.
    pub async fn export_cases_as(
        &self,
        principal: &Principal,
        filter: &CaseFilter,
    ) -> AppResult<String> {
        const MAX_ROWS: usize = 100_000;
        if !principal.holds(Capability::ExportCases) {
            return Err(AppError::Forbidden(
                "none of your roles may export cases".to_owned(),
            ));
        }
        let mut filter = filter.clone();
        filter.scope = principal.case_scope(Capability::ExportCases);
        let mut out = csv::Writer::from_writer(Vec::new());
        let csv_error = |e: csv::Error| AppError::invalid(format!("csv: {e}"));
        out.write_record([
            "编号",
            "状态",
            "小类",
            "网格",
            "上报时间",
            "事件描述",
            "报告人",
            "报告人电话",
        ])
        .map_err(csv_error)?;
        let mut cursor: Option<String> = None;
        let mut rows = 0;
        loop {
            let page = self.list_cases(&filter, cursor.as_deref(), 500).await?;
            for case in &page.cases {
                let contact = self.open_contact(case);
                out.write_record([
                    case.number.as_str(),
                    case.state.label(),
                    case.category.as_deref().unwrap_or(""),
                    case.grid.as_deref().unwrap_or(""),
                    &crate::shanghai_time_text(case.created_at),
                    &onegrid_domain::masking::mask_text(&case.description),
                    &contact
                        .name
                        .as_deref()
                        .map(onegrid_domain::masking::mask_name)
                        .unwrap_or_default(),
                    &contact
                        .phone
                        .as_deref()
                        .map(onegrid_domain::masking::mask_phone)
                        .unwrap_or_default(),
                ])
                .map_err(csv_error)?;
                rows += 1;
            }
            cursor = page.next_cursor;
            if cursor.is_none() || rows >= MAX_ROWS {
                break;
            }
        }
        self.record_export(principal, &format!("案件清单 {rows} 件"))
            .await?;
        let bytes = out
            .into_inner()
            .map_err(|e| AppError::invalid(format!("csv: {e}")))?;
        String::from_utf8(bytes).map_err(|e| AppError::invalid(format!("csv: {e}")))
    }

    /// An attachment of a case the principal may read.
    pub async fn case_attachment_as(
        &self,
        principal: &Principal,
        case_id: &str,
        hash: &str,
    ) -> AppResult<onegrid_store::Attachment> {
        let view = self.case_view_as(principal, case_id).await?;
        let listed = view.case.attachments.iter().any(|a| a == hash)
            || view
                .records
                .iter()
                .any(|r| r.attachments.iter().any(|a| a == hash));
        if !listed {
            return Err(AppError::not_found(format!("attachment {hash}")));
        }
        self.store()
            .attachment(hash)
            .await?
            .ok_or_else(|| AppError::not_found(format!("attachment {hash}")))
    }

    /// The case a tracking code was given for.
    pub async fn case_by_tracking_code(&self, code: &str, address: &str) -> AppResult<CaseView> {
        if let Err(wait) = self
            .limiter()
            .check(&format!("tracking:{address}"), self.access().tracking_rate)
        {
            return Err(AppError::RateLimited {
                retry_after_seconds: wait,
            });
        }
        let code = crate::secrets::normalise_tracking_code(code);
        let hash = self.access().keys.lookup_hash(&code);
        let case = self
            .store()
            .case_by_tracking(&hash)
            .await?
            .ok_or_else(|| AppError::not_found("tracking code"))?;
        let records = self.store().case_records(&case.id).await?;
        Ok(CaseView {
            legal_acts: Vec::new(),
            suggestions: Vec::new(),
            case,
            records,
        })
    }

    /// Takes one act on a case at the version the actor saw.
    pub async fn act_on_case(
        &self,
        id: &str,
        version: u32,
        input: ActInput,
        actor: &Actor,
    ) -> AppResult<Case> {
        let act = input.act();
        if !onegrid_domain::case::may_take(&actor.role, act) {
            return Err(AppError::Forbidden(format!(
                "role '{}' may not {} ({}); roles that may: {}",
                actor.role,
                act.as_str(),
                act.label(),
                act.permitted_roles().join(", ")
            )));
        }
        let case = self
            .store()
            .case(id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("case {id}")))?;
        if case.version != version {
            return Err(AppError::Conflict(format!(
                "case {} is at version {}, not {version}: reload it; legal acts now: {}",
                case.number,
                case.version,
                legal_acts(&case)
                    .iter()
                    .map(|a| a.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        self.apply_and_store(case, input, actor, Utc::now()).await
    }

    pub(crate) async fn apply_and_store(
        &self,
        case: Case,
        input: ActInput,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> AppResult<Case> {
        let rules = self.rules();
        let context = act_context(&rules, now);
        let transition = apply(&case, &input, &context).map_err(|error| match error {
            ActError::Illegal { .. } => AppError::Conflict(error.to_string()),
            ActError::Invalid(message) => AppError::invalid(message),
        })?;
        let record = NewRecord {
            county: case.county.clone(),
            case_id: Some(case.id.clone()),
            act: transition.act.as_str().to_owned(),
            actor: actor.name.clone(),
            role: actor.role.clone(),
            from_state: Some(transition.from.as_str().to_owned()),
            to_state: Some(transition.to.as_str().to_owned()),
            at: now,
            note: transition.note.clone(),
            attachments: transition.attachments.clone(),
            details: transition.details.clone(),
        };
        let next = transition.case;
        self.store()
            .update_case(next.clone(), case.version, record)
            .await
            .map_err(store_error)?;
        Ok(next)
    }

    /// The case with its whole record, the acts legal now and the dispatch suggestions.
    pub async fn case_view(&self, id: &str) -> AppResult<CaseView> {
        let case = match self.store().case(id).await? {
            Some(case) => case,
            None => self
                .store()
                .case_by_number(id)
                .await?
                .ok_or_else(|| AppError::not_found(format!("case {id}")))?,
        };
        let records = self.store().case_records(&case.id).await?;
        Ok(CaseView {
            legal_acts: legal_acts(&case),
            suggestions: self.dispatch_suggestions(&case),
            case,
            records,
        })
    }

    pub async fn list_cases(
        &self,
        filter: &CaseFilter,
        cursor: Option<&str>,
        limit: u32,
    ) -> AppResult<CasePage> {
        Ok(self.store().list_cases(filter, cursor, limit).await?)
    }

    /// The units the responsibility matrix names for this case's category and place.
    pub fn dispatch_suggestions(&self, case: &Case) -> Vec<DispatchSuggestion> {
        let Some(category) = case.category.as_deref() else {
            return Vec::new();
        };
        let rules = self.rules();
        let atlas = self.atlas();
        let chain: Vec<&str> = case.chain.iter().map(String::as_str).collect();
        let name_of = |code: &str| {
            atlas
                .region(code)
                .map_or(code.to_owned(), |r| r.name.clone())
        };
        let code_at = |width: usize| chain.iter().find(|c| c.len() == width).copied();
        rules
            .taxonomy
            .responsibilities_for(category, &chain)
            .into_iter()
            .filter_map(|row| {
                let (unit, unit_name) = match row.basis {
                    Basis::Territorial => {
                        let code = match row.tier {
                            Tier::Grid => case.grid.as_deref()?,
                            Tier::Village => code_at(12)?,
                            Tier::Township => code_at(9)?,
                            Tier::County => &case.county,
                            Tier::City => chain
                                .iter()
                                .find(|c| c.len() == 6 && c.ends_with("00") && !c.ends_with("0000"))
                                .copied()?,
                        };
                        let suffix = match row.tier {
                            Tier::Grid => "网格",
                            Tier::Village => "村（居）委会",
                            Tier::Township => "政府（街道办事处）",
                            Tier::County | Tier::City => "人民政府",
                        };
                        (format!("{code}:gov"), format!("{}{suffix}", name_of(code)))
                    }
                    Basis::Departmental => {
                        let department = row.department.as_deref()?;
                        let department_name = rules
                            .taxonomy
                            .departments
                            .iter()
                            .find(|d| d.kind == department)
                            .map_or(department, |d| d.name.as_str());
                        let region = match row.tier {
                            Tier::City => format!("{}00", &case.county[..4]),
                            Tier::Township => code_at(9)?.to_owned(),
                            _ => case.county.clone(),
                        };
                        (
                            format!("{region}:{department}"),
                            format!("{}{department_name}", name_of(&region)),
                        )
                    }
                };
                Some(DispatchSuggestion {
                    unit,
                    unit_name,
                    tier: row.tier,
                    role: row.role,
                })
            })
            .collect()
    }

    /// Marks every case whose stage ran out, once per stage; escalates a case still waiting
    /// for dispatch below county tier (超期自动上报) and urges one overdue in handling (自动督办).
    pub async fn sweep_overdue(&self, now: DateTime<Utc>) -> AppResult<SweepReport> {
        let mut report = SweepReport::default();
        loop {
            let due = self.store().cases_past_deadline(now, 500).await?;
            if due.is_empty() {
                break;
            }
            let batch = due.len();
            for case in due {
                let outcome = self.handle_overdue(case, now).await?;
                report.marked += usize::from(outcome.marked);
                report.escalated += usize::from(outcome.escalated);
                report.urged += usize::from(outcome.urged);
            }
            if batch < 500 {
                break;
            }
        }
        self.store().write_checkpoint(now).await?;
        self.store().maintain(now).await?;
        Ok(report)
    }

    /// Marks one case whose stage ran out as overdue, as the system, and escalates it when it
    /// still waits for dispatch below county tier (超期自动上报) or urges it when it is overdue
    /// in handling (自动督办). A case someone acted on meanwhile is left alone (a conflict is
    /// not an error: whoever looks next sees the case as it now stands).
    pub(crate) async fn handle_overdue(
        &self,
        case: Case,
        now: DateTime<Utc>,
    ) -> AppResult<OverdueOutcome> {
        let mut outcome = OverdueOutcome::default();
        let system = Actor::system();
        let state = case.state;
        let tier = case.tier;
        let marked = match self
            .apply_and_store(
                case,
                ActInput::MarkOverdue {
                    note: "超期".to_owned(),
                },
                &system,
                now,
            )
            .await
        {
            Ok(marked) => marked,
            Err(AppError::Conflict(_)) => {
                outcome.conflict = true;
                return Ok(outcome);
            }
            Err(error) => return Err(error),
        };
        outcome.marked = true;
        let follow = match state {
            CaseState::Reported | CaseState::Accepted | CaseState::Registered
                if tier < Tier::County =>
            {
                Some(ActInput::Escalate {
                    reason: "超期未派遣，自动上报上级".to_owned(),
                })
            }
            CaseState::Handling => {
                let rules = self.rules();
                let due = rules.calendar.deadline(
                    now,
                    onegrid_domain::calendar::TimeLimit {
                        amount: 1,
                        unit: onegrid_domain::calendar::LimitUnit::WorkingDays,
                    },
                );
                Some(ActInput::Urge {
                    due,
                    note: "处置超期，自动督办".to_owned(),
                })
            }
            _ => None,
        };
        if let Some(follow) = follow {
            let escalating = matches!(follow, ActInput::Escalate { .. });
            match self.apply_and_store(marked, follow, &system, now).await {
                Ok(_) if escalating => outcome.escalated = true,
                Ok(_) => outcome.urged = true,
                Err(AppError::Conflict(_)) => outcome.conflict = true,
                Err(error) => return Err(error),
            }
        }
        Ok(outcome)
    }

    /// Recomputes every hash chain of the full-process record.
    pub async fn verify_audit(&self) -> AppResult<VerifyReport> {
        Ok(self.store().verify_records().await?)
    }
}
