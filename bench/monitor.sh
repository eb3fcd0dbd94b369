#!/usr/bin/env bash
# Monitoring benchmark (issue 4, "Speed"): `zhenxing monitor run` and `monitor whatif` on the
# full-scale registry on SQLite, with their peak memory, beside a DuckDB peer computing the same
# rules in SQL (bench/monitor_duckdb.py) over the same data, checked household by household.
# Also the breakdown of the warnings by rule.
#
#   bash bench/monitor.sh [SCALE]                    # SCALE defaults to 1
#   QUIET_FILE=/path/QUIET bash bench/monitor.sh     # holds that file while measuring
#
# Writes its section of BENCHMARKS.md (between the "monitor benchmarks" markers), leaving the
# rest. Scratch files go to bench/out/monitor/ (gitignored); the generated registry, its export
# and the dumps for DuckDB are kept there and reused by the next run. See bench/README.md.
set -euo pipefail
set -o errtrace

SCALE=${1:-1}
SEED=2021
YEAR=2021            # the built-in 2021 rule set (threshold 6,000 yuan), which the SQL copies
FIRST_RUNS=3         # first runs of `monitor run`, each on a fresh copy of the registry
RERUNS=3             # re-runs of `monitor run` with nothing changed
WHATIF_RUNS=3
WHATIF_THRESHOLD=7500
DUCKDB_RUNS=5        # (a): best of this many queries over DuckDB's own tables
DUCKDB_CSV_RUNS=3    # (b): best of this many loads of the export, each into a new database
QUIET_FILE=${QUIET_FILE:-}

die() {
  echo "bench/monitor: FAILED: $*" >&2
  exit 1
}
trap 'die "line $LINENO: command exited with status $?: $BASH_COMMAND"' ERR
log() { echo "bench/monitor: $*" >&2; }

