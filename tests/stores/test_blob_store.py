"""The directory blob store: uploads copied in chunks (never read whole), written atomically,
keys that cannot leave the folder."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from scribe.adapters.blobs.directory import CHUNK, DirectoryBlobStore
from scribe.domain.errors import NotFound


class CountingReader(io.RawIOBase):
    """A large upload that records the biggest read asked of it."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.largest = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.largest = max(self.largest, size if size >= 0 else self.left)
        n = self.left if size < 0 else min(size, self.left)
        self.left -= n
        return b"x" * n


def test_an_upload_is_copied_in_chunks_and_read_back(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path)
    upload = CountingReader(20 * CHUNK + 5)
    assert store.put("job_a/audio", upload) == 20 * CHUNK + 5  # type: ignore[arg-type]
    assert upload.largest == CHUNK
    with store.open("job_a/audio") as blob:
        assert len(blob.read()) == 20 * CHUNK + 5
    assert [p.name for p in (tmp_path / "job_a").iterdir()] == ["audio"]  # no partial files


def test_a_failed_copy_leaves_nothing_under_the_key(tmp_path: Path) -> None:
    class Broken(CountingReader):
        def read(self, size: int = -1) -> bytes:
            if self.left < 3 * CHUNK:
                raise OSError("connection reset")
            return super().read(size)

    store = DirectoryBlobStore(tmp_path)
    with pytest.raises(OSError):
        store.put("job_b/audio", Broken(5 * CHUNK))  # type: ignore[arg-type]
    assert list((tmp_path / "job_b").iterdir()) == []
    with pytest.raises(NotFound):
        store.open("job_b/audio").__enter__()


def test_delete_prefix_removes_a_jobs_folder(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path)
    store.put_bytes("job_c/audio", b"a")
    store.put_bytes("job_c/result.json", b"{}")
    store.put_bytes("job_d/audio", b"b")
    store.delete_prefix("job_c")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job_d"]
    store.delete_prefix("job_missing")  # nothing to do


@pytest.mark.parametrize("key", ["../escape", "/abs/path", "job/../../x", "a b", ""])
def test_keys_never_leave_the_folder(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        DirectoryBlobStore(tmp_path).put_bytes(key, b"x")
