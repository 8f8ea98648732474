"""Score the embedded diarizer on an evaluation manifest, optionally beside an older version.

    python scripts/eval_diarizer.py ../shared/eval/manifest.json [--threads 1] [--oracle-count]
        [--set step=2.0 --set cluster_threshold=0.45 ...] [--baseline issue8-done] [--joined 5]

Clips with speaker turns are scored for DER (0.25 s collar each side, and none; UEMs honoured);
every clip is checked for its speaker count: within one of the reference where it has at least
10 s of speech, and again against the reference voices with at least 2 s of speech (``ref >=2s``;
a voice heard for less is one the models cannot pick out of a far-field meeting). With
``--baseline REF`` the embedded diarizer of git revision REF (e.g. ``issue8-done``, the VAD +
windows + spectral clustering version) runs on the same clips in a subprocess from
``git archive`` of that revision, and the two are printed
side by side. Real-time factors are diarization alone, one clip at a time, in this process
(``--threads`` torch threads); the first clip includes warm-up. ``--joined MINUTES`` adds one
long clip: the two-speaker clips of ``bench_parallel.py`` joined in turn with 0.5 s gaps, scored
against their RTTMs shifted likewise (6 voices; left out of the weighted rows).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")

from scribe.adapters.audio.pyav_decoder import PyAVDecoder
from scribe.adapters.diarization.embedded import EmbeddedDiarizer, EmbeddedSettings
from scribe.domain.audio import Audio
from scribe.domain.options import SpeakerHints
from scribe.domain.transcript import SpeakerTurn
from scribe.evaluation import (
    Clip,
    DerScore,
    diarization_error_rate,
    load_manifest,
    read_rttm,
    read_uem,
)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_audio import TWO_SPEAKER_CLIPS, join_clips, parse_settings, wav_bytes  # noqa: E402

# Runs inside the baseline's source tree: diarize each clip, print turns and seconds as JSON.
_BASELINE_RUNNER = """
import json, sys, time
import torch
from scribe.adapters.audio.pyav_decoder import PyAVDecoder
from scribe.adapters.diarization.embedded import EmbeddedDiarizer
from scribe.domain.options import SpeakerHints
torch.set_num_threads(int(sys.argv[1]))
diarizer = EmbeddedDiarizer()
diarizer.load()
out = {}
for item in json.loads(sys.stdin.read()):
    with open(item["path"], "rb") as f:
        audio = PyAVDecoder().decode(f)
    started = time.perf_counter()
    found = diarizer.diarize(audio, SpeakerHints(num_speakers=item["hint"]))
    seconds = time.perf_counter() - started
    turns = getattr(found, "turns", found)
    out[item["id"]] = {"seconds": seconds,
                       "turns": [[t.start, t.end, t.speaker] for t in turns]}
print(json.dumps(out))
"""


@dataclass(frozen=True)
class Run:
    """One diarizer's output on one clip."""

    turns: list[SpeakerTurn]
    seconds: float


@dataclass(frozen=True)
class Score:
    speakers: int
    der: DerScore | None
    der0: DerScore | None
    seconds: float


def read_audio(path: Path) -> Audio:
    """16 kHz mono float32, decoded as the service decodes uploads."""
    with path.open("rb") as source:
        return PyAVDecoder().decode(source)


def run_current(clips: Sequence[Clip], settings: EmbeddedSettings, oracle: bool) -> dict[str, Run]:
    diarizer = EmbeddedDiarizer(settings)
    started = time.perf_counter()
    diarizer.load()
    print(f"load: {time.perf_counter() - started:.2f} s", file=sys.stderr)
    out: dict[str, Run] = {}
    for clip in clips:
        audio = read_audio(clip.audio)
        started = time.perf_counter()
        found = diarizer.diarize(audio, SpeakerHints(num_speakers=_hint(clip, oracle)))
        out[clip.id] = Run(list(found.turns), time.perf_counter() - started)
        print(f"  {clip.id} done", file=sys.stderr)
    return out


