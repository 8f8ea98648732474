#!/usr/bin/env python
"""Scale-out benchmark: throughput with one worker and with two, and the latency the distributed
path adds to a synchronous request, on this machine.

    flock /tmp/scribe-bench.lock python scripts/bench_scale.py
    python scripts/bench_scale.py --jobs 8 --repeats 5 --threads 1 --out research/scale-out.md

Everything runs as real processes, started as the README starts them (scribe/devtools/cluster.py):
Redis (append-only file) and PostgreSQL in temporary folders, one `scribe serve` API node and
`scribe worker` processes (Celery), Whisper base, diarization off, Whisper's random temperature
fallback off, ``--threads`` CPU threads per Whisper model.

1. Latency: ``--repeats`` synchronous POST /v1/audio/transcriptions of jfk.flac (11 s), one
   after another, against the embedded `scribe serve` (one process, in-process queue, SQLite)
   and against the API node with one worker; the median of each and their difference.
2. Throughput: ``--jobs`` jobs submitted at once to /v1/audio/jobs; the time until the last has
   completed, with one worker and then with two (the second started beside the first).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from scribe.devtools.cluster import Cluster, cluster
from scribe.devtools.services import free_port, postgres_server, wait_until_ready

ROOT = Path(__file__).resolve().parent.parent

EVAL = Path(os.environ.get("SCRIBE_EVAL_DIR", ROOT.parent / "shared" / "eval"))


def _env(threads: int) -> dict[str, str]:
    return {
        "SCRIBE_WHISPER_CPU_THREADS": str(threads),
        "SCRIBE_WHISPER_TEMPERATURE_FALLBACK": "false",
        "SCRIBE_RATE_LIMIT_REQUESTS_PER_MINUTE": "0",
        "SCRIBE_RATE_LIMIT_CONCURRENT_REQUESTS": "0",
        "SCRIBE_DIARIZER": "none",
        "SCRIBE_DEVICE": "cpu",
        "HF_HUB_OFFLINE": "1",
    }


def _sync_latencies(base: str, audio: bytes, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats + 1):  # the first warms caches; not counted
        began = time.perf_counter()
        answer = httpx.post(
            f"{base}/v1/audio/transcriptions",
            files={"file": ("jfk.flac", audio)},
            data={"response_format": "json"},
            timeout=300,
        )
        answer.raise_for_status()
        times.append(time.perf_counter() - began)
    return times[1:]


def embedded_latencies(audio: bytes, repeats: int, threads: int, data: Path) -> list[float]:
    port = free_port()
    env = {**os.environ, **_env(threads), "SCRIBE_PORT": str(port), "SCRIBE_DATA_DIR": str(data)}
    process = subprocess.Popen(
        [sys.executable, "-m", "scribe.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_ready(base, process, 300):
            raise RuntimeError("the embedded server did not start")
        return _sync_latencies(base, audio, repeats)
    finally:
        process.terminate()
        process.wait(timeout=30)


def throughput(made: Cluster, audio: bytes, jobs: int) -> float:
    """Seconds from the first submit until every job has completed."""
    began = time.perf_counter()
    ids = []
    for _ in range(jobs):
        answer = httpx.post(
            f"{made.base}/v1/audio/jobs", files={"file": ("jfk.flac", audio)}, timeout=60
        )
        answer.raise_for_status()
        ids.append(answer.json()["id"])
    pending = set(ids)
    while pending:
        for job_id in list(pending):
            status = httpx.get(f"{made.base}/v1/audio/jobs/{job_id}", timeout=10).json()["status"]
            if status == "completed":
                pending.discard(job_id)
            elif status in ("failed", "cancelled"):
                raise RuntimeError(f"job {job_id} {status}")
        time.sleep(0.1)
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    audio = (EVAL / "jfk.flac").read_bytes()
    load_before = os.getloadavg()

    with postgres_server() as url, cluster(url, **_env(args.threads)) as made:
        embedded = embedded_latencies(audio, args.repeats, args.threads, made.root / "embedded")
        made.start_api()
        made.wait_ready(made.start_worker("w1"))
        distributed = _sync_latencies(made.base, audio, args.repeats)
        one = throughput(made, audio, args.jobs)
        made.wait_ready(made.start_worker("w2"))
        two = throughput(made, audio, args.jobs)
    load_after = os.getloadavg()

    med_e, med_d = statistics.median(embedded), statistics.median(distributed)
    lines = [
        f"machine: {os.cpu_count()} cores; load average before {load_before[0]:.2f}, "
        f"after {load_after[0]:.2f}",
        f"whisper threads per model: {args.threads}; file: jfk.flac (11.0 s)",
        "",
        "| path | sync latency median (s) | runs (s) |",
        "| --- | ---: | --- |",
        f"| embedded `scribe serve` | {med_e:.2f} | {', '.join(f'{t:.2f}' for t in embedded)} |",
        f"| API node + 1 worker | {med_d:.2f} | {', '.join(f'{t:.2f}' for t in distributed)} |",
        "",
        f"added latency of the distributed path: {med_d - med_e:+.2f} s "
        f"({(med_d / med_e - 1) * 100:+.1f} %)",
        "",
        "| workers | jobs | seconds | jobs per minute |",
        "| ---: | ---: | ---: | ---: |",
        f"| 1 | {args.jobs} | {one:.1f} | {args.jobs / one * 60:.1f} |",
        f"| 2 | {args.jobs} | {two:.1f} | {args.jobs / two * 60:.1f} |",
        "",
        f"throughput ratio, two workers to one: {one / two:.2f}",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
