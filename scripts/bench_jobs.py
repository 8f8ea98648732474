#!/usr/bin/env python
"""Jobs benchmark: a bounded queue under load, and what the queue machinery costs.

    python scripts/bench_jobs.py                          # 20 clients x 2 min; 5-min file
    python scripts/bench_jobs.py --clients 20 --seconds 120 --queue-sizes 2,10 --out research/x.md

1. Load: `scribe serve` (the embedded default, rate limits off so that only the queue answers)
   gets ``--clients`` concurrent clients for ``--seconds``, each posting an 11 s recording
   (jfk.flac) to /v1/audio/transcriptions in a loop; a 503 is retried after its Retry-After.
   Once per queue size: every answer's status and whether a 503 carried Retry-After, the
   latency of the 200s, and the server's peak memory (VmHWM), which should not grow with the
   queue (waiting uploads are on disk).
2. Overhead: one process, one set of loaded models, a ``--minutes`` recording: the direct
   synchronous run (TranscribeAudio: decode + transcribe) against the same request as a job
   (submit: spool to disk, queue, run, store the result, read it back), alternating, diarize off
   and Whisper's random temperature fallback off so that both sides do the same work.
"""

from __future__ import annotations

import argparse
import collections
import io
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_audio import DEFAULT_EVAL_DIR, SPEECH_CLIPS, joined, publish, wav_bytes

from scribe.bootstrap import build_services
from scribe.config import Settings
from scribe.devtools.services import free_port, wait_until_ready
from scribe.domain.response_format import ResponseFormat
from scribe.use_cases.options import TranscriptionRequest


def _rss_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load_test(upload: bytes, clients: int, seconds: float, queue_size: int) -> dict[str, object]:
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="scribe-bench-jobs-"))
    env = {
        **os.environ,
        "SCRIBE_PORT": str(port),
        "SCRIBE_HOST": "127.0.0.1",
        "SCRIBE_DATA_DIR": str(folder / "data"),
        "SCRIBE_JOB_QUEUE_SIZE": str(queue_size),
        "SCRIBE_RATE_LIMIT_REQUESTS_PER_MINUTE": "0",
        "SCRIBE_RATE_LIMIT_AUDIO_MINUTES_PER_HOUR": "0",
        "SCRIBE_RATE_LIMIT_CONCURRENT_REQUESTS": "0",
    }
    log = folder / "server.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "scribe.cli", "serve"],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    statuses: collections.Counter[str] = collections.Counter()
    latencies: list[float] = []
    waits: list[int] = []
    lock = threading.Lock()
    try:
        if not wait_until_ready(base, server, 600):
            raise RuntimeError(log.read_text())
        idle_rss = _rss_mb(server.pid, "VmRSS")
        stop_at = time.monotonic() + seconds

        def client() -> None:
            with httpx.Client(timeout=900) as http:
                while time.monotonic() < stop_at:
                    started = time.monotonic()
                    response = http.post(
                        f"{base}/v1/audio/transcriptions",
                        files={"file": ("jfk.flac", upload)},
                        data={"model": "whisper-1", "response_format": "json"},
                    )
                    with lock:
                        retry = response.headers.get("retry-after")
                        kind = str(response.status_code)
                        if response.status_code == 503:
                            kind += " with Retry-After" if retry else " WITHOUT Retry-After"
                            waits.append(int(retry or 0))
                        statuses[kind] += 1
                        if response.status_code == 200:
                            latencies.append(time.monotonic() - started)
                    if response.status_code == 503 and retry:
                        time.sleep(min(float(retry), max(0.0, stop_at - time.monotonic())))

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        peak = _rss_mb(server.pid, "VmHWM")
    finally:
        server.terminate()
        server.wait(timeout=60)
    return {
        "queue": queue_size,
        "statuses": dict(statuses),
        "latencies": sorted(latencies),
        "waits": waits,
        "idle_rss": idle_rss,
        "peak": peak,
    }


