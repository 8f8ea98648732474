"""Helpers shared by tests that compare transcripts with references."""

from __future__ import annotations

import re

import jiwer


def normalise(text: str) -> str:
    """Lower-case, strip punctuation, fold white space (the eval README's normalisation)."""
    text = re.sub(r"[^\w\s']", " ", text.lower()).replace("'", "")
    return " ".join(text.split())


def wer(reference: str, hypothesis: str) -> float:
    return float(jiwer.wer(normalise(reference), normalise(hypothesis)))
