#!/usr/bin/env bash
# Department data upload at demo scale (STORIES.md story 6): a medical claims file of 40,000 rows
# in GB18030, built from the demo registry's ID numbers (about 97 % matched, the rest valid ID
# numbers that are in no household), imported with the release CLI into a copy of the registry,
# then imported again (every record repeated: nothing raised). Prints the times and the counts.
#
#   bash bench/department.sh [DB] [ROWS]
#
# DB is an SQLite registry made by `zhenxing generate` or `zhenxing demo` (default zhenxing.db);
# it is copied to bench/out/department.db first, so the original is not changed. ROWS defaults
# to 40000. Needs python3 (standard library only). Scratch files go to bench/out/.
set -euo pipefail

die() {
  echo "bench/department: FAILED: $*" >&2
  exit 1
}
trap 'die "line $LINENO: command exited with status $?: $BASH_COMMAND"' ERR

DB=${1:-zhenxing.db}
ROWS=${2:-40000}
[[ $ROWS =~ ^[0-9]+$ && $ROWS -gt 0 ]] || die "ROWS must be a positive whole number, got '$ROWS'"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ $DB = /* ]] || DB="$PWD/$DB"
[[ -f $DB ]] || die "no registry at $DB: run 'zhenxing generate --scale 1' (or demo) first"
cd "$ROOT"
OUT=bench/out
BIN=${CARGO_TARGET_DIR:-target}/release/zhenxing
mkdir -p "$OUT"

echo "bench/department: building the release binary" >&2
cargo build --release --quiet -p zhenxing

COPY=$OUT/department.db
rm -f "$COPY" "$COPY-wal" "$COPY-shm"
cp "$DB" "$COPY"
for ext in -wal -shm; do [[ -f $DB$ext ]] && cp "$DB$ext" "$COPY$ext"; done

FILE=$OUT/claims-$ROWS.csv
echo "bench/department: writing $FILE from the registry's ID numbers" >&2
python3 - "$COPY" "$FILE" "$ROWS" <<'PY'
import random, sqlite3, sys
db, path, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"
def check(body):
    return CHECK[sum(int(d) * w for d, w in zip(body, W)) % 11]
con = sqlite3.connect(db)
total = con.execute("SELECT COUNT(*) FROM members").fetchone()[0]
unknown = rows * 1088 // 40000
people = (rows - unknown) * 10 // 12  # some people have two or three claims
rng = random.Random(2021)
step = max(1, total // max(people, 1))
ids = [r[0] for r in con.execute(
    "SELECT id_number FROM members WHERE id % ? = 0 AND length(id_number) = 18 LIMIT ?",
    (step, people))]
if not ids:
    sys.exit("the registry has no members")
strangers = []
n = 0
while len(strangers) < unknown:
    n += 1
    body = "500229%04d%02d%02d%03d" % (1910 + n % 10, 1 + n % 12, 1 + n % 28, n % 1000)
    candidate = body + check(body)
    if con.execute("SELECT 1 FROM members WHERE id_number = ?", (candidate,)).fetchone() is None:
        strangers.append(candidate)
lines = ["证件号码,姓名,结算单号,结算日期,医疗机构,合规自付金额（元）"]
for i in range(rows - unknown):
    person = ids[i % len(ids)] if i < len(ids) else rng.choice(ids)
    amount = rng.choice([rng.uniform(20, 800)] * 8 + [rng.uniform(800, 4000)] * 3 + [rng.uniform(4000, 30000)])
    lines.append("%s,,YB%08d,2025-%02d-%02d,城口县人民医院,%.2f" % (person, i, 1 + i % 12, 1 + i % 28, amount))
for j, person in enumerate(strangers):
    lines.append("%s,,YBX%07d,2025-06-01,巫溪县人民医院,100.00" % (person, j))
with open(path, "wb") as f:
    f.write(("\r\n".join(lines) + "\r\n").encode("gb18030"))
print("bench/department: %d rows (%d people of the registry, %d unknown ID numbers)" % (rows, len(ids), len(strangers)), file=sys.stderr)
PY

run() {
  local label=$1
  shift
  local start end
  start=$(date +%s.%N)
  "$BIN" --database "sqlite://$COPY" --lang en department import --kind medical "$FILE" | grep -E '^(upload|time)'
  end=$(date +%s.%N)
  printf 'bench/department: %s: %.2f s end to end\n' "$label" "$(echo "$end - $start" | bc -l)"
}
echo "command: $BIN --database sqlite://$COPY department import --kind medical $FILE"
run "first import"
run "the same file again"
