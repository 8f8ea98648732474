"""Scribe: a self-hosted, OpenAI-compatible transcription service with speaker diarization."""

__version__ = "0.1.0"
