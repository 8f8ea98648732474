"""Score the embedded diarizer on the clips of an evaluation manifest that have speaker turns.

    python scripts/eval_diarizer.py ../shared/eval/manifest.json [--threads 2] [--oracle-count]
        [--set window=1.5 --set hop=0.75 ...]

Prints the per-clip table of scribe.evaluation (DER with a 0.25 s collar each side and without,
real-time factor of diarization alone). Clips are decoded by the service's own decoder.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")

from scribe.adapters.audio.pyav_decoder import PyAVDecoder
from scribe.adapters.diarization.embedded import EmbeddedDiarizer, EmbeddedSettings
from scribe.domain.audio import Audio
from scribe.domain.options import SpeakerHints
from scribe.domain.transcript import SpeakerTurn
from scribe.evaluation import evaluate, format_report, load_manifest


def read_audio(path: Path) -> Audio:
    """16 kHz mono float32, decoded as the service decodes uploads."""
    with path.open("rb") as source:
        return PyAVDecoder().decode(source)


def parse_value(text: str) -> float | int | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (default 1, as the diarizer)"
    )
    parser.add_argument(
        "--oracle-count", action="store_true", help="pass the reference speaker count as a hint"
    )
    parser.add_argument("--clips", nargs="*", help="clip ids (default: all with an RTTM)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        help="EmbeddedSettings field NAME=VALUE (repeatable), e.g. hop=0.5",
    )
    args = parser.parse_args()

    options = {k: parse_value(v) for k, v in (item.split("=", 1) for item in args.set)}
    settings = EmbeddedSettings(threads=args.threads, **options)  # type: ignore[arg-type]
    diarizer = EmbeddedDiarizer(settings)
    started = time.perf_counter()
    diarizer.load()
    print(f"load: {time.perf_counter() - started:.2f} s", file=sys.stderr)

    clips = {c.audio: c for c in load_manifest(args.manifest)}
    ids = args.clips or [c.id for c in clips.values() if c.rttm is not None]

    def diarize(path: Path) -> list[SpeakerTurn]:
        clip = clips[path]
        hints = SpeakerHints(num_speakers=clip.speakers if args.oracle_count else None)
        return diarizer.diarize(read_audio(path), hints)

    report = evaluate(
        args.manifest,
        diarize=diarize,
        clip_ids=ids,
        on_clip=lambda r: print(f"  {r.id} done", file=sys.stderr),
    )
    print(format_report(report))
    print(f"settings: threads={args.threads} oracle_count={args.oracle_count} {options}")


if __name__ == "__main__":
    main()
