import io
import threading
from dataclasses import replace

import pytest

from scribe.domain.errors import InvalidAudio, UnknownModel
from scribe.domain.options import KnownSpeaker, SpeakerHints, TranscriptionOptions
from scribe.domain.transcript import SpeakerTurn, Transcript
from scribe.ports.progress import ProgressSink
from scribe.use_cases.engines import AsrEngines
from scribe.use_cases.transcribe import TranscribeAudio
from tests.fakes import FakeAsr, FakeDecoder, FakeDiarizer, RecordingProgress, wav_bytes

OPTIONS = TranscriptionOptions(diarize=True)


def _use_case(
    asr: FakeAsr | None = None, diarizer: FakeDiarizer | None = None, **kw: object
) -> TranscribeAudio:
    return TranscribeAudio(FakeDecoder(), AsrEngines([asr or FakeAsr()]), diarizer, **kw)  # type: ignore[arg-type]


def _run(
    use_case: TranscribeAudio,
    options: TranscriptionOptions = OPTIONS,
    progress: ProgressSink | None = None,
) -> Transcript:
    audio = use_case.decode(io.BytesIO(wav_bytes(4)))
    return use_case.transcribe(audio, options, progress)


def test_words_get_speakers_labelled_in_order_of_appearance() -> None:
    result = _run(_use_case(diarizer=FakeDiarizer()))
    assert [s.speaker for s in result.segments] == ["SPEAKER_00", "SPEAKER_01"]
    assert result.speakers == ("SPEAKER_00", "SPEAKER_01")
    assert result.text == "Hello there, how are you? I am fine, thank you."


def test_asr_and_diarization_run_in_parallel() -> None:
    # Each side waits at the barrier for the other: run one after the other, they would time out.
    both = threading.Barrier(2)
    result = _run(_use_case(FakeAsr(barrier=both), FakeDiarizer(barrier=both)))
    assert result.speakers == ("SPEAKER_00", "SPEAKER_01")


def test_diarize_false_skips_the_diarizer() -> None:
    diarizer = FakeDiarizer()
    result = _run(_use_case(diarizer=diarizer), TranscriptionOptions(diarize=False))
    assert diarizer.hints == []
    assert result.speakers == () and all(s.speaker is None for s in result.segments)


def test_the_engine_times_words_whenever_something_is_placed_by_them() -> None:
    asr = FakeAsr()
    use_case = _use_case(asr, FakeDiarizer())
    for options in (
        TranscriptionOptions(diarize=True),
        TranscriptionOptions(diarize=False, detect_paragraphs=True),
        TranscriptionOptions(diarize=False, detect_entities=True),
        TranscriptionOptions(diarize=False, word_timestamps=True),
    ):
        assert _run(use_case, options).words
    assert not _run(use_case, TranscriptionOptions(diarize=False)).words
    assert all(c.needs_word_times for c in asr.calls[:4]) and not asr.calls[4].needs_word_times


def test_speaker_hints_reach_the_diarizer() -> None:
    diarizer = FakeDiarizer()
    hints = SpeakerHints(min_speakers=2, max_speakers=3)
    _run(_use_case(diarizer=diarizer), replace(OPTIONS, speakers=hints))
    assert diarizer.hints == [hints]


def test_known_speakers_name_the_matching_labels() -> None:
    diarizer = FakeDiarizer(turns=[SpeakerTurn(0, 2, "b"), SpeakerTurn(2, 4, "a")])
    known = (KnownSpeaker("Alice", FakeDecoder().decode(io.BytesIO(wav_bytes(3)))),)
    result = _run(_use_case(diarizer=diarizer), replace(OPTIONS, known_speakers=known))
    assert diarizer.identified == [("Alice",)]
    # identify gets the diarization itself: the voiceprints clustering computed are reused
    assert diarizer.reused_voiceprints == [("b", "a")]
    assert result.speakers == ("Alice", "SPEAKER_00")


def test_progress_reports_segments_and_reaches_one() -> None:
    progress = RecordingProgress()
    _run(_use_case(diarizer=FakeDiarizer()), OPTIONS, progress)
    assert len(progress.segments) == 2
    fractions = [f for f, _ in progress.progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_an_unknown_model_is_refused_before_the_engine_runs() -> None:
    asr = FakeAsr()
    with pytest.raises(UnknownModel) as err:
        _run(_use_case(asr), TranscriptionOptions(model="nope"))
    assert "fake-asr" in err.value.message and asr.calls == []


def test_openai_model_ids_pick_the_default_engine() -> None:
    engines = AsrEngines([FakeAsr(name="one"), FakeAsr(name="two")])
    assert engines.select("whisper-1").name == "one"
    assert engines.select("two").name == "two"
    assert engines.select(None).name == "one"


def test_bad_audio_is_invalid_audio() -> None:
    with pytest.raises(InvalidAudio):
        _use_case().decode(io.BytesIO(b"not audio"))


def test_concurrent_jobs_are_limited() -> None:
    asr = FakeAsr(delay=0.2)
    use_case = _use_case(asr, max_concurrent=1)
    audio = FakeDecoder().decode(io.BytesIO(wav_bytes(4)))
    threads = [
        threading.Thread(
            target=use_case.transcribe, args=(audio, TranscriptionOptions(diarize=False))
        )
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(asr.calls) == 3 and asr.in_flight.most == 1


def test_more_slots_let_transcriptions_overlap() -> None:
    together = threading.Barrier(2)
    asr = FakeAsr(barrier=together)
    use_case = _use_case(asr, max_concurrent=2)
    audio = FakeDecoder().decode(io.BytesIO(wav_bytes(4)))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            use_case.transcribe(audio, TranscriptionOptions(diarize=False))
        except BaseException as exc:  # a broken barrier: they did not run together
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(asr.calls) == 2


class _Upper:
    def validate(self, options: TranscriptionOptions) -> None:
        pass

    def wanted(self, options: TranscriptionOptions) -> bool:
        return options.detect_entities

    def apply(self, transcript: Transcript, options: TranscriptionOptions) -> Transcript:
        return replace(
            transcript, segments=tuple(replace(s, text=s.text.upper()) for s in transcript.segments)
        )


def test_post_processors_run_only_when_wanted() -> None:
    use_case = _use_case(post_processors=[_Upper()])
    plain = _run(use_case, TranscriptionOptions(diarize=False))
    shouted = _run(use_case, TranscriptionOptions(diarize=False, detect_entities=True))
    assert plain.text.startswith("Hello") and shouted.text.startswith("HELLO")


def test_the_diarizer_turns_come_back_with_the_final_labels() -> None:
    diarizer = FakeDiarizer(turns=[SpeakerTurn(0, 2, "b"), SpeakerTurn(2, 4, "a")])
    result = _run(_use_case(diarizer=diarizer))
    assert result.turns == (SpeakerTurn(0, 2, "SPEAKER_00"), SpeakerTurn(2, 4, "SPEAKER_01"))
