"""The NeMo engine's parts that need neither NeMo nor torch: chunk planning, segments from NeMo's
word timestamps, languages, and where the model comes from (and the errors when it is nowhere)."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from scribe.adapters.asr.nemo_chunks import (
    MAX_SEGMENT_SECONDS,
    Chunk,
    chunk_segments,
    group_by_segments,
    languages_for_model,
    make_segment,
    plan_chunks,
    split_long,
)
from scribe.adapters.asr.nemo_engine import NemoEngine
from scribe.domain.audio import Audio
from scribe.domain.errors import InvalidRequest, ModelUnavailable
from scribe.domain.options import TranscriptionOptions
from scribe.domain.transcript import Word

# --- chunk planning ------------------------------------------------------------------------------


def test_plan_chunks_short_recording_is_one_chunk() -> None:
    (chunk,) = plan_chunks(10.0, 12.0, 2.0)
    assert (chunk.start, chunk.end, chunk.core_start, chunk.core_end) == (0.0, 10.0, 0.0, 10.0)


@pytest.mark.parametrize("duration", [12.5, 30.0, 47.0, 3600.0])
def test_plan_chunks_cores_tile_the_recording(duration: float) -> None:
    chunks = plan_chunks(duration, 12.0, 2.0)
    assert len(chunks) > 1
    assert chunks[0].start == 0.0 and chunks[0].core_start == 0.0
    assert chunks[-1].end == duration and chunks[-1].core_end == duration
    for c in chunks:
        assert c.end - c.start <= 12.0 + 1e-9
        assert c.start <= c.core_start < c.core_end <= c.end
    for prev, nxt in itertools.pairwise(chunks):
        assert prev.core_end == pytest.approx(nxt.core_start)
        assert nxt.start < prev.end  # they overlap


def test_plan_chunks_default_overlap_is_the_engines() -> None:
    assert plan_chunks(30.0, 12.0) == plan_chunks(30.0, 12.0, 2.0)


# --- segments from NeMo's timestamps -------------------------------------------------------------


def _stamp(word: str, start: float, end: float) -> dict[str, object]:
    return {"word": word, "start": start, "end": end}


def test_chunk_segments_shift_clamp_and_keep_only_the_core() -> None:
    chunk = Chunk(start=10.0, end=22.0, core_start=11.0, core_end=21.0)
    stamps = {
        "word": [
            _stamp("before", 0.0, 0.5),  # 10.0-10.5: in the overlap owned by the chunk before
            _stamp("one", 1.5, 2.0),
            _stamp("", 2.0, 2.1),  # empty words are dropped
            _stamp("two", 3.0, 3.4),
            _stamp("after", 11.5, 12.5),  # past the core (and clamped to the recording's end)
        ],
        "segment": [],
    }
    (segment,) = chunk_segments(stamps, chunk, duration=22.2, stride=0.08)
    assert [(w.text, w.start, w.end) for w in segment] == [
        (" one", 11.5, 12.0),
        (" two", 13.0, 13.4),
    ]


def test_chunk_segments_last_chunk_owns_words_ending_at_the_end() -> None:
    chunk = Chunk(start=0.0, end=5.0, core_start=0.0, core_end=5.0)
    stamps = {"word": [_stamp("end", 4.8, 6.0)]}
    (segment,) = chunk_segments(stamps, chunk, duration=5.0, stride=0.08)
    assert [(w.start, w.end) for w in segment] == [(4.8, 5.0)]


def test_chunk_segments_frame_offsets_use_the_stride() -> None:
    chunk = Chunk(0.0, 10.0, 0.0, 10.0)
    stamps = {"word": [{"word": "hi", "start_offset": 10, "end_offset": 15}]}
    (segment,) = chunk_segments(stamps, chunk, duration=10.0, stride=0.08)
    assert (segment[0].start, segment[0].end) == pytest.approx((0.8, 1.2))


def _words(*spans: tuple[float, float]) -> list[Word]:
    return [Word(a, b, f" w{i}") for i, (a, b) in enumerate(spans)]


def test_group_by_segments_by_word_count_else_by_time() -> None:
    words = _words((0.0, 0.5), (0.6, 1.0), (2.0, 2.5))
    segments = [{"segment": "a b", "start": 0.0}, {"segment": "c", "start": 1.8}]
    assert group_by_segments(words, segments, 0.0, 0.08) == [words[:2], words[2:]]
    # the counts disagree with the words: each word goes to the last segment started by its middle
    by_time = [{"segment": "a", "start": 0.0}, {"segment": "b c d", "start_offset": 20}]
    assert group_by_segments(words, by_time, 0.0, 0.08) == [words[:2], words[2:]]  # 2nd at 1.6 s
    assert group_by_segments(words, by_time, 1.0, 0.08) == [words, []]  # times in the chunk
    assert group_by_segments(words, [], 0.0, 0.08) == [words]


def test_split_long_and_make_segment() -> None:
    step = MAX_SEGMENT_SECONDS / 2
    words = _words((0.0, 1.0), (step, step + 1.0), (2 * step + 1.0, 2 * step + 2.0))
    groups = split_long(words)
    assert groups == [words[:2], words[2:]]
    segment = make_segment(3, groups[0])
    assert (segment.id, segment.start, segment.end) == (3, 0.0, step + 1.0)
    assert segment.text == " w0 w1" and segment.words == tuple(groups[0])
    assert split_long([]) == []


# --- languages -----------------------------------------------------------------------------------


def test_languages_follow_the_model_name() -> None:
    assert languages_for_model("nvidia/parakeet-tdt-0.6b-v2") == ("en",)
    v3 = languages_for_model("nvidia/parakeet-tdt-0.6b-v3")
    assert "en" in v3 and "de" in v3 and len(v3) == 25


def test_unknown_language_is_rejected_before_loading() -> None:
    engine = NemoEngine(model="/nonexistent/model.nemo", device="cpu")
    audio = Audio(np.zeros(16_000, dtype=np.float32))
    with pytest.raises(InvalidRequest) as info:
        engine.transcribe(audio, TranscriptionOptions(language="fr"))
    assert info.value.param == "language"
    assert "en" in info.value.message


# --- where the model comes from ------------------------------------------------------------------


def test_missing_local_file_is_model_unavailable() -> None:
    engine = NemoEngine(model="/nonexistent/model.nemo", device="cpu")
    with pytest.raises(ModelUnavailable, match="SCRIBE_NEMO_MODEL"):
        engine.load()


def test_hub_name_offline_is_model_unavailable_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    engine = NemoEngine(model="nvidia/parakeet-tdt-0.6b-v2", device="cpu", allow_downloads=False)
    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as info:
        engine.load()
    assert time.monotonic() - started < 10
    message = info.value.message
    assert "nvidia/parakeet-tdt-0.6b-v2" in message
    assert "SCRIBE_NEMO_MODEL" in message and "SCRIBE_ALLOW_DOWNLOADS" in message


def test_devices_are_checked_when_the_engine_is_built() -> None:
    with pytest.raises(ValueError, match="cuda:N"):
        NemoEngine(model="/nonexistent/model.nemo", device="auto")
    with pytest.raises(ValueError, match="chunk_seconds"):
        NemoEngine(model="/nonexistent/model.nemo", device="cpu", chunk_seconds=8.0)
