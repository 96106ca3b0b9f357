-- The chain of areas (province … village, and grids) with validity, their polygons, and the
-- people the demo city generates. Migrations are append-only: never edit a shipped one.
--
-- Codes, ids and logins are COLLATE "C": they are ordered and compared byte by byte, as on
-- SQLite, whatever the database's default collation is (zh-CN ICU orders differently).

CREATE TABLE regions (
    code            TEXT COLLATE "C" PRIMARY KEY,
    level           TEXT NOT NULL,
    name            TEXT NOT NULL,
    parent_code     TEXT COLLATE "C",
    county_code     TEXT COLLATE "C",
    valid_from      TIMESTAMPTZ NOT NULL,
    valid_to        TIMESTAMPTZ,
    successor_code  TEXT COLLATE "C"
);
CREATE INDEX regions_parent ON regions (parent_code);
CREATE INDEX regions_level ON regions (level);

-- Earlier versions of a region whose name or parent changed; appended, never updated.
CREATE TABLE region_history (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code         TEXT COLLATE "C" NOT NULL,
    level        TEXT NOT NULL,
    name         TEXT NOT NULL,
    parent_code  TEXT COLLATE "C",
    valid_from   TIMESTAMPTZ NOT NULL,
    valid_to     TIMESTAMPTZ NOT NULL
);
CREATE INDEX region_history_code ON region_history (code);

CREATE TABLE areas (
    code         TEXT COLLATE "C" PRIMARY KEY REFERENCES regions (code),
    level        TEXT NOT NULL,
    county_code  TEXT COLLATE "C",
    geometry     TEXT NOT NULL,             -- GeoJSON geometry, exactly as imported
    area_m2      DOUBLE PRECISION NOT NULL,
    min_lon      DOUBLE PRECISION NOT NULL,
    min_lat      DOUBLE PRECISION NOT NULL,
    max_lon      DOUBLE PRECISION NOT NULL,
    max_lat      DOUBLE PRECISION NOT NULL,
    source_crs   TEXT NOT NULL,
    imported_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX areas_level ON areas (level, code);

CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,   -- UUIDv7
    login         TEXT COLLATE "C" NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    roles         TEXT[] NOT NULL,
    scope_code    TEXT COLLATE "C" NOT NULL,
    county_code   TEXT COLLATE "C",
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX users_scope ON users (scope_code);

CREATE TABLE meta (
    key    TEXT COLLATE "C" PRIMARY KEY,
    value  TEXT NOT NULL
);
