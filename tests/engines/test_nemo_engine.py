"""The NeMo Parakeet TDT adapter, exercised on CPU with a tiny random-weight model.

The model's words are meaningless; these tests check the real NeMo load / transcribe code paths,
types, timing bounds, chunking, callbacks, repeatability and error translation.
"""

from __future__ import annotations

import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scribe.adapters.asr.nemo_chunks import plan_chunks
from scribe.adapters.asr.nemo_engine import NemoEngine
from scribe.adapters.torchaudio_compat import ensure_torchaudio_importable
from scribe.domain.audio import Audio
from scribe.domain.errors import ModelUnavailable
from scribe.domain.options import TranscriptionOptions
from scribe.domain.transcript import AsrResult, Segment, Word
from scribe.ports.asr_engine import AsrCapabilities
from tests.clips import load_clip

# --- the real NeMo code paths with a tiny model ------------------------------------------------


@pytest.fixture(scope="session")
def tiny_parakeet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ~1 MB random-weight FastConformer + TDT ``.nemo``, built once per test session."""
    ensure_torchaudio_importable()  # its CUDA-built extension cannot load beside CPU torch
    pytest.importorskip("nemo.collections.asr")
    from scribe.devtools.nemo_models import build_tiny_parakeet

    return build_tiny_parakeet(tmp_path_factory.mktemp("tiny_parakeet"))


def _check_result(result: AsrResult, duration: float) -> None:
    assert isinstance(result, AsrResult)
    assert result.language == "en"
    assert result.duration == pytest.approx(duration)
    previous_start = 0.0
    for i, segment in enumerate(result.segments):
        assert isinstance(segment, Segment)
        assert segment.id == i
        assert segment.words, "every segment carries its words"
        assert 0.0 <= segment.start <= segment.end <= duration
        assert segment.start >= previous_start
        previous_start = segment.start
        assert segment.text == "".join(w.text for w in segment.words)
        for word in segment.words:
            assert isinstance(word, Word)
            assert word.text.startswith(" ") and word.text.strip()
            assert segment.start <= word.start <= word.end <= segment.end
    starts = [w.start for s in result.segments for w in s.words]
    assert starts == sorted(starts)


@pytest.mark.gpu_stack
@pytest.mark.slow
def test_tiny_model_transcribes_a_real_clip(tiny_parakeet: Path, eval_dir: Path) -> None:
    engine = NemoEngine(model=str(tiny_parakeet), device="cpu")
    # Readiness reads this: an API node of the scaled shape never loads the model.
    assert engine.describe() == {"device": "cpu", "dtype": None, "loaded": False}
    audio = load_clip(eval_dir / "jfk.flac", seconds=5.0)
    seen: list[Segment] = []
    first = engine.transcribe(audio, TranscriptionOptions(), on_segment=seen.append)
    _check_result(first, audio.duration)
    assert first.segments, "a random model still emits tokens on 5 s of speech"
    assert tuple(seen) == first.segments
    second = engine.transcribe(audio, TranscriptionOptions(language="en"))
    assert second == first, "decoding is repeatable"
    # One shared model, several threads (calls are serialised inside the engine).
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: engine.transcribe(audio, TranscriptionOptions()), [0, 1]))
    assert results == [first, first]
    assert engine.device == "cpu"
    described = engine.describe()
    assert described["loaded"] is True and described["dtype"] == "torch.float32"


@pytest.mark.gpu_stack
@pytest.mark.slow
def test_long_recording_is_chunked_without_duplicates(tiny_parakeet: Path, eval_dir: Path) -> None:
    samples = load_clip(eval_dir / "pyannote_sample.wav").samples
    audio = Audio(samples)
    assert audio.duration == pytest.approx(30.0, abs=0.1)
    chunked = NemoEngine(model=str(tiny_parakeet), device="cpu", chunk_seconds=12.0)
    seen: list[Segment] = []
    result = chunked.transcribe(audio, TranscriptionOptions(), on_segment=seen.append)
    _check_result(result, audio.duration)
    assert tuple(seen) == result.segments
    # Segments come from several chunks; a segment's words all belong to one chunk's core ...
    cores = plan_chunks(audio.duration, 12.0, 2.0)
    assert len(cores) == 3
    owners = [{_chunk_of(w, cores) for w in s.words} for s in result.segments]
    assert all(len(o) == 1 for o in owners)
    assert len(set().union(*owners)) > 1
    # ... and no word appears twice where chunks overlap.
    words = [w for s in result.segments for w in s.words]
    for a, b in itertools.pairwise(words):
        assert (b.start + b.end) / 2 > (a.start + a.end) / 2
    assert chunked.transcribe(audio, TranscriptionOptions()) == result

    # A recording shorter than 1 s (NeMo pads those) keeps its times within the audio.
    blip = Audio(samples[16_000 : 16_000 + 8_000])
    _check_result(chunked.transcribe(blip, TranscriptionOptions()), blip.duration)
    # Empty audio gives an empty result without calling the model.
    empty = chunked.transcribe(Audio(np.zeros(0, dtype=np.float32)), TranscriptionOptions())
    assert empty.segments == () and empty.duration == 0.0


def _chunk_of(word: Word, chunks: list[Any]) -> int:
    mid = (word.start + word.end) / 2
    return next(i for i, c in enumerate(chunks) if c.core_start <= mid <= c.core_end)


@pytest.mark.gpu_stack
@pytest.mark.slow
def test_hub_name_with_downloads_allowed_but_offline(
    tiny_parakeet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # tiny_parakeet only ensures NeMo is importable (and imported): the timing is then NeMo's.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    engine = NemoEngine(model="nvidia/parakeet-tdt-0.6b-v2", device="cpu", allow_downloads=True)
    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as info:
        engine.load()
    assert time.monotonic() - started < 20
    assert "offline" in info.value.message and "nvidia/parakeet-tdt-0.6b-v2" in info.value.message


def test_capabilities_say_what_parakeet_cannot_do() -> None:
    v2 = NemoEngine("nvidia/parakeet-tdt-0.6b-v2", device="cpu")
    assert v2.capabilities == AsrCapabilities(languages=frozenset({"en"}))
    v3 = NemoEngine("nvidia/parakeet-tdt-0.6b-v3", device="cpu").capabilities
    assert not v3.translate and not v3.word_probabilities
    assert v3.languages is not None and {"de", "fr"} <= v3.languages and "ja" not in v3.languages
