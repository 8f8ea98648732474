"""The webhook signing secret's rotation over an in-memory store, with clocks the test moves:
the overlap signs with both secrets and ends on time, every process picks a rotation up within
its refresh period, and rotating is refused where it would break receivers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scribe.adapters.webhooks.secret import (
    NAME,
    REFRESH_SECONDS,
    SigningKeys,
    SigningSecret,
    rotate_signing_secret,
)
from scribe.config import Settings
from scribe.domain.errors import ConfigurationError, Conflict
from scribe.ports.service_secrets import KeptSecret

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
ENV_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class MemorySecrets:
    """The ServiceSecrets port in a dict; counts reads."""

    def __init__(self) -> None:
        self.rows: dict[str, KeptSecret] = {}
        self.reads = 0

    def get_or_create(self, name: str, make: Callable[[], str]) -> str:
        if name not in self.rows:
            self.rows[name] = KeptSecret(make(), T0)
        return self.rows[name].value

    def kept(self, name: str) -> KeptSecret | None:
        self.reads += 1
        return self.rows.get(name)

    def rotate(self, name: str, value: str, previous_until: datetime, now: datetime) -> KeptSecret:
        old = self.rows.get(name)
        if old is None:
            self.rows[name] = KeptSecret(value, now)
        else:
            self.rows[name] = KeptSecret(value, now, old.value, previous_until)
        return self.rows[name]


class Clocks:
    def __init__(self) -> None:
        self.now = T0
        self.seconds = 1000.0

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.seconds += seconds


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, webhook_secret=None)


def process(settings: Settings, store: MemorySecrets, clocks: Clocks) -> SigningSecret:
    return SigningSecret(settings, store, monotonic=lambda: clocks.seconds, now=lambda: clocks.now)


def test_the_overlap_signs_with_both_then_only_the_new_one(settings: Settings) -> None:
    store, clocks = MemorySecrets(), Clocks()
    signer = process(settings, store, clocks)
    [old] = signer()
    keys = rotate_signing_secret(settings, store, timedelta(hours=2), now=clocks.now)
    assert (keys.previous, keys.previous_until) == (old, T0 + timedelta(hours=2))
    new = keys.current
    assert new != old and new.startswith("whsec_")
    clocks.advance(REFRESH_SECONDS)
    assert signer() == [new, old]  # current first
    clocks.advance(2 * 3600 - REFRESH_SECONDS - 1)
    assert signer() == [new, old]  # one second before the end
    clocks.advance(1)
    assert signer() == [new]  # ended on time, whatever the refresh


def test_every_process_moves_to_the_new_secret_within_the_refresh_period(
    settings: Settings,
) -> None:
    store, clocks = MemorySecrets(), Clocks()
    api, worker = process(settings, store, clocks), process(settings, store, clocks)
    [old] = api()
    clocks.advance(REFRESH_SECONDS / 2)
    assert worker() == [old]  # the worker read it half a period later
    new = rotate_signing_secret(settings, store, timedelta(hours=1), now=clocks.now).current
    assert api() == worker() == [old]  # cached: the old one alone, still valid for receivers
    clocks.advance(REFRESH_SECONDS / 2)
    assert api() == [new, old] and worker() == [old]
    clocks.advance(REFRESH_SECONDS / 2)
    assert api() == worker() == [new, old]
    reads = store.reads
    for _ in range(50):
        api()
    assert store.reads == reads  # no database read per callback


def test_rotating_is_refused_during_an_overlap_unless_forced(settings: Settings) -> None:
    store = MemorySecrets()
    first = rotate_signing_secret(settings, store, timedelta(hours=1), now=T0)
    later = T0 + timedelta(minutes=59)
    with pytest.raises(Conflict, match="--force") as refused:
        rotate_signing_secret(settings, store, timedelta(hours=1), now=later)
    assert "2026-12-03 13:00:00 UTC" in refused.value.message
    assert store.rows[NAME].value == first.current  # nothing changed
    forced = rotate_signing_secret(settings, store, timedelta(hours=1), now=later, force=True)
    assert forced.previous == first.current  # the oldest stops at once
    after = T0 + timedelta(minutes=59 + 60)
    assert rotate_signing_secret(settings, store, timedelta(0), now=after).previous == (
        forced.current
    )


def test_a_zero_overlap_stops_the_old_secret_at_once(settings: Settings) -> None:
    store, clocks = MemorySecrets(), Clocks()
    signer = process(settings, store, clocks)
    signer()
    new = rotate_signing_secret(settings, store, timedelta(0), now=clocks.now).current
    clocks.advance(REFRESH_SECONDS)
    assert signer() == [new]


def test_rotating_an_env_secret_is_refused_and_it_never_expires(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, webhook_secret=ENV_SECRET)
    store, clocks = MemorySecrets(), Clocks()
    with pytest.raises(ConfigurationError, match="SCRIBE_WEBHOOK_SECRET"):
        rotate_signing_secret(settings, store, timedelta(hours=1), now=T0)
    assert store.rows == {}
    signer = process(settings, store, clocks)
    clocks.advance(10 * REFRESH_SECONDS)
    assert signer() == [ENV_SECRET] and signer.found() == (ENV_SECRET, "SCRIBE_WEBHOOK_SECRET")
    assert store.reads == 0


def test_signing_keys_valid_bounds() -> None:
    keys = SigningKeys("whsec_new", "the database")
    assert keys.valid(T0) == ["whsec_new"]
    rotated = replace(keys, previous="whsec_old", previous_until=T0)
    assert rotated.valid(T0 - timedelta(microseconds=1)) == ["whsec_new", "whsec_old"]
    assert rotated.valid(T0) == ["whsec_new"]
