-- Background work as rows: jobs enqueued in the same transaction as the case change that
-- causes them, claimed under a lease by the worker (one writer here, so no row locks are
-- needed), and finished in one transaction with their effect. The PostgreSQL twin is
-- migrations/postgres/0005_jobs.sql. Append-only: never edit a shipped migration.

CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    key           TEXT NOT NULL UNIQUE,              -- kind:case:version; enqueued once
    kind          TEXT NOT NULL,                     -- deadline_check, notify_unit
    county_code   TEXT,
    case_id       TEXT,
    payload       TEXT NOT NULL,                     -- JSON object
    run_at        TEXT NOT NULL,                     -- not before
    state         TEXT NOT NULL DEFAULT 'pending',   -- pending, done, failed
    attempts      INTEGER NOT NULL DEFAULT 0,
    locked_by     TEXT,
    locked_until  TEXT,
    last_error    TEXT,
    created_at    TEXT NOT NULL,
    done_at       TEXT
);
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE state = 'pending';

-- One row per execution of a job, whatever its outcome; a job run twice shows twice.
CREATE TABLE job_runs (
    job_id       INTEGER NOT NULL,
    worker       TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    finished_at  TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    error        TEXT
);
CREATE INDEX job_runs_job ON job_runs (job_id);

-- The units' inbox: a notice written by the job that delivers it, once per job.
CREATE TABLE notices (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id       INTEGER NOT NULL UNIQUE,
    unit         TEXT NOT NULL,
    county_code  TEXT,
    case_id      TEXT NOT NULL,
    message      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    read_at      TEXT
);
CREATE INDEX notices_unit ON notices (unit, id);

-- Cases open now get the deadline check their current stage would have enqueued.
INSERT INTO jobs (key, kind, county_code, case_id, payload, run_at, created_at)
SELECT 'deadline_check:' || id || ':' || version, 'deadline_check', county_code, id, '{}',
       stage_deadline, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
FROM cases
WHERE is_open = 1 AND stage_overdue = 0 AND stage_deadline IS NOT NULL;