def run_baseline(
    revision: str, clips: Sequence[Clip], threads: int, oracle: bool
) -> dict[str, Run]:
    """The embedded diarizer of git ``revision``, run from an exported copy of its source."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", revision, "backend"],
        check=True,
        capture_output=True,
    ).stdout
    with tempfile.TemporaryDirectory(prefix="scribe-baseline-") as folder:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
        items = [{"id": c.id, "path": str(c.audio), "hint": _hint(c, oracle)} for c in clips]
        env = {**os.environ, "PYTHONPATH": str(Path(folder) / "backend")}
        done = subprocess.run(
            [sys.executable, "-c", _BASELINE_RUNNER, str(threads)],
            input=json.dumps(items),
            check=True,
            capture_output=True,
            text=True,
            env=env,
            cwd=folder,
        )
    raw = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        key: Run([SpeakerTurn(a, b, s) for a, b, s in value["turns"]], value["seconds"])
        for key, value in raw.items()
    }


def joined_clip(manifest: Path, minutes: float, folder: Path) -> Clip:
    """The long clip of ``--joined``: audio and shifted reference turns written to ``folder``."""
    clips = {c.audio.relative_to(manifest.parent).as_posix(): c for c in load_manifest(manifest)}
    parts = [clips[name] for name in TWO_SPEAKER_CLIPS]
    seconds = 60.0 * minutes
    audio, used = join_clips([c.audio for c in parts], seconds)
    lengths = {c.audio.name: read_audio(c.audio).duration for c in parts}
    lines: list[str] = []
    offset = 0.0
    for name in used:
        clip = next(c for c in parts if c.audio.name == name)
        for turn in read_rttm(clip.rttm) if clip.rttm else []:
            start, end = offset + turn.start, min(offset + turn.end, seconds)
            if start < end:
                lines.append(
                    f"SPEAKER joined 1 {start:.3f} {end - start:.3f} <NA> <NA> {turn.speaker} <NA> <NA>"
                )
        offset += lengths[name] + 0.5
    (folder / "joined.wav").write_bytes(wav_bytes(audio))
    (folder / "joined.rttm").write_text("\n".join(lines) + "\n")
    voices = len({line.split()[7] for line in lines})
    return Clip(
        f"joined_{minutes:g}min",
        folder / "joined.wav",
        audio.duration,
        voices,
        None,
        folder / "joined.rttm",
    )


def score(clip: Clip, run: Run) -> Score:
    speakers = len({t.speaker for t in run.turns})
    if clip.rttm is None:
        return Score(speakers, None, None, run.seconds)
    reference = read_rttm(clip.rttm)
    uem = read_uem(clip.uem) if clip.uem else [(0.0, clip.duration or 0.0)]
    return Score(
        speakers,
        diarization_error_rate(reference, run.turns, uem=uem, collar=0.5),
        diarization_error_rate(reference, run.turns, uem=uem, collar=0.0),
        run.seconds,
    )


def speech_seconds(clip: Clip) -> float:
    return sum(t.duration for t in read_rttm(clip.rttm)) if clip.rttm else 0.0


def count_ok(clip: Clip, found: int) -> bool | None:
    """The speaker count rule: within one of the reference on clips with >= 10 s of speech,
    exact on clips without turns (single voices, the two-voice stereo clip); else not judged."""
    if clip.rttm is None:
        return found == clip.speakers
    if speech_seconds(clip) >= 10.0:
        return abs(found - (clip.speakers or 0)) <= 1
    return None


#: Speech a reference voice needs to count in the ``ref >=2s`` column.
AUDIBLE_VOICE_SECONDS = 2.0


def audible_voices(clip: Clip) -> int | None:
    """Reference speakers with at least ``AUDIBLE_VOICE_SECONDS`` of speech (None without
    turns): on far-field meetings a voice heard for under a second or two, often only over
    another, is one that neither model can tell apart (``research/diarization-meetings.md``,
    trn05), so the table shows the count against this too."""
    if clip.rttm is None:
        return None
    seconds: dict[str, float] = {}
    for turn in read_rttm(clip.rttm):
        seconds[turn.speaker] = seconds.get(turn.speaker, 0.0) + turn.duration
    return sum(1 for total in seconds.values() if total >= AUDIBLE_VOICE_SECONDS)


def count_ok_audible(clip: Clip, found: int) -> bool | None:
    """:func:`count_ok` against :func:`audible_voices` instead of every reference voice."""
    audible = audible_voices(clip)
    if audible is None or speech_seconds(clip) < 10.0:
        return count_ok(clip, found)
    return abs(found - audible) <= 1


def table(clips: Sequence[Clip], columns: dict[str, dict[str, Score]]) -> str:
    names = list(columns)
    header = ["clip", "ref spk", "ref >=2s"] + [f"{n} spk" for n in names]
    header += [f"{n} DER c0.25" for n in names] + [f"{n} DER c0" for n in names]
    rows: list[list[str]] = []
    for clip in clips:
        audible = audible_voices(clip)
        row = [clip.id, str(clip.speakers), "-" if audible is None else str(audible)]
        for n in names:
            ok = count_ok(clip, columns[n][clip.id].speakers)
            mark = "" if ok is None else (" ok" if ok else " !")
            row.append(f"{columns[n][clip.id].speakers}{mark}")
        for key in ("der", "der0"):
            for n in names:
                value: DerScore | None = getattr(columns[n][clip.id], key)
                row.append("-" if value is None else f"{100 * value.der:.1f}")
        rows.append(row)

    def weighted(n: str, key: str, pick: Sequence[Clip]) -> str:
        parts = [getattr(columns[n][c.id], key) for c in pick]
        parts = [p for p in parts if p is not None]
        total = sum(p.total for p in parts)
        return f"{100 * sum(p.errors for p in parts) / total:.1f}" if total else "-"

    ami = [c for c in clips if c.id.startswith("ami_") and c.rttm]
    scored = [c for c in clips if c.rttm and not c.id.startswith("joined_")]
    for label, pick in (("AMI, weighted", ami), ("all with turns, weighted", scored)):
        row = [label, "", ""] + [""] * len(names)
        row += [weighted(n, "der", pick) for n in names]
        row += [weighted(n, "der0", pick) for n in names]
        rows.append(row)
    for label, rule in (
        ("speaker counts right", count_ok),
        ("... against voices >= 2 s", count_ok_audible),
    ):
        row = [label, "", ""]
        for n in names:
            judged = [rule(c, columns[n][c.id].speakers) for c in clips]
            row.append(f"{sum(1 for j in judged if j)}/{sum(1 for j in judged if j is not None)}")
        rows.append(row + [""] * (2 * len(names)))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        )

    lines = [line(header), line(["-" * w for w in widths])]
    lines += [line(r) for r in rows[: len(clips)]]
    lines += [line(["-" * w for w in widths])] + [line(r) for r in rows[len(clips) :]]
    duration = sum(c.duration or 0.0 for c in clips)
    for n in names:
        spent = sum(s.seconds for s in columns[n].values())
        lines.append(
            f"{n}: real-time factor {spent / duration:.3f} ({spent:.1f} s for {duration:.0f} s)"
        )
    return "\n".join(lines)


def _hint(clip: Clip, oracle: bool) -> int | None:
    return clip.speakers if oracle else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (default 1, as the diarizer)"
    )
    parser.add_argument(
        "--oracle-count", action="store_true", help="pass the reference speaker count as a hint"
    )
    parser.add_argument("--clips", nargs="*", help="clip ids (default: all)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        help="EmbeddedSettings field NAME=VALUE (repeatable), e.g. step=2.0",
    )
    parser.add_argument(
        "--baseline", metavar="REV", help="also run the embedded diarizer of this git revision"
    )
    parser.add_argument(
        "--joined",
        type=float,
        metavar="MINUTES",
        help="also score the two-speaker clips joined into one recording this long",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scribe-joined-") as folder:
        evaluate(args, Path(folder))


def evaluate(args: argparse.Namespace, folder: Path) -> None:
    """Run the diarizer(s) on the chosen clips and print the table."""
    options = parse_settings(args.set)
    settings = EmbeddedSettings(threads=args.threads, **options)  # type: ignore[arg-type]
    clips = [c for c in load_manifest(args.manifest) if not args.clips or c.id in args.clips]
    if args.joined:
        clips.append(joined_clip(args.manifest.resolve(), args.joined, folder))
    columns: dict[str, dict[str, Score]] = {}
    if args.baseline:
        old = run_baseline(args.baseline, clips, args.threads, args.oracle_count)
        columns["old"] = {c.id: score(c, old[c.id]) for c in clips}
    new = run_current(clips, settings, args.oracle_count)
    columns["new"] = {c.id: score(c, new[c.id]) for c in clips}
    print(table(clips, columns))
    print(
        f"settings: threads={args.threads} oracle_count={args.oracle_count} {options}"
        + (f" baseline={args.baseline}" if args.baseline else "")
    )


if __name__ == "__main__":
    main()
