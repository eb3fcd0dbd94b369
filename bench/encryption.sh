#!/usr/bin/env bash
# The cost of encryption at rest (issue 15, item 4) on SQLite: the full-scale import of the
# exported registry into an empty registry (as bench/run.sh times it), with each suite, and the
# household page under wrk (as bench/web.sh measures it). Prints the figures; BENCHMARKS.md's
# "Encryption at rest" section records them.
#
#   bash bench/encryption.sh [SCALE] [SUITES]    # SCALE 1, SUITES "international national"
set -euo pipefail
set -o errtrace

SCALE=${1:-1}
SUITES=${2:-international national}
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

for suite in $SUITES; do
  IMP="$OUT/import-$suite.db"
  rm -f "$IMP" "$IMP".*
  "$BIN" --database "sqlite://$IMP" keys init --cipher-suite "$suite" >/dev/null
  log "import registry ($suite)"
  /usr/bin/time -v "$BIN" --database "sqlite://$IMP" import registry "$CSV" \
    --legacy-monitoring --reason "benchmark: the generated registry, monitored before zhenxing" \
    >"$OUT/import-$suite.out" 2>"$OUT/import-$suite.time"
  echo "import ($suite): $(wall "$OUT/import-$suite.time") s, peak RSS $(rss "$OUT/import-$suite.time") MiB"
done

# The household page, on the first suite's imported registry.
first=${SUITES%% *}
URL="sqlite://$OUT/import-$first.db"
prepare "$URL" >/dev/null
no=$(sqlite3 "$OUT/import-$first.db" "SELECT household_no FROM households WHERE division_code LIKE '500229%' ORDER BY id LIMIT 1 OFFSET 1000")
start_server "$URL"
cookie=$(session_cookie)
[[ -n $cookie ]] || die "sign-in failed"
read -r p50 p99 rps errors < <(measure "/households/$no" -H "Cookie: zx_session=$cookie")
stop_server
echo "household page ($first) /households/$no: p50 $p50, p99 $p99, $rps req/s, non-2xx $errors"
