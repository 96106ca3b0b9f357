-- Rollups: the counters of the cases reported on a day in an area (region, grid or unit),
-- for all categories and channels or narrowed to one 大类 or one channel. Maintained in the
-- same transaction as every change of a case; dashboards read these, never the cases.
CREATE TABLE rollups (
    area_code            TEXT NOT NULL,
    category             TEXT NOT NULL,
    channel              TEXT NOT NULL,
    day                  TEXT NOT NULL,
    reported             INTEGER NOT NULL DEFAULT 0,
    accepted             INTEGER NOT NULL DEFAULT 0,
    rejected             INTEGER NOT NULL DEFAULT 0,
    registered           INTEGER NOT NULL DEFAULT 0,
    dispatched           INTEGER NOT NULL DEFAULT 0,
    handled              INTEGER NOT NULL DEFAULT 0,
    handled_on_time      INTEGER NOT NULL DEFAULT 0,
    closed               INTEGER NOT NULL DEFAULT 0,
    closed_on_time       INTEGER NOT NULL DEFAULT 0,
    reworked             INTEGER NOT NULL DEFAULT 0,
    extended             INTEGER NOT NULL DEFAULT 0,
    overdue              INTEGER NOT NULL DEFAULT 0,
    voided               INTEGER NOT NULL DEFAULT 0,
    evaluated            INTEGER NOT NULL DEFAULT 0,
    satisfied            INTEGER NOT NULL DEFAULT 0,
    settled_in_grid      INTEGER NOT NULL DEFAULT 0,
    settled_in_township  INTEGER NOT NULL DEFAULT 0,
    handle_seconds       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (area_code, category, channel, day)
) WITHOUT ROWID;
