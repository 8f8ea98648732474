"""Speaker attribution: give every word a speaker, then split segments where the speaker changes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

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


def speaker_of(start: float, end: float, turns: Sequence[SpeakerTurn]) -> str | None:
    """The speaker whose turns overlap [start, end] the most; the nearest turn when none overlaps."""
    if not turns:
        return None
    overlap: dict[str, float] = {}
    for turn in turns:
        shared = min(end, turn.end) - max(start, turn.start)
        if shared > 0:
            overlap[turn.speaker] = overlap.get(turn.speaker, 0.0) + shared
    if overlap:
        return max(overlap.items(), key=lambda item: item[1])[0]
    middle = (start + end) / 2

    def distance(turn: SpeakerTurn) -> float:
        if middle < turn.start:
            return turn.start - middle
        return max(0.0, middle - turn.end)

    return min(turns, key=distance).speaker


def assign_speakers(
    segments: Sequence[Segment], turns: Sequence[SpeakerTurn], first_id: int = 0
) -> tuple[Segment, ...]:
    """Attribute each word to a speaker and split segments so none spans two speakers.

    A segment without words (an engine that gives none) takes the speaker of its whole span.
    Segment ids are renumbered from ``first_id`` (attributing a transcript piece by piece gives
    the same ids as attributing it whole).
    """
    out: list[Segment] = []
    for segment in segments:
        if not segment.words:
            speaker = speaker_of(segment.start, segment.end, turns)
            out.append(replace(segment, id=first_id + len(out), speaker=speaker))
            continue
        words = [w.with_speaker(speaker_of(w.start, w.end, turns)) for w in segment.words]
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
