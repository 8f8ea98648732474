"""Repetition loops: find and drop a word sequence that an ASR decoder repeated over and over.

Whisper, when it loses its place, can emit the same words or sentence dozens of times ("effort
of effort of effort ...", "I'm Abigail Klaflin." x 40). A run counts as a loop when one n-gram
repeats back to back at least ``min_repeats`` times and the run is at least ``min_words`` words
long; the first copy is kept, the rest dropped. Real speech repeats a word or a short phrase two
or three times ("no, no, no", "hello? hello?"); those runs are too short to count.

Pure functions and one small stateful guard, so that segments can be checked as they stream:
words already emitted are never taken back, only later copies are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

MIN_REPEATS = 3
MIN_WORDS = 9
MAX_NGRAM = 40
HISTORY_WORDS = 200

_NOT_WORD = re.compile(r"[^\w']+")


def normalize_word(word: str) -> str:
    """Lower case without punctuation: ``" Hello?"`` and ``"hello,"`` are the same word."""
    return _NOT_WORD.sub("", word.lower())


def loop_mask(
    words: Sequence[str],
    history: Sequence[str] = (),
    *,
    min_repeats: int = MIN_REPEATS,
    min_words: int = MIN_WORDS,
    max_ngram: int = MAX_NGRAM,
) -> list[bool]:
    """Which of ``words`` to keep (True) after dropping repeated runs.

    ``history`` is what came before and was already kept (normalised words); a run may start in
    it, but only ``words`` are ever dropped. Words are compared after ``normalize_word``.
    """
    new = [normalize_word(w) for w in words]
    seq = list(history) + new
    offset = len(history)
    drop = [False] * len(seq)
    for n in range(1, min(max_ngram, len(seq) // 2) + 1):
        streak_start = -1
        for i in range(n, len(seq) + 1):
            same = i < len(seq) and seq[i] != "" and seq[i] == seq[i - n]
            if same and streak_start < 0:
                streak_start = i
            elif not same and streak_start >= 0:
                # seq[streak_start - n : i] repeats its first n words; one copy stays.
                total = i - (streak_start - n)
                if total >= min_words and total >= min_repeats * n:
                    for j in range(streak_start, i):
                        drop[j] = True
                streak_start = -1
    return [not d for d in drop[offset:]]


@dataclass
class RepetitionGuard:
    """Checks segments in order against what was kept before them (a bounded history)."""

    min_repeats: int = MIN_REPEATS
    min_words: int = MIN_WORDS
    history_words: int = HISTORY_WORDS
    _history: list[str] = field(default_factory=list)
    dropped: int = 0

    def keep(self, words: Sequence[str]) -> list[bool]:
        """Keep flags for the next segment's ``words``; the kept ones join the history."""
        mask = loop_mask(
            words, self._history, min_repeats=self.min_repeats, min_words=self.min_words
        )
        kept = [normalize_word(w) for w, k in zip(words, mask, strict=True) if k]
        self._history = (self._history + [w for w in kept if w])[-self.history_words :]
        self.dropped += len(words) - len(kept)
        return mask
