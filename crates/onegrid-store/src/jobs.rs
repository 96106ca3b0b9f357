//! Background jobs as rows (STYLE.md rule 11): the types the store hands a worker and takes
//! back. Which jobs a case's change enqueues is the domain's (`onegrid_domain::jobs`); both
//! engines write them in the change's own transaction.
//!
//! A worker claims due jobs under a lease (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so
//! any number of processes share the queue without waiting on each other), does the work, and
//! finishes each job in one transaction with its effect (a notice) and a row in `job_runs`,
//! only while it still holds the lease. A worker that dies leaves its jobs to be claimed again
//! when the lease runs out; the work is written so that running it twice changes nothing.

use chrono::{DateTime, Utc};

/// How long a claim holds a job before another worker may take it.
pub const LEASE_SECONDS: i64 = 300;

/// After this many attempts a job that keeps failing is left `failed`, for a person to see.
pub const MAX_ATTEMPTS: u32 = 10;

/// A job claimed by a worker.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: i64,
    pub key: String,
    /// `deadline_check` or `notify_unit` (`onegrid_domain::jobs::JobKind`).
    pub kind: String,
    pub county: Option<String>,
    pub case_id: Option<String>,
    pub payload: serde_json::Value,
    pub run_at: DateTime<Utc>,
    /// Including this one.
    pub attempts: u32,
}

/// A notice for a unit's inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub unit: String,
    pub county: Option<String>,
    pub case_id: String,
    pub message: String,
}

/// How a job's run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    /// The work is done; its notice, if any, is written with the job's completion.
    Done(Option<Notice>),
    /// Try again not before `at`.
    Retry { error: String, at: DateTime<Utc> },
    /// Give up; the job stays `failed` with the error.
    Failed(String),
}

/// A finished run of a claimed job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobFinish {
    pub job_id: i64,
    pub worker: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub outcome: JobOutcome,
}

impl JobOutcome {
    /// The word stored in `job_runs.outcome` and `jobs.state`.
    pub fn as_str(&self) -> &'static str {
        match self {
            JobOutcome::Done(_) => "done",
            JobOutcome::Retry { .. } => "retry",
            JobOutcome::Failed(_) => "failed",
        }
    }

    pub fn error(&self) -> Option<&str> {
        match self {
            JobOutcome::Done(_) => None,
            JobOutcome::Retry { error, .. } | JobOutcome::Failed(error) => Some(error),
        }
    }
}

pub(crate) fn payload_from_text(text: &str) -> crate::StoreResult<serde_json::Value> {
    serde_json::from_str(text)
        .map_err(|e| crate::StoreError::Corrupt(format!("job payload '{text}': {e}")))
}
