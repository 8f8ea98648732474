"""ApiKeys: the key format, when keys are required, and how a bearer key is checked."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from scribe.domain.caller import ANONYMOUS_KEY_ID, Scope
from scribe.domain.errors import InvalidRequest, NotFound, Unauthenticated
from scribe.domain.limits import KeyLimits, RatePolicy
from scribe.use_cases.keys import KEY_PREFIX, ApiKeys, AuthMode, hash_key
from tests.fakes import FakeKeyStore

DEFAULTS = RatePolicy(requests_per_minute=60, audio_seconds_per_hour=3600, concurrent_requests=2)


def keys(store: FakeKeyStore | None = None, **kw: object) -> ApiKeys:
    return ApiKeys(store or FakeKeyStore(), defaults=DEFAULTS, **kw)  # type: ignore[arg-type]


def test_a_key_has_a_recognisable_prefix_and_256_random_bits() -> None:
    store = FakeKeyStore()
    issued = keys(store).create("laptop")
    secret = issued.secret
    assert secret.startswith(KEY_PREFIX)
    assert len(base64.urlsafe_b64decode(secret[len(KEY_PREFIX) :] + "=")) == 32
    assert issued.record.prefix == secret[: len(KEY_PREFIX) + 8]
    assert issued.record.secret_hash == hash_key(secret) != secret
    assert secret not in repr(store.keys)
    assert keys(store).create("other").secret != secret


def test_names_are_checked() -> None:
    for bad in ("", "  ", "x" * 101, "tab\there"):
        with pytest.raises(InvalidRequest):
            keys().create(bad)


@pytest.mark.parametrize(
    ("mode", "loopback", "with_key", "required"),
    [
        (AuthMode.AUTO, True, False, False),
        (AuthMode.AUTO, True, True, True),
        (AuthMode.AUTO, False, False, True),
        (AuthMode.REQUIRED, True, False, True),
        (AuthMode.DISABLED, False, True, False),
    ],
)
def test_when_keys_are_required(
    mode: AuthMode, loopback: bool, with_key: bool, required: bool
) -> None:
    store = FakeKeyStore()
    if with_key:
        keys(store).create("existing")
    api = keys(store, mode=mode, loopback_only=loopback)
    assert api.required() is required
    if not required:
        caller = api.authenticate("Bearer anything-at-all")
        assert caller.key_id == ANONYMOUS_KEY_ID and caller.limits == DEFAULTS


def test_a_revoked_key_keeps_authentication_on() -> None:
    store = FakeKeyStore()
    api = keys(store)
    api.revoke(api.create("only").record.key_id)
    assert keys(store).required()


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-scribe-key",
        "Bearer " + KEY_PREFIX + "A" * 43,  # right shape, unknown
        "Bearer " + "x" * 1_000_000,
    ],
)
def test_bad_headers_are_unauthenticated(header: str | None) -> None:
    api = keys()
    api.create("someone")
    with pytest.raises(Unauthenticated) as error:
        api.authenticate(header)
    assert error.value.code == "invalid_api_key"
    presented = (header or "")[7:]
    assert len(presented) < 4 or presented not in error.value.message  # never echoed


def test_a_valid_key_gives_its_caller_with_its_limits() -> None:
    api = keys()
    issued = api.create("ops", Scope.ADMIN, KeyLimits(concurrent_requests=0))
    caller = api.authenticate(f"bearer   {issued.secret}  ")
    assert caller.name == "ops" and caller.is_admin
    assert caller.limits == RatePolicy(60, 3600, 0)


def test_the_caller_of_a_job_is_found_by_its_key_id() -> None:
    api = keys()
    issued = api.create("batch", Scope.TRANSCRIBE, KeyLimits(audio_seconds_per_hour=600))
    caller = api.caller_of(issued.record.key_id)
    assert caller == api.authenticate(f"Bearer {issued.secret}")
    assert caller.limits == RatePolicy(60, 600, 2)
    gone = api.caller_of("key_deleted")  # a key deleted since: the defaults
    assert gone.key_id == "key_deleted" and gone.limits == DEFAULTS and not gone.is_admin
    assert api.caller_of(None).key_id == api.caller_of(ANONYMOUS_KEY_ID).key_id == ANONYMOUS_KEY_ID


def test_a_key_sharing_a_prefix_is_told_apart_by_its_hash() -> None:
    store = FakeKeyStore()
    api = keys(store)
    issued = api.create("real")
    forged = issued.secret[:-4] + ("AAAA" if not issued.secret.endswith("AAAA") else "BBBB")
    with pytest.raises(Unauthenticated):
        api.authenticate(f"Bearer {forged}")
    assert store.lookups == 1


def test_last_use_is_recorded_at_most_once_a_minute() -> None:
    now = [datetime(2025, 1, 1, tzinfo=UTC)]
    store = FakeKeyStore()
    api = keys(store, clock=lambda: now[0])
    issued = api.create("laptop")
    for _ in range(3):
        api.authenticate(f"Bearer {issued.secret}")
    now[0] += timedelta(seconds=61)
    api.authenticate(f"Bearer {issued.secret}")
    assert store.touched == [issued.record.key_id] * 2


def test_find_and_revoke_by_id_or_prefix() -> None:
    api = keys()
    issued = api.create("laptop")
    assert api.find(issued.record.prefix) == issued.record
    assert api.find(issued.secret) == issued.record  # the whole key works too
    with pytest.raises(NotFound):
        api.find("key_nope")
    api.revoke(issued.record.prefix)
    with pytest.raises(InvalidRequest, match="already revoked"):
        api.revoke(issued.record.key_id)
