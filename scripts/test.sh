#!/usr/bin/env bash
# Install everything the tests need into a virtual environment and run lint, types and tests.
#   scripts/test.sh                 # the whole suite (what CI runs)
#   scripts/test.sh -m "not slow"   # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${SCRIBE_VENV:-.venv}"
PY="${PYTHON:-python3}"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
# The constraints file pins torch to its CPU wheel; the gpu extra brings NeMo and pyannote so
# their adapters are tested too (with tiny random-weight models built by the tests).
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[gpu,test]"

# The second real client of the end-to-end tests: the official openai Node SDK, from the lock file.
npm ci --prefix tests/node --no-audit --no-fund --loglevel=error

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYANNOTE_METRICS_ENABLED=false
export SCRIBE_CACHE_DIR="${SCRIBE_CACHE_DIR:-$HOME/.cache/scribe}"

"$VENV/bin/ruff" check backend tests scripts
"$VENV/bin/ruff" format --check backend tests scripts
"$VENV/bin/mypy"

set +e
"$VENV/bin/python" -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: treating as a failure" >&2
  exit 1
fi
[ "$status" -eq 0 ] || exit "$status"

# --- the web app (frontend/) ------------------------------------------------------------------
# Typecheck, lint and unit tests; the committed client and build must match the source; then
# Playwright in Debian's Chromium against a real `scribe serve`. SCRIBE_SKIP_FRONTEND=1 skips it.
if [ -z "${SCRIBE_SKIP_FRONTEND:-}" ]; then
  SCRIBE_VENV="$VENV" bash scripts/test_frontend.sh
fi
