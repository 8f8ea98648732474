"""Build long benchmark recordings by joining the evaluation clips (shared by the scripts)."""

from __future__ import annotations

import io
import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from scribe.adapters.audio.pyav_decoder import PyAVDecoder
from scribe.devtools import eval_dir
from scribe.domain.audio import SAMPLE_RATE, Audio

DEFAULT_EVAL_DIR = eval_dir()
TWO_SPEAKER_CLIPS = ["pyannote_sample.wav", "ami/dev00.wav", "ami/dev01.wav", "ami/trn03.wav"]
SPEECH_CLIPS = [
    "pyannote_sample.wav",
    "jfk.flac",
    "librispeech_2412-153948-0000.flac",
    "ami_ES2011a_headset_40-46s.wav",
    "ami/dev00.wav",
]


def joined(eval_dir: Path, names: list[str], seconds: float, gap: float = 0.5) -> Audio:
    """Clips decoded and joined in turn, with short silences, until ``seconds`` long."""
    audio, _ = join_clips([eval_dir / name for name in names], seconds, gap)
    return audio


def join_clips(paths: Sequence[Path], seconds: float, gap: float = 0.5) -> tuple[Audio, list[str]]:
    """Clips decoded (by the service's decoder) and joined in turn, each followed by ``gap``
    seconds of silence, until ``seconds`` long; and the file name of each piece used."""
    decoder = PyAVDecoder()
    parts = []
    for path in paths:
        with path.open("rb") as f:
            parts.append(decoder.decode(f).samples)
    silence = np.zeros(int(gap * SAMPLE_RATE), dtype=np.float32)
    out: list[np.ndarray] = []
    used: list[str] = []
    total = 0
    target = int(seconds * SAMPLE_RATE)
    while total < target:
        for path, part in zip(paths, parts, strict=True):
            out += [part, silence]
            used.append(path.name)
            total += len(part) + len(silence)
            if total >= target:
                break
    return Audio(np.concatenate(out)[:target]), used


def publish(lines: list[str], out: Path | None) -> None:
    """Print the report and, when asked, write it to ``out`` too."""
    report = "\n".join(lines)
    print(report)
    if out is not None:
        out.write_text(report + "\n")


def wav_bytes(audio: Audio) -> bytes:
    """16-bit mono WAV of ``audio``."""
    pcm = (np.clip(audio.samples, -1, 1) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(audio.sample_rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


def parse_value(text: str) -> bool | int | float | str:
    """A ``--set NAME=VALUE`` value: true/false, a number, or the text itself."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_settings(items: Sequence[str]) -> dict[str, bool | int | float | str]:
    """``["step=2.0", "workers=1"]`` -> keyword arguments for ``EmbeddedSettings``."""
    pairs = (item.split("=", 1) for item in items)
    return {name.strip(): parse_value(value.strip()) for name, value in pairs}
