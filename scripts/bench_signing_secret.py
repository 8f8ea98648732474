#!/usr/bin/env python
"""What signing costs per callback attempt since the secret can be rotated (SQLite, local).

    PYTHONPATH=backend python scripts/bench_signing_secret.py

The sender asks ``SigningSecret`` for the secrets valid now at every attempt, in a worker thread
(it may read the database); the database is read at most every ``REFRESH_SECONDS``. Printed, in
microseconds per call: the cached answer, an answer read from SQLite each time (the cost once per
refresh), the thread hop, and signing a 2 KB body with one secret and with two (an overlap).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from standardwebhooks import Webhook

from scribe.adapters.db import Database
from scribe.adapters.db.service_secrets import SqlServiceSecrets
from scribe.adapters.webhooks.secret import SigningSecret, new_secret
from scribe.config import Settings

N = 2000


def per_call(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    for _ in range(N):
        call()
    return (time.perf_counter() - started) / N * 1e6


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder}/scribe.db"
    database = Database(url)
    database.upgrade()
    settings = Settings(data_dir=folder, webhook_secret=None, database_url=url)
    store = SqlServiceSecrets(database)
    cached = SigningSecret(settings, store)
    cached()
    reread = SigningSecret(settings, store, refresh_seconds=0)
    reread()

    async def hops() -> float:
        started = time.perf_counter()
        for _ in range(N):
            await asyncio.to_thread(cached)
        return (time.perf_counter() - started) / N * 1e6

    body = '{"type":"audio.job.completed","data":{"text":"' + "x" * 2000 + '"}}'
    one, two = Webhook(new_secret()), Webhook(new_secret())
    now = datetime.now(UTC)
    print(f"SigningSecret(), cached:              {per_call(cached):7.1f} us")
    print(f"SigningSecret(), read from SQLite:    {per_call(reread):7.1f} us")
    print(f"asyncio.to_thread(SigningSecret()):   {asyncio.run(hops()):7.1f} us")
    print(
        f"sign 2 KB, one secret:                {per_call(lambda: one.sign('m', now, body)):7.1f} us"
    )
    both = (one, two)
    print(
        "sign 2 KB, two secrets:               "
        f"{per_call(lambda: ' '.join(w.sign('m', now, body) for w in both)):7.1f} us"
    )
    database.dispose()


if __name__ == "__main__":
    main()
