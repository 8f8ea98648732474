#!/usr/bin/env python
"""Service overhead benchmark: the bare faster-whisper call against the same file through the
running service over HTTP, side by side in one run, plus the service's peak memory.

    python scripts/bench_service.py                     # 5-minute file, 1 round
    python scripts/bench_service.py --minutes 1 --rounds 2 --out research/x.md

The service is started as `scribe serve` (the default embedded setup) in a subprocess; the bare
engine runs in this process with the adapter's exact model and arguments. The two never run at
the same time. Requests ask for diarize=false so both sides do the same ASR work; a last request
with diarization on shows what speakers cost.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_audio import DEFAULT_EVAL_DIR, SPEECH_CLIPS, joined, wav_bytes

from scribe.bootstrap import build_asr_engine, resolve_device
from scribe.config import Settings
from scribe.domain.options import TranscriptionOptions


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=5.0, help="length of the joined recording")
    parser.add_argument("--rounds", type=int, default=1, help="timed runs of each side")
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--out", type=Path, help="also write the report (markdown) here")
    args = parser.parse_args()

    audio = joined(args.eval_dir, SPEECH_CLIPS, args.minutes * 60)
    body = wav_bytes(audio)
    settings = Settings()
    engine = build_asr_engine("whisper", settings, resolve_device(settings))
    model = engine.model  # type: ignore[attr-defined]
    kwargs = engine.transcribe_kwargs(TranscriptionOptions(word_timestamps=False, diarize=False))  # type: ignore[attr-defined]

    def bare() -> float:
        started = time.perf_counter()
        segments, _ = model.transcribe(audio.samples, **kwargs)
        for _ in segments:
            pass
        return time.perf_counter() - started

    port = _free_port()
    log = Path(tempfile.mkdtemp(prefix="scribe-bench-")) / "server.log"
    env = {**os.environ, "SCRIBE_PORT": str(port), "SCRIBE_HOST": "127.0.0.1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "scribe.cli", "serve"],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                print(log.read_text(), file=sys.stderr)
                return 1
            time.sleep(0.5)

        def service(diarize: bool) -> float:
            started = time.perf_counter()
            response = httpx.post(
                f"{base}/v1/audio/transcriptions",
                files={"file": ("bench.wav", body, "audio/wav")},
                data={
                    "model": "whisper-1",
                    "response_format": "json",
                    "diarize": str(diarize).lower(),
                },
                timeout=3600,
            )
            response.raise_for_status()
            return time.perf_counter() - started

        bare_times, service_times = [], []
        for _ in range(args.rounds):
            bare_times.append(bare())
            service_times.append(service(diarize=False))
        diarized = service(diarize=True)
        peak = _peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)

    b, s = statistics.median(bare_times), statistics.median(service_times)
    lines = [
        f"recording: {audio.duration / 60:.1f} min joined from {', '.join(SPEECH_CLIPS)}",
        f"engine: faster-whisper {settings.whisper_model}, beam {settings.whisper_beam_size}, "
        f"{engine.compute_type} on {engine.device}; {os.cpu_count()} CPUs; rounds {args.rounds}",  # type: ignore[attr-defined]
        "",
        "| run | seconds | real-time factor | × bare |",
        "| --- | ---: | ---: | ---: |",
        f"| bare faster-whisper (in process) | {b:.1f} | {b / audio.duration:.3f} | 1.00 |",
        f"| service over HTTP, diarize=false | {s:.1f} | {s / audio.duration:.3f} | {s / b:.2f} |",
        f"| service over HTTP, diarize=true | {diarized:.1f} | {diarized / audio.duration:.3f} "
        f"| {diarized / b:.2f} |",
        "",
        f"service peak memory (VmHWM of the server process): {peak:.0f} MB",
        f"all runs (s): bare {[round(t, 1) for t in bare_times]}, "
        f"service {[round(t, 1) for t in service_times]}",
    ]
    report = "\n".join(lines)
    print(report)
    if args.out:
        args.out.write_text(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
