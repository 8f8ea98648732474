#!/usr/bin/env bash
# Start Scribe with Docker Compose after checking that this machine can run it.
#   scripts/start.sh [cpu]        the single-machine CPU service (Whisper base + embedded diarizer,
#                                 offline): `docker compose up -d`
#   scripts/start.sh nemo         the GPU topology: API node + NeMo Parakeet/pyannote worker +
#                                 Redis + PostgreSQL (docker-compose.scale.yml, profile gpu)
#   scripts/start.sh --dry-run …  check and print what would run, start nothing
#   scripts/start.sh --help
# nemo needs: the NVIDIA driver (nvidia-smi) at version 580 or newer (the image's torch is a
# CUDA 13 build), a GPU with at least 8 GB of memory, Docker's NVIDIA runtime (the NVIDIA
# Container Toolkit), and HF_TOKEN (in the environment or .env) for pyannote's gated models.
# Every problem found is listed before it stops (exit 1); nothing is started then.
set -euo pipefail
cd "$(dirname "$0")/.."

MIN_DRIVER=580
MIN_CUDA=13.0
MIN_VRAM_MIB=7800 # an "8 GB" card reports a little under 8192 MiB
DOCKER="${DOCKER:-docker}"

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }

mode=cpu
dry_run=0
for arg in "$@"; do
  case "$arg" in
    -h | --help) usage; exit 0 ;;
    --dry-run) dry_run=1 ;;
    cpu | nemo) mode="$arg" ;;
    *) echo "start.sh: unknown argument '$arg' (cpu, nemo, --dry-run, --help)" >&2; exit 2 ;;
  esac
done

problems=()
problem() { problems+=("$1"); }
ok() { echo "  ok: $1"; }

echo "Checking this machine for Scribe ($mode):"
# --- Docker and compose ---------------------------------------------------------------------------
if ! command -v "$DOCKER" >/dev/null 2>&1; then
  problem "Docker is not installed: https://docs.docker.com/engine/install/ (Debian/Ubuntu: apt-get install docker.io)"
elif ! "$DOCKER" info >/dev/null 2>&1; then
  problem "the Docker engine does not answer ('$DOCKER info' failed): start it (systemctl start docker) or check your user may use it (group docker)"
else
  ok "Docker engine $("$DOCKER" version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"
  if ! "$DOCKER" compose version >/dev/null 2>&1; then
    problem "Docker Compose v2 is missing ('$DOCKER compose version' failed): install the docker-compose-plugin package"
  else
    ok "$("$DOCKER" compose version | head -n 1)"
  fi
fi

# --- GPU (nemo) -----------------------------------------------------------------------------------
read_env_token() { # HF_TOKEN from .env when not in the environment
  [ -f .env ] || return 0
  sed -n 's/^[[:space:]]*\(export[[:space:]]\{1,\}\)\{0,1\}HF_TOKEN[[:space:]]*=[[:space:]]*//p' .env \
    | tail -n 1 | tr -d '"'"'"' \r'
}
if [ "$mode" = nemo ]; then
  if ! command -v nvidia-smi >/dev/null 2>&1; then
    problem "no NVIDIA driver: nvidia-smi was not found. The nemo mode needs an NVIDIA GPU with driver >= $MIN_DRIVER; without one, run: scripts/start.sh cpu"
  elif ! gpu="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader,nounits 2>/dev/null)" || [ -z "$gpu" ]; then
    problem "nvidia-smi found no GPU (or failed): check the NVIDIA driver. Without a GPU, run: scripts/start.sh cpu"
  else
    IFS=',' read -r name driver vram <<<"$(head -n 1 <<<"$gpu")"
    name="$(echo "$name" | xargs)"
    driver="$(echo "$driver" | xargs)"
    vram="$(echo "$vram" | xargs)"
    major="${driver%%.*}"
    cuda="$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9.]*\).*/\1/p' | head -n 1)"
    if ! [[ "$major" =~ ^[0-9]+$ ]] || [ "$major" -lt "$MIN_DRIVER" ]; then
      problem "NVIDIA driver $driver is too old: the GPU image's torch 2.13 is a CUDA $MIN_CUDA build and needs driver >= $MIN_DRIVER${cuda:+ (this driver supports CUDA $cuda)}. Update the driver"
    else
      ok "NVIDIA driver $driver${cuda:+ (CUDA $cuda)}"
    fi
    if ! [[ "$vram" =~ ^[0-9]+$ ]] || [ "$vram" -lt "$MIN_VRAM_MIB" ]; then
      problem "GPU $name has ${vram} MiB of memory: NeMo Parakeet and pyannote need 8 GB. Use a larger GPU, or run: scripts/start.sh cpu"
    else
      ok "GPU $name, $vram MiB"
    fi
  fi
  if command -v "$DOCKER" >/dev/null 2>&1 && "$DOCKER" info >/dev/null 2>&1 \
    && ! "$DOCKER" info --format '{{json .Runtimes}}' 2>/dev/null | grep -q nvidia; then
    problem "Docker has no NVIDIA runtime: install the NVIDIA Container Toolkit (nvidia-ctk runtime configure --runtime=docker, then restart Docker)"
  fi
  token="${HF_TOKEN:-$(read_env_token)}"
  if [ -z "$token" ]; then
    problem "HF_TOKEN is not set (environment or .env): pyannote's models are gated. Accept their licence on Hugging Face (pyannote/speaker-diarization-community-1), create a read token, and put HF_TOKEN=hf_... in .env"
  else
    ok "HF_TOKEN set"
  fi
fi

if [ "${#problems[@]}" -gt 0 ]; then
  echo "Cannot start Scribe ($mode):" >&2
  for p in "${problems[@]}"; do echo "  - $p" >&2; done
  exit 1
fi

# --- start ----------------------------------------------------------------------------------------
if [ "$mode" = cpu ]; then
  cmd=("$DOCKER" compose up -d)
  what="the CPU service (Whisper base + embedded diarizer, offline) on port ${SCRIBE_PUBLISH_PORT:-20301}; data in the volume scribe-data"
  key_cmd="$DOCKER compose exec scribe scribe keys create --name me"
else
  cmd=("$DOCKER" compose -f docker-compose.scale.yml --profile gpu up -d)
  what="Redis, PostgreSQL, an API node on port ${SCRIBE_PUBLISH_PORT:-20301} and a NeMo Parakeet + pyannote worker on the GPU (the first start downloads the models into the volume huggingface-cache)"
  key_cmd="$DOCKER compose -f docker-compose.scale.yml --profile gpu exec api-gpu scribe keys create --name me"
fi
echo "Will start $what:"
echo "  ${cmd[*]}"
if [ "$dry_run" = 1 ]; then
  echo "(dry run: nothing started)"
  exit 0
fi
"${cmd[@]}"
echo "Started. Readiness: curl http://localhost:${SCRIBE_PUBLISH_PORT:-20301}/health/ready"
echo "An API key: $key_cmd"
