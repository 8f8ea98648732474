"""diarization."""
