"""The webhook signing secret: a setting, or one generated once and kept in the data directory.

Standard Webhooks secrets are written ``whsec_`` followed by the base64 of 24 to 64 random bytes.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from scribe.domain.errors import ConfigurationError

if TYPE_CHECKING:
    from scribe.config import Settings

log = logging.getLogger(__name__)

PREFIX = "whsec_"
FILE_NAME = "webhook_secret"
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
    """Where the generated secret is kept."""
    return data_dir / FILE_NAME


def load_or_create_secret(data_dir: Path) -> str:
    """The secret kept in ``data_dir``, made (mode 0600) on first use.

    Several processes may start at once: the secret is written whole to a temporary file and
    linked into place, which fails if the file exists, so every process reads the same secret.
    """
    path = secret_path(data_dir)
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{FILE_NAME}.", dir=data_dir)  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(new_secret() + "\n")
            os.link(temporary, path)
            log.info("generated a webhook signing secret in %s", path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            os.unlink(temporary)
    return _read(path)


def signing_secret(settings: Settings) -> tuple[str, str]:
    """The secret that signs callbacks, and where it comes from (for people, not for code)."""
    if settings.webhook_secret is not None:
        return settings.webhook_secret.get_secret_value(), "SCRIBE_WEBHOOK_SECRET"
    return load_or_create_secret(settings.data_dir), str(secret_path(settings.data_dir))


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
            f"the webhook secret in {path} is invalid ({exc}); delete the file to make a new one, "
            "or set SCRIBE_WEBHOOK_SECRET"
        ) from None
