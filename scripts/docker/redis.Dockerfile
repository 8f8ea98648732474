# A stand-in for the official `redis:7` image, from Debian's package, for machines that reach no
# container registry (scripts/docker_smoke.sh builds it on the Debian stand-in base). It runs the
# command compose gives it (`redis-server ...`) with its data in /data, as the official image does,
# and like it accepts connections from other containers without a password (the official build
# turns protected mode off; here a wrapper first on PATH adds `--protected-mode no`).
ARG BASE_IMAGE=scribe-base:py311-bookworm
FROM ${BASE_IMAGE}
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data && chown redis:redis /data \
 && printf '#!/bin/sh\nexec /usr/bin/redis-server "$@" --protected-mode no\n' > /usr/local/bin/redis-server \
 && chmod 0755 /usr/local/bin/redis-server
WORKDIR /data
USER redis
EXPOSE 6379
CMD ["redis-server"]
