# Shared by the bench scripts that measure the web server (sourced by web.sh and stats.sh, not
# run): preparing a registry with a signed-in municipal administrator, starting and stopping the
# release server, signing in through the form, and one wrk run.
#
# The caller sets BIN (the release binary), OUT (its scratch directory), PORT, PASSWORD, SCALE
# (for `generate`) and CONNECTIONS and DURATION (for wrk), and defines `die` and `log`.

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
  # SERVE_COMMAND: `serve` (the default) or `demo`, which also seeds the demo cases.
  "$BIN" --database "$url" "${SERVE_COMMAND:-serve}" --bind "127.0.0.1:$PORT" 2>"$OUT/server.log" &
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