def overhead(body: bytes, rounds: int) -> tuple[list[float], list[float], list[float], float]:
    os.environ["SCRIBE_DATA_DIR"] = tempfile.mkdtemp(prefix="scribe-bench-jobs-")
    services = build_services(Settings())
    services.warm_up.run()
    services.warm_up.require_ready()
    if services.storage.database is not None:
        services.storage.database.upgrade()
    services.runner.start()
    request = TranscriptionRequest(
        model="whisper-1", response_format=ResponseFormat.JSON, diarize=False
    )
    options = services.options.build(request)
    direct: list[float] = []
    queued: list[float] = []
    machinery: list[float] = []
    duration = 0.0
    # Time spent inside the engine work (decode + transcribe) whoever calls it: the rest of a
    # job's wall time is the queue machinery's (spool, queue, hand-over, events, store, read).
    inner = [0.0]
    transcribe = services.transcribe
    decode_, transcribe_ = transcribe.decode, transcribe.transcribe

    def timed(function: Any) -> Any:
        def wrapper(*a: Any, **kw: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*a, **kw)
            finally:
                inner[0] += time.perf_counter() - started

        return wrapper

    transcribe.decode = timed(decode_)  # type: ignore[method-assign]
    transcribe.transcribe = timed(transcribe_)  # type: ignore[method-assign]
    try:
        for _ in range(rounds):
            started = time.perf_counter()
            audio = services.transcribe.decode(io.BytesIO(body))
            services.transcribe.transcribe(audio, options)
            direct.append(time.perf_counter() - started)
            duration = audio.duration

            inner[0] = 0.0
            started = time.perf_counter()
            job = services.jobs.submit(None, request, io.BytesIO(body), background=False).job
            services.jobs.wait(job.id, poll=0.2)
            services.jobs.result(None, job.id)
            services.jobs.discard(job.id)
            queued.append(time.perf_counter() - started)
            machinery.append(queued[-1] - inner[0])
    finally:
        services.runner.stop()
    return direct, queued, machinery, duration


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120.0, help="length of each load run")
    parser.add_argument("--queue-sizes", default="2,10", help="SCRIBE_JOB_QUEUE_SIZE per run")
    parser.add_argument("--minutes", type=float, default=5.0, help="overhead recording length")
    parser.add_argument("--rounds", type=int, default=3, help="overhead runs of each side")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--out", type=Path, help="also write the report (markdown) here")
    args = parser.parse_args()
    os.environ["SCRIBE_WHISPER_TEMPERATURE_FALLBACK"] = "false"  # here and in the servers

    lines = [
        f"machine: {os.cpu_count()} CPUs; load average before: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        "",
    ]
    if not args.skip_load:
        upload = (args.eval_dir / "jfk.flac").read_bytes()
        lines += [
            f"## Load: {args.clients} clients for {args.seconds:g} s, jfk.flac (11 s) each",
            "",
            "| queue size | answers | 200 latency median / p95 / max (s) | 503 Retry-After "
            "(s) | idle RSS | peak RSS (VmHWM) |",
            "| ---: | --- | --- | --- | ---: | ---: |",
        ]
        for size in (int(s) for s in args.queue_sizes.split(",")):
            run = load_test(upload, args.clients, args.seconds, size)
            lat: list[float] = run["latencies"]  # type: ignore[assignment]
            waits: list[int] = run["waits"]  # type: ignore[assignment]
            answers = ", ".join(f"{k}: {v}" for k, v in sorted(run["statuses"].items()))  # type: ignore[attr-defined]
            timing = (
                f"{statistics.median(lat):.1f} / {lat[max(0, math.ceil(0.95 * len(lat)) - 1)]:.1f} / "
                f"{lat[-1]:.1f}"
                if lat
                else "-"
            )
            wait = f"{min(waits)}-{max(waits)}" if waits else "-"
            lines.append(
                f"| {size} | {answers} | {timing} | {wait} | {run['idle_rss']:.0f} MB "
                f"| {run['peak']:.0f} MB |"
            )
            print(lines[-1], flush=True)
        lines.append("")

    audio = joined(args.eval_dir, SPEECH_CLIPS, args.minutes * 60)
    direct, queued, machinery, duration = overhead(wav_bytes(audio), args.rounds)
    d, q, m = statistics.median(direct), statistics.median(queued), statistics.median(machinery)
    lines += [
        f"## Overhead: {duration / 60:.1f} min recording, {args.rounds} rounds each, alternating",
        "",
        "| run | median s | all runs (s) |",
        "| --- | ---: | --- |",
        f"| direct (TranscribeAudio) | {d:.1f} | {[round(t, 1) for t in direct]} |",
        f"| as a job (spool, queue, run, store, read) | {q:.1f} | "
        f"{[round(t, 1) for t in queued]} |",
        "",
        f"time in the queue machinery (a job's wall time less its decode and transcribe): "
        f"median {m:.2f} s = {100 * m / d:.2f} % of the direct run; all runs (s): "
        f"{[round(t, 2) for t in machinery]}",
        f"end to end, job against direct: {100 * (q - d) / d:+.1f} % (median against median; "
        "on a shared machine this also holds the load's drift between runs)",
        f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
    ]
    publish(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
