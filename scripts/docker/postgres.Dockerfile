# A stand-in for the official `postgres:16` image, from Debian's package (PostgreSQL 15 in
# bookworm), for machines that reach no container registry (scripts/docker_smoke.sh builds it).
# It honours what compose uses of the official image: POSTGRES_USER, POSTGRES_PASSWORD,
# POSTGRES_DB, the data in /var/lib/postgresql/data, and `pg_isready` for the health check.
ARG BASE_IMAGE=scribe-base:py311-bookworm
FROM ${BASE_IMAGE}
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
USER postgres
EXPOSE 5432
STOPSIGNAL SIGINT
CMD ["postgres-entrypoint"]
