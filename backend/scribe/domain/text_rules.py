"""Operator-defined text rules applied to timed words (pure: no framework, no engine).

Rules work on the words of each segment, before formatting, so every word keeps its timestamps:

- ``Replace``: find a literal phrase or a regular expression over the segment's joined word text.
  A match may cover several words: the replacement goes into the first word of the match, which
  keeps its start and takes the last word's end; the other words of the match are dropped.
- ``RemoveFillers``: drops filler words (um, uh, ...).
- ``MaskProfanity``: replaces every letter but the first of listed words by a mask character.

Afterwards each segment's text is rebuilt from its words; a segment left without words is dropped
and segment ids are renumbered. A segment without word timestamps is handled through its text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from .transcript import Segment, Transcript, Word, words_text

DEFAULT_FILLERS: tuple[str, ...] = ("um", "umm", "uh", "uhh", "uhm", "erm", "er", "hmm", "hm")
# A trailing ``*`` matches any ending (``fuck*`` also masks ``fucking``).
DEFAULT_PROFANITY: tuple[str, ...] = (
    "fuck*",
    "motherfuck*",
    "shit*",
    "bullshit*",
    "bitch*",
    "bastard*",
    "asshole*",
    "cunt*",
    "dickhead*",
    "wanker*",
)

_EDGE_PUNCTUATION = "\"'“”‘’()[]{}.,;:!?…-—–"
_SENTENCE_FINAL = ".?!…"


def _bare(text: str) -> str:
    """A word's text without spaces and surrounding punctuation, lower-cased."""
    return text.strip().strip(_EDGE_PUNCTUATION).lower()


@dataclass(frozen=True)
class Replace:
    """Replace ``find`` by ``with_`` (a literal phrase, or a regular expression when ``regex``).

    A literal ``find`` matches any run of whitespace where it has a space. ``whole_word`` only
    matches where no letter or digit touches either end. ``with_`` may use ``\\1``-style group
    references when ``regex`` is set. Raises ValueError for an empty ``find`` or a bad pattern.
    """

    find: str
    with_: str
    regex: bool = False
    whole_word: bool = False
    ignore_case: bool = False
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.find:
            raise ValueError("`find` must not be empty")
        source = self.find if self.regex else r"\s+".join(map(re.escape, self.find.split()))
        if not source:
            raise ValueError("`find` must contain more than whitespace")
        if self.whole_word:
            source = rf"(?<!\w)(?:{source})(?!\w)"
        try:
            pattern = re.compile(source, re.IGNORECASE if self.ignore_case else 0)
        except re.error as exc:
            raise ValueError(f"`find` is not a valid regular expression: {exc}") from exc
        if self.regex:
            try:  # catch a bad group reference in `with` now, not on the first match
                pattern.sub(self.with_, "")
            except (re.error, IndexError) as exc:
                raise ValueError(f"`with` does not fit the pattern: {exc}") from exc
        object.__setattr__(self, "pattern", pattern)

    def expand(self, match: re.Match[str]) -> str:
        return match.expand(self.with_) if self.regex else self.with_


@dataclass(frozen=True)
class RemoveFillers:
    """Drop words that are fillers (compared without case and surrounding punctuation)."""

    words: tuple[str, ...] = DEFAULT_FILLERS

    def __post_init__(self) -> None:
        if not all(w.strip() for w in self.words):
            raise ValueError("filler words must not be empty")
        object.__setattr__(self, "words", tuple(w.strip().lower() for w in self.words))


@dataclass(frozen=True)
class MaskProfanity:
    """Mask every letter but the first of listed words; an entry ending in ``*`` is a prefix."""

    words: tuple[str, ...] = DEFAULT_PROFANITY
    mask: str = "*"

    def __post_init__(self) -> None:
        if not self.mask:
            raise ValueError("`mask` must not be empty")
        if not all(w.strip().rstrip("*") for w in self.words):
            raise ValueError("profanity words must not be empty")
        object.__setattr__(self, "words", tuple(w.strip().lower() for w in self.words))

    def matches(self, bare: str) -> bool:
        return any(
            bare.startswith(entry[:-1]) if entry.endswith("*") else bare == entry
            for entry in self.words
        )


Rule = Replace | RemoveFillers | MaskProfanity


@dataclass(frozen=True)
class RuleSet:
    """A named, ordered list of rules."""

    name: str
    rules: tuple[Rule, ...]


# --- applying rules to words ------------------------------------------------------------------


def _merged(words: Sequence[Word], text: str) -> Word:
    return replace(
        words[0],
        text=text,
        end=words[-1].end,
        probability=min(w.probability for w in words),
    )


