#!/usr/bin/env bash
# Image smoke test: build the CPU image, run it, and use it as a client would; then bring up the
# scaled CPU topology (API node + Whisper worker + Redis + PostgreSQL) with compose and use that.
#   scripts/docker_smoke.sh            # needs a running Docker engine and compose v2
# Checks, in order: the image builds (offline when no registry answers: a Debian stand-in base,
# the machine's CPU torch wheel); the container gets ready and its health check turns healthy;
# it runs as a non-root user; a real clip is transcribed with the right words; `docker stop`
# during a long transcription gives the client the full result or a 503 in OpenAI's error shape
# (never an empty reply) and the container exits 0 within the grace period; a job submitted
# before the stop completes after a restart; the compose topology transcribes through its API
# node. Everything it started is removed at the end, also on failure. Timings are printed.
# Environment:
#   SCRIBE_EVAL_DIR          clips (jfk.flac, pyannote_sample.wav); default ../shared/eval
#   SCRIBE_DOCKER_OFFLINE    1: always the offline build; 0: never; default: offline when
#                            python:3.11-slim is neither present nor pullable
#   SCRIBE_TORCH_WHEEL_DIRS  where to look for the CPU torch wheel (default: /opt/wheels ~/.cache/pip)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

DOCKER="${DOCKER:-/usr/bin/docker}"
[ -x "$DOCKER" ] || DOCKER="$(command -v docker)"
export DOCKER_BUILDKIT=1
GRACE="${SCRIBE_SHUTDOWN_GRACE_SECONDS:-30}"
STOP_TIMEOUT=$((GRACE + 15))
IMAGE=scribe:cpu
NAME="scribe-smoke-$$"
PROJECT="scribe-smoke-$$"
BASE_STANDIN=scribe-base:py311-bookworm
TORCH_VERSION=2.13.0
TMP="$(mktemp -d /tmp/scribe-smoke.XXXXXX)"
T0=$(date +%s)

