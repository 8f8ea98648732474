#!/usr/bin/env bash
# The web app's checks (scripts/test.sh runs this after pytest):
#   1. npm ci, typecheck, lint, unit tests (Vitest + Testing Library);
#   2. the typed client is regenerated from the service's schema and the app rebuilt: both must
#      match what is committed (frontend/openapi.json, src/api/schema.d.ts, backend/scribe/web/);
#   3. end-to-end tests (Playwright, Debian's Chromium) against a real `scribe serve` on real audio.
#   scripts/test_frontend.sh            # all of it
#   SCRIBE_SKIP_E2E=1 scripts/test_frontend.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VENV="$(realpath "${SCRIBE_VENV:-.venv}")"
export SCRIBE_PYTHON="$VENV/bin/python"   # npm run gen:openapi runs the app's schema export with it
export SCRIBE_EVAL_DIR="${SCRIBE_EVAL_DIR:-$ROOT/../shared/eval}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYANNOTE_METRICS_ENABLED=false

step() { printf '\n== %s\n' "$*"; }

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -z "${SCRIBE_SKIP_E2E:-}" ] && [ ! -x "$CHROMIUM" ]; then
  step "installing Debian's chromium"
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null
  fi
fi

cd frontend
step "npm ci"
npm ci --no-audit --no-fund --loglevel=error

step "typecheck, lint, unit tests"
npm run --silent typecheck
npm run --silent lint
npx vitest run

step "the committed client and build match the source"
npm run --silent gen:api
npx vite build --logLevel warn
cd "$ROOT"
if ! git diff --exit-code --stat -- frontend/openapi.json frontend/src/api/schema.d.ts backend/scribe/web \
  || [ -n "$(git status --porcelain --untracked-files=all -- backend/scribe/web frontend/src/api)" ]; then
  echo "The generated client or the built app differs from what is committed." >&2
  echo "Run: (cd frontend && npm run gen:api && npm run build), then commit the result." >&2
  exit 1
fi

if [ -n "${SCRIBE_SKIP_E2E:-}" ]; then
  echo "SCRIBE_SKIP_E2E is set: end-to-end tests skipped"
  exit 0
fi

step "end-to-end tests against a real server"
PORT="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
LOG="$(mktemp -t scribe-e2e-XXXX.log)"
# A database of its own, with API keys required and one key for the tests (the wrong-key test
# then meets the server's real 401).
export SCRIBE_DATA_DIR="$(mktemp -d -t scribe-e2e-data-XXXX)"
unset SCRIBE_DATABASE_URL SCRIBE_REDIS_URL
KEY="$("$VENV/bin/scribe" keys create --name e2e --rpm 0 2>/dev/null | tail -n 1)"
case "$KEY" in sk-*) ;; *) echo "could not create an API key for the e2e tests" >&2; exit 1 ;; esac
# A small upload limit lets the "too large" test send a few MB only.
SCRIBE_PORT="$PORT" SCRIBE_HOST=127.0.0.1 SCRIBE_AUTH=required SCRIBE_MAX_UPLOAD_MB=2 SCRIBE_DEVICE=cpu \
  "$VENV/bin/scribe" serve >"$LOG" 2>&1 &
SERVER=$!
stop_server() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  rm -rf "$SCRIBE_DATA_DIR"
}
trap stop_server EXIT
for _ in $(seq 1 240); do
  if curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null; then break; fi
  if ! kill -0 "$SERVER" 2>/dev/null; then
    echo "scribe serve exited:" >&2
    cat "$LOG" >&2
    exit 1
  fi
  sleep 1
done
curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null || {
  echo "scribe serve was not ready after 240 s:" >&2
  tail -n 40 "$LOG" >&2
  exit 1
}
cd frontend
set +e
SCRIBE_E2E_URL="http://127.0.0.1:$PORT" SCRIBE_E2E_API_KEY="$KEY" CHROMIUM_PATH="$CHROMIUM" CI=1 npx playwright test
status=$?
set -e
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 40 lines)" >&2
  tail -n 40 "$LOG" >&2
fi
exit "$status"
