//! The worker: runs the background jobs that case changes enqueued (`onegrid_domain::jobs`),
//! claimed from the store so that any number of processes — every `onegrid serve`, and
//! `onegrid worker` — share one queue and each job runs once.
//!
//! Each kind of work is safe to run twice: a deadline check looks at the case as it stands
//! (already marked, moved on, or given a later deadline: nothing to do), and a notice is
//! written in the same transaction that finishes its job, only while the worker holds it.

use chrono::{DateTime, Duration, Utc};
use onegrid_domain::jobs::JobKind;
use onegrid_store::jobs::{Job, JobFinish, JobOutcome, MAX_ATTEMPTS, Notice};
use serde::Serialize;

use crate::{App, AppError, AppResult};

/// What one pass of the worker did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WorkReport {
    pub claimed: usize,
    pub done: usize,
    pub retried: usize,
    pub failed: usize,
    /// Jobs whose lease ran out before they finished (another worker has them now).
    pub lost: usize,
    /// Deadline checks that marked a case overdue.
    pub marked_overdue: usize,
    pub notices: usize,
}

impl WorkReport {
    fn add(&mut self, other: &WorkReport) {
        self.claimed += other.claimed;
        self.done += other.done;
        self.retried += other.retried;
        self.failed += other.failed;
        self.lost += other.lost;
        self.marked_overdue += other.marked_overdue;
        self.notices += other.notices;
    }
}

/// A name for this process's worker: unique across processes and machines sharing a store.
pub fn worker_name() -> String {
    format!(
        "worker-{}-{}",
        std::process::id(),
        &uuid::Uuid::now_v7().simple().to_string()[20..]
    )
}

/// How long a job waits before it is tried again after its `attempts`-th failure.
fn backoff(attempts: u32) -> Duration {
    Duration::seconds(i64::from(attempts.min(MAX_ATTEMPTS)).pow(2) * 5)
}

impl App {
    /// Claims and runs jobs due at `now`, `batch` at a time, until none is due.
    pub async fn run_due_jobs(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        batch: u32,
    ) -> AppResult<WorkReport> {
        let mut total = WorkReport::default();
        loop {
            let pass = self.run_jobs_once(worker, now, batch).await?;
            total.add(&pass);
            if pass.claimed == 0 {
                return Ok(total);
            }
        }
    }

    /// Claims one batch of due jobs and runs them.
    pub async fn run_jobs_once(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        batch: u32,
    ) -> AppResult<WorkReport> {
        let jobs = self.store().claim_jobs(worker, now, batch).await?;
        let mut report = WorkReport {
            claimed: jobs.len(),
            ..WorkReport::default()
        };
        for job in jobs {
            let started_at = Utc::now();
            let (outcome, marked) = match self.run_job(&job, now).await {
                Ok(done) => done,
                Err(error) if job.attempts >= MAX_ATTEMPTS => {
                    (JobOutcome::Failed(error.to_string()), false)
                }
                Err(error) => (
                    JobOutcome::Retry {
                        error: error.to_string(),
                        at: now + backoff(job.attempts),
                    },
                    false,
                ),
            };
            let notice = matches!(outcome, JobOutcome::Done(Some(_)));
            match &outcome {
                JobOutcome::Done(_) => {}
                JobOutcome::Retry { error, .. } => {
                    tracing::warn!(job = job.id, kind = %job.kind, %error, "job will be retried");
                }
                JobOutcome::Failed(error) => {
                    tracing::error!(job = job.id, kind = %job.kind, %error, "job failed for good");
                }
            }
            let finish = JobFinish {
                job_id: job.id,
                worker: worker.to_owned(),
                started_at,
                finished_at: Utc::now(),
                outcome,
            };
            let kind = finish.outcome.as_str();
            if !self.store().finish_job(finish).await? {
                report.lost += 1;
                continue;
            }
            match kind {
                "done" => report.done += 1,
                "retry" => report.retried += 1,
                _ => report.failed += 1,
            }
            report.marked_overdue += usize::from(marked);
            report.notices += usize::from(notice);
        }
        Ok(report)
    }

    /// Does one job's work; the outcome, and whether it marked a case overdue.
    async fn run_job(&self, job: &Job, now: DateTime<Utc>) -> AppResult<(JobOutcome, bool)> {
        let Some(kind) = JobKind::parse(&job.kind) else {
            return Ok((
                JobOutcome::Failed(format!(
                    "job kind '{}' is unknown to this version",
                    job.kind
                )),
                false,
            ));
        };
        let case_id = job
            .case_id
            .as_deref()
            .ok_or_else(|| AppError::invalid(format!("job {} names no case", job.id)))?;
        match kind {
            JobKind::DeadlineCheck => {
                let Some(case) = self.store().case(case_id).await? else {
                    return Ok((JobOutcome::Done(None), false));
                };
                // The case as it stands decides: closed, suspended, already marked, or given
                // a later deadline since this job was enqueued — nothing to do.
                let due = case.state.is_open()
                    && case.state != onegrid_domain::case::CaseState::Suspended
                    && !case.stage_overdue
                    && case.stage_deadline.is_some_and(|deadline| deadline <= now);
                if !due {
                    return Ok((JobOutcome::Done(None), false));
                }
                let outcome = self.handle_overdue(case, now).await?;
                if outcome.conflict && !outcome.marked {
                    // Someone acted on the case meanwhile: look again shortly.
                    return Ok((
                        JobOutcome::Retry {
                            error: "the case changed while it was being marked".to_owned(),
                            at: now + Duration::seconds(1),
                        },
                        false,
                    ));
                }
                Ok((JobOutcome::Done(None), outcome.marked))
            }
            JobKind::NotifyUnit => {
                let unit = job.payload["unit"].as_str().ok_or_else(|| {
                    AppError::invalid(format!("job {}: payload has no unit", job.id))
                })?;
                let message = job.payload["message"].as_str().unwrap_or_default();
                Ok((
                    JobOutcome::Done(Some(Notice {
                        unit: unit.to_owned(),
                        county: job.county.clone(),
                        case_id: case_id.to_owned(),
                        message: message.to_owned(),
                    })),
                    false,
                ))
            }
        }
    }
}