[[ $# -le 1 ]] || die "usage: bash bench/monitor.sh [SCALE]"
[[ $SCALE =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "SCALE must be a positive number, got '$SCALE'"
awk -v s="$SCALE" 'BEGIN { exit !(s > 0) }' || die "SCALE must be greater than 0, got '$SCALE'"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=bench/lib.sh
source bench/lib.sh
[[ -f Cargo.toml && -d crates/cli ]] || die "$ROOT does not look like the zhenxing workspace"

OUT=bench/out/monitor
TARGET_DIR=${CARGO_TARGET_DIR:-target}
BIN=$TARGET_DIR/release/zhenxing
REPORT=BENCHMARKS.md
PRISTINE=$OUT/registry.db   # the generated registry, never screened: each first run starts from a copy
WORK=$OUT/work.db           # the copy the runs write their warnings to
CSV=$OUT/full.csv
mkdir -p "$OUT"

export LC_ALL=C.UTF-8
export ZHENXING_LANG=en

# ---------------------------------------------------------------------------------------------
# Helpers (as in bench/run.sh)

q() {
  local a=$1
  if [[ $a =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
    printf '%s' "$a"
  else
    printf "'%s'" "${a//\'/\'\\\'\'}"
  fi
}
cmdline() {
  local out="" a
  for a in "$@"; do out+="$(q "$a") "; done
  printf '%s' "${out% }"
}

COMMANDS=()
record() { COMMANDS+=("$1"); }

step_failed() {
  local key=$1 cmd=$2
  {
    echo "bench/monitor: FAILED step '$key': $cmd"
    echo "--- last lines of $OUT/$key.err:"
    tail -n 30 "$OUT/$key.err" 2>/dev/null || true
    echo "--- last lines of $OUT/$key.out:"
    tail -n 20 "$OUT/$key.out" 2>/dev/null || true
  } >&2
  exit 1
}

# setup KEY CMD...: an untimed step, recorded; aborts with its output if it fails.
setup() {
  local key=$1
  shift
  record "$(cmdline "$@")    # setup, not timed"
  log "$key: $(cmdline "$@")"
  if ! "$@" >"$OUT/$key.out" 2>"$OUT/$key.err"; then
    step_failed "$key" "$(cmdline "$@")"
  fi
}

declare -A WALL=()   # seconds
declare -A RSS=()    # KiB
declare -A CPU=()    # seconds of CPU time (user + system)

# Timed commands run at a higher scheduling priority when the script may set one (as root): on
# a machine shared with builds, the measured process then gets the CPUs first. With the kernel's
# autogroups (sched_autogroup_enabled), CPU time is shared between sessions before nice counts
# within one, so the command runs in a session of its own (setsid) whose autogroup gets the
# nice value too. NICE=0 turns this off.
NICE=${NICE:--15}
PRIO=()
PRIO_SHOWN=
PRIO_GROUP=
if [[ $NICE != 0 ]] && nice -n "$NICE" true 2>/dev/null; then
  PRIO=(nice -n "$NICE")
  if [[ $(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null) == 1 ]] &&
    setsid -w bash -c 'echo "$0" >/proc/self/autogroup' "$NICE" 2>/dev/null; then
    PRIO=(setsid -w bash -c 'echo "$0" >/proc/self/autogroup && exec nice -n "$0" "$@"' "$NICE")
    PRIO_GROUP=", in a session whose autogroup has nice $NICE too"
  fi
  PRIO_SHOWN="nice -n $NICE "
fi

# timed KEY CMD...: runs CMD under /usr/bin/time -v; sets WALL[KEY] (s) and RSS[KEY] (KiB).
timed() {
  local key=$1
  shift
  local line
  line=$(cmdline "$@")
  record "${PRIO_SHOWN}/usr/bin/time -v $line"
  log "$key: $line"
  if ! "${PRIO[@]}" /usr/bin/time -v -o "$OUT/$key.time" "$@" >"$OUT/$key.out" 2>"$OUT/$key.err"; then
    step_failed "$key" "$line"
  fi
  CPU[$key]=$(awk -F': ' '/User time \(seconds\)|System time \(seconds\)/ { s += $2 } END { printf "%.2f", s }' "$OUT/$key.time")
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\) time/ {
      n = split($2, p, ":"); s = 0
      for (i = 1; i <= n; i++) s = s * 60 + p[i]
      printf "%.2f", s }' "$OUT/$key.time")
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$OUT/$key.time")
  [[ -n $wall && -n $rss ]] || die "could not read the wall time or RSS of '$key' from $OUT/$key.time"
  WALL[$key]=$wall
  RSS[$key]=$rss
  log "$key: ${wall} s (CPU ${CPU[$key]} s), $(mib "$rss") MiB peak RSS"
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }
secs() { awk -v s="$1" 'BEGIN { if (s < 0.01) print "< 0.01 s"; else printf "%.2f s\n", s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
thousands() { echo "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f%%", 100 * a / b; else print "n/a" }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m }'; }
maximum() { printf '%s\n' "$@" | sort -g | tail -n 1; }
minimum() { printf '%s\n' "$@" | sort -g | head -n 1; }

IS_SCALE_1=0
awk -v s="$SCALE" 'BEGIN { exit !(s == 1) }' && IS_SCALE_1=1

# json_get FILE EXPR: a value from a JSON file (EXPR is Python, on `d`).
json_get() {
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1], encoding="utf-8")); print(eval(sys.argv[2]))' "$1" "$2"
}

# The day zhenxing counts ages on (core::china_time::today_in_china: UTC+8).
china_today() { date -u -d '+8 hours' +%F; }

# ---------------------------------------------------------------------------------------------
# The quiet file: other work pauses its builds while it exists. Held only while measuring,
# always removed (trap), and only if this script created it.

QUIET_HELD=0
release_quiet() {
  if ((QUIET_HELD)) && [[ -n $QUIET_FILE ]]; then
    rm -f "$QUIET_FILE"
    QUIET_HELD=0
    log "removed $QUIET_FILE"
  fi
}
trap release_quiet EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
hold_quiet() {
  [[ -n $QUIET_FILE ]] || return 0
  local waited=0
  while [[ -e $QUIET_FILE ]]; do
    ((waited < 1800)) || die "$QUIET_FILE has existed for 30 minutes: someone else is measuring"
    log "$QUIET_FILE exists (someone else is measuring): waiting"
    sleep 30
    waited=$((waited + 30))
  done
  echo "bench/monitor.sh pid $$ since $(date -u '+%F %T') UTC" >"$QUIET_FILE"
  QUIET_HELD=1
  log "created $QUIET_FILE"
}

# The share of CPU time (all cores) in use over the next 5 seconds, in percent.
cpu_busy() {
  local a b
  a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
  sleep 5
  b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
    t = y[2] - x[2]; printf "%d", (t > 0) ? 100 * (y[1] - x[1]) / t : 0 }'
}

# Waits (at most SETTLE_MAX seconds) until other work leaves the CPUs idle: below BUSY_MAX
# percent twice in a row; fails if they are not. Sets CPU_BUSY_START to the last reading.
SETTLE_MAX=${SETTLE_MAX:-180}
BUSY_MAX=${BUSY_MAX:-10}
wait_for_idle() {
  local started=$SECONDS calm=0
  while :; do
    CPU_BUSY_START=$(cpu_busy)
    if ((CPU_BUSY_START < BUSY_MAX)); then
      calm=$((calm + 1))
      ((calm < 2)) || return 0
    else
      calm=0
      ((SECONDS - started < SETTLE_MAX)) || return 1
      log "the CPUs are ${CPU_BUSY_START}% busy with other work; waiting for them to be idle"
    fi
  done
}

# Holds the quiet file and waits for idle CPUs; when they do not come, lets go of the file for
# RETRY_PAUSE seconds and tries again, TRIES times in all, then measures anyway (the report
# says how busy the machine was). The file is never held for more than SETTLE_MAX seconds
# plus the measurements (about three minutes at scale 1).
TRIES=${TRIES:-3}
RETRY_PAUSE=${RETRY_PAUSE:-180}
quiet_and_idle() {
  local try
  for try in $(seq 1 "$TRIES"); do
    hold_quiet
    if wait_for_idle; then return 0; fi
    if ((try == TRIES)); then
      log "WARNING: the CPUs are still ${CPU_BUSY_START}% busy with other work; measuring anyway"
      return 0
    fi
    release_quiet
    log "the CPUs stayed busy for ${SETTLE_MAX} s (try $try of $TRIES); trying again in ${RETRY_PAUSE} s"
    sleep "$RETRY_PAUSE"
  done
}

# ---------------------------------------------------------------------------------------------
# Prerequisites

if [[ ! -x /usr/bin/time ]]; then
  log "/usr/bin/time is missing; installing the 'time' package"
  apt-get update >/dev/null || die "apt-get update failed (needed to install 'time')"
  DEBIAN_FRONTEND=noninteractive apt-get install -y time >/dev/null || die "apt-get install time failed"
fi
for tool in sqlite3 python3 cargo git awk; do
  command -v "$tool" >/dev/null || die "'$tool' is not installed"
done
if ! python3 -c 'import duckdb' 2>/dev/null; then
  log "the Python package duckdb is missing: pip install duckdb"
  python3 -m pip install --quiet duckdb >&2 || die "pip install duckdb failed"
fi
DUCKDB_VERSION=$(python3 -c 'import duckdb; print(duckdb.__version__)')

DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
NPROC=$(nproc)
CPU=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
MEM_GIB=$(free -g | awk '/^Mem:/ { print $2 }')
COMMIT=$(git rev-parse --short HEAD)
if [[ -n $(git status --porcelain --untracked-files=no) ]]; then COMMIT+=" (with uncommitted changes)"; fi

# ---------------------------------------------------------------------------------------------
# 1. Build, and the registry at scale SCALE (reused when a scale-SCALE registry that was never
#    screened is at hand), its export and the dumps DuckDB loads. None of this is timed.

log "cargo build --release -p zhenxing"
record "cargo build --release -p zhenxing    # setup, not timed"
cargo build --release -p zhenxing >&2 || die "cargo build --release failed"
[[ -x $BIN ]] || die "$BIN was not built"

EXPECTED_LIFTED=$(awk -v s="$SCALE" 'BEGIN { printf "%d", 1906000 * s + 0.5 }')
# usable DB: a SQLite registry of this scale with no warnings yet (read only).
usable() {
  local db=$1 lifted warnings
  [[ -s $db ]] || return 1
  lifted=$(sqlite3 -readonly "$db" "SELECT coalesce(sum(lifted_out_members), 0) FROM village_counts" 2>/dev/null) || return 1
  [[ $lifted == "$EXPECTED_LIFTED" ]] || return 1
  warnings=$(sqlite3 -readonly "$db" "SELECT CASE WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'warnings') THEN (SELECT count(*) FROM warnings) ELSE 0 END" 2>/dev/null) || return 1
  [[ $warnings == 0 ]]
}
REGISTRY_SOURCE=
STAMP=$OUT/registry.stamp   # touched when the registry is made: the export and dumps must be newer
if usable "$PRISTINE" && [[ -e $STAMP ]]; then
  REGISTRY_SOURCE="reused \`$PRISTINE\` from an earlier run of this script"
else
  rm -f "$PRISTINE" "$PRISTINE-wal" "$PRISTINE-shm" "$CSV" "$OUT"/households.csv "$OUT"/members.csv
  for candidate in bench/out/gen.db bench/out/web/registry.db; do
    if usable "$candidate"; then
      setup checkpoint sqlite3 "$candidate" "PRAGMA wal_checkpoint(TRUNCATE);"
      setup copy_registry cp "$candidate" "$PRISTINE"
      REGISTRY_SOURCE="copied from \`$candidate\` (generated by another bench script at scale $SCALE)"
      break
    fi
  done
  if [[ -z $REGISTRY_SOURCE ]]; then
    setup generate "$BIN" --database "sqlite://$PRISTINE" generate --scale "$SCALE" --seed "$SEED"
    REGISTRY_SOURCE="generated by this run (\`generate --scale $SCALE --seed $SEED\`)"
  fi
  touch "$STAMP"
fi
usable "$PRISTINE" || die "$PRISTINE is not a scale-$SCALE registry without warnings"
HOUSEHOLDS=$(sqlite3 -readonly "$PRISTINE" "SELECT count(*) FROM households")
MEMBERS=$(sqlite3 -readonly "$PRISTINE" "SELECT count(*) FROM members")

if [[ ! -s $CSV || ! $CSV -nt $STAMP ]]; then
  setup export "$BIN" --database "sqlite://$PRISTINE" export registry "$CSV"
else
  record "# reused $CSV (the registry export, \`zhenxing export registry\`)"
fi
CSV_ROWS=$(($(wc -l <"$CSV") - 1))
[[ $CSV_ROWS -eq $MEMBERS ]] || die "the export has $CSV_ROWS rows, the registry $MEMBERS members"
CSV_MIB=$(mib $(($(stat -c %s "$CSV") / 1024)))

# The columns the rules read, as zhenxing stores them, for DuckDB's own tables.
if [[ ! -s $OUT/members.csv || ! $OUT/members.csv -nt $STAMP ]]; then
  setup dump_households sqlite3 -readonly -csv -header "$PRISTINE" \
    "SELECT id, household_no, division_code, household_type, member_count, per_capita_net_income, out_of_pocket, housing_safe, water_safe FROM households"
  mv "$OUT/dump_households.out" "$OUT/households.csv"
  setup dump_members sqlite3 -readonly -csv -header "$PRISTINE" \
    "SELECT household_id, birth_date, school_status, health, labor, medical_insurance FROM members"
  mv "$OUT/dump_members.out" "$OUT/members.csv"
fi

# ---------------------------------------------------------------------------------------------
# 2. Measurements (the quiet file held)

# parse_run KEY: sets RUN_* from `monitor run`'s summary lines.
parse_run() {
  local f=$OUT/$1.out line
  line=$(grep -m1 '^screened ' "$f") || die "no 'screened …' line in $f"
  [[ $line =~ screened\ ([0-9]+)\ households,\ ([0-9]+)\ raise\ a\ warning:\ ([0-9]+)\ opened,\ ([0-9]+)\ updated,\ ([0-9]+)\ closed,\ ([0-9]+)\ unchanged ]] ||
    die "cannot read the summary of $f: $line"
  RUN_SCREENED=${BASH_REMATCH[1]} RUN_WARNED=${BASH_REMATCH[2]} RUN_OPENED=${BASH_REMATCH[3]}
  RUN_UPDATED=${BASH_REMATCH[4]} RUN_CLOSED=${BASH_REMATCH[5]} RUN_UNCHANGED=${BASH_REMATCH[6]}
  # Warnings already verified or dismissed are not raised again; there are none in this registry.
  if [[ $line =~ ([0-9]+)\ already\ verified\ or\ dismissed ]] && ((BASH_REMATCH[1] != 0)); then
    die "$f: the registry was expected to hold no verified or dismissed warning: $line"
  fi
  RUN_SUMMARY=$line
  line=$(grep -m1 '^time: ' "$f") || die "no 'time: …' line in $f"
  [[ $line =~ load\ ([0-9.]+)\ s,\ evaluate\ ([0-9.]+)\ s,\ write\ ([0-9.]+)\ s ]] ||
    die "cannot read the time split of $f: $line"
  RUN_LOAD=${BASH_REMATCH[1]} RUN_EVAL=${BASH_REMATCH[2]} RUN_WRITE=${BASH_REMATCH[3]}
}

quiet_and_idle
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
MEASURE_START=$SECONDS
TODAY=$(china_today)

# Opening the registry applies any migration it lacks: done here, untimed, once for every copy.
setup migrate_registry "$BIN" --database "sqlite://$PRISTINE" stats --json
setup checkpoint_registry sqlite3 "$PRISTINE" "PRAGMA wal_checkpoint(TRUNCATE);"
RUN=("$BIN" --database "sqlite://$WORK" monitor run --year "$YEAR")

# First runs: each on a fresh copy of the registry without warnings (the copy is not timed).
FIRST_WALLS=() FIRST_RSS=() FIRST_CPUS=() FIRST_LOADS=() FIRST_EVALS=() FIRST_WRITES=() EVALS=()
for i in $(seq 1 "$FIRST_RUNS"); do
  rm -f "$WORK" "$WORK-wal" "$WORK-shm"
  setup "copy_work_$i" cp "$PRISTINE" "$WORK"
  timed "run_first_$i" "${RUN[@]}"
  parse_run "run_first_$i"
  FIRST_SUMMARY=$RUN_SUMMARY
  if ((i == 1)); then WARNED=$RUN_WARNED; fi
  [[ $RUN_SCREENED -eq $HOUSEHOLDS ]] || die "first run $i screened $RUN_SCREENED households of $HOUSEHOLDS"
  [[ $RUN_WARNED -eq $WARNED && $RUN_OPENED -eq $WARNED && $RUN_UPDATED -eq 0 && $RUN_CLOSED -eq 0 ]] ||
    die "first run $i on a registry without warnings should only open the $WARNED warnings: $RUN_SUMMARY"
  FIRST_WALLS+=("${WALL[run_first_$i]}") FIRST_RSS+=("${RSS[run_first_$i]}") FIRST_CPUS+=("${CPU[run_first_$i]}")
  FIRST_LOADS+=("$RUN_LOAD") FIRST_EVALS+=("$RUN_EVAL") FIRST_WRITES+=("$RUN_WRITE")
  EVALS+=("$RUN_EVAL")
done
RERUN_WALLS=() RERUN_RSS=() RERUN_CPUS=() RERUN_LOADS=() RERUN_EVALS=() RERUN_WRITES=()
for i in $(seq 1 "$RERUNS"); do
  timed "run_again_$i" "${RUN[@]}"
  parse_run "run_again_$i"
  [[ $RUN_WARNED -eq $WARNED && $RUN_OPENED -eq 0 && $RUN_UPDATED -eq 0 && $RUN_CLOSED -eq 0 && $RUN_UNCHANGED -eq $WARNED ]] ||
    die "re-run $i with nothing changed changed warnings: $RUN_SUMMARY"
  RERUN_SUMMARY=$RUN_SUMMARY
  RERUN_WALLS+=("${WALL[run_again_$i]}") RERUN_RSS+=("${RSS[run_again_$i]}") RERUN_CPUS+=("${CPU[run_again_$i]}")
  RERUN_LOADS+=("$RUN_LOAD") RERUN_EVALS+=("$RUN_EVAL") RERUN_WRITES+=("$RUN_WRITE")
  EVALS+=("$RUN_EVAL")
done

WHATIF=("$BIN" --database "sqlite://$WORK" monitor whatif --threshold "$WHATIF_THRESHOLD" --json --year "$YEAR")
WHATIF_WALLS=() WHATIF_RSS=() WHATIF_CPUS=()
for i in $(seq 1 "$WHATIF_RUNS"); do
  timed "whatif_$i" "${WHATIF[@]}"
  WHATIF_WALLS+=("${WALL[whatif_$i]}") WHATIF_RSS+=("${RSS[whatif_$i]}") WHATIF_CPUS+=("${CPU[whatif_$i]}")
done
WHATIF_HOUSEHOLDS=$(json_get "$OUT/whatif_1.out" 'd["households_at_or_below_threshold"]')
WHATIF_MEMBERS=$(json_get "$OUT/whatif_1.out" 'd["members_at_or_below_threshold"]')

# zhenxing's result, for the check: one line per open screening warning, with the rules of its
# reasons in order.
setup dump_ours sqlite3 -readonly -csv -header "$WORK" \
  "SELECT w.household_no, w.category, w.risk_types, (SELECT group_concat(json_extract(j.value, '\$.rule'), ',') FROM json_each(w.reasons) j) AS rules FROM warnings w WHERE w.source = 'screening' AND w.status IN ('new', 'assigned') ORDER BY w.household_no"
mv "$OUT/dump_ours.out" "$OUT/ours.csv"
OURS_LINES=$(($(wc -l <"$OUT/ours.csv") - 1))
[[ $OURS_LINES -eq $WARNED ]] || die "the warnings table holds $OURS_LINES open screening warnings, the run said $WARNED"

timed duckdb_tables python3 bench/monitor_duckdb.py tables --households "$OUT/households.csv" \
  --members "$OUT/members.csv" --today "$TODAY" --ours "$OUT/ours.csv" --runs "$DUCKDB_RUNS" \
  --whatif-threshold-fen "$((WHATIF_THRESHOLD * 100))" --results "$OUT/duckdb-tables.csv" \
  --json "$OUT/duckdb-tables.json"
timed duckdb_csv python3 bench/monitor_duckdb.py csv --export "$CSV" --today "$TODAY" \
  --ours "$OUT/ours.csv" --runs "$DUCKDB_CSV_RUNS" --results "$OUT/duckdb-csv.csv" \
  --json "$OUT/duckdb-csv.json"

LOADAVG_END=$(cut -d' ' -f1-3 /proc/loadavg)
MEASURE_SECONDS=$((SECONDS - MEASURE_START))
release_quiet
CPU_BUSY_END=$(cpu_busy)
[[ $(china_today) == "$TODAY" ]] ||
  die "the day changed in China during the run (ages are counted on the run day): run again"

# ---------------------------------------------------------------------------------------------
# 3. Checks: DuckDB computed the same thing (monitor_duckdb.py already failed on any difference)

DT=$OUT/duckdb-tables.json
DC=$OUT/duckdb-csv.json
for f in "$DT" "$DC"; do
  [[ $(json_get "$f" 'd["check"]["differing_households"]') == 0 ]] || die "$f: households differ"
  [[ $(json_get "$f" 'd["result"]["warnings"]') == "$WARNED" ]] ||
    die "$f: DuckDB found $(json_get "$f" 'd["result"]["warnings"]') warnings, zhenxing $WARNED"
  [[ $(json_get "$f" 'd["result"]["by_category"] == d["check"]["ours_by_category"]') == True ]] ||
    die "$f: the categories differ"
done
[[ $(json_get "$DT" 'd["whatif_households"]') == "$WHATIF_HOUSEHOLDS" && $(json_get "$DT" 'd["whatif_members"]') == "$WHATIF_MEMBERS" ]] ||
  die "what-if at $WHATIF_THRESHOLD yuan: zhenxing $WHATIF_HOUSEHOLDS households / $WHATIF_MEMBERS people, DuckDB $(json_get "$DT" 'd["whatif_households"]') / $(json_get "$DT" 'd["whatif_members"]')"
log "checks passed: DuckDB agrees with zhenxing on all $WARNED warnings (category, risk types, rules)"

# ---------------------------------------------------------------------------------------------
# 4. The figures

FIRST_WALL=$(median "${FIRST_WALLS[@]}")
FIRST_WALL_MAX=$(maximum "${FIRST_WALLS[@]}")
FIRST_RSS_MAX=$(maximum "${FIRST_RSS[@]}")
FIRST_CPU=$(median "${FIRST_CPUS[@]}")
FIRST_LOAD=$(median "${FIRST_LOADS[@]}")
FIRST_EVAL=$(median "${FIRST_EVALS[@]}")
FIRST_WRITE=$(median "${FIRST_WRITES[@]}")
EVAL_BEST=$(minimum "${EVALS[@]}")
EVAL_MEDIAN=$(median "${EVALS[@]}")
EVAL_MAX=$(maximum "${EVALS[@]}")
RERUN_WALL=$(median "${RERUN_WALLS[@]}")
RERUN_WALL_MAX=$(maximum "${RERUN_WALLS[@]}")
RERUN_RSS_MAX=$(maximum "${RERUN_RSS[@]}")
RERUN_LOAD=$(median "${RERUN_LOADS[@]}")
RERUN_EVAL=$(median "${RERUN_EVALS[@]}")
RERUN_WRITE=$(median "${RERUN_WRITES[@]}")
WHATIF_WALL=$(median "${WHATIF_WALLS[@]}")
WHATIF_WALL_MAX=$(maximum "${WHATIF_WALLS[@]}")
WHATIF_RSS_MAX=$(maximum "${WHATIF_RSS[@]}")
RERUN_CPU=$(median "${RERUN_CPUS[@]}")
WHATIF_CPU=$(median "${WHATIF_CPUS[@]}")
ONE_GIB_KIB=1048576

DT_QUERY=$(json_get "$DT" 'd["query_best_s"]')
DT_QUERIES=$(json_get "$DT" '", ".join("%.1f" % (x * 1000) for x in d["query_runs_s"])')
DT_WHATIF=$(json_get "$DT" 'd["whatif_best_s"]')
DT_THREADS=$(json_get "$DT" 'd["threads"]')
DC_LOAD=$(json_get "$DC" 'd["best"]["load_s"]')
DC_QUERY=$(json_get "$DC" 'd["best"]["query_s"]')
DC_TOTAL=$(json_get "$DC" 'd["best"]["total_s"]')
DC_TOTALS=$(json_get "$DC" '", ".join("%.2f" % x for x in d["total_runs_s"])')
RATIO_EVAL=$(ratio "$EVAL_BEST" "$DT_QUERY")
RATIO_EVAL_MEDIAN=$(ratio "$EVAL_MEDIAN" "$DT_QUERY")
RATIO_E2E=$(ratio "$FIRST_WALL" "$DC_TOTAL")
RATIO_E2E_AGAIN=$(ratio "$RERUN_WALL" "$DC_TOTAL")

# Counts: zhenxing and the two DuckDB computations side by side.
count_rows() {
  python3 - "$DT" "$DC" <<'PY'
import json, sys
t = json.load(open(sys.argv[1], encoding="utf-8"))
c = json.load(open(sys.argv[2], encoding="utf-8"))
ours = t["check"]["ours_by_category"]
names = {"unstable_lifted_out": "脱贫不稳定户 unstable lifted-out", "marginal_at_risk": "边缘易致贫户 marginal at risk",
         "sudden_hardship": "突发严重困难户 sudden hardship", "none": "no category (a 三保障 or water trigger above the threshold)"}
def n(x): return f"{x:,}"
print(f"| households with a warning | {n(t['check']['ours_warnings'])} | {n(t['result']['warnings'])} | {n(c['result']['warnings'])} |")
for k in ["unstable_lifted_out", "marginal_at_risk", "sudden_hardship", "none"]:
    print(f"| {names[k]} | {n(ours.get(k, 0))} | {n(t['result']['by_category'].get(k, 0))} | {n(c['result']['by_category'].get(k, 0))} |")
print(f"| households on which DuckDB and zhenxing differ (category, risk types or rules) | – | {t['check']['differing_households']} | {c['check']['differing_households']} |")
PY
}

# The breakdown of zhenxing's warnings, from the warnings table (after the runs).
BREAKDOWN_SQL=$(cat <<'SQL'
WITH r AS (
  SELECT w.household_no, w.category, json_extract(j.value, '$.rule') AS rule
  FROM warnings w, json_each(w.reasons) j
  WHERE w.source = 'screening' AND w.status IN ('new', 'assigned')
),
per AS (
  SELECT household_no, category,
         max(rule = 'income') AS income, max(rule = 'medical_out_of_pocket') AS medical,
         max(rule = 'child_out_of_school') AS school, max(rule = 'unsafe_housing') AS housing,
         max(rule = 'unsafe_water') AS water, max(rule = 'no_medical_insurance') AS insurance,
         max(rule = 'no_labor_ability') AS labour, max(rule = 'disabled_member') AS disabled,
         max(rule = 'seriously_ill_member') AS ill
  FROM r GROUP BY household_no
)
SELECT * FROM per
SQL
)
setup breakdown sqlite3 -readonly -csv -header "$WORK" "$BREAKDOWN_SQL"
mv "$OUT/breakdown.out" "$OUT/breakdown.csv"
setup registry_shares sqlite3 -readonly -csv -header "$WORK" "
  SELECT household_type AS type, count(*) AS households,
         sum(per_capita_net_income <= 600000) AS at_or_below,
         sum(monitoring_category IS NOT NULL) AS monitored,
         sum(housing_safe = 0) AS unsafe_housing, sum(water_safe = 0) AS unsafe_water,
         sum(id IN (SELECT household_id FROM members WHERE medical_insurance = 0)) AS uninsured,
         (SELECT count(*) FROM members m JOIN households x ON x.id = m.household_id WHERE x.household_type = h.household_type) AS members,
         (SELECT count(*) FROM members m JOIN households x ON x.id = m.household_id WHERE x.household_type = h.household_type AND m.medical_insurance = 0) AS uninsured_members
  FROM households h GROUP BY household_type ORDER BY household_type"
mv "$OUT/registry_shares.out" "$OUT/registry-shares.csv"
setup monitored_cross sqlite3 -readonly -csv -header "$WORK" "
  SELECT coalesce(w.category, 'none') AS warning_category, coalesce(h.monitoring_category, 'none') AS registry_category, count(*) AS households
  FROM warnings w JOIN households h ON h.household_no = w.household_no
  WHERE w.source = 'screening' AND w.status IN ('new', 'assigned') GROUP BY 1, 2 ORDER BY 1, 2"
mv "$OUT/monitored_cross.out" "$OUT/monitored-cross.csv"
MONITORED_NOT_WARNED=$(sqlite3 -readonly "$WORK" "SELECT count(*) FROM households h WHERE h.monitoring_category IS NOT NULL AND NOT EXISTS (SELECT 1 FROM warnings w WHERE w.household_no = h.household_no AND w.status IN ('new', 'assigned'))")

BREAKDOWN_TABLES=$(python3 - "$OUT/breakdown.csv" "$HOUSEHOLDS" "$OUT/registry-shares.csv" "$OUT/monitored-cross.csv" "$MONITORED_NOT_WARNED" <<'PY'
import csv, sys, collections
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
households = int(sys.argv[2])
total = len(rows)
warning_rules = [("income", "income: per-capita net income ≤ 6,000 yuan"),
                 ("medical", "medical_out_of_pocket: ≥ 5,000 / 20,000 yuan"),
                 ("school", "child_out_of_school: 7 to 15, not in school"),
                 ("housing", "unsafe_housing"), ("water", "unsafe_water"),
                 ("insurance", "no_medical_insurance: a member uninsured")]
context_rules = [("labour", "no_labor_ability (context)"), ("disabled", "disabled_member (context)"),
                 ("ill", "seriously_ill_member (context)")]
def n(x): return f"{x:,}"
def p(a, b): return f"{100 * a / b:.2f}%" if b else "n/a"
on = lambda r, k: r[k] == "1"
print("By rule (a household counts under every rule that fired on it; only the first six raise a warning):")
print()
print("| rule | households | share of warnings | share of all households | the only warning rule |")
print("|---|---|---|---|---|")
for k, label in warning_rules:
    fired = sum(on(r, k) for r in rows)
    alone = sum(on(r, k) and not any(on(r, o) for o, _ in warning_rules if o != k) for r in rows)
    print(f"| {label} | {n(fired)} | {p(fired, total)} | {p(fired, households)} | {n(alone)} |")
for k, label in context_rules:
    fired = sum(on(r, k) for r in rows)
    print(f"| {label} | {n(fired)} | {p(fired, total)} | {p(fired, households)} | – |")
print(f"| **households with a warning** | **{n(total)}** | 100% | **{p(total, households)}** | |")
print()
combos = collections.Counter(
    " + ".join(k for k, _ in warning_rules if on(r, k)) for r in rows)
print("The most frequent combinations of warning rules:")
print()
print("| warning rules that fired | households | share of warnings |")
print("|---|---|---|")
for combo, c in combos.most_common(8):
    print(f"| {combo} | {n(c)} | {p(c, total)} |")
print()
print("What the registry holds (the generator's draws), by household type:")
print()
print("| type | households | per-capita net income ≤ 6,000 | monitored in the registry | unsafe housing | unsafe water | a member uninsured | members uninsured |")
print("|---|---|---|---|---|---|---|---|")
for r in csv.DictReader(open(sys.argv[3], encoding="utf-8")):
    h = int(r["households"])
    print(f"| {r['type']} | {n(h)} | {n(int(r['at_or_below']))} ({p(int(r['at_or_below']), h)}) | {n(int(r['monitored']))} ({p(int(r['monitored']), h)}) "
          f"| {n(int(r['unsafe_housing']))} ({p(int(r['unsafe_housing']), h)}) | {n(int(r['unsafe_water']))} ({p(int(r['unsafe_water']), h)}) "
          f"| {n(int(r['uninsured']))} ({p(int(r['uninsured']), h)}) | {n(int(r['uninsured_members']))} of {n(int(r['members']))} ({p(int(r['uninsured_members']), int(r['members']))}) |")
print()
print("Warnings against the registry's own monitoring category (the households the generator made monitored):")
print()
print("| warning's category | registry's category | households |")
print("|---|---|---|")
for r in csv.DictReader(open(sys.argv[4], encoding="utf-8")):
    print(f"| {r['warning_category']} | {r['registry_category']} | {n(int(r['households']))} |")
print(f"| (no warning) | monitored | {n(int(sys.argv[5]))} |")
PY
)

# ---------------------------------------------------------------------------------------------
# 5. BENCHMARKS.md: this script's section, between its markers

if ((IS_SCALE_1)); then
  SCALE_NOTE="At scale 1, the scale the targets are set for."
else
  SCALE_NOTE="**At scale $SCALE**: the targets apply to scale 1 only, so no figure is judged (\"n/a\")."
fi
PRIO_NOTE=
if ((${#PRIO[@]})); then
  PRIO_NOTE=", which ran at a higher scheduling priority than other work on the machine (nice $NICE$PRIO_GROUP)"
fi
ANALYSIS=
if [[ -f bench/monitor-analysis.md ]]; then ANALYSIS=$(cat bench/monitor-analysis.md); fi

SECTION=$(cat <<MD
<!-- monitor benchmarks: start (written by bench/monitor.sh) -->
## Monitoring (issue 4)

\`bash bench/monitor.sh $SCALE\`, measured on $DATE, commit $COMMIT, $NPROC CPUs ($CPU),
$MEM_GIB GiB. Load average at the start / end of the measurements: $LOADAVG_START /
$LOADAVG_END (they took $MEASURE_SECONDS s); CPU time used by other work just before they
started: ${CPU_BUSY_START}%, just after: ${CPU_BUSY_END}% (\`/proc/stat\` over 5 s). $SCALE_NOTE
The registry: $(thousands "$HOUSEHOLDS") households, $(thousands "$MEMBERS") members, SQLite,
$REGISTRY_SOURCE. Rule set: the built-in 2021 one (\`--year $YEAR\`; threshold 6,000 yuan),
ages counted on $TODAY (China). Wall times, peak memory (maximum resident set size) and CPU
time come from \`/usr/bin/time -v\` around the whole process$PRIO_NOTE; load / evaluate /
write are what \`monitor run\` prints. Each first run starts from a fresh copy of the registry
without warnings and opens every warning; each re-run finds nothing changed.

| Figure | Target (scale 1) | Measured | Met? |
|---|---|---|---|
| \`monitor run\`, first run (opens $(thousands "$WARNED") warnings), wall time: median of $FIRST_RUNS (slowest) | < 5 s | $(secs "$FIRST_WALL") ($(secs "$FIRST_WALL_MAX")) | $(verdict "$FIRST_WALL" 5) |
| … of which load / evaluate / write (medians) | | $FIRST_LOAD s / $FIRST_EVAL s / $FIRST_WRITE s | |
| … CPU time (user + system, all threads; median) | | $FIRST_CPU s | |
| \`monitor run\`, first run, peak RSS (largest of $FIRST_RUNS) | < 1 GiB | $(mib "$FIRST_RSS_MAX") MiB | $(verdict "$FIRST_RSS_MAX" "$ONE_GIB_KIB") |
| \`monitor run\` again, nothing changed, wall time: median of $RERUNS (slowest) | < 5 s | $(secs "$RERUN_WALL") ($(secs "$RERUN_WALL_MAX")) | $(verdict "$RERUN_WALL" 5) |
| … of which load / evaluate / write (medians) | | $RERUN_LOAD s / $RERUN_EVAL s / $RERUN_WRITE s | |
| … CPU time (median) | | $RERUN_CPU s | |
| \`monitor run\` again, peak RSS (largest of $RERUNS) | < 1 GiB | $(mib "$RERUN_RSS_MAX") MiB | $(verdict "$RERUN_RSS_MAX" "$ONE_GIB_KIB") |
| evaluation alone, all $((FIRST_RUNS + RERUNS)) runs: median (best, slowest) | < 100 ms | $(ms "$EVAL_MEDIAN") ms ($(ms "$EVAL_BEST"), $(ms "$EVAL_MAX")) | $(verdict "$EVAL_MEDIAN" 0.1) |
| \`monitor whatif --threshold $WHATIF_THRESHOLD --json\`, wall time: median of $WHATIF_RUNS (slowest) | < 2 s | $(secs "$WHATIF_WALL") ($(secs "$WHATIF_WALL_MAX")) | $(verdict "$WHATIF_WALL" 2) |
| … CPU time (median) | | $WHATIF_CPU s | |
| \`monitor whatif\`, peak RSS (largest of $WHATIF_RUNS) | < 1 GiB | $(mib "$WHATIF_RSS_MAX") MiB | $(verdict "$WHATIF_RSS_MAX" "$ONE_GIB_KIB") |

### The DuckDB peer

DuckDB $DUCKDB_VERSION (Python package, $DT_THREADS threads, in memory) runs the same rules
written as SQL ([bench/monitor_duckdb.py](bench/monitor_duckdb.py)) over the same registry. (a)
Over its own tables: the columns the rules read, dumped from the SQLite registry and loaded
into DuckDB first (untimed); the timed query groups the members by household, joins them to
the households, applies the rules and materialises the warnings (household, category, risk
types, rules) as a table: best of $DUCKDB_RUNS ($DT_QUERIES ms). zhenxing's evaluation is the
engine's classification of the snapshot already in memory (its members already grouped by
household, which \`monitor run\` counts under load). (b) From the export
(\`export registry\`, $(thousands "$CSV_ROWS") rows, $CSV_MIB MiB): \`read_csv\` into a table, with
the amounts, booleans and labels converted, then the same rules, in a new in-memory database
each time: best of $DUCKDB_CSV_RUNS ($DC_TOTALS s), not counting the start of Python. zhenxing's
end to end is the whole \`monitor run\` process, including writing the warnings, which DuckDB
does not do. A ratio below 1 means zhenxing is faster.

| Figure | zhenxing | DuckDB | ratio zhenxing ÷ DuckDB |
|---|---|---|---|
| (a) evaluation vs query over in-memory tables (best of each) | $(ms "$EVAL_BEST") ms | $(ms "$DT_QUERY") ms | $RATIO_EVAL |
| (a) the same with zhenxing's median evaluation | $(ms "$EVAL_MEDIAN") ms | $(ms "$DT_QUERY") ms | $RATIO_EVAL_MEDIAN |
| (b) first \`monitor run\` end to end (median) vs loading the export and querying it (best) | $(secs "$FIRST_WALL") | $(secs "$DC_TOTAL") (load $(secs "$DC_LOAD"), query $(secs "$DC_QUERY")) | $RATIO_E2E |
| (b) the same with a re-run (median) | $(secs "$RERUN_WALL") | $(secs "$DC_TOTAL") | $RATIO_E2E_AGAIN |
| what-if at $WHATIF_THRESHOLD yuan: the \`monitor whatif\` process (median), which reads the households from SQLite, vs DuckDB's count over its table already in memory (best) | $(secs "$WHATIF_WALL") | $(ms "$DT_WHATIF") ms | not comparable |
| peak RSS: \`monitor run\` first run vs the DuckDB process, (a) / (b) | $(mib "$FIRST_RSS_MAX") MiB | $(mib "${RSS[duckdb_tables]}") / $(mib "${RSS[duckdb_csv]}") MiB | |

**The check.** The script fails unless DuckDB's result equals zhenxing's open screening warnings
household by household: the same households, and for each the same category, the same risk
types in the same order and the same rules in the same order (from the warnings' reasons). The
what-if counts at $WHATIF_THRESHOLD yuan must agree too ($(thousands "$WHATIF_HOUSEHOLDS") households, $(thousands "$WHATIF_MEMBERS") people).

| Count | zhenxing (warnings table) | DuckDB (a) | DuckDB (b) |
|---|---|---|---|
$(count_rows)

### What raises the warnings

$(thousands "$WARNED") of $(thousands "$HOUSEHOLDS") households ($(pct "$WARNED" "$HOUSEHOLDS")) get a warning. From the
warnings table after the runs:

$BREAKDOWN_TABLES

$ANALYSIS

### Commands

Run from the repository root, in this order. \`/usr/bin/time -v\` marks the timed commands.

\`\`\`sh
$(printf '%s\n' "${COMMANDS[@]}")
\`\`\`

What the runs printed: first run \`$FIRST_SUMMARY\`; re-runs \`$RERUN_SUMMARY\`.
<!-- monitor benchmarks: end -->
MD
)
write_section monitor "$REPORT" "$SECTION"
log "wrote the monitoring section of $REPORT"
log "monitor run: first $FIRST_WALL s (load $FIRST_LOAD, evaluate $FIRST_EVAL, write $FIRST_WRITE), again $RERUN_WALL s; whatif $WHATIF_WALL s; DuckDB (a) $(ms "$DT_QUERY") ms vs evaluate $(ms "$EVAL_BEST") ms, (b) $DC_TOTAL s"
