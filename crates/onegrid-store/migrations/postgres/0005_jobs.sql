-- Background work as rows (see migrations/sqlite/0005_jobs.sql for the SQLite twin): jobs are
-- enqueued in the same transaction as the case change that causes them, claimed by any
-- number of workers with SELECT … FOR UPDATE SKIP LOCKED under a lease, and finished in one
-- transaction with their effect. Append-only: never edit a shipped migration.

CREATE TABLE jobs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key           TEXT COLLATE "C" NOT NULL UNIQUE,  -- kind:case:version; enqueued once
    kind          TEXT NOT NULL,                     -- deadline_check, notify_unit
    county_code   TEXT COLLATE "C",
    case_id       TEXT COLLATE "C",
    payload       TEXT NOT NULL,                     -- JSON object
    run_at        TIMESTAMPTZ NOT NULL,              -- not before
    state         TEXT NOT NULL DEFAULT 'pending',   -- pending, done, failed
    attempts      INTEGER NOT NULL DEFAULT 0,
    locked_by     TEXT,                              -- the worker holding the lease
    locked_until  TIMESTAMPTZ,
    last_error    TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    done_at       TIMESTAMPTZ
);
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE state = 'pending';

-- One row per execution of a job, whatever its outcome. No unique key on purpose: a job run
-- twice shows as two rows (the tests count them).
CREATE TABLE job_runs (
    job_id       BIGINT NOT NULL,
    worker       TEXT NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ NOT NULL,
    outcome      TEXT NOT NULL,                      -- done, retry, failed, lost
    error        TEXT
);
CREATE INDEX job_runs_job ON job_runs (job_id);

-- The units' inbox: a notice written by the job that delivers it, once per job.
CREATE TABLE notices (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id       BIGINT NOT NULL UNIQUE,
    unit         TEXT COLLATE "C" NOT NULL,
    county_code  TEXT COLLATE "C",
    case_id      TEXT COLLATE "C" NOT NULL,
    message      TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    read_at      TIMESTAMPTZ
);
CREATE INDEX notices_unit ON notices (unit, id);

-- Cases open now get the deadline check their current stage would have enqueued.
INSERT INTO jobs (key, kind, county_code, case_id, payload, run_at, created_at)
SELECT 'deadline_check:' || id || ':' || version, 'deadline_check', county_code, id, '{}',
       stage_deadline, now()
FROM cases
WHERE is_open AND NOT stage_overdue AND stage_deadline IS NOT NULL;
