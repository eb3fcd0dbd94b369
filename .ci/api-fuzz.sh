#!/usr/bin/env bash
# Property-based test of the JSON API against its own OpenAPI document (schemathesis): every
# generated request, valid or not, must get an answer that its contract allows, and never a
# 500. Runs the debug binary on a small synthetic registry, signed in with an API token.
#
#   bash .ci/api-fuzz.sh          # needs `st` (pip install schemathesis)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v st >/dev/null; then
  if [[ -n ${CI:-} ]]; then
    echo "api-fuzz: schemathesis (st) is not installed; .ci/run installs it" >&2
    exit 1
  fi
  echo "api-fuzz: schemathesis (st) is not installed; skipped (pip install schemathesis)" >&2
  exit 0
fi

BIN=target/debug/zhenxing
[[ -x $BIN ]] || cargo build -q -p zhenxing
WORK=$(mktemp -d)
SERVER=
cleanup() {
  [[ -n $SERVER ]] && kill "$SERVER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

DB="sqlite://$WORK/registry.db"
"$BIN" --database "$DB" generate --scale 0.002 >/dev/null 2>&1
printf 'Qz7-set-by-operator-2026\n' | "$BIN" --database "$DB" user add apifuzz --role county_officer --division 500229000000 >/dev/null
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN" --database "$DB" serve --bind "127.0.0.1:$PORT" 2>"$WORK/server.log" &
SERVER=$!
for _ in $(seq 1 50); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
# A password set by the operator must be changed by the account itself before its tokens work:
# sign in through the real forms and change it, then create the token.
python3 - "http://127.0.0.1:$PORT" <<'PY'
import http.cookiejar, re, sys, urllib.parse, urllib.request
base = sys.argv[1]
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
def csrf(path):
    page = opener.open(base + path).read().decode()
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
def post(path, fields):
    data = urllib.parse.urlencode(fields).encode()
    return opener.open(base + path, data).read().decode()
post("/login", {"csrf": csrf("/login"), "name": "apifuzz", "password": "Qz7-set-by-operator-2026"})
new = "Qz7-changed-by-itself-2026"
post("/account/password", {"csrf": csrf("/account/password"), "current": "Qz7-set-by-operator-2026",
                           "new": new, "repeat": new})
page = opener.open(base + "/households").read().decode()
if 'id="must-change"' in page or 'id="password-form"' in page:
    sys.exit("api-fuzz: the fuzz account's password change did not take")
PY
TOKEN=$("$BIN" --database "$DB" token create apifuzz 2>/dev/null | tail -n 1)
st run "http://127.0.0.1:$PORT/api/openapi.json" -H "Authorization: Bearer $TOKEN" \
  --checks all --max-examples 100 --no-color
