-- Rollups (see migrations/sqlite/0003_rollups.sql): the counters of the cases reported on a
-- day in an area (grid up to county, or a unit), for all cases or one 大类 or channel,
-- maintained in the same transaction as every case change. No city or province rows: those
-- sum their counties, so writes in different counties never touch the same row.
CREATE TABLE rollups (
    area_code            TEXT COLLATE "C" NOT NULL,
    category             TEXT COLLATE "C" NOT NULL,
    channel              TEXT COLLATE "C" NOT NULL,
    day                  DATE NOT NULL,
    reported             BIGINT NOT NULL DEFAULT 0,
    accepted             BIGINT NOT NULL DEFAULT 0,
    rejected             BIGINT NOT NULL DEFAULT 0,
    registered           BIGINT NOT NULL DEFAULT 0,
    dispatched           BIGINT NOT NULL DEFAULT 0,
    handled              BIGINT NOT NULL DEFAULT 0,
    handled_on_time      BIGINT NOT NULL DEFAULT 0,
    closed               BIGINT NOT NULL DEFAULT 0,
    closed_on_time       BIGINT NOT NULL DEFAULT 0,
    reworked             BIGINT NOT NULL DEFAULT 0,
    extended             BIGINT NOT NULL DEFAULT 0,
    overdue              BIGINT NOT NULL DEFAULT 0,
    voided               BIGINT NOT NULL DEFAULT 0,
    evaluated            BIGINT NOT NULL DEFAULT 0,
    satisfied            BIGINT NOT NULL DEFAULT 0,
    settled_in_grid      BIGINT NOT NULL DEFAULT 0,
    settled_in_township  BIGINT NOT NULL DEFAULT 0,
    handle_seconds       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (area_code, category, channel, day)
);
