#!/usr/bin/env bash
# Statistics benchmarks (issue 6, "Speed"): the dashboard pages at 16 concurrent connections
# while the registry is being written, the first read just after a write, and the monthly report
# tables for the whole municipality, on SQLite at full demo scale.
#
#   bash bench/stats.sh [SCALE]      # SCALE defaults to 1
#
# Writes its section of BENCHMARKS.md (between the "stats benchmarks" markers), leaving the rest.
# Scratch files go to bench/out/stats/ (gitignored); the registry is kept there for the next run.
set -euo pipefail
set -o errtrace

SCALE=${1:-1}
CONNECTIONS=16
DURATION=15s
DURATION_SECONDS=15
PORT=18081
PASSWORD='Bench-password-2026'
WRITE_INTERVAL=0.1     # seconds between writes while wrk runs
PROBES=60              # write-then-read pairs for the first read after a write
REPORT_RUNS=3

die() { echo "bench/stats: FAILED: $*" >&2; exit 1; }
trap 'die "line $LINENO: command exited with status $?: $BASH_COMMAND"' ERR
log() { echo "bench/stats: $*" >&2; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=bench/lib.sh
source bench/lib.sh
# shellcheck source=bench/server.sh
source bench/server.sh
OUT=bench/out/stats
BIN=target/release/zhenxing
REPORT=BENCHMARKS.md
IS_SCALE_1=$(awk -v s="$SCALE" 'BEGIN { print (s == 1) ? 1 : 0 }')
mkdir -p "$OUT"
for tool in wrk curl sqlite3 python3; do
  command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install $tool)"
done

log "cargo build --release"
cargo build --release -p zhenxing >&2

DB="$OUT/registry.db"
URL="sqlite://$DB"
if [[ ! -s $DB ]]; then
  log "generate --scale $SCALE, then a screening (monitor run), as the demo after its first run"
  "$BIN" --database "$URL" generate --scale "$SCALE" >&2
  "$BIN" --database "$URL" monitor run --year 2021 >&2
fi
TOKEN=$(prepare "$URL")
[[ $TOKEN == zx_* ]] || die "no API token"
MONTH=$(TZ=Asia/Shanghai date +%Y-%m)
CITY=500000000000
COUNTY=500229000000
TOWNSHIP=$(sqlite3 "$DB" "SELECT code FROM divisions WHERE level = 'township' AND code LIKE '500229%' ORDER BY code LIMIT 1")
# The household written to: a monitored household of the measured county.
HOUSEHOLD=$(sqlite3 "$DB" "SELECT household_no FROM households WHERE division_code LIKE '500229%' AND monitoring_category IS NOT NULL ORDER BY id LIMIT 1")
[[ -n $TOWNSHIP && -n $HOUSEHOLD ]] || die "no township or household to measure with"
read -r HOUSEHOLDS MEMBERS MONITORED WARNINGS < <(sqlite3 -separator ' ' "$DB" \
  "SELECT (SELECT COUNT(*) FROM households), (SELECT COUNT(*) FROM members), \
   (SELECT COUNT(*) FROM households WHERE monitoring_category IS NOT NULL), (SELECT COUNT(*) FROM warnings)")

ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# wrk's latencies ("850.00us", "26.46ms", "1.02s") in milliseconds.
to_ms() {
  awk -v t="$1" 'BEGIN {
    if (t ~ /us$/) { sub(/us$/, "", t); print t / 1000 }
    else if (t ~ /ms$/) { sub(/ms$/, "", t); print t + 0 }
    else if (t ~ /m$/) { sub(/m$/, "", t); print t * 60000 }
    else { sub(/s$/, "", t); print t * 1000 } }'
}

# 1. The monthly report tables for the whole municipality, from the command line.
ROWS=()
TOTALS=()
for run in $(seq 1 "$REPORT_RUNS"); do
  total=0
  for name in counts measures procedures coverage; do
    start=$(date +%s%N)
    "$BIN" --database "$URL" report "$name" --division "$CITY" --month "$MONTH" \
      --out "$OUT/$name.xlsx" >"$OUT/report-$name.out" 2>&1 \
      || die "report $name (see $OUT/report-$name.out)"
    took=$(ms_since "$start")
    echo "$took" >>"$OUT/report-$name.ms.$$"
    total=$((total + took))
  done
  TOTALS+=("$total")
  log "reports, run $run: $total ms"
done
for name in counts measures procedures coverage; do
  m=$(median <"$OUT/report-$name.ms.$$")
  rm -f "$OUT/report-$name.ms.$$"
  ROWS+=("| report \`$name\`, municipality, XLSX | \`zhenxing report $name --division $CITY --month $MONTH --out $name.xlsx\` | median of $REPORT_RUNS: $m ms | | |")
done
TOTAL_MS=$(printf '%s\n' "${TOTALS[@]}" | median)
ROWS+=("| **the full monthly report** (the four tables one after the other) | | median of $REPORT_RUNS: **$TOTAL_MS ms** | < 5 s | $(verdict "$TOTAL_MS" 5000) |")

