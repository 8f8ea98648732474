"""Speaker attribution: give every word a speaker, then split segments where the speaker changes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from .transcript import Segment, SpeakerTurn, Word, words_text


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
    segments: Sequence[Segment], turns: Sequence[SpeakerTurn]
) -> tuple[Segment, ...]:
    """Attribute each word to a speaker and split segments so none spans two speakers.

    A segment without words (an engine that gives none) takes the speaker of its whole span.
    Segment ids are renumbered from 0.
    """
    out: list[Segment] = []
    for segment in segments:
        if not segment.words:
            speaker = speaker_of(segment.start, segment.end, turns)
            out.append(replace(segment, id=len(out), speaker=speaker))
            continue
        words = [w.with_speaker(speaker_of(w.start, w.end, turns)) for w in segment.words]
        for run in _runs_by_speaker(words):
            out.append(
                replace(
                    segment,
                    id=len(out),
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


def speaker_labels(
    segments: Sequence[Segment],
    turns: Sequence[SpeakerTurn],
    names: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Final labels for the diarizer's raw ones.

    Speakers with a known name keep it; the others become SPEAKER_00, SPEAKER_01, ... in order of
    first appearance in the transcript (speakers who say no recognised word come last, in the
    order of their first turn).
    """
    names = names or {}
    order: dict[str, None] = {}
    for segment in segments:
        for speaker in [w.speaker for w in segment.words] or [segment.speaker]:
            if speaker is not None:
                order.setdefault(speaker, None)
    for turn in sorted(turns, key=lambda t: (t.start, t.end)):
        order.setdefault(turn.speaker, None)
    labels: dict[str, str] = {}
    for raw in order:
        if raw in names:
            labels[raw] = names[raw]
        else:
            labels[raw] = f"SPEAKER_{sum(1 for r in labels if r not in names):02d}"
    return labels


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
