"""Embedded diarization: offline and on the CPU, with models that ship inside Python packages."""

from .diarizer import EmbeddedDiarizer, EmbeddedSettings

__all__ = ["EmbeddedDiarizer", "EmbeddedSettings"]
