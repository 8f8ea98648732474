#!/usr/bin/env bash
# Build a local stand-in for the official `python:3.11-slim` image from Debian's mirror, for
# machines that reach Debian and PyPI but no container registry.
#   sudo scripts/docker_offline_base.sh                 # -> image scribe-base:py311-bookworm
#   SCRIBE_BASE_IMAGE=my/base:tag scripts/docker_offline_base.sh
# Then build with it (scripts/docker_smoke.sh does this):
#   docker build --build-arg BASE_IMAGE=scribe-base:py311-bookworm \
#     --build-arg TORCH_INDEX_URL=https://pypi.org/simple --build-arg PIP_FIND_LINKS=/wheels ...
# What the image holds: Debian bookworm (minbase) with its Python 3.11, a virtual environment at
# /opt/venv first on PATH (so `python` and `pip` behave as in the official image), and this
# machine's CA bundle (pip is pointed at it, for networks that inspect TLS).
set -euo pipefail

TAG="${SCRIBE_BASE_IMAGE:-scribe-base:py311-bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DOCKER="${DOCKER:-/usr/bin/docker}"
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  sed -n '2,11p' "$0"; exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "docker_offline_base.sh: debootstrap needs root" >&2; exit 1
fi
if [ "${FORCE:-}" != 1 ] && "$DOCKER" image inspect "$TAG" >/dev/null 2>&1; then
  echo "base image $TAG already present (FORCE=1 rebuilds it)"; exit 0
fi
command -v debootstrap >/dev/null || {
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap
}

root="$(mktemp -d /tmp/scribe-base.XXXXXX)"
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
  bookworm "$root" "$MIRROR"
[ -f "$CA_BUNDLE" ] && cp "$CA_BUNDLE" "$root/etc/ssl/certs/host-ca-bundle.crt"
chroot "$root" /bin/sh -eu <<'CHROOT'
python3 -m venv /opt/venv
ln -sf /opt/venv/bin/python /usr/local/bin/python
ln -sf /opt/venv/bin/pip /usr/local/bin/pip
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /usr/share/doc/* /usr/share/man/* /usr/share/locale/*
CHROOT
cert=/etc/ssl/certs/ca-certificates.crt
[ -f "$root/etc/ssl/certs/host-ca-bundle.crt" ] && cert=/etc/ssl/certs/host-ca-bundle.crt

tar -C "$root" -c . | "$DOCKER" import \
  --change 'ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV PIP_CERT=$cert" \
  --change "ENV SSL_CERT_FILE=$cert" \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  - "$TAG"
"$DOCKER" run --rm "$TAG" sh -c 'python --version && pip --version'
echo "built $TAG"
