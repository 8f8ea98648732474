"""exit_promptly ends the process even when a thread pool made in a daemon thread is busy.

concurrent.futures joins every pool thread at interpreter exit, daemon or not; a diarization
still running in such a pool after a graceful stop kept `scribe serve` alive until Docker's
SIGKILL (exit 137) before this was handled.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import concurrent.futures, threading
    from scribe.api.server import exit_promptly

    never = threading.Event()
    started = threading.Event()

    def job_slot():  # a daemon thread, like the job runner's slots
        pool = concurrent.futures.ThreadPoolExecutor(1)
        pool.submit(never.wait)  # returns once the pool's thread is started and registered
        started.set()
        never.wait()

    threading.Thread(target=job_slot, daemon=True).start()
    started.wait()
    exit_promptly(7)
    print("exit_promptly returned")
    """
)


def test_a_busy_pool_made_in_a_daemon_thread_does_not_hold_the_exit() -> None:
    # The timeout only guards against a hang (the bug); the assertion is on the exit code.
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 7, done.stdout + done.stderr
    assert "exit_promptly returned" not in done.stdout