log() { printf '[smoke %4ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
fail() {
  printf '[smoke] FAILED: %s\n' "$*" >&2
  exit 1
}
timing() { printf '[smoke] timing: %-40s %6ss\n' "$1" "$2"; echo "$1: $2 s" >> "$TMP/timings"; }

cleanup() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    log "last logs of the single container:"
    "$DOCKER" logs --tail 40 "$NAME" 2>&1 | sed 's/^/    /' || true
    "$DOCKER" compose -p "$PROJECT" -f docker-compose.scale.yml --profile scaled logs --tail 30 \
      2>&1 | sed 's/^/    /' || true
  fi
  "$DOCKER" rm -f "$NAME" >/dev/null 2>&1 || true
  "$DOCKER" volume rm -f "$NAME-data" >/dev/null 2>&1 || true
  "$DOCKER" compose -p "$PROJECT" -f docker-compose.scale.yml --profile scaled down -v \
    --remove-orphans >/dev/null 2>&1 || true
  [ -z "${LINKED_WHEEL:-}" ] || rm -f "$LINKED_WHEEL"
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the clips ----------------------------------------------------------------------------------
EVAL=""
for dir in "${SCRIBE_EVAL_DIR:-}" ../shared/eval /work/shared/eval; do
  if [ -n "$dir" ] && [ -f "$dir/jfk.flac" ]; then EVAL="$dir"; break; fi
done
[ -n "$EVAL" ] || fail "no clips: set SCRIBE_EVAL_DIR to the folder with jfk.flac and pyannote_sample.wav"
CLIP="$EVAL/jfk.flac"
# A long recording for the stop test: the 30 s two-speaker sample, eight times (4 minutes).
python3 - "$EVAL/pyannote_sample.wav" "$TMP/long.wav" <<'PY'
import sys, wave
with wave.open(sys.argv[1]) as src:
    params, frames = src.getparams(), src.readframes(src.getnframes())
with wave.open(sys.argv[2], "wb") as out:
    out.setparams(params)
    for _ in range(8):
        out.writeframes(frames)
PY

for tool in curl python3; do
  command -v "$tool" >/dev/null || fail "$tool is needed (apt-get install $tool)"
done
"$DOCKER" info >/dev/null 2>&1 || fail "no Docker engine answers ($DOCKER info)"
"$DOCKER" compose version >/dev/null 2>&1 || fail "no compose v2 ($DOCKER compose version)"

# --- build ----------------------------------------------------------------------------------------
offline="${SCRIBE_DOCKER_OFFLINE:-auto}"
if [ "$offline" = auto ]; then
  offline=1
  if "$DOCKER" image inspect python:3.11-slim >/dev/null 2>&1 \
    || timeout 30 "$DOCKER" pull -q python:3.11-slim >/dev/null 2>&1; then
    offline=0
  fi
fi
build_args=()
if [ "$offline" = 1 ]; then
  log "offline build: a Debian stand-in base image and this machine's CPU torch wheel"
  t=$(date +%s)
  SCRIBE_BASE_IMAGE="$BASE_STANDIN" DOCKER="$DOCKER" bash scripts/docker_offline_base.sh | tail -1
  timing "stand-in base image" $(($(date +%s) - t))
  wheel=""
  for dir in ${SCRIBE_TORCH_WHEEL_DIRS:-/opt/wheels $HOME/.cache/pip}; do
    [ -d "$dir" ] || continue
    wheel="$(find "$dir" -name "torch-${TORCH_VERSION}+cpu-cp311-*.whl" -print -quit 2>/dev/null)"
    [ -n "$wheel" ] && break
  done
  [ -n "$wheel" ] || fail "offline build: no torch-${TORCH_VERSION}+cpu wheel in ${SCRIBE_TORCH_WHEEL_DIRS:-/opt/wheels ~/.cache/pip}"
  # The wheel keeps its name (pip reads the version from it) in the folder the build mounts.
  target="scripts/docker/wheels/$(basename "$wheel")"
  if [ ! -f "$target" ]; then
    ln "$wheel" "$target" 2>/dev/null || cp "$wheel" "$target"
    LINKED_WHEEL="$ROOT/$target"
  fi
  build_args=(--build-arg "BASE_IMAGE=$BASE_STANDIN" --build-arg TORCH_INDEX_URL=https://pypi.org/simple
    --build-arg PIP_FIND_LINKS=/wheels)
  export SCRIBE_BASE_IMAGE="$BASE_STANDIN"
fi
t=$(date +%s)
log "building $IMAGE"
"$DOCKER" build -q "${build_args[@]}" -t "$IMAGE" . >/dev/null
timing "CPU image build" $(($(date +%s) - t))
log "image size: $("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.2f GB", $1 / 1e9}')"

# --- helpers --------------------------------------------------------------------------------------
wait_ready() { # URL SECONDS
  local deadline=$(($(date +%s) + $2))
  until curl -fsS -o /dev/null "$1/health/ready" 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 1
  done
}
new_key() { # CONTAINER-OR-COMPOSE-ARGS...
  "$@" scribe keys create --name smoke 2>&1 | grep -o 'sk-scribe-[A-Za-z0-9_-]*' | head -n 1
}
check_words() { # FILE
  python3 - "$1" <<'PY' || return 1
import json, re, sys
text = json.load(open(sys.argv[1]))["text"].lower()
words = set(re.findall(r"[a-z]+", text))
need = {"ask", "not", "what", "your", "country", "can", "do", "for", "you"}
missing = need - words
print("    transcript:", text.strip()[:120])
sys.exit(f"missing words: {sorted(missing)}" if missing else 0)
PY
}

# --- the single container -------------------------------------------------------------------------
log "starting $NAME"
t=$(date +%s)
"$DOCKER" run -d --name "$NAME" --init -p 127.0.0.1::20301 \
  -e SCRIBE_SHUTDOWN_GRACE_SECONDS="$GRACE" -v "$NAME-data:/var/lib/scribe" "$IMAGE" >/dev/null
PORT="$("$DOCKER" port "$NAME" 20301/tcp | head -n 1 | sed 's/.*://')"
URL="http://127.0.0.1:$PORT"
wait_ready "$URL" 300 || fail "not ready within 300 s"
timing "container start to ready" $(($(date +%s) - t))

uid="$("$DOCKER" exec "$NAME" sh -c 'awk "/^Uid:/ {print \$2}" /proc/1/status; id -u')"
log "user ids (PID 1, exec): $(echo $uid)"
for u in $uid; do [ "$u" != 0 ] || fail "a process runs as root"; done

curl -fsS "$URL/" | grep -qi '<html' || fail "the web app is not served at /"
KEY="$(new_key "$DOCKER" exec "$NAME")"
[ -n "$KEY" ] || fail "could not create an API key"
AUTH=(-H "Authorization: Bearer $KEY")

t=$(date +%s)
curl -fsS "${AUTH[@]}" "$URL/v1/audio/transcriptions" -F file=@"$CLIP" -F model=whisper-base \
  -F response_format=json -o "$TMP/jfk.json" || fail "transcription request failed"
timing "transcribe jfk.flac (11 s)" $(($(date +%s) - t))
check_words "$TMP/jfk.json" || fail "wrong transcript"

deadline=$(($(date +%s) + 120))
until [ "$("$DOCKER" inspect -f '{{.State.Health.Status}}' "$NAME")" = healthy ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "health status is not healthy after 120 s"
  sleep 2
done
log "health status: healthy"

# A long synchronous request, a job queued behind it, then `docker stop` while the request runs.
# (`Expect:` off: curl would otherwise report the interim 100 Continue when no answer comes.)
curl -sS "${AUTH[@]}" -H 'Expect:' "$URL/v1/audio/transcriptions" -F file=@"$TMP/long.wav" \
  -F response_format=json -o "$TMP/long.out" -w '%{http_code}' > "$TMP/long.code" 2>"$TMP/long.err" &
CURL_PID=$!
sleep 3
curl -fsS "${AUTH[@]}" "$URL/v1/audio/jobs" -F file=@"$CLIP" -F response_format=json \
  -o "$TMP/job.json" || fail "job submission failed"
JOB="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/job.json")"
log "job $JOB submitted"
sleep 5
mem="$("$DOCKER" stats --no-stream --format '{{.MemUsage}}' "$NAME")"
log "memory while transcribing (docker stats): $mem"
echo "memory under one request: $mem" >> "$TMP/timings"
t=$(date +%s)
"$DOCKER" stop -t "$STOP_TIMEOUT" "$NAME" >/dev/null
stop_s=$(($(date +%s) - t))
timing "docker stop during a transcription" "$stop_s"
wait "$CURL_PID" || true
code="$(cat "$TMP/long.code" 2>/dev/null || echo 000)"
exit_code="$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$NAME")"
log "client got HTTP $code ($(head -c 200 "$TMP/long.out" 2>/dev/null)); container exit code $exit_code"
case "$code" in
  200)
    python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["text"]; sys.exit(0 if t.strip() else "empty text")' \
      "$TMP/long.out" || fail "200 without a transcript"
    ;;
  503)
    python3 - "$TMP/long.out" <<'PY' || fail "503 without OpenAI's error shape"
