#!/usr/bin/env bash
# Runs a command (default: `cargo test --workspace`) with a throwaway PostgreSQL cluster:
# installs PostgreSQL (and Chromium with chromedriver, for the screen's browser test) from
# Debian when missing, initdb's a cluster in a temporary directory,
# starts it on 127.0.0.1 at a free port, exports ONEGRID_TEST_DATABASE_URL (an admin URL; the
# tests create and drop one database per story), runs the command, and stops and removes the
# cluster on exit, whatever happens.
#
# Beside it runs a streaming replica (a standby made with `pg_basebackup -R` on another port),
# exported as ONEGRID_TEST_REPLICA_URL for the read-replica stories: every database a story
# creates on the primary appears there too, read-only.
#
#   bash scripts/test-postgres.sh                          # cargo test --workspace
#   bash scripts/test-postgres.sh cargo test -p onegrid-store
#
# ONEGRID_TEST_PG_OPTIONS replaces the server settings that make tests cheap (fsync off …),
# e.g. ONEGRID_TEST_PG_OPTIONS="-c shared_buffers=2GB" for a durable server to benchmark;
# ONEGRID_TEST_REPLICA=0 starts no replica (benchmarks: it would take CPU replaying).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$#" -eq 0 ]; then
    set -- cargo test --workspace
fi

say() { echo "test-postgres: $*" >&2; }

find_bin() {
    # The newest installed major version's binaries.
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
        echo "$dir"
    fi
}

PG_BIN=$(find_bin)
if [ -z "$PG_BIN" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        say "PostgreSQL is not installed and we are not root: apt-get install postgresql first"
        exit 1
    fi
    say "installing PostgreSQL from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
    PG_BIN=$(find_bin)
    if [ -z "$PG_BIN" ]; then
        say "no initdb/pg_ctl under /usr/lib/postgresql/*/bin after installing"
        exit 1
    fi
fi

# The screen's browser test drives Debian's headless Chromium through chromedriver; the CJK
# font makes its screenshots readable.
if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ]; then
    if [ "$(id -u)" -ne 0 ]; then
        say "chromium/chromedriver are not installed and we are not root: apt-get install chromium chromium-driver fonts-wqy-microhei first"
        exit 1
    fi
    say "installing chromium and chromedriver from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null
fi

# initdb and postgres refuse to run as root: run them as the `postgres` OS user then.
if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

CLUSTER=$(mktemp -d "${TMPDIR:-/tmp}/onegrid-pg.XXXXXX")
chmod 755 "$CLUSTER"
DATA="$CLUSTER/data"
LOG="$CLUSTER/server.log"
if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$CLUSTER"
fi

STARTED=0
REPLICA_STARTED=0
REPLICA_DATA="$CLUSTER/replica"
cleanup() {
    local status=$?
    if [ "$REPLICA_STARTED" -eq 1 ]; then
        as_pg "$PG_BIN/pg_ctl" -D "$REPLICA_DATA" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    if [ "$STARTED" -eq 1 ]; then
        as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$CLUSTER"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The default collation is ICU's zh-CN where the server supports it (PostgreSQL 15+), like a
# real deployment here: anything that orders by the database's collation instead of bytes
# (ids, codes, logins) shows up in the tests. Older servers get plain C.UTF-8.
init() { as_pg "$PG_BIN/initdb" -D "$DATA" --username=postgres --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 "$@" >"$CLUSTER/initdb.log" 2>&1; }
if ! init --locale-provider=icu --icu-locale=zh-CN; then
    rm -rf "$DATA"
    init || {
        cat "$CLUSTER/initdb.log" >&2
        say "initdb failed"
        exit 1
    }
fi

free_port() {
    # A port nobody listens on now; the server start below retries if it was taken meanwhile.
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

# Durability is not under test here: fsync off makes the many small databases cheap.
PG_OPTIONS=${ONEGRID_TEST_PG_OPTIONS:-"-c fsync=off -c synchronous_commit=off -c full_page_writes=off"}
for attempt in 1 2 3 4 5; do
    PORT=$(free_port)
    if as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start -o \
        "-h 127.0.0.1 -p $PORT -k $CLUSTER -c max_connections=300 $PG_OPTIONS" >/dev/null; then
        STARTED=1
        break
    fi
    say "start on port $PORT failed (attempt $attempt):"
    tail -n 5 "$LOG" >&2 || true
done
if [ "$STARTED" -ne 1 ]; then
    say "could not start PostgreSQL"
    exit 1
fi

export ONEGRID_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/postgres"
say "$("$PG_BIN/postgres" --version) at $ONEGRID_TEST_DATABASE_URL (cluster $CLUSTER)"

if [ "${ONEGRID_TEST_REPLICA:-1}" = "0" ]; then
    say "no replica (ONEGRID_TEST_REPLICA=0)"
    set +e
    "$@"
    status=$?
    set -e
    exit "$status"
fi

# The standby: a base backup of the primary that writes its own standby.signal and
# primary_conninfo (-R), then follows the primary's write-ahead log as it streams. initdb's
# trust rules already let 127.0.0.1 connect for replication.
if ! as_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PORT" -U postgres -D "$REPLICA_DATA" \
    -R -X stream -c fast >"$CLUSTER/basebackup.log" 2>&1; then
    cat "$CLUSTER/basebackup.log" >&2
    say "pg_basebackup of the primary failed"
    exit 1
fi
for attempt in 1 2 3 4 5; do
    REPLICA_PORT=$(free_port)
    if as_pg "$PG_BIN/pg_ctl" -D "$REPLICA_DATA" -l "$CLUSTER/replica.log" -w -t 60 start -o \
        "-h 127.0.0.1 -p $REPLICA_PORT -k $CLUSTER -c max_connections=300 $PG_OPTIONS \
         -c hot_standby=on" >/dev/null; then
        REPLICA_STARTED=1
        break
    fi
    say "replica start on port $REPLICA_PORT failed (attempt $attempt):"
    tail -n 5 "$CLUSTER/replica.log" >&2 || true
done
if [ "$REPLICA_STARTED" -ne 1 ]; then
    say "could not start the streaming replica"
    exit 1
fi
export ONEGRID_TEST_REPLICA_URL="postgres://postgres@127.0.0.1:$REPLICA_PORT/postgres"
say "streaming replica at $ONEGRID_TEST_REPLICA_URL"

set +e
"$@"
status=$?
set -e
exit "$status"
