"""Sentiment with VADER (lexicon bundled in the vaderSentiment package)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from scribe.adapters.lazy import Lazy
from scribe.domain.errors import ModelUnavailable
from scribe.domain.insights import Sentiment
from scribe.domain.options import TranscriptionOptions
from scribe.domain.transcript import Transcript

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05


def _load_analyzer() -> Any:
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError as exc:
        raise ModelUnavailable(
            "Sentiment detection needs vaderSentiment, which is not installed. "
            "Install it with `pip install vaderSentiment==3.3.2`."
        ) from exc
    return SentimentIntensityAnalyzer()


def label_for(score: float) -> str:
    """VADER's usual reading of a compound score: positive, negative or neutral."""
    if score >= POSITIVE_THRESHOLD:
        return "positive"
    if score <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


class VaderSentimentAnalyzer:
    """Scores each paragraph (or, without paragraphs, each segment) and the whole transcript.

    Each part gets VADER's compound score in [-1, 1]. The overall score is the mean of the parts'
    scores weighted by their word counts, not VADER over the whole text: VADER's compound score
    saturates towards +-1 on long texts, so one score of a long call would say little.
    """

    def __init__(self) -> None:
        self._analyzer: Lazy[Any] = Lazy(_load_analyzer)

    def load(self) -> None:
        """Load the lexicon now (it is small and quick)."""
        self._analyzer.get()

    def validate(self, options: TranscriptionOptions) -> None:
        """Every request this step can be asked for is valid."""

    def wanted(self, options: TranscriptionOptions) -> bool:
        return options.detect_sentiment

    def apply(self, transcript: Transcript, options: TranscriptionOptions) -> Transcript:
        analyzer = self._analyzer.get()
        if transcript.paragraphs is not None:
            parts = [(p.start, p.end, p.speaker, p.text) for p in transcript.paragraphs]
        else:
            parts = [(s.start, s.end, s.speaker, s.text.strip()) for s in transcript.segments]
        scored: list[Sentiment] = []
        total = weight = 0.0
        for start, end, speaker, text in parts:
            if not text:
                continue
            score = float(analyzer.polarity_scores(text)["compound"])
            scored.append(Sentiment(label_for(score), score, start, end, speaker, text))
            words = len(text.split())
            total += score * words
            weight += words
        overall = round(total / weight, 4) if weight else 0.0
        return replace(
            transcript,
            segment_sentiments=tuple(scored),
            sentiment=Sentiment(label_for(overall), overall),
        )
