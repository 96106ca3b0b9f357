#!/usr/bin/env bash
# Intake: durable new cases per second through HTTP (wrk + bench/intake.lua), then the checks:
# every case answered 201 is in the store, the store holds no more cases than requests were
# sent, and the full-process record verifies.
#
#   bench/intake.sh [CONNECTIONS…]          (default: 16 64 256, 20 s each)
#
# Environment: ONEGRID_BIN (default ./target/release/onegrid), WORK (default /tmp/onegrid-intake),
# PORT (default 18080), SECONDS_EACH (default 20); DATABASE=postgres://… runs the same on an
# empty PostgreSQL database instead of SQLite under WORK (the checks then use psql).
set -euo pipefail
BIN=${ONEGRID_BIN:-./target/release/onegrid}
WORK=${WORK:-/tmp/onegrid-intake}
PORT=${PORT:-18080}
SECONDS_EACH=${SECONDS_EACH:-20}
HERE=$(cd "$(dirname "$0")" && pwd)
CONNS=("$@")
[ ${#CONNS[@]} -gt 0 ] || CONNS=(16 64 256)

if [ -n "${DATABASE:-}" ]; then
  STORE=(--database "$DATABASE")
  # PostgreSQL needs the secret key configured (SQLite keeps one beside its file).
  if [ -z "${ONEGRID_SECRET_KEY:-}" ]; then
    ONEGRID_SECRET_KEY=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
    export ONEGRID_SECRET_KEY
  fi
  count_cases() { psql "$DATABASE" -Atc "SELECT count(*) FROM cases"; }
  case_ids() { psql "$DATABASE" -Atc "SELECT id FROM cases"; }
else
  STORE=(--data "$WORK/city")
  count_cases() { sqlite3 "$WORK/city/onegrid.sqlite3" "SELECT count(*) FROM cases"; }
  case_ids() { sqlite3 "$WORK/city/onegrid.sqlite3" "SELECT id FROM cases"; }
fi
rm -rf "$WORK" && mkdir -p "$WORK/ids"
"$BIN" "${STORE[@]}" demo >/dev/null
"$BIN" "${STORE[@]}" bench points --count 5000 --out "$WORK/points.csv"
# Reports from every channel need an account: a city centre's intake clerk who also patrols.
"$BIN" "${STORE[@]}" user create bench-intake --role centre_intake@140700 >/dev/null
ONEGRID_TOKEN=$("$BIN" "${STORE[@]}" token create bench-intake | tail -n 1)
export ONEGRID_TOKEN
"$BIN" "${STORE[@]}" serve --addr "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

export ONEGRID_POINTS="$WORK/points.csv" ONEGRID_IDS_DIR="$WORK/ids"
for c in "${CONNS[@]}"; do
  echo "=== wrk -t2 -c$c -d${SECONDS_EACH}s"
  wrk -t2 -c"$c" -d"${SECONDS_EACH}s" --timeout 10s --latency -s "$HERE/intake.lua" \
    "http://127.0.0.1:$PORT" | tee "$WORK/wrk-c$c.txt"
  echo "server RSS: $(grep VmRSS /proc/$SERVER/status)"
done

kill -TERM $SERVER && wait $SERVER || true
trap - EXIT
answered=$(grep -h "^answers 201:" "$WORK"/wrk-c*.txt | awk '{s += $3} END {print s}')
sent=$(grep -h "^requests sent:" "$WORK"/wrk-c*.txt | awk '{s += $3} END {print s}')
stored=$(count_cases)
cat "$WORK"/ids/*.txt | sort -u >"$WORK/acked.txt"
case_ids | sort >"$WORK/stored.txt"
missing=$(comm -23 "$WORK/acked.txt" "$WORK/stored.txt" | wc -l)
echo "answered 201: $answered; requests sent: $sent; cases stored: $stored"
echo "acknowledged ids logged: $(wc -l <"$WORK/acked.txt"); acknowledged but not stored: $missing"
echo "stored but not answered (in flight when wrk stopped, at most the connection count): $((stored - answered))"
"$BIN" "${STORE[@]}" audit verify
