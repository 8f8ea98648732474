#!/usr/bin/env python
"""Service overhead benchmark: the bare faster-whisper call against the same file through the
running service over HTTP, side by side in one run, plus the service's peak memory.

    python scripts/bench_service.py                     # 5-minute file, 3 rounds
    python scripts/bench_service.py --minutes 1 --rounds 2 --out research/x.md

The service is started as `scribe serve` (the default embedded setup) in a subprocess; the bare
engine runs in a plain Python process of its own that imports only faster-whisper: its own
batched path, ``BatchedInferencePipeline`` (the service batches too), with the adapter's model
folder, batch size and decoding arguments, on the same WAV bytes. The two never run at the same
time. Requests ask for diarize=false so both sides do the same ASR work; a last request
with diarization on shows what speakers cost.

Whisper's temperature fallback re-decodes bad windows by random sampling: on the same samples,
one run gave 67 segments and another 118, in 52 to 64 s. That lottery would swamp the overhead
being measured, so both sides run with the fallback off (SCRIBE_WHISPER_TEMPERATURE_FALLBACK=
false: one deterministic pass per window) unless --temperature-fallback is given.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_audio import DEFAULT_EVAL_DIR, SPEECH_CLIPS, joined, publish, wav_bytes

from scribe.adapters.audio.pyav_decoder import PyAVDecoder
from scribe.bootstrap import build_asr_engine, resolve_device, whisper_cpu_threads
from scribe.config import Settings
from scribe.devtools.services import free_port, wait_until_ready
from scribe.domain.options import TranscriptionOptions


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# The bare engine as a user would run it: a plain process that imports only faster-whisper and
# uses its batched pipeline.
_BARE = """
import io, json, sys, time
from faster_whisper import BatchedInferencePipeline, WhisperModel
job = json.loads(sys.argv[1])
body = open(sys.argv[2], "rb").read()
warm = open(sys.argv[3], "rb").read()
kwargs = job["kwargs"]
model = WhisperModel(job["model"], device=job["device"], compute_type=job["compute_type"],
                     cpu_threads=job["cpu_threads"])
pipeline = BatchedInferencePipeline(model)
list(pipeline.transcribe(io.BytesIO(warm), **kwargs)[0])
times = []
for _ in range(job["rounds"]):
    started = time.perf_counter()
    segments, _ = pipeline.transcribe(io.BytesIO(body), **kwargs)
    for _ in segments:
        pass
    times.append(time.perf_counter() - started)
