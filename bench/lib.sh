# Shared by the bench scripts (sourced, not run): target verdicts and writing one marked section
# of BENCHMARKS.md.

# verdict VALUE LIMIT: "met" if VALUE < LIMIT, else "not met". The issues set their targets at
# scale 1 (IS_SCALE_1, set by the caller) on SQLite; with VERDICT_BACKEND=pg the figure is
# reported for comparison only.
verdict() {
  if [[ ${VERDICT_BACKEND:-sq} == pg ]]; then
    echo "– (reported)"
  elif ((IS_SCALE_1 == 0)); then
    echo "n/a (scale $SCALE)"
  elif awk -v v="$1" -v l="$2" 'BEGIN { exit !(v < l) }'; then
    echo "met"
  else
    echo "**not met**"
  fi
}

# write_section NAME REPORT SECTION: replaces the text between "<!-- NAME benchmarks: start" and
# "<!-- NAME benchmarks: end -->" in REPORT with SECTION (which carries both markers), or appends
# SECTION when REPORT has none yet.
write_section() {
  python3 - "$1" "$2" "$3" <<'PY'
import sys, re
name, path, section = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    text = open(path, encoding="utf-8").read()
except FileNotFoundError:
    text = "# Benchmarks\n"
pattern = re.compile(
    r"<!-- " + re.escape(name) + r" benchmarks: start.*?<!-- " + re.escape(name) + r" benchmarks: end -->\n?",
    re.S,
)
if pattern.search(text):
    text = pattern.sub(lambda _: section + "\n", text)
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w", encoding="utf-8").write(text)
PY
}
