#!/usr/bin/env bash
# Web benchmarks of zhenxing (issue 3): household list, search and household pages, and the JSON
# API, on the full-scale registry, with wrk on loopback at 64 connections; server peak memory.
# SQLite, then PostgreSQL (when .ci/start-postgres.sh's server can be started).
#
#   bash bench/web.sh [SCALE]      # SCALE defaults to 1
#
# Writes its section of BENCHMARKS.md (between the "web benchmarks" markers), leaving the rest.
# Scratch files go to bench/out/web/ (gitignored); the generated registries are kept there and
# reused by the next run.
set -euo pipefail
set -o errtrace

SCALE=${1:-1}
CONNECTIONS=64
DURATION=15s
PORT=18080
PG_DB=zx_web_bench
PASSWORD='Bench-password-2026'

die() { echo "bench/web: FAILED: $*" >&2; exit 1; }
trap 'die "line $LINENO: command exited with status $?: $BASH_COMMAND"' ERR
log() { echo "bench/web: $*" >&2; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=bench/lib.sh
source bench/lib.sh
OUT=bench/out/web
BIN=target/release/zhenxing
REPORT=BENCHMARKS.md
mkdir -p "$OUT"
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
command -v curl >/dev/null || die "curl is not installed"

log "cargo build --release"
cargo build --release -p zhenxing >&2

SERVER_PID=
stop_server() {
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}
trap stop_server EXIT

# Prepares a database: generated registry, a municipal administrator with a token.
prepare() {
  local url=$1
  local stats
  stats=$("$BIN" --database "$url" stats --json 2>/dev/null || true)
  if ! grep -q '"households": *[1-9]' <<<"$stats"; then
    log "generate --scale $SCALE into $url"
    "$BIN" --database "$url" generate --scale "$SCALE" >&2
  fi
  local users
  users=$("$BIN" --database "$url" user list 2>/dev/null || true)
  if grep -q '^bench_admin ' <<<"$users"; then
    printf '%s\n' "$PASSWORD" | "$BIN" --database "$url" user password bench_admin >/dev/null
  else
    printf '%s\n' "$PASSWORD" | "$BIN" --database "$url" user add bench_admin --role municipal_admin --division 500000000000 >/dev/null
  fi
  "$BIN" --database "$url" token create bench_admin 2>/dev/null | tail -n 1
}

start_server() {
  local url=$1
  "$BIN" --database "$url" serve --bind "127.0.0.1:$PORT" 2>"$OUT/server.log" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  die "the server did not start (see $OUT/server.log)"
}

# Signs in through the form, as a browser does, and prints the session cookie.
session_cookie() {
  local jar="$OUT/cookies.txt"
  rm -f "$jar"
  local page csrf
  page=$(curl -fs -c "$jar" "http://127.0.0.1:$PORT/login")
  csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' <<<"$page" | head -n 1)
  curl -fs -b "$jar" -c "$jar" -o /dev/null --data-urlencode "name=bench_admin" \
    --data-urlencode "password=$PASSWORD" --data-urlencode "csrf=$csrf" "http://127.0.0.1:$PORT/login"
  awk '$6 == "zx_session" { print $7 }' "$jar"
}

# Runs wrk on one URL; prints "p50 p99 requests/s non2xx".
measure() {
  local path=$1; shift
  local out
  out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "http://127.0.0.1:$PORT$path")
  echo "$out" >>"$OUT/wrk.log"
  local p50 p99 rps errors
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  errors=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' <<<"$out")
  echo "$p50 $p99 $rps ${errors:-0}"
}

