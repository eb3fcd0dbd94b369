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
printf 'Fuzz-password-2026\n' | "$BIN" --database "$DB" user add fuzz --role county_officer --division 500229000000 >/dev/null
TOKEN=$("$BIN" --database "$DB" token create fuzz 2>/dev/null | tail -n 1)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN" --database "$DB" serve --bind "127.0.0.1:$PORT" 2>"$WORK/server.log" &
SERVER=$!
for _ in $(seq 1 50); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
st run "http://127.0.0.1:$PORT/api/openapi.json" -H "Authorization: Bearer $TOKEN" \
  --checks all --max-examples 100 --no-color
