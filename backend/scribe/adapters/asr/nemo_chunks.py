"""The NeMo engine's pure parts: chunk planning and segments from NeMo's word timestamps.

Long recordings are cut into chunks of ``chunk_seconds`` that overlap by ``overlap_seconds``; each
chunk is transcribed with full attention, times are shifted back, and of the words in an overlap
only those whose midpoint falls in a chunk's own core (the half of the overlap nearest to it) are
kept, so nothing is repeated or lost at the seams. This was chosen over NeMo's local attention
(``change_attention_model("rel_pos_local_attn")``) because it keeps the model's trained numerics
(full context within each chunk: no accuracy change for ordinary lengths), bounds GPU memory by
the chunk length for any model and any recording length, and lets ``on_segment`` report progress
chunk by chunk.

Nothing here imports NeMo or torch: it is tested on its own, in ``tests/unit``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scribe.domain.transcript import Segment, Word

# nvidia/parakeet-tdt-0.6b-v3 transcribes these 25 European languages; v2 is English only.
PARAKEET_V3_LANGUAGES: tuple[str, ...] = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "hr", "hu", "it",
    "lt", "lv", "mt", "nl", "pl", "pt", "ro", "ru", "sk", "sl", "sv", "uk",
)  # fmt: skip

# Chunks overlap by this much (at most a quarter of a chunk).
OVERLAP_SECONDS = 2.0
# Segments longer than this are split at word boundaries (subtitles stay readable).
MAX_SEGMENT_SECONDS = 30.0


def languages_for_model(model: str) -> tuple[str, ...]:
    """The languages a Parakeet model transcribes, judged from its name (v3 is multilingual)."""
    name = model.lower()
    if "-v3" in name or "multilingual" in name:
        return PARAKEET_V3_LANGUAGES
    return ("en",)


@dataclass(frozen=True)
class Chunk:
    """A window of the recording, and the part of it (its core) whose words it owns."""

    start: float
    end: float
    core_start: float
    core_end: float


def plan_chunks(
    duration: float, chunk_seconds: float, overlap_seconds: float = OVERLAP_SECONDS
) -> list[Chunk]:
    """Overlapping windows covering ``[0, duration]`` whose cores tile it without gaps."""
    if duration <= chunk_seconds:
        return [Chunk(0.0, duration, 0.0, duration)]
    overlap = min(overlap_seconds, chunk_seconds / 4)
    step = chunk_seconds - overlap
    count = math.ceil((duration - overlap) / step)
    chunks = []
    for i in range(count):
        start = i * step
        end = min(start + chunk_seconds, duration)
        core_start = 0.0 if i == 0 else start + overlap / 2
        core_end = duration if i == count - 1 else start + step + overlap / 2
        chunks.append(Chunk(start, end, core_start, core_end))
    return chunks


def chunk_segments(
    stamps: Mapping[str, Any], chunk: Chunk, duration: float, stride: float
) -> list[list[Word]]:
    """The words of one chunk's hypothesis that its core owns, grouped into segments.

    ``stamps`` is a NeMo hypothesis' ``timestamp`` dict (``word`` and ``segment`` lists, times in
    seconds or in encoder frames of ``stride`` seconds); times come back in recording time,
    clamped to ``[0, duration]``.
    """
    raw_words = list(stamps.get("word", []) or [])
    raw_segments = list(stamps.get("segment", []) or [])
    words: list[Word] = []
    for item in raw_words:
        text = str(item.get("word", "")).strip()
        if not text:
            continue
        start, end = _seconds(item, stride)
        start = min(max(start + chunk.start, 0.0), duration)
        end = min(max(end + chunk.start, start), duration)
        words.append(Word(start=start, end=end, text=" " + text))
    groups = group_by_segments(words, raw_segments, chunk.start, stride)
    kept: list[list[Word]] = []
    for group in groups:
        own = [w for w in group if chunk.core_start <= (w.start + w.end) / 2 < chunk.core_end]
        if chunk.core_end >= duration:  # the last chunk also owns words ending exactly there
            own = [w for w in group if chunk.core_start <= (w.start + w.end) / 2 <= duration]
        kept.extend(split_long(own))
    return [g for g in kept if g]


def _seconds(item: Mapping[str, Any], stride: float) -> tuple[float, float]:
    if "start" in item and "end" in item:
        return float(item["start"]), float(item["end"])
    return (
        float(item.get("start_offset", 0)) * stride,
        float(item.get("end_offset", 0)) * stride,
    )


def group_by_segments(
    words: list[Word], raw_segments: Sequence[Mapping[str, Any]], offset: float, stride: float
) -> list[list[Word]]:
    """Split a chunk's words into NeMo's segments (sentences), by word count, else by time."""
    if not raw_segments:
        return [words]
    counts = [len(str(s.get("segment", "")).split()) for s in raw_segments]
    if sum(counts) == len(words):
        groups, i = [], 0
        for n in counts:
            groups.append(words[i : i + n])
            i += n
        return groups
    # Fallback: a word belongs to the last segment that starts at or before its midpoint.
    starts = []
    for s in raw_segments:
        start = s.get("start")
        starts.append(float(start) if start is not None else float(s["start_offset"]) * stride)
    by_segment: list[list[Word]] = [[] for _ in raw_segments]
    for w in words:
        mid = (w.start + w.end) / 2 - offset
        index = max([i for i, st in enumerate(starts) if st <= mid] or [0])
        by_segment[index].append(w)
    return by_segment


def split_long(words: list[Word]) -> list[list[Word]]:
    """Split a run of words so no segment spans more than ``MAX_SEGMENT_SECONDS``."""
    groups: list[list[Word]] = []
    current: list[Word] = []
    for w in words:
        if current and w.end - current[0].start > MAX_SEGMENT_SECONDS:
            groups.append(current)
            current = []
        current.append(w)
    if current:
        groups.append(current)
    return groups


def make_segment(index: int, words: Sequence[Word]) -> Segment:
    """Segment ``index`` holding ``words`` (at least one), its text their texts joined."""
    return Segment(
        id=index,
        start=words[0].start,
        end=max(w.end for w in words),
        text="".join(w.text for w in words),
        words=tuple(words),
    )