print(json.dumps(times))
"""


def _batched_kwargs(sequential: dict[str, Any], batch_size: int) -> dict[str, Any]:
    """``BatchedInferencePipeline.transcribe`` arguments for the adapter's decoding ones: the
    same language, task, beam, prompt, hotwords and word times, the adapter's batch size, one
    deterministic pass at the first temperature (as the service's batched path decodes), and
    timestamps on (the service asks for them: its segments are sentence-sized)."""
    return {
        "language": sequential["language"],
        "task": sequential["task"],
        "beam_size": sequential["beam_size"],
        "temperature": float(sequential["temperature"][0]),
        "initial_prompt": sequential["initial_prompt"],
        "hotwords": sequential["hotwords"],
        "word_timestamps": sequential["word_timestamps"],
        "vad_filter": True,  # the pipeline cuts at the pauses Silero VAD finds
        "without_timestamps": False,
        "batch_size": batch_size,
    }


def _bare_engine(job: dict[str, object], body: bytes, warm: bytes) -> list[float]:
    """Time the bare faster-whisper call on the same WAV bytes, in a fresh process."""
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder, "body.wav"), Path(folder, "warm.wav")]
        for path, data in zip(paths, (body, warm), strict=True):
            path.write_bytes(data)
        out = subprocess.run(
            [sys.executable, "-c", _BARE, json.dumps(job), *map(str, paths)],
            check=True,
            capture_output=True,
            text=True,
        )
    times: list[float] = json.loads(out.stdout.strip().splitlines()[-1])
    return times


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=5.0, help="length of the joined recording")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each side")
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--out", type=Path, help="also write the report (markdown) here")
    parser.add_argument(
        "--temperature-fallback",
        action="store_true",
        help="keep Whisper's random temperature fallback on (noisier timings)",
    )
    args = parser.parse_args()

    audio = joined(args.eval_dir, SPEECH_CLIPS, args.minutes * 60)
    body = wav_bytes(audio)
    if not args.temperature_fallback:
        os.environ["SCRIBE_WHISPER_TEMPERATURE_FALLBACK"] = "false"  # here and in the server
    settings = Settings()
    engine = build_asr_engine("whisper", settings, resolve_device(settings))
    engine.load()
    options = TranscriptionOptions(word_timestamps=False, diarize=False)
    batch_size: int = engine.batch_size  # type: ignore[attr-defined]
    if batch_size < 2:
        print("batching is off (SCRIBE_WHISPER_BATCH_SIZE): nothing to compare", file=sys.stderr)
        return 2
    bare_job = {
        "model": str(engine.model_path),  # type: ignore[attr-defined]
        "device": engine.device,  # type: ignore[attr-defined]
        "compute_type": engine.compute_type,  # type: ignore[attr-defined]
        "cpu_threads": whisper_cpu_threads(settings),
        "kwargs": _batched_kwargs(engine.transcribe_kwargs(options), batch_size),  # type: ignore[attr-defined]
        "rounds": args.rounds,
    }
    # In one process, with nothing else around: the adapter (what the service calls) against
    # the bare model call on the same bytes. This isolates the adapter's own cost.
    started = time.perf_counter()
    decoded = PyAVDecoder().decode(io.BytesIO(body))
    engine.transcribe(decoded, options)
    in_adapter = time.perf_counter() - started
    from faster_whisper import BatchedInferencePipeline

    pipeline = BatchedInferencePipeline(engine.model)  # type: ignore[attr-defined]
    started = time.perf_counter()
    for _ in pipeline.transcribe(io.BytesIO(body), **bare_job["kwargs"])[0]:  # type: ignore[arg-type]
        pass
    in_bare = time.perf_counter() - started
    del engine, decoded, pipeline  # from here on each side runs in a process of its own

    port = free_port()
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
        if not wait_until_ready(base, server, 600):
            print(log.read_text(), file=sys.stderr)
            return 1

        def service(diarize: bool, upload: bytes = body) -> float:
            started = time.perf_counter()
            response = httpx.post(
                f"{base}/v1/audio/transcriptions",
                files={"file": ("bench.wav", upload, "audio/wav")},
                data={
                    "model": "whisper-1",
                    "response_format": "json",
                    "diarize": str(diarize).lower(),
                },
                timeout=3600,
            )
            response.raise_for_status()
            return time.perf_counter() - started

        # Warm up first (20 s), so first-call costs land on neither side.
        service(diarize=True, upload=wav_bytes(audio.slice(0, 20)))
        service_times = [service(diarize=False) for _ in range(args.rounds)]
        diarized = service(diarize=True)
        peak = _peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    bare_times = _bare_engine(bare_job, body, wav_bytes(audio.slice(0, 20)))

    b, s = statistics.median(bare_times), statistics.median(service_times)
    lines = [
        f"recording: {audio.duration / 60:.1f} min joined from {', '.join(SPEECH_CLIPS)}",
        f"engine: faster-whisper {settings.whisper_model}, beam {settings.whisper_beam_size}, "
        f"batch {batch_size}, "
        f"{bare_job['compute_type']} on {bare_job['device']}, {bare_job['cpu_threads']} threads; "
        f"{os.cpu_count()} CPUs; "
        f"rounds {args.rounds}; temperature fallback "
        f"{'on' if settings.whisper_temperature_fallback else 'off'}",
        "",
        "| run | seconds | real-time factor | × bare |",
        "| --- | ---: | ---: | ---: |",
        f"| bare BatchedInferencePipeline (own process) | {b:.1f} | {b / audio.duration:.3f} "
        "| 1.00 |",
        f"| service over HTTP, diarize=false | {s:.1f} | {s / audio.duration:.3f} | {s / b:.2f} |",
        f"| service over HTTP, diarize=true | {diarized:.1f} | {diarized / audio.duration:.3f} "
        f"| {diarized / b:.2f} |",
        "",
        f"same process, one run each: adapter (decode + transcribe) {in_adapter:.1f} s, bare "
        f"pipeline {in_bare:.1f} s: × {in_adapter / in_bare:.2f}",
        f"service peak memory (VmHWM of the server process): {peak:.0f} MB",
        f"all runs (s): bare {[round(t, 1) for t in bare_times]}, "
        f"service {[round(t, 1) for t in service_times]}",
    ]
    publish(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
