from __future__ import annotations

from contextlib import AbstractContextManager
from typing import BinaryIO, Protocol


class BlobStore(Protocol):
    """Job audio and results, by key (``<job id>/audio``, ``<job id>/result.json``).

    ``put`` streams: an upload is copied in chunks, never held whole in memory.
    """

    def put(self, key: str, source: BinaryIO) -> int:
        """Store everything ``source`` holds under ``key``; the number of bytes."""
        ...

    def put_bytes(self, key: str, data: bytes) -> None: ...

    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        """Read a blob; raises ``NotFound`` if there is none."""
        ...

    def delete_prefix(self, prefix: str) -> None:
        """Delete every blob whose key starts with ``prefix`` (a job's folder)."""
        ...
