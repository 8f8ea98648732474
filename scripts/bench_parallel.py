#!/usr/bin/env python
"""ASR and diarization alone, in parallel and in sequence, on one multi-minute two-speaker file.

    python scripts/bench_parallel.py                       # 5 minutes, the configured engines
    python scripts/bench_parallel.py --minutes 3 --out research/x.md
    SCRIBE_ASR_ENGINE=nemo SCRIBE_DIARIZER=pyannote python scripts/bench_parallel.py   # GPU

"parallel" is the service's own path (TranscribeAudio: ASR and diarization in two threads);
"sequential" runs the same two calls one after the other. The ratio to hit on a GPU is
parallel <= 1.15 x the slower of the two alone.

Each run's CPU seconds (all threads of this process, ``time.process_time``) are reported too,
and the bound they set on the CPU: run together, two stages cannot finish before their summed
CPU work spread over every core, nor before the slower one alone, so
parallel / slower alone >= max(slower, (ASR CPU + diarization CPU) / cores) / slower.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_audio import DEFAULT_EVAL_DIR, TWO_SPEAKER_CLIPS, joined, publish

from scribe.bootstrap import build_services
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
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--out", type=Path, help="also write the report (markdown) here")
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

    asr, asr_cpu = timed(lambda: engine.transcribe(audio, asr_options))
    diar, diar_cpu = timed(lambda: diarizer.diarize(audio, SpeakerHints()))
    sequential, sequential_cpu = timed(
        lambda: (engine.transcribe(audio, asr_options), diarizer.diarize(audio, SpeakerHints()))
    )
    parallel, parallel_cpu = timed(lambda: services.transcribe.transcribe(audio, both_options))

    slower = max(asr, diar)
    cores = os.cpu_count() or 1
    bound = max(slower, (asr_cpu + diar_cpu) / cores)
    minutes = audio.duration / 60
    lines = [
        f"recording: {minutes:.1f} min of two-speaker clips ({', '.join(TWO_SPEAKER_CLIPS)})",
        f"engines: ASR {engine.name}, diarizer {diarizer.name}; {cores} CPUs",
        "",
        "| run | seconds | real-time factor | CPU seconds |",
        "| --- | ---: | ---: | ---: |",
        f"| ASR alone | {asr:.1f} | {asr / audio.duration:.3f} | {asr_cpu:.1f} |",
        f"| diarization alone | {diar:.1f} | {diar / audio.duration:.3f} | {diar_cpu:.1f} |",
        f"| both in sequence | {sequential:.1f} | {sequential / audio.duration:.3f} "
        f"| {sequential_cpu:.1f} |",
        f"| both in parallel (the service's path) | {parallel:.1f} "
        f"| {parallel / audio.duration:.3f} | {parallel_cpu:.1f} |",
        "",
        f"parallel / slower alone: {parallel / slower:.2f}   "
        f"parallel / sequential: {parallel / sequential:.2f}",
        f"CPU bound: max(slower alone, (ASR CPU + diarization CPU) / {cores} cores) = "
        f"{bound:.1f} s, so parallel / slower alone >= {bound / slower:.2f}",
    ]
    publish(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
