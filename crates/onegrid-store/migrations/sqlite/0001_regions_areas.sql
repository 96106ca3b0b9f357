-- The chain of areas (province … village, and grids) with validity, their polygons, and the
-- people the demo city generates. Migrations are append-only: never edit a shipped one.

CREATE TABLE regions (
    code            TEXT PRIMARY KEY,
    level           TEXT NOT NULL,
    name            TEXT NOT NULL,
    parent_code     TEXT,
    county_code     TEXT,
    valid_from      TEXT NOT NULL,
    valid_to        TEXT,
    successor_code  TEXT
);
CREATE INDEX regions_parent ON regions (parent_code);
CREATE INDEX regions_level ON regions (level);

-- Earlier versions of a region whose name or parent changed; appended, never updated.
CREATE TABLE region_history (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    code         TEXT NOT NULL,
    level        TEXT NOT NULL,
    name         TEXT NOT NULL,
    parent_code  TEXT,
    valid_from   TEXT NOT NULL,
    valid_to     TEXT NOT NULL
);
CREATE INDEX region_history_code ON region_history (code);

CREATE TABLE areas (
    code         TEXT PRIMARY KEY REFERENCES regions (code),
    level        TEXT NOT NULL,
    county_code  TEXT,
    geometry     TEXT NOT NULL,
    area_m2      REAL NOT NULL,
    min_lon      REAL NOT NULL,
    min_lat      REAL NOT NULL,
    max_lon      REAL NOT NULL,
    max_lat      REAL NOT NULL,
    source_crs   TEXT NOT NULL,
    imported_at  TEXT NOT NULL
);
CREATE INDEX areas_level ON areas (level);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    roles         TEXT NOT NULL,
    scope_code    TEXT NOT NULL,
    county_code   TEXT,
    created_at    TEXT NOT NULL
);
CREATE INDEX users_scope ON users (scope_code);

CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
