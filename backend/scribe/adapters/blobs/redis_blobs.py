"""``BlobStore`` in Redis: job audio (as uploaded: already compressed) and results, with a time
limit, for API nodes and workers that share no filesystem."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, BinaryIO

from scribe.domain.errors import NotFound

if TYPE_CHECKING:
    from redis import Redis

_KEY = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
CHUNK = 1024 * 1024


class RedisBlobStore:
    """Each blob is one Redis string ``<prefix><key>`` that expires ``ttl_seconds`` after it
    was written. Uploads are appended chunk by chunk to a temporary key and renamed into place:
    never held whole in this process, and a reader never sees half a blob."""

    def __init__(self, client: Redis, *, ttl_seconds: int, prefix: str = "scribe:blob:") -> None:
        self._redis = client
        self._ttl = max(1, int(ttl_seconds))
        self._prefix = prefix

    def _key(self, key: str) -> str:
        if not _KEY.match(key) or ".." in key.split("/"):
            raise ValueError(f"invalid blob key {key!r}")
        return self._prefix + key

    def put(self, key: str, source: BinaryIO) -> int:
        target = self._key(key)
        partial = f"{self._prefix}.part-{uuid.uuid4().hex}"
        size = 0
        try:
            self._redis.set(partial, b"", ex=self._ttl)
            while chunk := source.read(CHUNK):
                self._redis.append(partial, chunk)
                size += len(chunk)
            pipe = self._redis.pipeline()
            pipe.rename(partial, target)
            pipe.expire(target, self._ttl)
            pipe.execute()
        except BaseException:
            self._redis.delete(partial)
            raise
        return size

    def put_bytes(self, key: str, data: bytes) -> None:
        self._redis.set(self._key(key), data, ex=self._ttl)

    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        data = self._redis.get(self._key(key))
        if data is None:
            raise NotFound(f"No stored data for {key} (it may have expired).", code="not_found")
        assert isinstance(data, bytes)
        with io.BytesIO(data) as handle:
            yield handle

    def delete_prefix(self, prefix: str) -> None:
        base = self._key(prefix.rstrip("/"))
        self._redis.delete(base)
        pattern = _glob_escape(base) + "/*"
        batch = [k for k in self._redis.scan_iter(match=pattern, count=100)]
        if batch:
            self._redis.delete(*batch)


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)
