"""The key store and the usage meter on SQLite and on PostgreSQL, through the use cases."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from scribe.adapters.db import Database
from scribe.adapters.db.key_store import SqlKeyStore
from scribe.adapters.db.usage_meter import SqlUsageMeter
from scribe.domain.caller import Scope
from scribe.domain.errors import Unauthenticated
from scribe.domain.limits import KeyLimits, RatePolicy
from scribe.domain.usage import UsageEntry
from scribe.use_cases.keys import ApiKeys, hash_key

DEFAULTS = RatePolicy(requests_per_minute=60, audio_seconds_per_hour=3600, concurrent_requests=2)


def test_keys_round_trip_and_only_a_hash_is_stored(database: Database) -> None:
    store = SqlKeyStore(database)
    keys = ApiKeys(store, defaults=DEFAULTS)
    assert not store.any() and not keys.required()
    issued = keys.create("laptop", Scope.ADMIN, KeyLimits(requests_per_minute=5))
    assert store.any() and keys.required()

    stored = store.get(issued.record.key_id)
    assert stored == issued.record
    assert stored.secret_hash == hash_key(issued.secret)
    assert stored.created_at.tzinfo is not None
    assert stored.limits == KeyLimits(requests_per_minute=5)
    with database.engine.connect() as connection:
        dump = "\n".join(str(row) for row in connection.exec_driver_sql("SELECT * FROM api_keys"))
    assert issued.secret not in dump and issued.secret[len(issued.record.prefix) :] not in dump

    caller = keys.authenticate(f"Bearer {issued.secret}")
    assert (caller.key_id, caller.scope) == (issued.record.key_id, Scope.ADMIN)
    assert caller.limits.requests_per_minute == 5 and caller.limits.concurrent_requests == 2
    used = store.get(issued.record.key_id)
    assert used is not None and used.last_used_at is not None


def test_list_find_and_revoke(database: Database) -> None:
    store = SqlKeyStore(database)
    keys = ApiKeys(store, defaults=DEFAULTS)
    first = keys.create("one")
    second = keys.create("two")
    assert [k.name for k in keys.list()] == ["one", "two"]
    assert keys.find(second.record.prefix).key_id == second.record.key_id
    assert store.with_prefix(first.record.prefix) == [first.record]

    revoked = keys.revoke(first.record.key_id)
    assert revoked.revoked_at is not None and not revoked.active
    assert not store.revoke(first.record.key_id, datetime.now(UTC))  # already revoked
    with pytest.raises(Unauthenticated, match="revoked"):
        keys.authenticate(f"Bearer {first.secret}")
    assert keys.authenticate(f"Bearer {second.secret}").name == "two"


def test_usage_adds_up_per_key_and_day(database: Database) -> None:
    store = SqlKeyStore(database)
    meter = SqlUsageMeter(database)
    key = ApiKeys(store, defaults=DEFAULTS).create("laptop").record
    today = date(2025, 3, 2)
    meter.record(UsageEntry(key.key_id, today, audio_seconds=10.5, processing_seconds=2.0))
    meter.record(
        UsageEntry(key.key_id, today, audio_seconds=4.5, processing_seconds=1.0, failures=1)
    )
    meter.record(UsageEntry(key.key_id, today - timedelta(days=1), processing_seconds=0.5))
    meter.record(UsageEntry("anonymous", today, processing_seconds=0.25))

    days = meter.days()
    assert [(d.day, d.key_name) for d in days] == [
        (today - timedelta(days=1), "laptop"),
        (today, "anonymous"),
        (today, "laptop"),
    ]
    mine = meter.days(since=today, key_id=key.key_id)
    assert len(mine) == 1
    assert (mine[0].requests, mine[0].audio_seconds, mine[0].failures) == (2, 15.0, 1)
    assert mine[0].processing_seconds == pytest.approx(3.0)


def test_concurrent_usage_records_all_count(database: Database) -> None:
    meter = SqlUsageMeter(database)
    day = date(2025, 3, 2)

    def work() -> None:
        for _ in range(20):
            meter.record(UsageEntry("key_x", day, audio_seconds=1.0))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (total,) = meter.days(key_id="key_x")
    assert (total.requests, total.audio_seconds) == (80, 80.0)
