"""API keys: issue, list and revoke them; authenticate a request's bearer key.

A key is ``sk-scribe-`` followed by 43 URL-safe characters (256 random bits). Only its SHA-256
is stored, with its first characters as a ``prefix`` that identifies it in lists and logs. A
presented key is found by that prefix and compared to the stored hashes in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from scribe.domain.caller import ANONYMOUS_KEY_ID, Caller, Scope, anonymous_caller
from scribe.domain.errors import InvalidRequest, NotFound, Unauthenticated
from scribe.domain.keys import ApiKey, IssuedKey
from scribe.domain.limits import KeyLimits, RatePolicy
from scribe.ports.key_store import KeyStore

log = logging.getLogger(__name__)

KEY_PREFIX = "sk-scribe-"
_SHOWN_CHARS = 8  # random characters kept in the stored, displayed prefix
_SECRET_BYTES = 32  # 256 bits
_KEY_LENGTH = len(KEY_PREFIX) + 43  # base64url of 32 bytes, unpadded
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()
MAX_NAME_LENGTH = 100


class AuthMode(StrEnum):
    """``auto``: keys are required once one exists, or when the server listens beyond loopback;
    ``required``: always; ``disabled``: never (logged as a warning)."""

    AUTO = "auto"
    REQUIRED = "required"
    DISABLED = "disabled"


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def key_prefix(secret: str) -> str:
    return secret[: len(KEY_PREFIX) + _SHOWN_CHARS]


def utcnow() -> datetime:
    return datetime.now(UTC)


class ApiKeys:
    """The key use cases (the CLI manages keys; the API authenticates with them)."""

    def __init__(
        self,
        store: KeyStore,
        *,
        defaults: RatePolicy,
        mode: AuthMode = AuthMode.AUTO,
        loopback_only: bool = True,
        clock: Callable[[], datetime] = utcnow,
        touch_interval: timedelta = timedelta(seconds=60),
    ) -> None:
        self._store = store
        self._defaults = defaults
        self._mode = mode
        self._loopback_only = loopback_only
        self._clock = clock
        self._touch_interval = touch_interval
        self._keys_exist = False  # once true, stays true: keys are never deleted
        self._touched: dict[str, datetime] = {}
        self._lock = threading.Lock()

    @property
    def mode(self) -> AuthMode:
        return self._mode

    @property
    def defaults(self) -> RatePolicy:
        return self._defaults

    # --- management (CLI) ---------------------------------------------------------------

    def create(
        self, name: str, scope: Scope = Scope.TRANSCRIBE, limits: KeyLimits | None = None
    ) -> IssuedKey:
        """A new key; the secret in the result is shown once and never stored."""
        name = name.strip()
        if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
            raise InvalidRequest(
                f"A key's name must be 1 to {MAX_NAME_LENGTH} printable characters.", param="name"
            )
        secret = KEY_PREFIX + secrets.token_urlsafe(_SECRET_BYTES)
        record = ApiKey(
            key_id="key_" + secrets.token_hex(8),
            name=name,
            prefix=key_prefix(secret),
            secret_hash=hash_key(secret),
            scope=Scope(scope),
            created_at=self._clock(),
            limits=limits or KeyLimits(),
        )
        self._store.add(record)
        self._keys_exist = True
        log.info("created API key %s (%s, %s)", record.prefix, record.name, record.scope.value)
        return IssuedKey(record=record, secret=secret)

    def list(self) -> list[ApiKey]:
        return self._store.all()

    def find(self, ref: str) -> ApiKey:
        """A key by its id (``key_...``) or its prefix (``sk-scribe-XXXXXXXX``)."""
        ref = ref.strip()
        key = self._store.get(ref)
        if key is not None:
            return key
        matches = self._store.with_prefix(key_prefix(ref)) if ref.startswith(KEY_PREFIX) else []
        if len(matches) == 1:
            return matches[0]
        raise NotFound(f"No API key has the id or prefix '{ref[:40]}'.", param="key")

    def revoke(self, ref: str) -> ApiKey:
        key = self.find(ref)
        if not self._store.revoke(key.key_id, self._clock()):
            raise InvalidRequest(f"The key {key.prefix} ({key.name}) is already revoked.")
        log.info("revoked API key %s (%s)", key.prefix, key.name)
        revoked = self._store.get(key.key_id)
        assert revoked is not None
        return revoked

    # --- authentication (API) -----------------------------------------------------------

    def required(self) -> bool:
        """Whether requests must carry a key now."""
        if self._mode is AuthMode.REQUIRED:
            return True
        if self._mode is AuthMode.DISABLED:
            return False
        if not self._loopback_only or self._keys_exist:
            return True
        self._keys_exist = self._store.any()
        return self._keys_exist

    def anonymous(self) -> Caller:
        return anonymous_caller(self._defaults)

    def caller_of(self, key_id: str | None) -> Caller:
        """The caller a job was submitted by, as its request saw it (its key's limits over the
        defaults), for work done without that request: a job run on a worker, or after a
        restart. A key since deleted gets the defaults; the anonymous caller, itself."""
        if key_id is None or key_id == ANONYMOUS_KEY_ID:
            return self.anonymous()
        key = self._store.get(key_id)
        if key is None:
            return Caller(key_id, key_id, Scope.TRANSCRIBE, self._defaults)
        return Caller(key.key_id, key.name, key.scope, key.limits.over(self._defaults))

    def authenticate(self, authorization: str | None) -> Caller:
        """The caller an ``Authorization`` header names; the anonymous caller when keys are not
        required (any header is then ignored). Raises Unauthenticated."""
        if not self.required():
            return self.anonymous()
        secret = _bearer(authorization)
        presented = hash_key(secret)
        candidates = self._store.with_prefix(key_prefix(secret))
        found: ApiKey | None = None
        # Compare against every candidate (and a dummy when there is none), so the time taken
        # does not depend on how much of a stored hash the presented key matches.
        for key in candidates:
            if hmac.compare_digest(presented, key.secret_hash):
                found = key
        if not candidates:
            hmac.compare_digest(presented, _DUMMY_HASH)
        if found is None:
            raise Unauthenticated(_INVALID)
        if not found.active:
            raise Unauthenticated(f"The API key {found.prefix}… has been revoked.")
        self._touch(found.key_id)
        return Caller(
            key_id=found.key_id,
            name=found.name,
            scope=found.scope,
            limits=found.limits.over(self._defaults),
        )

    def _touch(self, key_id: str) -> None:
        now = self._clock()
        with self._lock:
            last = self._touched.get(key_id)
            if last is not None and now - last < self._touch_interval:
                return
            self._touched[key_id] = now
        try:
            self._store.touch(key_id, now)
        except Exception:  # last-used is informative; never fail a request over it
            log.warning("could not record the last use of key %s", key_id)


_INVALID = (
    "Incorrect API key provided. Send a key from `scribe keys create` as "
    "'Authorization: Bearer KEY'."
)


def _bearer(authorization: str | None) -> str:
    if not authorization or not authorization.strip():
        raise Unauthenticated(
            "This server requires an API key: send it as 'Authorization: Bearer KEY' "
            "(an operator creates keys with `scribe keys create`)."
        )
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated(
            "The Authorization header must be 'Bearer KEY'.",
        )
    if len(token) != _KEY_LENGTH or not token.startswith(KEY_PREFIX):
        raise Unauthenticated(_INVALID)
    return token
