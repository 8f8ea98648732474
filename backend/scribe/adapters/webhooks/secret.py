"""The webhook signing secret: a setting, or one generated once and kept in the service's
database, which every process (API nodes and workers) shares, so that all of them sign alike.

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
from pathlib import Path
from typing import TYPE_CHECKING

from scribe.domain.errors import ConfigurationError

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


class SigningSecret:
    """``signing_secret``, found on first use and then kept for the process: building a process
    reads no database, and the schema is up to date by the time a callback is signed."""

    def __init__(self, settings: Settings, store: ServiceSecrets | None) -> None:
        self._settings = settings
        self._store = store
        self._lock = threading.Lock()
        self._found: tuple[str, str] | None = None

    def found(self) -> tuple[str, str]:
        """The secret and where it comes from."""
        with self._lock:
            if self._found is None:
                self._found = signing_secret(self._settings, self._store)
            return self._found

    def __call__(self) -> str:
        return self.found()[0]


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
