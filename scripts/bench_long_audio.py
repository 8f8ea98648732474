#!/usr/bin/env python
"""Long recordings with the Whisper engine: today's path, the batched path and bare faster-whisper
side by side, in one run, on the same joined file: time, WER and loop signs for each.

    flock /tmp/scribe-bench.lock python scripts/bench_long_audio.py
    python scripts/bench_long_audio.py --minutes 1 --files reference --out research/x.md

Rows, all on one loaded model (the same CTranslate2 object), beam 5, word timestamps on:

- "before issue 16": the engine with the defaults shipped before it (sequential path,
  temperature fallback on, no VAD), reached by settings: SCRIBE_WHISPER_BATCH_SIZE=0.
- "before, fallback off + VAD": the sequential path with the settings that looped in issue 16.
- "Scribe engine (batched)": the engine with today's defaults (batch size per device).
- "bare BatchedInferencePipeline": faster-whisper's own batched call with the same settings
  (timestamps on, as the engine decodes) and, for reference, with its own defaults (one segment
  per 30 s window).

Files: "reference" joins the evaluation clips that have a reference transcript (WER is exact);
"speech" is the file issue 16 used (scripts/_bench_audio.SPEECH_CLIPS), which includes
ami/dev00.wav: it has no reference transcript, so every word heard in it counts as an insertion
and a path that drops that speech scores better. Read its WER with that in mind.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_audio import DEFAULT_EVAL_DIR, SPEECH_CLIPS, join_clips, publish

from scribe.adapters.asr.faster_whisper_engine import FasterWhisperEngine
from scribe.bootstrap import whisper_cpu_threads
from scribe.config import Settings
from scribe.domain.audio import Audio
from scribe.domain.options import TranscriptionOptions
from scribe.evaluation import word_error_rate
from scribe.evaluation.references import read_text

REFERENCE_CLIPS = [
    "pyannote_sample.wav",
    "jfk.flac",
    "librispeech_2412-153948-0000.flac",
    "ami_ES2011a_headset_40-46s.wav",
]
FILES = {"reference": REFERENCE_CLIPS, "speech": SPEECH_CLIPS}


@dataclass(frozen=True)
class Run:
    name: str
    seconds: float
    text: str
    segments: int


def reference_text(eval_dir: Path, used: Iterable[str], clips: list[str]) -> str:
    """The references of the pieces joined, in order ('' for a clip without one)."""
    by_name = {Path(c).name: eval_dir / c for c in clips}
    texts = []
    for name in used:
        ref = by_name[name].with_suffix(".ref.txt")
        texts.append(read_text(ref) if ref.exists() else "")
    return " ".join(t for t in texts if t)


def timed(name: str, call: Callable[[], tuple[str, int]]) -> Run:
    started = time.perf_counter()
    text, segments = call()
    return Run(name, time.perf_counter() - started, text, segments)


def engine_call(engine: FasterWhisperEngine, audio: Audio) -> Callable[[], tuple[str, int]]:
    options = TranscriptionOptions(word_timestamps=True, diarize=False)

    def call() -> tuple[str, int]:
        result = engine.transcribe(audio, options)
        return " ".join(s.text.strip() for s in result.segments), len(result.segments)

    return call


def bare_call(
    model: Any, audio: Audio, beam_size: int, batch_size: int, **kwargs: Any
) -> Callable[[], tuple[str, int]]:
    from faster_whisper import BatchedInferencePipeline

    def call() -> tuple[str, int]:
        segments, _ = BatchedInferencePipeline(model).transcribe(
            audio.samples,
            beam_size=beam_size,
            batch_size=batch_size,
            word_timestamps=True,
            **kwargs,
        )
        texts = [s.text.strip() for s in segments]
        return " ".join(texts), len(texts)

    return call


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--files", default="reference,speech", help="reference, speech or both")
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--out", type=Path, help="also write the report (markdown) here")
    args = parser.parse_args()

    settings = Settings()
    threads = whisper_cpu_threads(settings)

    def engine(**overrides: Any) -> FasterWhisperEngine:
        kwargs: dict[str, Any] = {
            "model": settings.whisper_model,
            "cache_dir": settings.cache_dir,
            "device": "cpu",
            "compute_type": settings.whisper_compute_type,
            "beam_size": settings.whisper_beam_size,
            "cpu_threads": threads,
            "allow_downloads": settings.allow_downloads,
        } | overrides
        return FasterWhisperEngine(**kwargs)

    new = engine(batch_size=settings.whisper_batch_size)
    model = new.load()
    # The other engines share the loaded model: same weights, same CTranslate2 object.
    before = engine(batch_size=0, temperature_fallback=True, vad_filter=False)
    looping = engine(batch_size=0, temperature_fallback=False, vad_filter=True)
    for other in (before, looping):
        other._loaded = new._loaded  # a benchmark: one model for all rows
    beam, batch = settings.whisper_beam_size, new.batch_size

    lines = [
        f"Whisper {settings.whisper_model} on CPU ({new.compute_type}, {threads} threads, "
        f"beam {beam}); Scribe's batch size {batch}; {os.cpu_count()} CPUs; "
        f"load average before: {os.getloadavg()[0]:.2f}",
        "",
    ]
    for file in args.files.split(","):
        clips = FILES[file]
        audio, used = join_clips([args.eval_dir / c for c in clips], args.minutes * 60)
        reference = reference_text(args.eval_dir, used, clips)
        warm = audio.slice(0, 20)
        for path in (before, new):
            path.transcribe(warm, TranscriptionOptions(diarize=False))
        runs = [
            timed("before issue 16 (sequential, fallback on, no VAD)", engine_call(before, audio)),
            timed("before, fallback off + VAD (issue 16's loop)", engine_call(looping, audio)),
            timed(f"Scribe engine, batched ({batch})", engine_call(new, audio)),
            timed(
                f"bare BatchedInferencePipeline ({batch}), same settings",
                bare_call(model, audio, beam, batch, without_timestamps=False),
            ),
            timed(
                f"bare BatchedInferencePipeline ({batch}), its defaults",
                bare_call(model, audio, beam, batch),
            ),
        ]
        scribe, bare = runs[2], runs[3]
        lines += [
            f"### {file}: {audio.duration / 60:.1f} min joined from {', '.join(clips)}",
            "",
            "| path | seconds | x real time | WER | subs / del / ins | segments | top word |",
            "| --- | ---: | ---: | ---: | --- | ---: | --- |",
        ]
        for run in runs:
            wer = word_error_rate(reference, run.text)
            words = [w.strip(",.?!").lower() for w in run.text.split()]
            top, count = Counter(words).most_common(1)[0] if words else ("-", 0)
            lines.append(
                f"| {run.name} | {run.seconds:.1f} | {audio.duration / run.seconds:.1f} | "
                f"{wer.wer:.3f} | {wer.substitutions} / {wer.deletions} / {wer.insertions} | "
                f"{run.segments} | {top} x{count} |"
            )
        lines += [
            "",
            f"Scribe / bare batched (same settings): {scribe.seconds / bare.seconds:.2f}; "
            f"before / Scribe: {runs[0].seconds / scribe.seconds:.2f}; "
            f"load average after: {os.getloadavg()[0]:.2f}",
            "",
        ]
    publish(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
