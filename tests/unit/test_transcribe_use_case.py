import io
import threading
import time

import pytest

from scribe.domain.errors import InvalidAudio, UnknownModel
from scribe.domain.options import KnownSpeaker, SpeakerHints, TranscriptionOptions
from scribe.domain.transcript import SpeakerTurn
from scribe.use_cases.engines import AsrEngines
from scribe.use_cases.transcribe import TranscribeAudio
from tests.fakes import FakeAsr, FakeDecoder, FakeDiarizer, RecordingProgress, wav_bytes


def _use_case(
    asr: FakeAsr | None = None, diarizer: FakeDiarizer | None = None, **kw: object
) -> TranscribeAudio:
    return TranscribeAudio(FakeDecoder(), AsrEngines([asr or FakeAsr()]), diarizer, **kw)  # type: ignore[arg-type]


def test_words_get_speakers_labelled_in_order_of_appearance() -> None:
    result = _use_case(diarizer=FakeDiarizer()).execute(
        io.BytesIO(wav_bytes(4)), TranscriptionOptions()
    )
    assert [s.speaker for s in result.segments] == ["SPEAKER_00", "SPEAKER_01"]
    assert result.speakers == ("SPEAKER_00", "SPEAKER_01")
    assert result.text == "Hello there, how are you? I am fine, thank you."


def test_asr_and_diarization_run_in_parallel() -> None:
    asr, diarizer = FakeAsr(delay=0.4), FakeDiarizer(delay=0.4)
    started = time.perf_counter()
    _use_case(asr, diarizer).execute(io.BytesIO(wav_bytes(4)), TranscriptionOptions())
    elapsed = time.perf_counter() - started
    assert abs(asr.started_at[0] - diarizer.started_at[0]) < 0.2
    assert elapsed < 0.75  # sequential would be >= 0.8


def test_diarize_false_skips_the_diarizer() -> None:
    diarizer = FakeDiarizer()
    result = _use_case(diarizer=diarizer).execute(
        io.BytesIO(wav_bytes(4)), TranscriptionOptions(diarize=False, word_timestamps=False)
    )
    assert diarizer.started_at == []
    assert result.speakers == () and all(s.speaker is None for s in result.segments)


def test_diarization_forces_word_timestamps() -> None:
    asr = FakeAsr()
    _use_case(asr, FakeDiarizer()).execute(
        io.BytesIO(wav_bytes(4)), TranscriptionOptions(word_timestamps=False)
    )
    assert asr.calls[0].word_timestamps is True


def test_speaker_hints_reach_the_diarizer() -> None:
    diarizer = FakeDiarizer()
    hints = SpeakerHints(min_speakers=2, max_speakers=3)
    _use_case(diarizer=diarizer).execute(
        io.BytesIO(wav_bytes(4)), TranscriptionOptions(speakers=hints)
    )
    assert diarizer.hints == [hints]


def test_known_speakers_name_the_matching_labels() -> None:
    diarizer = FakeDiarizer(turns=[SpeakerTurn(0, 2, "b"), SpeakerTurn(2, 4, "a")])
    known = (KnownSpeaker("Alice", FakeDecoder().decode(io.BytesIO(wav_bytes(3)))),)
    result = _use_case(diarizer=diarizer).execute(
        io.BytesIO(wav_bytes(4)), TranscriptionOptions(known_speakers=known)
    )
    assert diarizer.identified == [("Alice",)]
    assert result.speakers == ("Alice", "SPEAKER_00")


def test_progress_reports_segments_and_reaches_one() -> None:
    progress = RecordingProgress()
    _use_case(diarizer=FakeDiarizer()).execute(
        io.BytesIO(wav_bytes(4)), TranscriptionOptions(), progress
    )
    assert len(progress.segments) == 2
    fractions = [f for f, _ in progress.progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_unknown_model_fails_before_any_work() -> None:
    asr = FakeAsr()
    with pytest.raises(UnknownModel) as err:
        _use_case(asr).execute(io.BytesIO(wav_bytes(1)), TranscriptionOptions(model="nope"))
    assert "fake-asr" in err.value.message and asr.calls == []


def test_openai_model_ids_pick_the_default_engine() -> None:
    engines = AsrEngines([FakeAsr(name="one"), FakeAsr(name="two")])
    assert engines.select("whisper-1").name == "one"
    assert engines.select("two").name == "two"
    assert engines.select(None).name == "one"


def test_bad_audio_is_invalid_audio() -> None:
    with pytest.raises(InvalidAudio):
        _use_case().execute(io.BytesIO(b"not audio"), TranscriptionOptions())


def test_concurrent_jobs_are_limited() -> None:
    asr = FakeAsr(delay=0.2)
    use_case = _use_case(asr, max_concurrent=1)
    audio = FakeDecoder().decode(io.BytesIO(wav_bytes(4)))
    threads = [
        threading.Thread(
            target=use_case.transcribe, args=(audio, TranscriptionOptions(diarize=False))
        )
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert abs(asr.started_at[1] - asr.started_at[0]) >= 0.18


class _Upper:
    def validate(self, options: TranscriptionOptions) -> None:
        pass

    def wanted(self, options: TranscriptionOptions) -> bool:
        return options.detect_entities

    def apply(self, transcript, options):  # type: ignore[no-untyped-def]
        from dataclasses import replace

        return replace(
            transcript, segments=tuple(replace(s, text=s.text.upper()) for s in transcript.segments)
        )


def test_post_processors_run_only_when_wanted() -> None:
    use_case = _use_case(post_processors=[_Upper()])
    plain = use_case.execute(io.BytesIO(wav_bytes(4)), TranscriptionOptions(diarize=False))
    shouted = use_case.execute(
        io.BytesIO(wav_bytes(4)), TranscriptionOptions(diarize=False, detect_entities=True)
    )
    assert plain.text.startswith("Hello") and shouted.text.startswith("HELLO")


def test_the_diarizer_turns_come_back_with_the_final_labels() -> None:
    diarizer = FakeDiarizer(turns=[SpeakerTurn(0, 2, "b"), SpeakerTurn(2, 4, "a")])
    result = _use_case(diarizer=diarizer).execute(io.BytesIO(wav_bytes(4)), TranscriptionOptions())
    assert result.turns == (SpeakerTurn(0, 2, "SPEAKER_00"), SpeakerTurn(2, 4, "SPEAKER_01"))
