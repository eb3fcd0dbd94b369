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

# shellcheck source=bench/server.sh
source bench/server.sh

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
