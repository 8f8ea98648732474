"""Run engines over a manifest's clips, score them, and format the result as a table."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from scribe.domain.errors import ScribeError
from scribe.domain.speakers import speaker_of
from scribe.domain.transcript import SpeakerTurn, Transcript, Word

from .manifest import Clip, load_manifest
from .references import Region, read_rttm, read_text, read_uem
from .scoring import (
    DEFAULT_COLLAR,
    DerScore,
    SpeakerWordScore,
    WerScore,
    diarization_error_rate,
    word_error_rate,
    word_speaker_accuracy,
)

Transcribe = Callable[[Path], Transcript]
Diarize = Callable[[Path], list[SpeakerTurn]]


@dataclass(frozen=True)
class ClipResult:
    """The scores of one clip; a score is ``None`` where the clip has no such reference."""

    id: str
    duration: float | None
    reference_speakers: int | None = None
    hypothesis_speakers: int | None = None
    wer: WerScore | None = None
    der: DerScore | None = None
    der_no_collar: DerScore | None = None
    speaker_words: SpeakerWordScore | None = None
    transcribe_seconds: float | None = None
    diarize_seconds: float | None = None
    error: str | None = None

    @property
    def real_time_factor(self) -> float | None:
        """Processing time over audio duration (transcription and diarization added up)."""
        spent = [s for s in (self.transcribe_seconds, self.diarize_seconds) if s is not None]
        if not spent or not self.duration:
            return None
        return sum(spent) / self.duration


@dataclass(frozen=True)
class Overall:
    """Scores over all clips: WER over all reference words, DER weighted by reference speech."""

    wer: float | None
    der: float | None
    der_no_collar: float | None
    mean_der: float | None
    speaker_word_accuracy: float | None
    real_time_factor: float | None


@dataclass(frozen=True)
class Report:
    """Per-clip results and the collar (pyannote's total width) the DER column used."""

    clips: tuple[ClipResult, ...]
    collar: float = DEFAULT_COLLAR

    @property
    def overall(self) -> Overall:
        wers = [c.wer for c in self.clips if c.wer is not None]
        ders = [c.der for c in self.clips if c.der is not None]
        ders0 = [c.der_no_collar for c in self.clips if c.der_no_collar is not None]
        words = [c.speaker_words for c in self.clips if c.speaker_words is not None]
        timed = [c for c in self.clips if c.real_time_factor is not None and c.duration]
        ref_words = sum(w.reference_words for w in wers)
        scored_words = sum(w.scored for w in words)
        return Overall(
            wer=sum(w.errors for w in wers) / ref_words if ref_words else None,
            der=_weighted(ders),
            der_no_collar=_weighted(ders0),
            mean_der=sum(d.der for d in ders) / len(ders) if ders else None,
            speaker_word_accuracy=(
                sum(w.correct for w in words) / scored_words if scored_words else None
            ),
            real_time_factor=(
                sum((c.real_time_factor or 0.0) * (c.duration or 0.0) for c in timed)
                / sum(c.duration or 0.0 for c in timed)
                if timed
                else None
            ),
        )


def evaluate(
    manifest_path: str | Path,
    transcribe: Transcribe | None = None,
    diarize: Diarize | None = None,
    *,
    collar: float = DEFAULT_COLLAR,
    clip_ids: Collection[str] | None = None,
    on_clip: Callable[[ClipResult], None] | None = None,
) -> Report:
    """Run ``transcribe`` and/or ``diarize`` on each clip of a manifest and score the output.

    - WER needs ``transcribe`` and the clip's ``reference_text``.
    - DER (with ``collar`` and without) needs ``diarize`` and an ``rttm``; the clip's ``uem`` is
      honoured, else the whole clip (``duration_s``) is scored.
    - Word-speaker accuracy needs ``transcribe`` and an ``rttm``. Words keep the speaker the
      transcript gave them; when no word has one and ``diarize`` ran, words are attributed to
      its turns (largest overlap) first.

    ``clip_ids`` limits the run to those clips; ``on_clip`` is called after each clip (progress).
    A :class:`ScribeError` from an engine is recorded in the clip's ``error``; others propagate.
    """
    clips = load_manifest(manifest_path)
    if clip_ids is not None:
        wanted = set(clip_ids)
        clips = [c for c in clips if c.id in wanted]
    results: list[ClipResult] = []
    for clip in clips:
        result = evaluate_clip(clip, transcribe, diarize, collar=collar)
        results.append(result)
        if on_clip is not None:
            on_clip(result)
    return Report(tuple(results), collar)


def evaluate_clip(
    clip: Clip,
    transcribe: Transcribe | None,
    diarize: Diarize | None,
    *,
    collar: float = DEFAULT_COLLAR,
) -> ClipResult:
    """Run the engines on one clip and score what its references allow."""
    reference = read_rttm(clip.rttm) if clip.rttm else None
    uem: list[Region] | None = read_uem(clip.uem) if clip.uem else None
    if uem is None and clip.duration:
        uem = [(0.0, clip.duration)]
    ref_speakers = len({t.speaker for t in reference}) if reference is not None else clip.speakers

    transcript: Transcript | None = None
    turns: list[SpeakerTurn] | None = None
    t_asr = t_diar = None
    try:
        if diarize is not None:
            started = time.perf_counter()
            turns = list(diarize(clip.audio))
            t_diar = time.perf_counter() - started
        if transcribe is not None:
            started = time.perf_counter()
            transcript = transcribe(clip.audio)
            t_asr = time.perf_counter() - started
    except ScribeError as exc:
        return ClipResult(clip.id, clip.duration, ref_speakers, error=exc.message)

    wer = None
    if transcript is not None and clip.reference_text is not None:
        wer = word_error_rate(read_text(clip.reference_text), transcript.text)

    der = der0 = None
    if turns is not None and reference is not None:
        der = diarization_error_rate(reference, turns, uem=uem, collar=collar)
        der0 = diarization_error_rate(reference, turns, uem=uem, collar=0.0)

    speaker_words = None
    if transcript is not None and reference is not None:
        words = _attributed_words(transcript.words, turns)
        if any(w.speaker is not None for w in words):
            speaker_words = word_speaker_accuracy(words, reference)

    hyp_speakers: int | None = None
    if turns is not None:
        hyp_speakers = len({t.speaker for t in turns})
    elif transcript is not None and transcript.speakers:
        hyp_speakers = len(transcript.speakers)
    return ClipResult(
        id=clip.id,
        duration=clip.duration,
        reference_speakers=ref_speakers,
        hypothesis_speakers=hyp_speakers,
        wer=wer,
        der=der,
        der_no_collar=der0,
        speaker_words=speaker_words,
        transcribe_seconds=t_asr,
        diarize_seconds=t_diar,
    )


def format_report(report: Report) -> str:
    """The report as a plain-text table: one row per clip, then the overall row."""
    half = report.collar / 2
    header = (
        "clip",
        "dur s",
        "spk ref/hyp",
        "WER",
        f"DER c{half:g}",
        "DER c0",
        "spk words",
        "RTF",
    )
    rows: list[tuple[str, ...]] = []
    for c in report.clips:
        if c.error is not None:
            rows.append((c.id, _num(c.duration, "{:.1f}"), "error", "", "", "", "", ""))
            continue
        rows.append(
            (
                c.id,
                _num(c.duration, "{:.1f}"),
                f"{_int(c.reference_speakers)}/{_int(c.hypothesis_speakers)}",
                _pct(c.wer.wer if c.wer else None),
                _pct(c.der.der if c.der else None),
                _pct(c.der_no_collar.der if c.der_no_collar else None),
                _pct(c.speaker_words.accuracy if c.speaker_words else None),
                _num(c.real_time_factor, "{:.3f}"),
            )
        )
    o = report.overall
    total_duration = sum(c.duration or 0.0 for c in report.clips)
    rows.append(
        (
            "overall",
            f"{total_duration:.1f}",
            "",
            _pct(o.wer),
            _pct(o.der),
            _pct(o.der_no_collar),
            _pct(o.speaker_word_accuracy),
            _num(o.real_time_factor, "{:.3f}"),
        )
    )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [_row(header, widths), _row(tuple("-" * w for w in widths), widths)]
    lines += [_row(r, widths) for r in rows[:-1]]
    lines += [_row(tuple("-" * w for w in widths), widths), _row(rows[-1], widths)]
    if o.mean_der is not None:
        lines.append(
            f"mean DER over clips (unweighted, collar {half:g} s each side): {_pct(o.mean_der)}"
        )
    lines += [f"{c.id}: {c.error}" for c in report.clips if c.error is not None]
    return "\n".join(lines)


def _attributed_words(words: Sequence[Word], turns: Sequence[SpeakerTurn] | None) -> list[Word]:
    if any(w.speaker is not None for w in words) or not turns:
        return list(words)
    return [w.with_speaker(speaker_of(w.start, w.end, turns)) for w in words]


def _weighted(scores: Sequence[DerScore]) -> float | None:
    total = sum(s.total for s in scores)
    return sum(s.errors for s in scores) / total if total > 0 else None


def _row(cells: tuple[str, ...], widths: list[int]) -> str:
    first = cells[0].ljust(widths[0])
    rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
    return "  ".join([first, *rest]).rstrip()


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def _int(value: int | None) -> str:
    return "-" if value is None else str(value)
