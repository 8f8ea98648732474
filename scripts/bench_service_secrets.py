#!/usr/bin/env python
"""The signing secret kept in the database: what get-or-create costs, and whether processes
racing to make it agree, on SQLite (a file) and on PostgreSQL (a temporary server).

    PYTHONPATH=backend:. flock /tmp/scribe-bench.lock python scripts/bench_service_secrets.py

1. Cost: the first call (select, insert, select) and then 200 calls that find it (one select).
2. Races: ``ROUNDS`` rounds in which ``RACERS`` engines (each its own connections, as processes
   have) all find no secret under a fresh name, make one and insert it at once (a barrier);
   a round disagrees if they did not all get the same value.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time

from sqlalchemy import create_engine, text

from scribe.adapters.db import Database
from scribe.adapters.db.service_secrets import SqlServiceSecrets
from scribe.adapters.webhooks.secret import NAME, new_secret
from tests.services import postgres_server

ROUNDS, RACERS = 20, 8


def bench(url: str, label: str) -> None:
    database = Database(url)
    database.upgrade()
    store = SqlServiceSecrets(database)
    start = time.perf_counter()
    store.get_or_create(NAME, new_secret)
    first = time.perf_counter() - start
    found = []
    for _ in range(200):
        start = time.perf_counter()
        store.get_or_create(NAME, new_secret)
        found.append(time.perf_counter() - start)
    print(
        f"{label}: first (made and kept) {first * 1000:.2f} ms; "
        f"found, median of 200 {statistics.median(found) * 1000:.2f} ms"
    )
    racers = [Database(url) for _ in range(RACERS)]
    disagreed = 0
    for round_ in range(ROUNDS):
        barrier = threading.Barrier(RACERS, timeout=30)
        got: list[str] = []

        def make(barrier: threading.Barrier = barrier) -> str:
            secret = new_secret()
            barrier.wait()
            return secret

        def race(db: Database, name: str = f"race{round_}", got: list[str] = got) -> None:
            got.append(SqlServiceSecrets(db).get_or_create(name, make))

        threads = [threading.Thread(target=race, args=(db,)) for db in racers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        disagreed += len(got) != RACERS or len(set(got)) != 1
    print(f"{label}: {ROUNDS} races of {RACERS} engines: {disagreed} disagreed")
    for db in racers:
        db.dispose()
    database.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        bench(f"sqlite:///{folder}/scribe.db", "SQLite")
    with postgres_server() as server:
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE secrets_bench"))
        admin.dispose()
        bench(server.rsplit("/", 1)[0] + "/secrets_bench", "PostgreSQL")


if __name__ == "__main__":
    main()