import json, sys
error = json.load(open(sys.argv[1]))["error"]
assert isinstance(error["message"], str) and error["message"], error
assert "type" in error and "code" in error, error
PY
    ;;
  *) fail "the client got HTTP $code during the stop ($(cat "$TMP/long.err")): neither the result nor a 503" ;;
esac
[ "$exit_code" = 0 ] || fail "the container exited with $exit_code (0 expected)"
[ "$stop_s" -le "$STOP_TIMEOUT" ] || fail "docker stop took $stop_s s"

t=$(date +%s)
"$DOCKER" start "$NAME" >/dev/null
PORT="$("$DOCKER" port "$NAME" 20301/tcp | head -n 1 | sed 's/.*://')"
URL="http://127.0.0.1:$PORT"
wait_ready "$URL" 300 || fail "not ready again within 300 s"
timing "restart to ready" $(($(date +%s) - t))
deadline=$(($(date +%s) + 300))
while :; do
  status="$(curl -fsS "${AUTH[@]}" "$URL/v1/audio/jobs/$JOB" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')"
  [ "$status" = completed ] && break
  case "$status" in failed | cancelled) fail "job $JOB ended $status after the restart" ;; esac
  [ "$(date +%s)" -lt "$deadline" ] || fail "job $JOB still $status 300 s after the restart"
  sleep 2
