#!/usr/bin/env python
"""The service's memory across long transcriptions, with and without handing freed memory back.

    flock /tmp/scribe-bench.lock python scripts/bench_memory.py               # 30 min, 3 jobs
    python scripts/bench_memory.py --minutes 60 --jobs 2 --out research/x.md
    python scripts/bench_memory.py --minutes 60 --jobs 1 --no-diarize        # ASR's share

Each variant runs in a fresh process (``SCRIBE_RELEASE_MEMORY=true`` and ``false``): the
configured engines are loaded and warmed up, one joined two-speaker recording is decoded, and
the service's own path (``TranscribeAudio``: ASR and diarization in parallel, then speaker
attribution) transcribes it ``--jobs`` times in a row. After each job the process's resident
memory (``VmRSS``) is read, as an idle server would hold it until the next request, with its
peak so far (``VmHWM``). Linux only (``/proc/self/status``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_audio import DEFAULT_EVAL_DIR, TWO_SPEAKER_CLIPS, joined, publish

VARIANTS = {"kept by the allocator": "false", "handed back (default)": "true"}


def memory() -> dict[str, float]:
    """Resident and peak resident memory of this process, GB."""
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1e6  # kB -> GB
    return {"rss": fields["VmRSS"], "peak": fields["VmHWM"]}


def child(minutes: float, jobs: int, eval_dir: Path, diarize: bool) -> None:
    """One variant (the environment says which): JSON lines on stdout."""
    from scribe.bootstrap import build_services
    from scribe.domain.options import TranscriptionOptions

    services = build_services()
    services.warm_up.run()
    services.warm_up.require_ready()
    options = TranscriptionOptions(diarize=diarize, word_timestamps=True)
    services.transcribe.transcribe(joined(eval_dir, TWO_SPEAKER_CLIPS, 20), options)
    audio = joined(eval_dir, TWO_SPEAKER_CLIPS, minutes * 60)
    print(json.dumps({"stage": "loaded", **memory()}), flush=True)
    for job in range(1, jobs + 1):
        started = time.perf_counter()
        transcript = services.transcribe.transcribe(audio, options)
        seconds = time.perf_counter() - started
        del transcript
        print(json.dumps({"stage": f"job {job}", "seconds": seconds, **memory()}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--minutes", type=float, default=30.0, help="length of the recording (default 30)"
    )
    parser.add_argument("--jobs", type=int, default=3, help="transcriptions in a row (default 3)")
    parser.add_argument(
        "--eval-dir",
        type=Path,
        default=DEFAULT_EVAL_DIR,
        help=f"the evaluation clips (default {DEFAULT_EVAL_DIR})",
    )
    parser.add_argument(
        "--no-diarize",
        dest="diarize",
        action="store_false",
        help="ASR alone (no diarization), to see each stage's share of the peak",
    )
    parser.add_argument("--out", type=Path, help="also write the report (markdown) here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not Path("/proc/self/status").is_file():
        print("bench_memory.py reads /proc/self/status: Linux only", file=sys.stderr)
        return 2
    if args.child:
        child(args.minutes, args.jobs, args.eval_dir, args.diarize)
        return 0

    results: dict[str, list[dict[str, float | str]]] = {}
    for label, value in VARIANTS.items():
        command = [sys.executable, __file__, "--child", "--minutes", str(args.minutes)]
        command += ["--jobs", str(args.jobs), "--eval-dir", str(args.eval_dir)]
        command += [] if args.diarize else ["--no-diarize"]
        environment = {**os.environ, "SCRIBE_RELEASE_MEMORY": value}
        done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return done.returncode
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        results[label] = [json.loads(line) for line in lines]

    labels = list(results)
    first = results[labels[0]]
    header = " | ".join(f"{label}: resident (peak), GB" for label in labels)
    rows = [
        f"recording: {args.minutes:g} min of two-speaker clips ({', '.join(TWO_SPEAKER_CLIPS)}); "
        f"the service's path ({'ASR and diarization in parallel' if args.diarize else 'ASR alone'}"
        f"), {args.jobs} job(s) in a row; "
        f"{os.cpu_count()} CPUs",
        "",
        f"| after | {header} | job seconds |",
        "| --- | " + " | ".join("---:" for _ in labels) + " | ---: |",
    ]
    for i, step in enumerate(first):
        cells = []
        for label in labels:
            row = results[label][i]
            cells.append(f"{row['rss']:.2f} ({row['peak']:.2f})")
        seconds = " / ".join(
            f"{results[label][i]['seconds']:.0f}"
            for label in labels
            if "seconds" in results[label][i]
        )
        rows.append(f"| {step['stage']} | {' | '.join(cells)} | {seconds or '-'} |")
    publish(rows, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
