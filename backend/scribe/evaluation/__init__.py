"""Evaluation: score transcripts and speaker turns against the references of a clip manifest."""

from .manifest import Clip, load_manifest
from .references import read_rttm, read_text, read_uem, write_rttm
from .report import ClipResult, Overall, Report, evaluate, evaluate_clip, format_report
from .scoring import (
    DEFAULT_COLLAR,
    DerScore,
    SpeakerWordScore,
    WerScore,
    diarization_error_rate,
    normalize_text,
    word_error_rate,
    word_speaker_accuracy,
)

__all__ = [
    "DEFAULT_COLLAR",
    "Clip",
    "ClipResult",
    "DerScore",
    "Overall",
    "Report",
    "SpeakerWordScore",
    "WerScore",
    "diarization_error_rate",
    "evaluate",
    "evaluate_clip",
    "format_report",
    "load_manifest",
    "normalize_text",
    "read_rttm",
    "read_text",
    "read_uem",
    "word_error_rate",
    "word_speaker_accuracy",
    "write_rttm",
]
