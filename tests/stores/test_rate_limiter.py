"""The limits adapter, in memory and on a real Redis (several processes share the counters)."""

from __future__ import annotations

import secrets

import pytest

from scribe.adapters.limits.limits_rate_limiter import LimitsRateLimiter
from scribe.domain.errors import ConfigurationError


@pytest.fixture(params=["memory", "redis"])
def limiter_pair(request: pytest.FixtureRequest) -> tuple[LimitsRateLimiter, LimitsRateLimiter]:
    """Two limiters that stand for two API processes (sharing storage only with Redis)."""
    if request.param == "memory":
        one = LimitsRateLimiter()
        return one, one
    url: str = request.getfixturevalue("redis_url")
    return LimitsRateLimiter(url), LimitsRateLimiter(url)


def key() -> str:
    return "key_" + secrets.token_hex(4)


def test_requests_per_minute(limiter_pair: tuple[LimitsRateLimiter, LimitsRateLimiter]) -> None:
    a, b = limiter_pair
    k = key()
    states = [a.hit_request(k, 3), b.hit_request(k, 3), a.hit_request(k, 3)]
    assert [s.remaining for s in states] == [2, 1, 0] and all(s.allowed for s in states)
    refused = b.hit_request(k, 3)
    assert not refused.allowed and refused.remaining == 0
    assert 0 < refused.reset_after <= 60
    assert a.hit_request(key(), 3).allowed  # other keys are not affected


def test_audio_budget_is_charged_after_the_fact(
    limiter_pair: tuple[LimitsRateLimiter, LimitsRateLimiter],
) -> None:
    a, b = limiter_pair
    k = key()
    assert a.audio_budget(k, 100).remaining == 100
    assert a.charge_audio(k, 100, 60.2).remaining == 39  # whole seconds, rounded up
    over = b.charge_audio(k, 100, 50)  # decoded already: charged even past the limit
    assert over.remaining == 0 and not over.allowed
    budget = a.audio_budget(k, 100)
    assert budget.remaining == 0 and 0 < budget.reset_after <= 3600


def test_concurrency_slots(limiter_pair: tuple[LimitsRateLimiter, LimitsRateLimiter]) -> None:
    a, b = limiter_pair
    k = key()
    assert a.acquire_slot(k, 2) and b.acquire_slot(k, 2)
    assert not a.acquire_slot(k, 2)
    b.release_slot(k)
    assert a.acquire_slot(k, 2)
    a.release_slot(k)
    a.release_slot(k)
    a.release_slot(k)  # one release too many never leaves a negative count behind
    assert a.acquire_slot(k, 1) and not b.acquire_slot(k, 1)


def test_a_bad_redis_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        LimitsRateLimiter("nosuchscheme://x")


def test_redis_going_away_is_storage_unavailable() -> None:
    from scribe.domain.errors import StorageUnavailable
    from tests.services import free_port

    limiter = LimitsRateLimiter(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(StorageUnavailable):
        limiter.hit_request("key_x", 5)
