#!/usr/bin/env bash
# Benchmarks of zhenxing on SQLite and PostgreSQL; writes BENCHMARKS.md at the repository root.
#
#   bash bench/run.sh [SCALE]        # SCALE defaults to 1 (1,906,000 lifted-out members)
#
# Every step checks its exit status and a failure aborts the run with a message naming the step.
# Scratch files go to bench/out/ (gitignored), which is emptied first. See bench/README.md.
set -euo pipefail
set -o errtrace

SCALE=${1:-1}
SEED=2021
STATS_RUNS=20
STATS_WARMUP=3
PG_DB=zx_bench
PG_DB_IMP=zx_bench_imp
PG_DB_RAW=zx_bench_raw

die() {
  echo "bench: FAILED: $*" >&2
  exit 1
}
trap 'die "line $LINENO: command exited with status $?: $BASH_COMMAND"' ERR

[[ $# -le 1 ]] || die "usage: bash bench/run.sh [SCALE]"
[[ $SCALE =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "SCALE must be a positive number, got '$SCALE'"
awk -v s="$SCALE" 'BEGIN { exit !(s > 0) }' || die "SCALE must be greater than 0, got '$SCALE'"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=bench/lib.sh
source bench/lib.sh
[[ -f Cargo.toml && -d crates/cli ]] || die "$ROOT does not look like the zhenxing workspace"

# Paths are relative to the repository root, so that the command lines in BENCHMARKS.md can be
# pasted as they are.
OUT=bench/out
BIN=target/release/zhenxing
REPORT=BENCHMARKS.md

log() { echo "bench: $*" >&2; }

# ---------------------------------------------------------------------------------------------
# Helpers

# Shell-quotes an argument only when it needs it, for readable command lines.
q() {
  local a=$1
  if [[ $a =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
    printf '%s' "$a"
  elif [[ $a == *\'* && $a != *[\"\$\`]* && $a != *\\\\* ]]; then
    printf '"%s"' "$a"
  else
    printf "'%s'" "${a//\'/\'\\\'\'}"
  fi
}
cmdline() {
  local out="" a
  for a in "$@"; do out+="$(q "$a") "; done
  printf '%s' "${out% }"
}

COMMANDS=()   # every command line run, in order, for BENCHMARKS.md
record() { COMMANDS+=("$1"); }

# Runs a setup command (not timed), records it, and aborts with its output if it fails.
setup() {
  local key=$1
  shift
  record "$(cmdline "$@")    # setup, not timed"
  if ! "$@" >"$OUT/$key.out" 2>"$OUT/$key.err"; then
    step_failed "$key" "$(cmdline "$@")"
  fi
}

step_failed() {
  local key=$1 cmd=$2
  {
    echo "bench: FAILED step '$key': $cmd"
    echo "--- last lines of $OUT/$key.err:"
    tail -n 20 "$OUT/$key.err" 2>/dev/null || true
    echo "--- last lines of $OUT/$key.out:"
    tail -n 20 "$OUT/$key.out" 2>/dev/null || true
  } >&2
  exit 1
}

declare -A WALL=()   # seconds
declare -A RSS=()    # KiB

# timed KEY CMD...: runs CMD under /usr/bin/time -v; sets WALL[KEY] (s) and RSS[KEY] (KiB).
# stdout and stderr go to $OUT/KEY.out and $OUT/KEY.err, the time report to $OUT/KEY.time.
timed() {
  local key=$1
  shift
  local line
  line=$(cmdline "$@")
  record "/usr/bin/time -v $line"
  log "$key: $line"
  if ! /usr/bin/time -v -o "$OUT/$key.time" "$@" >"$OUT/$key.out" 2>"$OUT/$key.err"; then
    step_failed "$key" "$line"
  fi
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\) time/ {
      n = split($2, p, ":"); s = 0
      for (i = 1; i <= n; i++) s = s * 60 + p[i]
      printf "%.2f", s }' "$OUT/$key.time")
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$OUT/$key.time")
  [[ -n $wall && -n $rss ]] || die "could not read the wall time or RSS of '$key' from $OUT/$key.time"
  WALL[$key]=$wall
  RSS[$key]=$rss
  log "$key: ${wall} s, $(mib "$rss") MiB peak RSS"
}

declare -A MEDIAN_MS=() MAX_MS=()

# stats_runs KEY URL: runs `stats --json` STATS_WARMUP + STATS_RUNS times; sets MEDIAN_MS, MAX_MS.
stats_runs() {
  local key=$1 url=$2
  local args=("$BIN" --database "$url" stats --json)
  local line
  line=$(cmdline "${args[@]}")
  if command -v hyperfine >/dev/null; then
    local hf=(hyperfine --style basic -N --warmup "$STATS_WARMUP" --runs "$STATS_RUNS"
      --export-json "$OUT/$key.json" --export-csv "$OUT/$key.csv" "$line")
    record "$(cmdline "${hf[@]}")"
    log "$key: $(cmdline "${hf[@]}")"
    if ! "${hf[@]}" >"$OUT/$key.out" 2>"$OUT/$key.err"; then
      step_failed "$key" "$(cmdline "${hf[@]}")"
    fi
    # CSV columns: command,mean,stddev,median,user,system,min,max (seconds).
    MEDIAN_MS[$key]=$(awk -F, 'NR == 2 { printf "%.1f", $(NF - 4) * 1000 }' "$OUT/$key.csv")
    MAX_MS[$key]=$(awk -F, 'NR == 2 { printf "%.1f", $NF * 1000 }' "$OUT/$key.csv")
    STATS_TOOL="hyperfine $(hyperfine --version | awk '{ print $2 }') (--warmup $STATS_WARMUP --runs $STATS_RUNS, no shell)"
  else
    record "for i in \$(seq $((STATS_WARMUP + STATS_RUNS))); do $line >/dev/null; done    # first $STATS_WARMUP untimed (warm-up), then each run timed with date +%s%N"
    log "$key: $line x $((STATS_WARMUP + STATS_RUNS)) (bash loop; hyperfine is not installed)"
    local i t0 t1
    : >"$OUT/$key.us"
    for ((i = 0; i < STATS_WARMUP + STATS_RUNS; i++)); do
      t0=$(date +%s%N)
      if ! "${args[@]}" >"$OUT/$key.out" 2>"$OUT/$key.err"; then
        step_failed "$key" "$line"
      fi
      t1=$(date +%s%N)
      if ((i >= STATS_WARMUP)); then echo $(((t1 - t0) / 1000)) >>"$OUT/$key.us"; fi
    done
    MEDIAN_MS[$key]=$(sort -n "$OUT/$key.us" | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m / 1000 }')
    MAX_MS[$key]=$(sort -n "$OUT/$key.us" | awk 'END { printf "%.1f", $1 / 1000 }')
    STATS_TOOL="a bash loop timing each run with date +%s%N ($STATS_WARMUP warm-up runs, then $STATS_RUNS timed; hyperfine was not installed)"
  fi
  [[ -n ${MEDIAN_MS[$key]} && -n ${MAX_MS[$key]} ]] || die "could not compute the stats timings of '$key'"
  log "$key: median ${MEDIAN_MS[$key]} ms, max ${MAX_MS[$key]} ms over $STATS_RUNS runs"
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }
thousands() { echo "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'; }

IS_SCALE_1=0
awk -v s="$SCALE" 'BEGIN { exit !(s == 1) }' && IS_SCALE_1=1


# The `import complete: ...` summary line of an import's output.
import_summary() {
  grep -m1 'import complete' "$OUT/$1.out" || die "no 'import complete' line in $OUT/$1.out"
}

# Checks that a re-import left every household alone.
check_unchanged() {
  local s
  s=$(import_summary "$1")
  [[ $s =~ \ 0\ households\ created,\ 0\ updated, ]] ||
    die "step '$1' was expected to find every household unchanged, but printed: $s"
}

json_field() { # json_field FILE KEY -> integer value of "KEY": N
  local v
  v=$(grep -o "\"$2\": *[0-9]*" "$1" | head -n 1 | grep -o '[0-9]*$') || true
  [[ -n $v ]] || die "no \"$2\" in $1"
  echo "$v"
}

# ---------------------------------------------------------------------------------------------
# Prerequisites

export LC_ALL=C.UTF-8
export ZHENXING_LANG=en

if [[ ! -x /usr/bin/time ]]; then
  log "/usr/bin/time is missing; installing the 'time' package"
  apt-get update >/dev/null || die "apt-get update failed (needed to install 'time')"
  DEBIAN_FRONTEND=noninteractive apt-get install -y time >/dev/null || die "apt-get install time failed"
fi
for tool in sqlite3 psql cargo git awk; do
  command -v "$tool" >/dev/null || die "'$tool' is not installed"
done

[[ $OUT == bench/out ]] || die "refusing to empty unexpected directory '$OUT'"
# bench/out/web/ and bench/out/monitor/ hold bench/web.sh's and bench/monitor.sh's registries,
# which take minutes to generate: kept.
if [[ -d $OUT ]]; then find "$OUT" -mindepth 1 -maxdepth 1 ! -name web ! -name monitor -exec rm -rf {} +; fi
mkdir -p "$OUT"

# Machine description, taken before the run.
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
NPROC=$(nproc)
CPU=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
MEM_GIB=$(free -g | awk '/^Mem:/ { print $2 }')
KERNEL=$(uname -r)
RUSTC=$(rustc --version)
SQLITE_CLI=$(sqlite3 --version | awk '{ print $1 }')
LIBSQLITE_SYS=$(awk '/^name = "libsqlite3-sys"/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
SQLITE_BUNDLED=unknown
if [[ -n $LIBSQLITE_SYS ]]; then
  h=$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -path "*/libsqlite3-sys-$LIBSQLITE_SYS/sqlite3/sqlite3.h" 2>/dev/null | head -n 1)
  if [[ -n $h ]]; then
    SQLITE_BUNDLED=$(sed -n 's/^#define SQLITE_VERSION *"\(.*\)"/\1/p' "$h" | head -n 1)
  fi
fi
COMMIT=$(git rev-parse --short HEAD)
if [[ -n $(git status --porcelain --untracked-files=no) ]]; then COMMIT+=" (with uncommitted changes)"; fi

# ---------------------------------------------------------------------------------------------
# 1. Build

log "cargo build --release"
record "cargo build --release    # setup, not timed"
cargo build --release || die "cargo build --release failed"
[[ -x $BIN ]] || die "$BIN was not built"

# ---------------------------------------------------------------------------------------------
# 2. SQLite

log "=== SQLite, scale $SCALE"
SQ_GEN="sqlite://$OUT/gen.db"
SQ_IMP="sqlite://$OUT/imp.db"
CSV=$OUT/full.csv
BODY=$OUT/full-body.csv

timed sq_generate "$BIN" --database "$SQ_GEN" generate --scale "$SCALE" --seed "$SEED"
setup sq_stats_once "$BIN" --database "$SQ_GEN" stats --json
cp "$OUT/sq_stats_once.out" "$OUT/stats-sqlite.json"
MEMBERS=$(json_field "$OUT/stats-sqlite.json" members)
HOUSEHOLDS=$(json_field "$OUT/stats-sqlite.json" households)
LIFTED=$(json_field "$OUT/stats-sqlite.json" lifted_out_members)

stats_runs sq_stats "$SQ_GEN"

timed sq_export "$BIN" --database "$SQ_GEN" export registry "$CSV"
[[ -s $CSV ]] || die "the export $CSV is missing or empty"
CSV_BYTES=$(stat -c %s "$CSV")
CSV_LINES=$(wc -l <"$CSV")
CSV_ROWS=$((CSV_LINES - 1))
[[ $CSV_ROWS -eq $MEMBERS ]] ||
  die "the export has $CSV_ROWS data lines but the registry has $MEMBERS members (a field with a line break?)"

# Into an empty registry the generated monitored households come in as monitored before zhenxing
# (--legacy-monitoring); the second import, unchanged, needs no flag.
timed sq_import "$BIN" --database "$SQ_IMP" import registry "$CSV" \
  --legacy-monitoring --reason "benchmark: the generated registry, monitored before zhenxing"
SQ_IMPORT_SUMMARY=$(import_summary sq_import)
timed sq_reimport "$BIN" --database "$SQ_IMP" import registry "$CSV"
SQ_REIMPORT_SUMMARY=$(import_summary sq_reimport)
check_unchanged sq_reimport

setup sq_imp_stats "$BIN" --database "$SQ_IMP" stats --json
[[ $(json_field "$OUT/sq_imp_stats.out" members) -eq $MEMBERS ]] ||
  die "the imported SQLite registry does not hold the $MEMBERS members of the generated one"

# The raw load: the CSV without its header line (and so without the BOM) into a 27-column table.
record "tail -n +2 $CSV > $BODY    # setup, not timed: drops the header line and the BOM with it"
tail -n +2 "$CSV" >"$BODY" || die "tail -n +2 $CSV failed"
NCOLS=$(head -n 1 "$CSV" | tr -d '\r' | awk -F, '{ print NF }')
[[ $NCOLS -eq 27 ]] || die "the export has $NCOLS columns, expected 27"
COLS_SQL=$(seq -s, -f 'c%g' 1 27)
COLS_PG=$(seq -s, -f 'c%g text' 1 27)
setup sq_raw_table sqlite3 -bail "$OUT/raw.db" "CREATE TABLE t($COLS_SQL);"
timed sq_raw sqlite3 -bail "$OUT/raw.db" ".mode csv" ".import $BODY t"
setup sq_raw_count sqlite3 -bail "$OUT/raw.db" "SELECT count(*) FROM t;"
[[ $(cat "$OUT/sq_raw_count.out") -eq $CSV_ROWS ]] ||
  die "sqlite3 .import loaded $(cat "$OUT/sq_raw_count.out") rows, expected $CSV_ROWS"

timed sq_audit "$BIN" --database "$SQ_GEN" audit verify

# ---------------------------------------------------------------------------------------------
# 3. PostgreSQL

log "=== PostgreSQL, scale $SCALE"
record "bash .ci/start-postgres.sh    # setup: prints the server URL"
PG_URL=$(bash .ci/start-postgres.sh) || die ".ci/start-postgres.sh failed (it needs root and Debian's postgresql package)"
[[ $PG_URL == postgres://* ]] || die ".ci/start-postgres.sh printed '$PG_URL', not a postgres:// URL"
PG_BASE=${PG_URL%/*}
PG_GEN="$PG_BASE/$PG_DB"
PG_IMP="$PG_BASE/$PG_DB_IMP"
PG_RAW="$PG_BASE/$PG_DB_RAW"
PG_VERSION=$(psql "$PG_URL" -XAtc 'SHOW server_version') || die "cannot connect to $PG_URL"
PG_SETTINGS=$(psql "$PG_URL" -XAt -F= -c "SELECT name, setting FROM pg_settings WHERE name IN
  ('fsync','synchronous_commit','full_page_writes','shared_buffers','work_mem','maintenance_work_mem')
  ORDER BY name" | paste -sd' ') || die "cannot read the PostgreSQL settings"

for db in "$PG_DB" "$PG_DB_IMP" "$PG_DB_RAW"; do
  setup "pg_create_$db" psql "$PG_URL" -X -q -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
done

timed pg_generate "$BIN" --database "$PG_GEN" generate --scale "$SCALE" --seed "$SEED"
setup pg_stats_once "$BIN" --database "$PG_GEN" stats --json
cp "$OUT/pg_stats_once.out" "$OUT/stats-postgres.json"
[[ $(json_field "$OUT/stats-postgres.json" members) -eq $MEMBERS ]] ||
  die "PostgreSQL generated $(json_field "$OUT/stats-postgres.json" members) members, SQLite $MEMBERS"

stats_runs pg_stats "$PG_GEN"

timed pg_import "$BIN" --database "$PG_IMP" import registry "$CSV" \
  --legacy-monitoring --reason "benchmark: the generated registry, monitored before zhenxing"
PG_IMPORT_SUMMARY=$(import_summary pg_import)
timed pg_reimport "$BIN" --database "$PG_IMP" import registry "$CSV"
PG_REIMPORT_SUMMARY=$(import_summary pg_reimport)
check_unchanged pg_reimport
setup pg_imp_stats "$BIN" --database "$PG_IMP" stats --json
[[ $(json_field "$OUT/pg_imp_stats.out" members) -eq $MEMBERS ]] ||
  die "the imported PostgreSQL registry does not hold the $MEMBERS members of the export"

setup pg_raw_table psql "$PG_RAW" -X -q -v ON_ERROR_STOP=1 -c "CREATE TABLE t($COLS_PG)"
timed pg_raw psql "$PG_RAW" -X -q -v ON_ERROR_STOP=1 -c "\\copy t FROM '$BODY' CSV"
PG_RAW_ROWS=$(psql "$PG_RAW" -XAtc 'SELECT count(*) FROM t') || die "cannot count the rows of the raw load"
[[ $PG_RAW_ROWS -eq $CSV_ROWS ]] || die "\\copy loaded $PG_RAW_ROWS rows, expected $CSV_ROWS"

timed pg_audit "$BIN" --database "$PG_GEN" audit verify

LOADAVG_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------------
# 4. BENCHMARKS.md

SQ_RATIO=$(ratio "${WALL[sq_import]}" "${WALL[sq_raw]}")
PG_RATIO=$(ratio "${WALL[pg_import]}" "${WALL[pg_raw]}")
ONE_GIB_KIB=1048576

# Seconds as measured by /usr/bin/time (hundredths); "< 0.01 s" when below its resolution.
secs() { awk -v s="$1" 'BEGIN { if (s < 0.01) print "< 0.01 s"; else printf "%.2f s\n", s }'; }

# rows BACKEND PREFIX RAW_LABEL RATIO: the table rows of one backend.
rows() {
  local b=$1 p=$2 raw=$3 r=$4 c=""
  VERDICT_BACKEND=$p
  if [[ $p == pg ]]; then c=" (client process)"; fi
  cat <<EOF
| $b | \`generate --scale $SCALE\` wall time | < 60 s | $(secs "${WALL[${p}_generate]}") | $(verdict "${WALL[${p}_generate]}" 60) |
| $b | \`generate\` peak RSS$c | – | $(mib "${RSS[${p}_generate]}") MiB | – |
| $b | \`stats --json\`, median of $STATS_RUNS runs | < 200 ms | ${MEDIAN_MS[${p}_stats]} ms | $(verdict "${MEDIAN_MS[${p}_stats]}" 200) |
| $b | \`stats --json\`, slowest of $STATS_RUNS runs | < 200 ms | ${MAX_MS[${p}_stats]} ms | $(verdict "${MAX_MS[${p}_stats]}" 200) |
EOF
  if [[ $p == sq ]]; then
    cat <<EOF
| $b | \`export registry\` wall time ($(thousands "$CSV_ROWS") rows, $(mib $((CSV_BYTES / 1024))) MiB CSV) | – | $(secs "${WALL[sq_export]}") | – |
| $b | \`export registry\` peak RSS | – | $(mib "${RSS[sq_export]}") MiB | – |
EOF
  fi
  cat <<EOF
| $b | \`import registry\` of the export into an empty registry, wall time | < 30 s | $(secs "${WALL[${p}_import]}") | $(verdict "${WALL[${p}_import]}" 30) |
| $b | \`import registry\` peak RSS$c | < 1 GiB | $(mib "${RSS[${p}_import]}") MiB | $(verdict "${RSS[${p}_import]}" "$ONE_GIB_KIB") |
| $b | the same import again (every household unchanged), wall time | – | $(secs "${WALL[${p}_reimport]}") | – |
| $b | the same import again, peak RSS$c | – | $(mib "${RSS[${p}_reimport]}") MiB | – |
| $b | raw load of the same rows: $raw, wall time | – | $(secs "${WALL[${p}_raw]}") | – |
| $b | ratio import ÷ raw load | – | ${r}× | – |
| $b | \`audit verify\` wall time | – | $(secs "${WALL[${p}_audit]}") | – |
EOF
}

if ((IS_SCALE_1)); then
  SCALE_NOTE="The run was at scale 1, the scale the targets are set for; the last column compares each figure with its target."
else
  SCALE_NOTE="**This run was at scale $SCALE.** The targets apply to scale 1 only, so no figure here is compared with them (\"n/a\"); run \`bash bench/run.sh\` for the real figures."
fi

STATS_DETAIL_SQ=$(tr -d ' \n' <"$OUT/stats-sqlite.json")

{
  cat <<EOF
# Benchmarks

These figures come from \`bash bench/run.sh $SCALE\` (see [bench/README.md](bench/README.md)). The
script builds the release binary and times, on SQLite and then on PostgreSQL: generating the
synthetic registry, \`stats --json\`, exporting the whole registry to CSV, importing that export
into an empty registry (with every check on, as always), importing it a second time when nothing
has changed, \`audit verify\`, and the fastest raw load of the same CSV rows into a plain table by
the database's own tool (\`sqlite3 .import\`, \`psql \\copy\`) for comparison. Wall times and
peak memory come from \`/usr/bin/time -v\`.

The figures vary from run to run: the machine is a shared $NPROC-core machine, and other work on
it changes them. They are a record, not a contract: no test asserts on time.

$SCALE_NOTE

## Machine

| | |
|---|---|
| date | $DATE |
| commit | $COMMIT |
| CPUs (\`nproc\`) | $NPROC |
| CPU model (\`lscpu\`) | $CPU |
| memory (\`free -g\`, total) | $MEM_GIB GiB |
| kernel (\`uname -r\`) | $KERNEL |
| Rust | $RUSTC |
| SQLite, \`sqlite3\` command-line tool | $SQLITE_CLI |
| SQLite built into zhenxing (libsqlite3-sys $LIBSQLITE_SYS, bundled) | $SQLITE_BUNDLED |
| PostgreSQL server | $PG_VERSION |
| PostgreSQL settings | $PG_SETTINGS |
| load average (1, 5, 15 min) at start / end | $LOADAVG_START / $LOADAVG_END |

PostgreSQL is the throwaway test cluster of \`.ci/start-postgres.sh\`, on the same machine, which
runs with \`fsync=off\`, \`synchronous_commit=off\` and \`full_page_writes=off\`: its write figures
are better than a durable production server would give. Its peak RSS figures are those of the
\`zhenxing\` (or \`psql\`) client process only; the server's memory is not included.

## Figures

Registry at scale $SCALE, seed $SEED: $(thousands "$HOUSEHOLDS") households, $(thousands "$MEMBERS") members
($(thousands "$LIFTED") of them in lifted-out households). Peak RSS is the maximum resident set size
of the timed process. \`stats\` times are per run of the whole process (start, open the database,
query, print), measured with $STATS_TOOL.

| Database | Figure | Target (scale 1) | Measured | Met? |
|---|---|---|---|---|
EOF
  rows SQLite sq "\`sqlite3 .import\` into a 27-column table" "$SQ_RATIO"
  rows PostgreSQL pg "\`psql \\copy … CSV\` into a 27-column text table" "$PG_RATIO"
  cat <<EOF

The issue sets no target for the ratio import ÷ raw load; it is there to show what the checks, the
domain types, the indexes, the audit trail and the village counts cost over loading the text as it
is. The issue sets its targets for SQLite and asks for the same figures on PostgreSQL, which are
reported without a verdict. What the imports printed:

- SQLite, first import: \`$SQ_IMPORT_SUMMARY\`
- SQLite, second import: \`$SQ_REIMPORT_SUMMARY\`
- PostgreSQL, first import: \`$PG_IMPORT_SUMMARY\`
- PostgreSQL, second import: \`$PG_REIMPORT_SUMMARY\`

\`stats --json\` on the generated SQLite registry: \`$STATS_DETAIL_SQ\`

## Commands

Run from the repository root, in this order (\`bench/out/\` is emptied first). \`/usr/bin/time -v\`
marks the timed commands.

\`\`\`sh
EOF
  printf '%s\n' "${COMMANDS[@]}"
  cat <<EOF
\`\`\`
EOF
  # The analysis of the figures is written by hand and kept across runs.
  if [[ -f bench/ANALYSIS.md ]]; then
    echo
    cat bench/ANALYSIS.md
  fi
  # The web application's and the monitoring sections are bench/web.sh's and
  # bench/monitor.sh's; they are kept as those scripts last wrote them.
  for section in web monitor; do
    if [[ -f $REPORT ]] && grep -q "<!-- $section benchmarks: start" "$REPORT"; then
      echo
      sed -n "/<!-- $section benchmarks: start/,/<!-- $section benchmarks: end -->/p" "$REPORT"
    fi
  done
} >"$REPORT.tmp" || die "cannot write $REPORT.tmp"
mv "$REPORT.tmp" "$REPORT" || die "cannot write $REPORT"

log "wrote $REPORT (scale $SCALE); scratch files and logs are in $OUT/"