# 2. The dashboard, served by the demo server (demo accounts and cases added).
SERVE_COMMAND=demo start_server "$URL"
BASE="http://127.0.0.1:$PORT"
COOKIE=$(session_cookie)
[[ -n $COOKIE ]] || die "sign-in failed"
AUTH=(-H "Cookie: zx_session=$COOKIE")
get_ms() { curl -fs -o /dev/null -w '%{time_total}' "${AUTH[@]}" "$BASE$1" | awk '{ printf "%.0f", $1 * 1000 }'; }
COLD=$(get_ms "/statistics/$CITY")
WARM=$(get_ms "/statistics/$CITY")
ROWS+=("| dashboard, municipality: the first request after the server started (every village read) | \`/statistics/$CITY\` | $COLD ms | | |")
ROWS+=("| dashboard, municipality: the next request, nothing written | \`/statistics/$CITY\` | $WARM ms | | |")

log "first read after a write, $PROBES times"
read -r P50 P99 PMAX < <(python3 bench/stats_load.py probe "$BASE" "$TOKEN" "$HOUSEHOLD" "$COOKIE" "/statistics/$CITY" "$PROBES")
ROWS+=("| dashboard, municipality: the first request just after a write, $PROBES times (write, then read) | \`/statistics/$CITY\` | p50 $P50 ms, p99 $P99 ms, max $PMAX ms | < 50 ms | $(verdict "$P99" 50) |")

for entry in \
  "dashboard, municipality|/statistics/$CITY" \
  "dashboard, county|/statistics/$COUNTY" \
  "dashboard, township|/statistics/$TOWNSHIP" \
  "county map, monitored households|/statistics/map"; do
  IFS='|' read -r label path <<<"$entry"
  log "$label with writes every ${WRITE_INTERVAL}s"
  python3 bench/stats_load.py write "$BASE" "$TOKEN" "$HOUSEHOLD" "$((DURATION_SECONDS + 1))" "$WRITE_INTERVAL" >"$OUT/writes.out" &
  WRITER=$!
  read -r p50 p99 rps errors < <(measure "$path" "${AUTH[@]}")
  wait "$WRITER" || die "the writer failed (see above)"
  writes=$(cat "$OUT/writes.out")
  if [[ $label == dashboard* || $label == county* ]]; then
    target="< 50 ms"; judged=$(verdict "$(to_ms "$p99")" 50)
  else
    target=""; judged=""
  fi
  ROWS+=("| $label, $CONNECTIONS connections, $writes writes during the run | \`$path\` | p50 $p50, p99 $p99, $rps req/s, non-2xx $errors | $target | $judged |")
done
# The report tables on screen are built per request (not from the cache): one at a time.
for name in counts coverage; do
  path="/reports/$name?division=$CITY&month=$MONTH"
  times=$(for _ in 1 2 3 4 5; do get_ms "$path"; echo; done | median)
  ROWS+=("| report \`$name\` on screen, municipality, one request at a time | \`$path\` | median of 5: $times ms | | |")
done
# Peak resident memory, and what it is now: anonymous (the heap: the cache, SQLite's page
# caches) and file-backed (the database file, memory-mapped, which the kernel can drop).
MEM=$(awk '/^VmHWM:/ { h = $2 } /^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 }
  END { printf "peak %.1f MiB; now %.1f MiB anonymous + %.1f MiB of the mapped database file", h / 1024, a / 1024, f / 1024 }' "/proc/$SERVER_PID/status")
ROWS+=("| server resident memory after all runs | | $MEM | | |")
stop_server

LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
SECTION=$(cat <<MD
<!-- stats benchmarks: start (written by bench/stats.sh) -->
## Statistics and reports (issue 6)

\`bash bench/stats.sh $SCALE\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD), $(nproc) CPUs,
load average at the end: $LOADAVG. SQLite, the synthetic registry at scale $SCALE
($HOUSEHOLDS households, $MEMBERS members, $MONITORED monitored, $WARNINGS warnings after one
screening) served by \`zhenxing demo\` (release build), signed in as a municipal administrator. The
load generator is \`wrk -t1 -c$CONNECTIONS -d$DURATION --latency\` on loopback, on the same cores as
the server, one URL per run, while [\`stats_load.py\`](bench/stats_load.py) changes a monitored
household's income through the JSON API every ${WRITE_INTERVAL} s (each write moves the figures: the
income bucket and "at or below the threshold"). "The first request just after a write" is a
write followed at once by one request, $PROBES times, timed by the client. The report times are
whole processes (start, open the database, read, write the XLSX).

How the figures stay current: \`zhenxing_store::figure_cache\` keeps every village's figures
and the sums above them, and before every read compares the audit chain's head with the last
operation it has seen; the villages the new operations touched are read again (decision record
docs/decisions/0014). A write costs nothing extra.

| What | Command or URL | Figure | Target | Met? |
|---|---|---|---|---|
$(printf '%s\n' "${ROWS[@]}")
<!-- stats benchmarks: end -->
MD
)
write_section stats "$REPORT" "$SECTION"
log "wrote the stats section of $REPORT"
printf '%s\n' "${ROWS[@]}"
