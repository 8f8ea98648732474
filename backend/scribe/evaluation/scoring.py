"""Scores: word error rate, diarization error rate, and the share of words with the right speaker.

jiwer, pyannote.metrics and scipy are imported when a score is computed (they come with the
``test`` extra), so importing this module stays cheap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scribe.domain.errors import ScribeError
from scribe.domain.transcript import SpeakerTurn, Word

from .references import Region

#: Forgiveness collar as pyannote.metrics counts it: the *total* width around each reference
#: boundary (0.5 s total = 0.25 s on each side), as the evaluation README asks.
DEFAULT_COLLAR = 0.5

_PUNCTUATION = re.compile(r"[^\w\s']|_")
_APOSTROPHE = re.compile(r"'")
_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Lower-case, turn punctuation into spaces, drop apostrophes, squeeze whitespace.

    Apostrophes are removed rather than split on ("didn't" -> "didnt") so that contractions
    count as one word on both sides.
    """
    text = _PUNCTUATION.sub(" ", text.lower())
    text = _APOSTROPHE.sub("", text)
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True)
class WerScore:
    """Word error counts of one hypothesis against one reference (normalised texts)."""

    substitutions: int
    deletions: int
    insertions: int
    reference_words: int

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def wer(self) -> float:
        """Errors over reference words; 0 for an empty reference and hypothesis."""
        if self.reference_words == 0:
            return 0.0 if self.errors == 0 else float("inf")
        return self.errors / self.reference_words


def word_error_rate(reference: str, hypothesis: str) -> WerScore:
    """WER after :func:`normalize_text` on both sides."""
    ref = normalize_text(reference)
    hyp = normalize_text(hypothesis)
    ref_words = len(ref.split())
    if not ref:
        return WerScore(0, 0, len(hyp.split()), 0)
    if not hyp:
        return WerScore(0, ref_words, 0, ref_words)
    jiwer = _import("jiwer", "jiwer")
    out = jiwer.process_words(ref, hyp)
    return WerScore(
        substitutions=int(out.substitutions),
        deletions=int(out.deletions),
        insertions=int(out.insertions),
        reference_words=ref_words,
    )


@dataclass(frozen=True)
class DerScore:
    """Diarization error components in seconds (after the collar is taken out of ``total``)."""

    missed: float
    false_alarm: float
    confusion: float
    total: float

    @property
    def errors(self) -> float:
        return self.missed + self.false_alarm + self.confusion

    @property
    def der(self) -> float:
        """(missed + false alarm + confusion) / reference speech; 0 when both are empty."""
        if self.total <= 0:
            return 0.0 if self.errors <= 0 else float("inf")
        return self.errors / self.total


def diarization_error_rate(
    reference: Sequence[SpeakerTurn],
    hypothesis: Sequence[SpeakerTurn],
    *,
    uem: Sequence[Region] | None = None,
    collar: float = DEFAULT_COLLAR,
) -> DerScore:
    """DER with pyannote.metrics, labels mapped optimally (so swapped labels cost nothing).

    ``collar`` is pyannote's total width around each reference boundary (0.5 = 0.25 s each
    side; 0 for none). Overlapped speech is scored. Only the ``uem`` regions are scored; without
    one, pyannote scores the extent of reference and hypothesis together, so pass the whole clip
    ``[(0, duration)]`` when you know it.
    """
    metrics = _import("pyannote.metrics.diarization", "pyannote.metrics")
    core = _import("pyannote.core", "pyannote.metrics")
    ref = _annotation(core, reference)
    hyp = _annotation(core, hypothesis)
    if uem is not None:
        scored = core.Timeline([core.Segment(s, e) for s, e in uem])
    else:
        scored = (ref.get_timeline() | hyp.get_timeline()).extent()
        scored = core.Timeline([scored]) if scored.duration > 0 else core.Timeline()
    metric = metrics.DiarizationErrorRate(collar=collar, skip_overlap=False)
    parts = metric.compute_components(ref, hyp, uem=scored)
    return DerScore(
        missed=float(parts["missed detection"]),
        false_alarm=float(parts["false alarm"]),
        confusion=float(parts["confusion"]),
        total=float(parts["total"]),
    )


@dataclass(frozen=True)
class SpeakerWordScore:
    """How many scored words got the right speaker, and how many were skipped and why."""

    correct: int
    scored: int
    skipped_silence: int
    skipped_overlap: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.scored if self.scored else 0.0


def word_speaker_accuracy(
    words: Sequence[Word], reference: Sequence[SpeakerTurn]
) -> SpeakerWordScore:
    """The share of words attributed to the right speaker.

    Each word's reference speaker is the one talking at the word's midpoint in the reference
    turns. Words skipped (not scored): those whose midpoint falls where *no* reference speaker
    talks (``skipped_silence``) and those where *two or more* talk at once
    (``skipped_overlap``). Hypothesis labels are mapped one-to-one to reference labels with the
    optimal (Hungarian) assignment that maximises the scored words' duration shared by each
    pair; a word whose label has no partner, or that has no speaker at all, counts as wrong.
    """
    pairs: list[tuple[str | None, str, float]] = []
    silence = overlap = 0
    for word in words:
        middle = (word.start + word.end) / 2
        active = {t.speaker for t in reference if t.start <= middle < t.end}
        if not active:
            silence += 1
        elif len(active) > 1:
            overlap += 1
        else:
            pairs.append((word.speaker, active.pop(), max(word.end - word.start, 1e-3)))
    mapping = _best_mapping(pairs)
    correct = sum(1 for hyp, ref, _ in pairs if hyp is not None and mapping.get(hyp) == ref)
    return SpeakerWordScore(correct, len(pairs), silence, overlap)


def _best_mapping(pairs: Sequence[tuple[str | None, str, float]]) -> dict[str, str]:
    """Hypothesis label -> reference label, one-to-one, maximising shared word duration."""
    hyp_labels = sorted({h for h, _, _ in pairs if h is not None})
    ref_labels = sorted({r for _, r, _ in pairs})
    if not hyp_labels or not ref_labels:
        return {}
    import numpy as np

    optimize = _import("scipy.optimize", "scipy")
    shared = np.zeros((len(hyp_labels), len(ref_labels)))
    for hyp, ref, weight in pairs:
        if hyp is not None:
            shared[hyp_labels.index(hyp), ref_labels.index(ref)] += weight
    rows, cols = optimize.linear_sum_assignment(shared, maximize=True)
    return {hyp_labels[r]: ref_labels[c] for r, c in zip(rows, cols, strict=True) if shared[r, c]}


def _annotation(core: Any, turns: Sequence[SpeakerTurn]) -> Any:
    annotation = core.Annotation()
    for index, turn in enumerate(turns):
        if turn.end > turn.start:
            annotation[core.Segment(turn.start, turn.end), index] = turn.speaker
    return annotation


def _import(module: str, package: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ScribeError(
            f"Scoring needs the Python package '{package}', which is not installed ({exc}). "
            f"Install the eval extra: pip install -c constraints.txt '.[eval]'."
        ) from exc