done
curl -fsS "${AUTH[@]}" "$URL/v1/audio/jobs/$JOB/result?response_format=json" -o "$TMP/job-result.json"
check_words "$TMP/job-result.json" || fail "wrong transcript from the job"
log "job $JOB completed after the restart"
"$DOCKER" rm -f "$NAME" >/dev/null
"$DOCKER" volume rm -f "$NAME-data" >/dev/null

# --- the scaled CPU topology with compose ---------------------------------------------------------
if [ "$offline" = 1 ]; then
  log "building the Redis and PostgreSQL stand-ins"
  t=$(date +%s)
  "$DOCKER" build -q --build-arg "BASE_IMAGE=$BASE_STANDIN" -f scripts/docker/redis.Dockerfile \
    -t scribe-standin/redis scripts/docker >/dev/null
  "$DOCKER" build -q --build-arg "BASE_IMAGE=$BASE_STANDIN" -f scripts/docker/postgres.Dockerfile \
    -t scribe-standin/postgres scripts/docker >/dev/null
  timing "Redis and PostgreSQL stand-ins" $(($(date +%s) - t))
  export SCRIBE_REDIS_IMAGE=scribe-standin/redis SCRIBE_POSTGRES_IMAGE=scribe-standin/postgres
fi
export SCRIBE_PUBLISH_PORT=0 SCRIBE_IMAGE="$IMAGE"
compose=("$DOCKER" compose -p "$PROJECT" -f docker-compose.scale.yml --profile scaled)
log "compose up (profile scaled)"
t=$(date +%s)
"${compose[@]}" up -d --no-build --wait --wait-timeout 300 >/dev/null 2>"$TMP/compose.err" \
  || { cat "$TMP/compose.err" >&2; fail "compose up --wait failed"; }
timing "compose up (scaled) to healthy" $(($(date +%s) - t))
running="$("${compose[@]}" ps --services --status running | sort | tr '\n' ' ')"
log "running: $running"
[ "$running" = "api-cpu postgres redis worker-cpu " ] || fail "unexpected services: $running"
PORT="$("${compose[@]}" port api-cpu 20301 | sed 's/.*://')"
URL="http://127.0.0.1:$PORT"
KEY="$(new_key "${compose[@]}" exec -T api-cpu)"
[ -n "$KEY" ] || fail "could not create an API key on the API node"
t=$(date +%s)
deadline=$(($(date +%s) + 300))
# The worker announces itself once its engine has loaded; until then the request would wait.
until curl -fsS "$URL/health/ready" 2>/dev/null | python3 -c 'import json,sys; sys.exit(not any("whisper" in w["engines"] for w in json.load(sys.stdin).get("workers", [])))'; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "no Whisper worker announced itself within 300 s"
  sleep 2
done
timing "worker announced" $(($(date +%s) - t))
t=$(date +%s)
curl -fsS -H "Authorization: Bearer $KEY" "$URL/v1/audio/transcriptions" -F file=@"$CLIP" \
  -F response_format=json -o "$TMP/scaled.json" || fail "transcription through the API node failed"
timing "transcribe jfk.flac through API node + worker" $(($(date +%s) - t))
check_words "$TMP/scaled.json" || fail "wrong transcript through the API node"
t=$(date +%s)
"${compose[@]}" down -v --remove-orphans >/dev/null 2>&1
timing "compose down" $(($(date +%s) - t))

timing "smoke test total" $(($(date +%s) - T0))
log "all checks passed"
