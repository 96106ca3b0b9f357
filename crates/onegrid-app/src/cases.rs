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

use crate::{App, AppError, AppResult};

/// Who acts. Until accounts and sessions exist (the access issue), callers name themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
                reporter: input.reporter.clone(),
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

    async fn apply_and_store(
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
