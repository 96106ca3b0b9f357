-- Cases and their records, partitioned declaratively: by county (LIST on county_code, the
-- distribution column on Citus too), and within each county by month (RANGE, UTC months: on
-- created_at for cases, on the record's time text for records). Append-only: never edit a
-- shipped migration.
--
--   cases                      PARTITION BY LIST (county_code)
--     cases_140702             PARTITION BY RANGE (created_at)
--       cases_140702_202611    one month
--       cases_140702_default   months without a partition yet
--     cases_default            counties without a partition yet
--   records                    the same, RANGE on (at COLLATE "C"): '2026-11-01' <= at < '2026-12-01'
--
-- PostgreSQL requires every unique key of a partitioned table to hold the partition keys, so
-- the keys grow by the month column, and `id`/`number` (unique on SQLite) are plain indexes
-- here: ids are UUIDv7 and numbers are drawn from case_counters, so neither repeats anyway.
-- Partitions are made by onegrid_ensure_partitions (below); the store's upkeep (at start and
-- every minute) makes them for every county that holds data, this month and the next, so a
-- month's partition exists before its rows arrive; a county's first rows wait in the default
-- partition until the next upkeep. Rows that arrived in a default partition first are moved
-- into the new partition in the transaction that creates it: the rows themselves, hashes and
-- all, are unchanged — only where they are stored.

-- The tables as they were, out of the way.
ALTER TABLE cases RENAME TO cases_unpartitioned;
ALTER TABLE cases_unpartitioned RENAME CONSTRAINT cases_pkey TO cases_unpartitioned_pkey;
DROP INDEX cases_id, cases_number, cases_county_id, cases_township_id, cases_village_id,
    cases_grid_id, cases_state_id, cases_created, cases_deadline;
ALTER TABLE records RENAME TO records_unpartitioned;
ALTER TABLE records_unpartitioned RENAME CONSTRAINT records_pkey TO records_unpartitioned_pkey;
ALTER TABLE records_unpartitioned
    RENAME CONSTRAINT records_county_code_id_key TO records_unpartitioned_county_code_id_key;
DROP INDEX records_case;

CREATE TABLE cases (
    county_code     TEXT COLLATE "C" NOT NULL,  -- the shard key
    id              TEXT COLLATE "C" NOT NULL,  -- UUIDv7: byte order is time order
    number          TEXT COLLATE "C" NOT NULL,
    township_code   TEXT COLLATE "C",
    village_code    TEXT COLLATE "C",
    grid_code       TEXT COLLATE "C",
    state           TEXT NOT NULL,
    tier            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    category        TEXT COLLATE "C",
    urgency         TEXT NOT NULL,
    unit            TEXT,
    overdue         BOOLEAN NOT NULL DEFAULT FALSE,
    stage_overdue   BOOLEAN NOT NULL DEFAULT FALSE,
    is_open         BOOLEAN NOT NULL,
    stage_deadline  TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    version         BIGINT NOT NULL,
    body            JSONB NOT NULL,
    PRIMARY KEY (county_code, id, created_at)
) PARTITION BY LIST (county_code);
CREATE TABLE cases_default PARTITION OF cases DEFAULT;

CREATE TABLE records (
    county_code  TEXT COLLATE "C" NOT NULL,
    seq          BIGINT NOT NULL,
    id           TEXT COLLATE "C" NOT NULL,
    case_id      TEXT COLLATE "C",
    act          TEXT NOT NULL,
    actor        TEXT NOT NULL,
    role         TEXT NOT NULL,
    from_state   TEXT,
    to_state     TEXT,
    at           TEXT COLLATE "C" NOT NULL,  -- RFC 3339, microseconds, UTC: exactly as hashed
    note         TEXT NOT NULL,
    attachments  TEXT NOT NULL,
    details      TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    PRIMARY KEY (county_code, seq, at),
    UNIQUE (county_code, id, at)
) PARTITION BY LIST (county_code);
CREATE TABLE records_default PARTITION OF records DEFAULT;

INSERT INTO cases SELECT * FROM cases_unpartitioned;
INSERT INTO records
SELECT county_code, seq, id, case_id, act, actor, role, from_state, to_state, at, note,
       attachments, details, prev_hash, hash
FROM records_unpartitioned;
DROP TABLE cases_unpartitioned;
DROP TABLE records_unpartitioned;

CREATE INDEX cases_id ON cases (id);
CREATE INDEX cases_number ON cases (number);
CREATE INDEX cases_county_id ON cases (county_code, id DESC);
CREATE INDEX cases_township_id ON cases (township_code, id DESC);
CREATE INDEX cases_village_id ON cases (village_code, id DESC);
CREATE INDEX cases_grid_id ON cases (grid_code, id DESC);
CREATE INDEX cases_state_id ON cases (state, id DESC);
CREATE INDEX cases_created ON cases (created_at);
CREATE INDEX cases_deadline ON cases (stage_deadline) WHERE is_open AND NOT stage_overdue;
CREATE INDEX records_case ON records (case_id, county_code, seq);

-- Makes (when missing) the partitions of `county` and of the UTC month holding `month`, for
-- cases and records, moving any rows that wait for them in a default partition. Serialised by
-- an advisory lock, so that processes calling it at once do not race.
CREATE FUNCTION onegrid_ensure_partitions(county TEXT, month DATE) RETURNS VOID
LANGUAGE plpgsql AS $$
DECLARE
    first_day DATE := date_trunc('month', month)::date;
    next_first DATE := (date_trunc('month', month) + interval '1 month')::date;
    suffix TEXT := to_char(month, 'YYYYMM');
    spec RECORD;
    county_part TEXT;
    month_part TEXT;