ROWS=()
run_backend() {
  local name=$1 url=$2 sample_sql_cmd=$3
  local token cookie no head
  token=$(prepare "$url")
  [[ $token == zx_* ]] || die "no API token for $name"
  read -r no head < <(eval "$sample_sql_cmd")
  [[ -n $no ]] || die "no sample household in $name"
  start_server "$url"
  cookie=$(session_cookie)
  [[ -n $cookie ]] || die "sign-in failed on $name"
  local enc_head
  enc_head=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$head")
  local -a pages=(
    "household list, whole municipality (first page)|/households|cookie|< 50 ms"
    "household list, one county, monitored only|/households?division=500229000000&category=unstable_lifted_out|cookie|< 50 ms"
    "household search by name|/households?q=$enc_head|cookie|< 50 ms"
    "household page|/households/$no|cookie|< 30 ms"
    "JSON API, one household|/api/v1/households/$no|bearer|≥ 2,000 req/s"
  )
  for entry in "${pages[@]}"; do
    IFS='|' read -r label path auth target <<<"$entry"
    local -a headers
    if [[ $auth == cookie ]]; then headers=(-H "Cookie: zx_session=$cookie"); else headers=(-H "Authorization: Bearer $token"); fi
    log "$name: $label"
    read -r p50 p99 rps errors < <(measure "$path" "${headers[@]}")
    ROWS+=("| $name | $label | \`$path\` | $p50 | $p99 | $rps | $errors | $target |")
  done
  local hwm
  hwm=$(awk '/^VmHWM:/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$SERVER_PID/status")
  ROWS+=("| $name | server peak resident memory (VmHWM) after all runs | | | | | | $hwm (< 300 MiB) |")
  stop_server
}

LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
SQLITE_DB="$OUT/registry.db"
run_backend SQLite "sqlite://$SQLITE_DB" \
  "sqlite3 -separator ' ' '$SQLITE_DB' \"SELECT h.household_no, m.name FROM households h JOIN members m ON m.household_id = h.id AND m.relation = 'head' WHERE h.division_code LIKE '500229%' ORDER BY h.id LIMIT 1 OFFSET 1000\""

PG_NOTE="PostgreSQL was not measured: its server could not be started."
if PG_URL=$(bash .ci/start-postgres.sh 2>/dev/null | tail -n 1) && [[ $PG_URL == postgres://* ]]; then
  psql "$PG_URL" -qtAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1 \
    || psql "$PG_URL" -qc "CREATE DATABASE $PG_DB"
  PG_BENCH_URL="${PG_URL%/*}/$PG_DB"
  run_backend PostgreSQL "$PG_BENCH_URL" \
    "psql '$PG_BENCH_URL' -qtAF ' ' -c \"SELECT h.household_no, m.name FROM households h JOIN members m ON m.county_code = h.county_code AND m.household_id = h.id AND m.relation = 'head' WHERE h.division_code LIKE '500229%' ORDER BY h.id LIMIT 1 OFFSET 1000\""
  PG_NOTE="PostgreSQL is the throwaway cluster of \`.ci/start-postgres.sh\` (fsync off) on the same machine."
fi
LOADAVG_END=$(cut -d' ' -f1-3 /proc/loadavg)

SECTION=$(cat <<MD
<!-- web benchmarks: start (written by bench/web.sh) -->
## Web application (issue 3)

\`bash bench/web.sh $SCALE\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD), $(nproc) CPUs,
load average at start / end: $LOADAVG_START / $LOADAVG_END. The registry is the synthetic one at scale
$SCALE; the server is the release binary (\`zhenxing serve\`), signed in as a municipal administrator
(the widest scope: every list covers the whole registry unless filtered). The load generator is
\`wrk -t1 -c$CONNECTIONS -d$DURATION --latency\` on loopback, on the same two cores as the server, one URL
per run (the same page requested repeatedly). Latencies are wrk's percentiles; "non-2xx" counts
answers that were not successes (it must be 0). $PG_NOTE

| Database | What | URL | p50 | p99 | requests/s | non-2xx | Target |
|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${ROWS[@]}")
<!-- web benchmarks: end -->
MD
)
write_section web "$REPORT" "$SECTION"
log "wrote the web section of $REPORT"
printf '%s\n' "${ROWS[@]}"