def replace_in_words(words: Sequence[Word], rule: Replace) -> list[Word]:
    """Apply one replacement over the words' joined text, keeping each word's timestamps."""
    joined = "".join(w.text for w in words)
    bounds: list[int] = [0]
    for word in words:
        bounds.append(bounds[-1] + len(word.text))
    matches = [m for m in rule.pattern.finditer(joined) if m.end() > m.start()]
    if not matches:
        return list(words)

    def first_word(pos: int) -> int:  # index of the word holding character ``pos``
        return bisect_right(bounds, pos) - 1

    out: list[Word] = []
    done = 0  # words before this index are already in ``out``
    k = 0
    while k < len(matches):
        first = first_word(matches[k].start())
        last = first_word(matches[k].end() - 1)
        group = [matches[k]]
        # Matches that touch the same words are rewritten together.
        while k + 1 < len(matches) and first_word(matches[k + 1].start()) <= last:
            k += 1
            group.append(matches[k])
            last = max(last, first_word(matches[k].end() - 1))
        k += 1
        out.extend(words[done:first])
        pieces: list[str] = []
        cursor = bounds[first]
        for m in group:
            pieces.append(joined[cursor : m.start()])
            pieces.append(rule.expand(m))
            cursor = m.end()
        pieces.append(joined[cursor : bounds[last + 1]])
        text = "".join(pieces)
        if text.strip():
            out.append(_merged(words[first : last + 1], text))
        done = last + 1
    out.extend(words[done:])
    return out


def remove_fillers(words: Sequence[Word], rule: RemoveFillers) -> list[Word]:
    """Drop filler words; a sentence end a filler carried moves to the word before it."""
    fillers = set(rule.words)
    out: list[Word] = []
    capitalise_next = False
    for word in words:
        if _bare(word.text) in fillers:
            stripped = word.text.strip()
            starts_sentence = not out or out[-1].text.strip()[-1:] in _SENTENCE_FINAL
            if starts_sentence and stripped[:1].isupper():
                capitalise_next = True
            tail = stripped[len(stripped.rstrip(_EDGE_PUNCTUATION)) :]
            end_mark = next((c for c in reversed(tail) if c in _SENTENCE_FINAL), "")
            if end_mark and not starts_sentence:
                prev = out[-1]
                out[-1] = replace(prev, text=prev.text.rstrip(",;:—–-") + end_mark)
            continue
        if capitalise_next:
            text = word.text
            lead = len(text) - len(text.lstrip())
            word = replace(
                word, text=text[:lead] + text[lead : lead + 1].upper() + text[lead + 1 :]
            )
            capitalise_next = False
        out.append(word)
    return out


def _mask_text(text: str, mask: str) -> str:
    letters = 0
    out: list[str] = []
    for ch in text:
        if ch.isalnum():
            letters += 1
            out.append(ch if letters == 1 else mask)
        else:
            out.append(ch)
    return "".join(out)


def mask_profanity(words: Sequence[Word], rule: MaskProfanity) -> list[Word]:
    """Mask listed words, keeping their first letter and any surrounding punctuation."""
    return [
        replace(w, text=_mask_text(w.text, rule.mask)) if rule.matches(_bare(w.text)) else w
        for w in words
    ]


def apply_to_words(words: Sequence[Word], rules: Iterable[Rule]) -> list[Word]:
    """Apply rules in order to a run of words (normally one segment's)."""
    result = list(words)
    for rule in rules:
        if isinstance(rule, Replace):
            result = replace_in_words(result, rule)
        elif isinstance(rule, RemoveFillers):
            result = remove_fillers(result, rule)
        else:
            result = mask_profanity(result, rule)
    return result


def _text_words(segment: Segment) -> list[Word]:
    """Untimed stand-in words for a segment that has no word timestamps."""
    return [
        Word(segment.start, segment.end, m.group(), speaker=segment.speaker)
        for m in re.finditer(r"\s*\S+", segment.text)
    ]


def apply_rules(transcript: Transcript, rules: Iterable[Rule]) -> Transcript:
    """Apply rules to every segment's words and rebuild the segments' text."""
    rules = tuple(rules)
    segments: list[Segment] = []
    for segment in transcript.segments:
        lead = " " if segment.text.startswith(" ") else ""
        if segment.words:
            words = apply_to_words(segment.words, rules)
            if not words:
                continue
            new = replace(segment, words=tuple(words), text=lead + words_text(words))
        else:
            text = words_text(apply_to_words(_text_words(segment), rules))
            if not text:
                continue
            new = replace(segment, text=lead + text)
        segments.append(replace(new, id=len(segments)))
    return replace(transcript, segments=tuple(segments))