BEGIN
    IF county !~ '^[0-9]{6}$' THEN
        RAISE EXCEPTION 'county code "%": six digits expected', county;
    END IF;
    FOR spec IN
        SELECT * FROM (VALUES
            ('cases', 'created_at',
             quote_literal(first_day::text || ' 00:00:00+00'),
             quote_literal(next_first::text || ' 00:00:00+00'),
             format('created_at >= %L::timestamptz AND created_at < %L::timestamptz',
                    first_day::text || ' 00:00:00+00', next_first::text || ' 00:00:00+00')),
            ('records', 'at',
             quote_literal(first_day::text), quote_literal(next_first::text),
             format('at >= %L AND at < %L', first_day::text, next_first::text))
        ) AS t(parent, key, low, high, in_month)
    LOOP
        county_part := spec.parent || '_' || county;
        month_part := county_part || '_' || suffix;
        IF to_regclass(county_part) IS NOT NULL AND to_regclass(month_part) IS NOT NULL THEN
            CONTINUE;
        END IF;
        PERFORM pg_advisory_xact_lock(hashtext('onegrid_partitions'));
        IF to_regclass(county_part) IS NULL THEN
            -- The county's rows wait in the default partition: take them out, make the
            -- county's partition, put them back (they now land in it).
            EXECUTE format('CREATE TEMP TABLE onegrid_moving (LIKE %I) ON COMMIT DROP',
                           spec.parent);
            EXECUTE format('WITH moved AS (DELETE FROM %I WHERE county_code = %L RETURNING *)
                            INSERT INTO onegrid_moving SELECT * FROM moved',
                           spec.parent || '_default', county);
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES IN (%L)
                            PARTITION BY RANGE (%I)', county_part, spec.parent, county, spec.key);
            EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT',
                           county_part || '_default', county_part);
            EXECUTE format('INSERT INTO %I SELECT * FROM onegrid_moving', spec.parent);
            DROP TABLE onegrid_moving;
        END IF;
        IF to_regclass(month_part) IS NULL THEN
            EXECUTE format('CREATE TEMP TABLE onegrid_moving (LIKE %I) ON COMMIT DROP',
                           spec.parent);
            EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %s RETURNING *)
                            INSERT INTO onegrid_moving SELECT * FROM moved',
                           county_part || '_default', spec.in_month);
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)',
                           month_part, county_part, spec.low, spec.high);
            EXECUTE format('INSERT INTO %I SELECT * FROM onegrid_moving', spec.parent);
            DROP TABLE onegrid_moving;
        END IF;
    END LOOP;
END;
$$;

-- The (county, month) pairs whose rows wait in a county's default partition (e.g. older cases
-- a copy brought, or rows written before the upkeep made their month's partition).
CREATE FUNCTION onegrid_waiting_months() RETURNS TABLE (county TEXT, month DATE)
LANGUAGE plpgsql AS $$
DECLARE
    part TEXT;
BEGIN
    FOR part IN
        SELECT c.relname FROM pg_class c
        WHERE c.relname ~ '^(cases|records)_[0-9]{6}_default$' AND c.relkind = 'r'
    LOOP
        RETURN QUERY EXECUTE format(
            CASE WHEN part LIKE 'cases%'
                THEN 'SELECT DISTINCT county_code::text, (date_trunc(''month'', created_at AT TIME ZONE ''UTC''))::date FROM %I'
                ELSE 'SELECT DISTINCT county_code::text, (left(at, 7) || ''-01'')::date FROM %I'
            END, part);
    END LOOP;
END;
$$;

-- The counties that hold data: a chain, or rows waiting in the top default partitions. Only
-- these get partitions (a division import may list every county of the country).
CREATE FUNCTION onegrid_partitioned_counties() RETURNS SETOF TEXT
LANGUAGE sql AS $$
    SELECT county_code::text FROM chain_heads
    UNION SELECT DISTINCT county_code::text FROM cases_default
    UNION SELECT DISTINCT county_code::text FROM records_default
    ORDER BY 1
$$;

-- Everything at once, in one transaction: for this migration (the store is small then). The
-- store itself calls onegrid_ensure_partitions one county at a time, so that a province's
-- hundred counties never hold all their locks in one transaction.
CREATE FUNCTION onegrid_maintain_partitions(at_time TIMESTAMPTZ) RETURNS VOID
LANGUAGE plpgsql AS $$
DECLARE
    county_code TEXT;
    waiting RECORD;
    this_month DATE := (at_time AT TIME ZONE 'UTC')::date;
BEGIN
    FOR county_code IN SELECT * FROM onegrid_partitioned_counties() LOOP
        PERFORM onegrid_ensure_partitions(county_code, this_month);
        PERFORM onegrid_ensure_partitions(county_code, (this_month + interval '1 month')::date);
    END LOOP;
    FOR waiting IN SELECT * FROM onegrid_waiting_months() LOOP
        PERFORM onegrid_ensure_partitions(waiting.county, waiting.month);
    END LOOP;
END;
$$;

SELECT onegrid_maintain_partitions(now());
