"""Speaker attribution: give every word a speaker, then split segments where the speaker changes."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from itertools import pairwise

from .transcript import Segment, SpeakerTurn, Word, words_text

_GENERATED = re.compile(r"^SPEAKER_(\d+)$")


def generated_label(index: int) -> str:
    """The label of the ``index``-th unnamed speaker: SPEAKER_00, SPEAKER_01, ..."""
    return f"SPEAKER_{index:02d}"


def is_generated_label(label: str) -> bool:
    """Whether ``label`` has the shape of a generated label (so it cannot be a known name)."""
    return _GENERATED.match(label) is not None


def letter_label(label: str) -> str:
    """OpenAI's style for unnamed speakers: SPEAKER_00 -> A, SPEAKER_25 -> Z, SPEAKER_26 -> AA.
    Any other label (a known speaker's name) is returned unchanged."""
    match = _GENERATED.match(label)
    if match is None:
        return label
    index = int(match[1])
    letters = ""
    while True:
        index, rest = divmod(index, 26)
        letters = chr(ord("A") + rest) + letters
        if index == 0:
            return letters
        index -= 1


class TurnIndex:
    """Speaker turns sorted by start, for fast lookups of the turns around a time span."""

    def __init__(self, turns: Sequence[SpeakerTurn]) -> None:
        self.turns = sorted(turns, key=lambda t: (t.start, t.end))
        self._starts = [t.start for t in self.turns]
        self._longest = max((t.duration for t in self.turns), default=0.0)

    def overlapping(self, start: float, end: float) -> list[SpeakerTurn]:
        """Turns that share time with ``[start, end]``."""
        last = bisect_left(self._starts, end)
        first = bisect_left(self._starts, start - self._longest)
        return [t for t in self.turns[first:last] if t.end > start]


def speaker_of(
    start: float,
    end: float,
    turns: Sequence[SpeakerTurn] | TurnIndex,
) -> str | None:
    """The speaker of a word spanning ``[start, end]``.

    - The speaker who talks *alone* longest during the word wins (overlapped stretches, where
      two turns run at once, do not decide).
    - A word that lies wholly inside overlapped speech goes to the speaker whose turn began
      last: where turns overlap, mostly one speaker takes over from another, and the words in
      the overlap are the newcomer's first ones (then the speaker covering more of the word).
    - A word in a gap goes to the nearest turn.
    """
    index = turns if isinstance(turns, TurnIndex) else TurnIndex(turns)
    if not index.turns:
        return None
    around = index.overlapping(start, end)
    if around:
        alone, shared, began = _shares(start, end, around)
        if any(v > 0 for v in alone.values()):
            return max(alone, key=lambda s: (alone[s], shared[s]))
        return max(shared, key=lambda s: (began[s], shared[s]))
    middle = (start + end) / 2

    def distance(turn: SpeakerTurn) -> float:
        if middle < turn.start:
            return turn.start - middle
        return max(0.0, middle - turn.end)

    return min(index.turns, key=distance).speaker


def _shares(
    start: float, end: float, turns: Sequence[SpeakerTurn]
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Per speaker: time talking alone in ``[start, end]``, time talking at all, and the start
    of their latest turn there."""
    cuts = sorted({start, end, *(t.start for t in turns), *(t.end for t in turns)})
    cuts = [c for c in cuts if start <= c <= end]
    alone: dict[str, float] = {}
    shared: dict[str, float] = {}
    began: dict[str, float] = {}
    for turn in turns:
        alone.setdefault(turn.speaker, 0.0)
        shared.setdefault(turn.speaker, 0.0)
        began[turn.speaker] = max(began.get(turn.speaker, turn.start), turn.start)
    for a, b in pairwise(cuts):
        if b <= a:
            continue
        middle = (a + b) / 2
        talking = {t.speaker for t in turns if t.start <= middle < t.end}
        for speaker in talking:
            shared[speaker] += b - a
        if len(talking) == 1:
            alone[next(iter(talking))] += b - a
    return alone, shared, began


def assign_speakers(
    segments: Sequence[Segment], turns: Sequence[SpeakerTurn], first_id: int = 0
) -> tuple[Segment, ...]:
    """Attribute each word to a speaker and split segments so none spans two speakers.

    Words are attributed by :func:`speaker_of`. A segment without words (an engine that gives
    none) takes the speaker of its whole span. Segment ids are renumbered from ``first_id``
    (attributing a transcript piece by piece gives the same ids as attributing it whole).
    """
    index = TurnIndex(turns)
    out: list[Segment] = []
    for segment in segments:
        if not segment.words:
            speaker = speaker_of(segment.start, segment.end, index)
            out.append(replace(segment, id=first_id + len(out), speaker=speaker))
            continue
        words = [w.with_speaker(speaker_of(w.start, w.end, index)) for w in segment.words]
        for run in _runs_by_speaker(words):
            out.append(
                replace(
                    segment,
                    id=first_id + len(out),
                    start=run[0].start if len(run) < len(words) else segment.start,
                    end=run[-1].end if len(run) < len(words) else segment.end,
                    text=words_text(run) if len(run) < len(words) else segment.text,
                    words=tuple(run),
                    speaker=run[0].speaker,
                )
            )
    return tuple(out)


def _runs_by_speaker(words: Sequence[Word]) -> list[list[Word]]:
    runs: list[list[Word]] = []
    for word in words:
        if runs and runs[-1][-1].speaker == word.speaker:
            runs[-1].append(word)
        else:
            runs.append([word])
    return runs


class SpeakerLabeler:
    """Final labels for the diarizer's raw ones, given as the transcript is attributed.

    Speakers with a known name keep it; the others become SPEAKER_00, SPEAKER_01, ... in order of
    first appearance in the transcript. ``finish`` labels the speakers who said no recognised
    word, in the order of their first turn. Feeding segments in time order gives the same labels
    as ``speaker_labels`` on the whole transcript.
    """

    def __init__(self, names: Mapping[str, str] | None = None) -> None:
        self._names = dict(names or {})
        self._labels: dict[str, str] = {}
        self._unnamed = 0

    def label(self, raw: str) -> str:
        if raw not in self._labels:
            if raw in self._names:
                self._labels[raw] = self._names[raw]
            else:
                self._labels[raw] = generated_label(self._unnamed)
                self._unnamed += 1
        return self._labels[raw]

    def relabel(self, segments: Iterable[Segment]) -> tuple[Segment, ...]:
        """The segments with final labels (raw speakers seen for the first time get theirs)."""

        def new(speaker: str | None) -> str | None:
            return None if speaker is None else self.label(speaker)

        out = []
        for s in segments:
            words = tuple(w.with_speaker(new(w.speaker)) for w in s.words)
            out.append(replace(s, speaker=new(s.speaker), words=words))
        return tuple(out)

    def finish(self, turns: Sequence[SpeakerTurn]) -> dict[str, str]:
        """Every raw label's final one, including speakers with turns but no words."""
        for turn in sorted(turns, key=lambda t: (t.start, t.end)):
            self.label(turn.speaker)
        return dict(self._labels)


def speaker_labels(
    segments: Sequence[Segment],
    turns: Sequence[SpeakerTurn],
    names: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Final labels for the diarizer's raw ones (see ``SpeakerLabeler``)."""
    labeler = SpeakerLabeler(names)
    for segment in segments:
        for speaker in [w.speaker for w in segment.words] or [segment.speaker]:
            if speaker is not None:
                labeler.label(speaker)
    return labeler.finish(turns)


def relabel(segments: Sequence[Segment], labels: Mapping[str, str]) -> tuple[Segment, ...]:
    """Apply a label mapping to segments and their words."""

    def new(speaker: str | None) -> str | None:
        return None if speaker is None else labels.get(speaker, speaker)

    return tuple(
        replace(
            s,
            speaker=new(s.speaker),
            words=tuple(w.with_speaker(new(w.speaker)) for w in s.words),
        )
        for s in segments
    )


def relabel_turns(
    turns: Sequence[SpeakerTurn], labels: Mapping[str, str]
) -> tuple[SpeakerTurn, ...]:
    """Apply a label mapping to speaker turns."""
    return tuple(replace(t, speaker=labels.get(t.speaker, t.speaker)) for t in turns)


def speakers_in_order(segments: Sequence[Segment]) -> tuple[str, ...]:
    """Distinct speakers of a transcript in order of first appearance."""
    seen: dict[str, None] = {}
    for segment in segments:
        if segment.speaker is not None:
            seen.setdefault(segment.speaker, None)
    return tuple(seen)
