"""Throwaway PostgreSQL and Redis servers, for the tests (``tests/services.py``) and the
benchmarks (``scripts/bench_scale.py``).

Each starts from Debian's packages (`apt-get install postgresql redis-server`, which .ci/run
does) on a free loopback port in a temporary folder, and stops when its ``with`` block ends. A
missing server calls ``on_missing`` with the reason (by default: raise ``ServiceMissing``; the
tests skip, or fail in CI). No pytest here: scripts import it too.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn


class ServiceMissing(RuntimeError):
    """PostgreSQL or Redis is not installed on this machine."""


def _raise(message: str) -> NoReturn:
    raise ServiceMissing(message)


OnMissing = Callable[[str], NoReturn]


def _missing(what: str, install: str, on_missing: OnMissing) -> NoReturn:
    on_missing(f"{what} is not installed ({install}; .ci/run installs it)")


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_ready(
    base: str, process: subprocess.Popen[bytes], seconds: float, poll: float = 0.5
) -> bool:
    """Poll ``base``/health/ready until it answers 200; False if ``process`` exits or
    ``seconds`` pass first."""
    import httpx

    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                return True
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(poll)


def _postgres_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@contextlib.contextmanager
def postgres_server(on_missing: OnMissing = _raise) -> Iterator[str]:
    """A fresh PostgreSQL cluster (or ``SCRIBE_TEST_POSTGRES_URL``'s); yields the URL of its
    ``postgres`` database."""
    if url := os.environ.get("SCRIBE_TEST_POSTGRES_URL"):
        yield url
        return
    bindir = _postgres_bin()
    if bindir is None:
        _missing("PostgreSQL", "apt-get install postgresql", on_missing)
    root = Path(tempfile.mkdtemp(prefix="scribe-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", free_port()

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    run(str(bindir / "initdb"), "-D", str(data), "-U", "scribe", "--auth=trust", "-E", "UTF8")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    run(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        options,
        "-l",
        str(root / "log"),
        "-w",
        "start",
    )
    try:
        yield f"postgresql+psycopg://scribe@127.0.0.1:{port}/postgres"
    finally:
        with contextlib.suppress(Exception):
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def redis_server(on_missing: OnMissing = _raise) -> Iterator[str]:
    """A fresh Redis with no persistence (or ``SCRIBE_TEST_REDIS_URL``'s); yields its URL."""
    if url := os.environ.get("SCRIBE_TEST_REDIS_URL"):
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        _missing("Redis", "apt-get install redis-server", on_missing)
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
