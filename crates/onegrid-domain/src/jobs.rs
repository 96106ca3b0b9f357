//! Background work a case's change causes: which jobs a change enqueues, derived (like the
//! rollups) from the case before and after the change, so that every engine enqueues them in
//! the change's own transaction.
//!
//! Two kinds today: a **deadline check** at the moment the case's current stage runs out (it
//! marks the case overdue and escalates or urges it, the work the minute sweep did by
//! scanning), and a **notice** to the unit a case was dispatched to (the outbox entry the
//! unit's inbox is filled from).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::case::{Case, CaseState};

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// When the stage's deadline passes: mark the case overdue, then escalate or urge it.
    DeadlineCheck,
    /// Tell the unit a case was dispatched to (派遣通知).
    NotifyUnit,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::DeadlineCheck => "deadline_check",
            JobKind::NotifyUnit => "notify_unit",
        }
    }

    pub fn parse(text: &str) -> Option<JobKind> {
        match text {
            "deadline_check" => Some(JobKind::DeadlineCheck),
            "notify_unit" => Some(JobKind::NotifyUnit),
            _ => None,
        }
    }
}

/// A job to enqueue with a case's change.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// One job per kind, case and version: enqueuing the same change twice adds nothing.
    pub key: String,
    pub kind: JobKind,
    pub county: String,
    pub case_id: String,
    /// Not before this moment.
    pub run_at: DateTime<Utc>,
    /// What the job needs beyond the case (JSON object).
    pub payload: serde_json::Value,
}

/// The key of a job: its kind, case and the case's version after the change.
pub fn job_key(kind: JobKind, case_id: &str, version: u32) -> String {
    format!("{}:{case_id}:{version}", kind.as_str())
}

/// The jobs a change of a case (or its creation, `before` = `None`) causes.
pub fn jobs_for_change(before: Option<&Case>, after: &Case) -> Vec<NewJob> {
    let mut jobs = Vec::new();
    let new_deadline = before.is_none_or(|b| b.stage_deadline != after.stage_deadline);
    if let Some(deadline) = after.stage_deadline
        && new_deadline
        && after.state.is_open()
        && !after.stage_overdue
    {
        jobs.push(NewJob {
            key: job_key(JobKind::DeadlineCheck, &after.id, after.version),
            kind: JobKind::DeadlineCheck,
            county: after.county.clone(),
            case_id: after.id.clone(),
            run_at: deadline,
            payload: serde_json::json!({}),
        });
    }
    let newly_dispatched = after.state == CaseState::Dispatched
        && before.is_none_or(|b| b.state != CaseState::Dispatched || b.unit != after.unit);
    if newly_dispatched && let Some(unit) = &after.unit {
        jobs.push(NewJob {
            key: job_key(JobKind::NotifyUnit, &after.id, after.version),
            kind: JobKind::NotifyUnit,
            county: after.county.clone(),
            case_id: after.id.clone(),
            run_at: after.updated_at,
            payload: serde_json::json!({
                "unit": unit,
                "message": format!("案件{}已派遣至本单位，请及时签收处置", after.number),
            }),
        });
    }
    jobs
}
