"""The webhook signing secret: a setting, or one generated once and kept in the service's
database, which every process (API nodes and workers) shares, so that all of them sign alike.

It can be rotated (``scribe webhooks rotate-secret``): the one before stays valid for an overlap,
during which callbacks carry both signatures; every process reads the kept secret again at least
every ``REFRESH_SECONDS``, so all of them move to the new one without a restart.

Standard Webhooks secrets are written ``whsec_`` followed by the base64 of 24 to 64 random bytes.
Before the database kept it, the generated secret was a file in the data directory: when the
database has none yet, that file's secret is the one kept (an upgrade keeps its secret).
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from scribe.domain.errors import ConfigurationError, Conflict

if TYPE_CHECKING:
    from scribe.config import Settings
    from scribe.ports.service_secrets import ServiceSecrets

log = logging.getLogger(__name__)

PREFIX = "whsec_"
FILE_NAME = "webhook_secret"  # the data directory's file of before (read, never written)
NAME = "webhook_signing"  # its name in the database
FROM_SETTING = "SCRIBE_WEBHOOK_SECRET"
FROM_DATABASE = "the database"
_MIN_BYTES, _MAX_BYTES = 24, 64
# How stale a process's copy of the kept secret may be: a rotation reaches every process within it.
REFRESH_SECONDS = 30.0


@dataclass(frozen=True)
class SigningKeys:
    """The secret that signs callbacks, where it comes from (for people), and after a rotation
    the one before it with the moment it stops being valid."""

    current: str
    source: str
    previous: str | None = None
    previous_until: datetime | None = None

    def valid(self, now: datetime) -> list[str]:
        """The secrets to sign with at ``now``: the current one, then the previous one during
        the overlap."""
        until = self.previous_until
        if self.previous is not None and until is not None and now < until:
            return [self.current, self.previous]
        return [self.current]


def new_secret() -> str:
    """A fresh random secret in ``whsec_`` form (32 bytes)."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def validate_secret(value: str) -> str:
    """The secret, stripped, if it is ``whsec_`` + base64 of 24 to 64 bytes; else ``ValueError``."""
    value = value.strip()
    if not value.startswith(PREFIX):
        raise ValueError(f"must start with {PREFIX!r} (whsec_ followed by base64)")
    try:
        key = base64.b64decode(value[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the part after whsec_ is not valid base64") from None
    if not _MIN_BYTES <= len(key) <= _MAX_BYTES:
        raise ValueError(f"must hold {_MIN_BYTES} to {_MAX_BYTES} bytes, not {len(key)}")
    return value


def secret_path(data_dir: Path) -> Path:
    """Where the generated secret was kept before the database kept it."""
    return data_dir / FILE_NAME


def read_secret_file(data_dir: Path) -> str | None:
    """The data directory's secret of before, or None without one; a file that cannot be read
    or holds no valid secret is a ``ConfigurationError``."""
    path = secret_path(data_dir)
    if not path.exists():
        return None
    return _read(path)


def signing_secret(settings: Settings, store: ServiceSecrets | None) -> tuple[str, str]:
    """The secret that signs callbacks, and where it comes from (for people, not for code):
    SCRIBE_WEBHOOK_SECRET, else the one kept in the database (made on first use: the data
    directory's file of before if there is one, else a new one)."""
    if settings.webhook_secret is not None:
        return settings.webhook_secret.get_secret_value(), FROM_SETTING
    if store is None:
        raise ConfigurationError(
            "Job callbacks need a signing secret: set SCRIBE_WEBHOOK_SECRET (this process has no "
            "database to keep a generated one in)."
        )
    data_dir = Path(settings.data_dir).expanduser()
    path = secret_path(data_dir)
    made: list[str] = []

    def make() -> str:
        kept = read_secret_file(data_dir)
        made.append(kept or new_secret())
        return made[-1]

    secret = store.get_or_create(NAME, make)
    if made and secret == made[0]:
        if path.exists():
            log.info("webhook signing secret: the one in %s, now kept in the database", path)
        else:
            log.info("generated a webhook signing secret, kept in the database")
    elif path.exists() and _read_quietly(path) != secret:
        # A node's own secret from before (the scaled shape without SCRIBE_WEBHOOK_SECRET):
        # another's was kept, and receivers that verified with this one must change.
        log.warning(
            "%s holds a webhook secret other than the database's, which now signs every "
            "callback (`scribe webhooks secret` prints it); the file is no longer used: delete it",
            path,
        )
    return secret, FROM_DATABASE


def signing_keys(
    settings: Settings, store: ServiceSecrets | None, *, first: bool = True
) -> SigningKeys:
    """``signing_secret`` with the previous secret of a rotation. ``first``: the process's first
    look, which makes the secret if needed and says where it comes from; later looks only read."""
    if settings.webhook_secret is not None:
        return SigningKeys(settings.webhook_secret.get_secret_value(), FROM_SETTING)
    kept = None if first or store is None else store.kept(NAME)
    if kept is None:
        secret, source = signing_secret(settings, store)
        assert store is not None
        kept = store.kept(NAME)
        if kept is None:  # deleted meanwhile by hand
            return SigningKeys(secret, source)
    return SigningKeys(kept.value, FROM_DATABASE, kept.previous, kept.previous_until)


def rotate_signing_secret(
    settings: Settings,
    store: ServiceSecrets | None,
    overlap: timedelta,
    *,
    now: datetime | None = None,
    force: bool = False,
) -> SigningKeys:
    """Keep a new signing secret in the database; the one it replaces stays valid (callbacks
    carry both signatures) for ``overlap``. Refused when SCRIBE_WEBHOOK_SECRET is set (the
    operator rotates by changing it), and during another rotation's overlap unless ``force``
    (its previous secret would stop being valid at once)."""
    if settings.webhook_secret is not None:
        raise ConfigurationError(
            "The signing secret comes from SCRIBE_WEBHOOK_SECRET: rotate it by changing that "
            "setting on every process (and on the receivers at the same time). rotate-secret "
            "rotates the secret kept in the database, used when SCRIBE_WEBHOOK_SECRET is unset."
        )
    if store is None:
        raise ConfigurationError("Rotating the signing secret needs the service's database.")
    now = now or datetime.now(UTC)
    keys = signing_keys(settings, store)  # made first if there is none yet
    if not force and keys.previous_until is not None and now < keys.previous_until:
        raise Conflict(
            "The previous signing secret stays valid until "
            f"{keys.previous_until.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC; rotating again now "
            "would stop it at once (receivers still using it would refuse callbacks). Wait "
            "until then, or pass --force.",
            code="rotation_in_progress",
        )
    kept = store.rotate(NAME, new_secret(), now + overlap, now)
    log.info(
        "rotated the webhook signing secret; the previous one is valid until %s", now + overlap
    )
    return SigningKeys(kept.value, FROM_DATABASE, kept.previous, kept.previous_until)


class SigningSecret:
    """``signing_keys``, found on first use and then read again at most every
    ``refresh_seconds``: building a process reads no database, the schema is up to date by the
    time a callback is signed, and a rotation reaches every process without a restart.
    Calling it gives the secrets to sign with now (``SigningKeys.valid``)."""

    def __init__(
        self,
        settings: Settings,
        store: ServiceSecrets | None,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._store = store
        self._refresh = refresh_seconds
        self._monotonic = monotonic
        self._now = now
        self._lock = threading.Lock()
        self._keys: SigningKeys | None = None
        self._read_at = 0.0

    def keys(self) -> SigningKeys:
        """The secret, where it comes from, and the previous one if a rotation left one."""
        with self._lock:
            at, before = self._monotonic(), self._keys
            fixed = self._settings.webhook_secret is not None
            if before is None or (not fixed and at - self._read_at >= self._refresh):
                keys = signing_keys(self._settings, self._store, first=before is None)
                if before is not None and keys.current != before.current:
                    log.info("webhook signing secret rotated: signing with the new one")
                self._keys, self._read_at = keys, at
            assert self._keys is not None
            return self._keys

    def found(self) -> tuple[str, str]:
        """The secret and where it comes from."""
        keys = self.keys()
        return keys.current, keys.source

    def __call__(self) -> list[str]:
        return self.keys().valid(self._now())


def _read_quietly(path: Path) -> str | None:
    try:
        return validate_secret(path.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _read(path: Path) -> str:
    try:
        text = path.read_text(encoding="ascii")
        mode = path.stat().st_mode
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read the webhook secret in {path}: {exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s can be read by other users; `chmod 600` it", path)
    try:
        return validate_secret(text)
    except ValueError as exc:
        raise ConfigurationError(
            f"the webhook secret in {path} is invalid ({exc}); delete the file (the database's "
            "secret, or a new one, is then used), or set SCRIBE_WEBHOOK_SECRET"
        ) from None
