"""``BlobStore`` in a directory (the data directory's ``jobs/`` folder by default)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from scribe.domain.errors import NotFound

_KEY = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
CHUNK = 1024 * 1024


class DirectoryBlobStore:
    """Each key is a file under ``root``; writes go to a temporary file first and are renamed
    into place, so a crash never leaves half a blob under its key."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser()

    def _path(self, key: str) -> Path:
        # Keys are made by the use case from job ids; refuse anything that could leave root.
        if not _KEY.match(key) or ".." in key.split("/"):
            raise ValueError(f"invalid blob key {key!r}")
        return self.root / key

    def put(self, key: str, source: BinaryIO) -> int:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        size = 0
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".part-", delete=False) as out:
            try:
                while chunk := source.read(CHUNK):
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            except BaseException:
                out.close()
                os.unlink(out.name)
                raise
        os.replace(out.name, path)
        return size

    def put_bytes(self, key: str, data: bytes) -> None:
        import io

        self.put(key, io.BytesIO(data))

    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        try:
            handle = self._path(key).open("rb")
        except FileNotFoundError:
            raise NotFound(f"No stored data for {key}.", code="not_found") from None
        with handle:
            yield handle

    def delete_prefix(self, prefix: str) -> None:
        path = self._path(prefix.rstrip("/"))
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
