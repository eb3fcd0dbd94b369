#!/usr/bin/env bash
# The cost of encryption at rest (issue 15, item 4) on SQLite: the full-scale import of the
# exported registry into an empty registry (as bench/run.sh times it), with each suite, and the
# household page under wrk (as bench/web.sh measures it). Prints the figures; BENCHMARKS.md's
# "Encryption at rest" section records them.
#
#   bash bench/encryption.sh [SCALE] [SUITES] [RUNS]   # SCALE 1, SUITES "international national", RUNS 2
#
# With BASELINE=path/to/zhenxing, a release binary built from the commit before encryption
# (9a561ee: `git worktree add /tmp/base 9a561ee && cargo build --release` there), the same import
# and page are measured with it too, in the same run: each round imports with the baseline and
# then with each suite, so that the machine's load falls on all of them alike.
set -euo pipefail
set -o errtrace

SCALE=${1:-1}
SUITES=${2:-international national}
RUNS=${3:-2}
BASELINE=${BASELINE:-}
CONNECTIONS=64
DURATION=15s
PORT=18090
PASSWORD='Bench-password-2026'

die() { echo "bench/encryption: FAILED: $*" >&2; exit 1; }
trap 'die "line $LINENO: command exited with status $?: $BASH_COMMAND"' ERR
log() { echo "bench/encryption: $*" >&2; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=bench/out/encryption
BIN=target/release/zhenxing
mkdir -p "$OUT"
[[ -x $BIN ]] || die "$BIN is missing: cargo build --release -p zhenxing"
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"

# shellcheck source=bench/server.sh
source bench/server.sh

wall() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' "$1"; }
rss() { awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$1"; }

GEN="$OUT/generated.db"
CSV="$OUT/export.csv"
if [[ ! -s $CSV ]]; then
  rm -f "$GEN" "$GEN".*
  log "generate --scale $SCALE"
  /usr/bin/time -v "$BIN" --database "sqlite://$GEN" generate --scale "$SCALE" >"$OUT/generate.out" 2>"$OUT/generate.time"
  echo "generate (international): $(wall "$OUT/generate.time") s, peak RSS $(rss "$OUT/generate.time") MiB"
  "$BIN" --database "sqlite://$GEN" export registry "$CSV" >/dev/null 2>&1
fi

# One import into an empty registry: prints its wall time and peak RSS.
import_once() {
  local bin=$1 name=$2 suite=$3
  local db="$OUT/import-$name.db"
  rm -f "$db" "$db".*
  if [[ -n $suite ]]; then
    "$bin" --database "sqlite://$db" keys init --cipher-suite "$suite" >/dev/null
  fi
  log "import registry ($name)"
  /usr/bin/time -v "$bin" --database "sqlite://$db" import registry "$CSV" \
    --legacy-monitoring --reason "benchmark: the generated registry, monitored before zhenxing" \
    >"$OUT/import-$name.out" 2>"$OUT/import-$name.time"
  echo "$(wall "$OUT/import-$name.time") $(rss "$OUT/import-$name.time")"
}

declare -A times
for ((run = 1; run <= RUNS; run++)); do
  if [[ -n $BASELINE ]]; then
    read -r t m < <(import_once "$BASELINE" baseline "")
    times[baseline]+="$t "
    echo "import (baseline, unencrypted), run $run: $t s, peak RSS $m MiB"
  fi
  for suite in $SUITES; do
    read -r t m < <(import_once "$BIN" "$suite" "$suite")
    times[$suite]+="$t "
    echo "import ($suite), run $run: $t s, peak RSS $m MiB"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for name in ${BASELINE:+baseline} $SUITES; do
  echo "import ($name): median of $RUNS runs $(median <<<"${times[$name]}") s"
done

# The household page, on the first suite's imported registry (and the baseline's).
page() {
  local name=$1
  local url="sqlite://$OUT/import-$name.db"
  prepare "$url" >/dev/null
  local no
  no=$(sqlite3 "$OUT/import-$name.db" "SELECT household_no FROM households WHERE division_code LIKE '500229%' ORDER BY id LIMIT 1 OFFSET 1000")
  start_server "$url"
  local cookie
  cookie=$(session_cookie)
  [[ -n $cookie ]] || die "sign-in failed"
  read -r p50 p99 rps errors < <(measure "/households/$no" -H "Cookie: zx_session=$cookie")
  stop_server
  echo "household page ($name) /households/$no: p50 $p50, p99 $p99, $rps req/s, non-2xx $errors"
}
page "${SUITES%% *}"
if [[ -n $BASELINE ]]; then
  encrypted_bin=$BIN
  BIN=$BASELINE
  page baseline
  BIN=$encrypted_bin
fi
