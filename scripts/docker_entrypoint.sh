#!/bin/sh
# Entrypoint of the GPU image: refuse to start, with a clear message, on a driver too old for the
# image's CUDA build (PyPI's torch 2.13.0 is CUDA 13: NVIDIA driver >= 580), then run the command.
#   SCRIBE_MIN_NVIDIA_DRIVER   the oldest driver's major version (set by the image)
#   SCRIBE_SKIP_DRIVER_CHECK=1 skip the check
set -eu
min="${SCRIBE_MIN_NVIDIA_DRIVER:-580}"
if [ "${SCRIBE_SKIP_DRIVER_CHECK:-}" != 1 ]; then
  if command -v nvidia-smi >/dev/null 2>&1; then
    driver="$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' ')"
    major="${driver%%.*}"
    case "$major" in
      ''|*[!0-9]*)
        echo "scribe: nvidia-smi did not report a driver version; is the GPU visible (docker run --gpus all)?" >&2
        ;;
      *)
        if [ "$major" -lt "$min" ]; then
          echo "scribe: this image's torch is a CUDA 13 build and needs NVIDIA driver >= $min;" \
               "the host has $driver. Update the driver (or build an image for an older CUDA)." >&2
          exit 3
        fi
        ;;
    esac
  elif [ "${SCRIBE_DEVICE:-auto}" = cuda ]; then
    echo "scribe: no nvidia-smi in the container: the GPU is not visible. Start it with" \
         "--gpus all (or compose's GPU reservation) and the NVIDIA Container Toolkit installed." >&2
  fi
fi
exec "$@"
