#!/usr/bin/env python
"""ASR and diarization alone, in parallel and in sequence, on one multi-minute two-speaker file.

    python scripts/bench_parallel.py                       # 5 minutes, the configured engines
    python scripts/bench_parallel.py --minutes 3 --out research/x.md
    flock /tmp/scribe-bench.lock python scripts/bench_parallel.py --repeat 2   # on a shared machine
    SCRIBE_ASR_ENGINE=nemo SCRIBE_DIARIZER=pyannote python scripts/bench_parallel.py   # GPU

"parallel" is the service's own path (TranscribeAudio: ASR and diarization in two threads);
"sequential" runs the same two calls one after the other. The ratio to hit on a GPU is
parallel <= 1.15 x the slower of the two alone.

    python scripts/bench_parallel.py --repeat 3 --set workers=1

``--set NAME=VALUE`` (embedded diarizer settings, repeatable) adds a variant diarizer: its
"diarization alone" and "parallel" runs join each round, so the two are compared under the same
load. With ``--repeat`` > 1 each round's parallel / ASR alone is reported too, and their median:
on a shared machine a round's pair is steadier than the fastest runs, which may come from
different minutes.

Each run's CPU seconds (all threads of this process, ``time.process_time``) are reported too,
and the bound they set on the CPU: run together, two stages cannot finish before their summed
CPU work spread over every core, nor before the slower one alone, so
parallel / slower alone >= max(slower, (ASR CPU + diarization CPU) / cores) / slower.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_audio import DEFAULT_EVAL_DIR, TWO_SPEAKER_CLIPS, joined, parse_settings, publish

from scribe.bootstrap import Overrides, build_services
from scribe.domain.options import SpeakerHints, TranscriptionOptions


def timed(run: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all threads of this process) of one call."""
    started, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--minutes", type=float, default=5.0, help="length of the joined recording (default 5)"
    )
    parser.add_argument(
        "--eval-dir",
        type=Path,
        default=DEFAULT_EVAL_DIR,
        help=f"the evaluation clips (default {DEFAULT_EVAL_DIR})",
    )
    parser.add_argument("--out", type=Path, help="also write the report (markdown) here")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the four cases this many times, interleaved, and keep each one's fastest "
        "(a shared machine's load comes and goes; default 1)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a variant of the embedded diarizer to run beside the configured one "
        "(EmbeddedSettings fields, repeatable), e.g. workers=1",
    )
    args = parser.parse_args()

    services = build_services()
    services.warm_up.run()
    services.warm_up.require_ready()
    diarizer = services.diarizer
    if diarizer is None:
        print("SCRIBE_DIARIZER=none: nothing to compare", file=sys.stderr)
        return 2
    engine = services.engines.default
    audio = joined(args.eval_dir, TWO_SPEAKER_CLIPS, args.minutes * 60)
    asr_options = TranscriptionOptions(diarize=False, word_timestamps=True)
    both_options = TranscriptionOptions(diarize=True, word_timestamps=True)

    # One short warm-up of each path, so first-call costs do not land on one side.
    engine.transcribe(audio.slice(0, 20), asr_options)
    diarizer.diarize(audio.slice(0, 20), SpeakerHints())

    cases: dict[str, Callable[[], object]] = {
        "asr": lambda: engine.transcribe(audio, asr_options),
        "diar": lambda: diarizer.diarize(audio, SpeakerHints()),
        "sequential": lambda: (
            engine.transcribe(audio, asr_options),
            diarizer.diarize(audio, SpeakerHints()),
        ),
        "parallel": lambda: services.transcribe.transcribe(audio, both_options),
    }
    variant = ", ".join(args.set)
    if args.set:
        from dataclasses import replace

        from scribe.adapters.diarization.embedded import EmbeddedDiarizer

        if not isinstance(diarizer, EmbeddedDiarizer):
            print("--set needs the embedded diarizer", file=sys.stderr)
            return 2
        options: dict[str, Any] = dict(parse_settings(args.set))
        other = EmbeddedDiarizer(replace(diarizer.settings, **options))
        other.load()
        other.diarize(audio.slice(0, 20), SpeakerHints())
        other_services = build_services(
            overrides=Overrides(asr_engines=services.engines.all, diarizer=other)
        )
        cases["diar variant"] = lambda: other.diarize(audio, SpeakerHints())
        cases["parallel variant"] = lambda: other_services.transcribe.transcribe(
            audio, both_options
        )
    load_before = os.getloadavg()[0]
    best: dict[str, tuple[float, float]] = {}
    rounds: list[dict[str, float]] = []
    for _ in range(max(1, args.repeat)):
        rounds.append({})
        for name, run in cases.items():
            result = timed(run)
            rounds[-1][name] = result[0]
            if name not in best or result[0] < best[name][0]:
                best[name] = result
    asr, asr_cpu = best["asr"]
    diar, diar_cpu = best["diar"]
    sequential = best["sequential"][0]
    parallel = best["parallel"][0]

    slower = max(asr, diar)
    cores = os.cpu_count() or 1
    bound = max(slower, (asr_cpu + diar_cpu) / cores)
    minutes = audio.duration / 60
    rows = [
        ("ASR alone", best["asr"]),
        ("diarization alone", best["diar"]),
        ("both in sequence", best["sequential"]),
        ("both in parallel (the service's path)", best["parallel"]),
    ]
    if args.set:
        rows += [
            (f"diarization alone, {variant}", best["diar variant"]),
            (f"both in parallel, {variant}", best["parallel variant"]),
        ]
    lines = [
        f"recording: {minutes:.1f} min of two-speaker clips ({', '.join(TWO_SPEAKER_CLIPS)})",
        f"engines: ASR {engine.name}, diarizer {diarizer.name}; {cores} CPUs; "
        f"fastest of {max(1, args.repeat)} interleaved run(s) each; "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}; "
        f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}",
        "",
        "| run | seconds | real-time factor | CPU seconds |",
        "| --- | ---: | ---: | ---: |",
        *(
            f"| {label} | {wall:.1f} | {wall / audio.duration:.3f} | {cpu:.1f} |"
            for label, (wall, cpu) in rows
        ),
        "",
        f"parallel / slower alone: {parallel / slower:.2f}   "
        f"parallel / sequential: {parallel / sequential:.2f}",
        f"CPU bound: max(slower alone, (ASR CPU + diarization CPU) / {cores} cores) = "
        f"{bound:.1f} s, so parallel / slower alone >= {bound / slower:.2f}",
    ]
    if args.set:
        other_slower = max(asr, best["diar variant"][0])
        lines.append(
            f"with {variant}: parallel / slower alone: "
            f"{best['parallel variant'][0] / other_slower:.2f}"
        )
    if len(rounds) > 1:
        lines += ["", "each round's parallel / ASR alone (the two run minutes apart at most):"]
        names = ["parallel"] + (["parallel variant"] if args.set else [])
        for name in names:
            ratios = [r[name] / r["asr"] for r in rounds]
            label = "configured" if name == "parallel" else variant
            lines.append(
                f"- {label}: {' '.join(f'{x:.2f}' for x in ratios)}; "
                f"median {statistics.median(ratios):.2f}"
            )
    publish(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
