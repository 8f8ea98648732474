import io
import threading
import time
from dataclasses import replace

import pytest

from scribe.domain.audio import Audio
from scribe.domain.cancellation import CancelToken
from scribe.domain.errors import Cancelled, InvalidAudio, UnknownModel
from scribe.domain.options import KnownSpeaker, SpeakerHints, Task, TranscriptionOptions
from scribe.domain.transcript import Segment, SpeakerTurn, Transcript
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


class _Log:
    """A ProgressSink that records what it got, in order, from any thread."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int, str | None]] = []

    def on_segment(self, segment: Segment) -> None:
        self.events.append(("decoded", segment.id, segment.speaker))

    def on_attributed(self, segment: Segment) -> None:
        self.events.append(("attributed", segment.id, segment.speaker))

    def on_progress(self, fraction: float, stage: str) -> None:
        pass


def test_attributed_segments_are_those_of_the_result() -> None:
    # The second decoded segment is split between two speakers.
    asr = FakeAsr(script=((0.0, 2.0, "one two"), (2.0, 4.0, "three four five six")))
    diarizer = FakeDiarizer(
        turns=[SpeakerTurn(0, 2, "x"), SpeakerTurn(2, 3, "y"), SpeakerTurn(3, 4, "x")]
    )
    log = _Log()
    result = _run(_use_case(asr, diarizer), OPTIONS, log)
    attributed = [(i, s) for kind, i, s in log.events if kind == "attributed"]
    assert attributed == [(s.id, s.speaker) for s in result.segments]
    assert [s.speaker for s in result.segments] == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_00"]


def test_segments_are_attributed_while_decoding_once_the_turns_are_known() -> None:
    asr = FakeAsr(delay=0.3)  # the diarizer finishes long before the second segment
    log = _Log()
    _run(_use_case(asr, FakeDiarizer()), OPTIONS, log)
    kinds = [kind for kind, _, _ in log.events]
    assert kinds == ["decoded", "attributed", "decoded", "attributed"]


def test_segments_wait_for_a_slow_diarizer() -> None:
    gate = threading.Event()

    class Slow(FakeDiarizer):
        def diarize(  # type: ignore[override]
            self, audio: Audio, hints: SpeakerHints, cancel: CancelToken | None = None
        ) -> list[SpeakerTurn]:
            gate.wait(5)
            return super().diarize(audio, hints, cancel)  # type: ignore[return-value]

    log = _Log()

    class Opening(_Log):
        def on_segment(self, segment: Segment) -> None:
            log.on_segment(segment)
            if segment.id == 1:
                gate.set()  # the turns come only after everything is decoded

        def on_attributed(self, segment: Segment) -> None:
            log.on_attributed(segment)

    _run(_use_case(diarizer=Slow()), OPTIONS, Opening())
    assert [kind for kind, _, _ in log.events] == ["decoded"] * 2 + ["attributed"] * 2


def test_a_cancelled_transcription_stops_at_the_next_segment() -> None:
    token = CancelToken()
    asr = FakeAsr()

    class CancelOnFirst(RecordingProgress):
        def on_segment(self, segment: Segment) -> None:
            super().on_segment(segment)
            token.cancel("gone")

    progress = CancelOnFirst()
    use_case = _use_case(asr, FakeDiarizer())
    audio = use_case.decode(io.BytesIO(wav_bytes(4)))
    with pytest.raises(Cancelled) as err:
        use_case.transcribe(audio, OPTIONS, progress, token)
    assert err.value.message == "gone" and len(progress.segments) == 1


def test_a_request_cancelled_while_waiting_for_a_slot_never_runs() -> None:
    asr = FakeAsr(delay=1.0)
    use_case = _use_case(asr, max_concurrent=1)
    audio = use_case.decode(io.BytesIO(wav_bytes(4)))
    busy = threading.Thread(target=use_case.transcribe, args=(audio, TranscriptionOptions()))
    busy.start()
    while not asr.calls:
        time.sleep(0.01)
    token = CancelToken()
    threading.Timer(0.1, token.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        use_case.transcribe(audio, TranscriptionOptions(diarize=False), cancel=token)
    assert time.monotonic() - started < 0.8 and len(asr.calls) == 1
    busy.join()
    assert use_case.transcribe(audio, TranscriptionOptions(diarize=False)).text  # slot released


def test_audio_under_a_tenth_of_a_second_is_refused() -> None:
    with pytest.raises(InvalidAudio) as err:
        _use_case().decode(io.BytesIO(wav_bytes(0.002)))
    assert err.value.code == "audio_too_short" and err.value.param == "file"
    assert _use_case().decode(io.BytesIO(wav_bytes(0.1))).duration == pytest.approx(0.1)


def test_a_translation_says_so() -> None:
    result = _run(_use_case(), TranscriptionOptions(diarize=False, task=Task.TRANSLATE))
    assert result.task is Task.TRANSLATE and result.text.startswith("[en]")


class _StoppableDiarizer(FakeDiarizer):
    """Works until told to stop (or 10 s), as a long diarization would; records that it was."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()
        self.stopped = threading.Event()

    def diarize(  # type: ignore[override]
        self, audio: Audio, hints: SpeakerHints, cancel: CancelToken | None = None
    ) -> object:
        self.started.set()
        assert cancel is not None
        if cancel.wait(10):
            self.stopped.set()
            cancel.raise_if_cancelled()
        return super().diarize(audio, hints, cancel)


def test_a_cancel_does_not_wait_for_the_diarizer_and_stops_it() -> None:
    diarizer = _StoppableDiarizer()
    use_case = _use_case(FakeAsr(), diarizer)
    audio = use_case.decode(io.BytesIO(wav_bytes(4)))
    token = CancelToken()
    threading.Timer(0.3, token.cancel, args=("stop",)).start()
    started = time.monotonic()
    with pytest.raises(Cancelled) as err:
        use_case.transcribe(audio, OPTIONS, cancel=token)  # ASR done, waiting for speakers
    assert err.value.message == "stop" and time.monotonic() - started < 1.5
    assert diarizer.stopped.wait(2)  # told to stop, not left to run to the end


def test_an_asr_failure_stops_the_diarizer() -> None:
    diarizer = _StoppableDiarizer()

    class Failing(FakeAsr):
        def transcribe(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
            diarizer.started.wait(2)
            raise RuntimeError("engine crashed")

    use_case = _use_case(Failing(), diarizer)
    audio = use_case.decode(io.BytesIO(wav_bytes(4)))
    with pytest.raises(RuntimeError, match="engine crashed"):
        use_case.transcribe(audio, OPTIONS)
    assert diarizer.stopped.wait(2)


def test_the_diarizer_is_handed_a_stop_token() -> None:
    diarizer = FakeDiarizer()
    _run(_use_case(FakeAsr(), diarizer), OPTIONS)
    assert len(diarizer.cancel_tokens) == 1 and diarizer.cancel_tokens[0] is not None


def test_the_diarizer_thread_is_set_up_before_it_diarizes() -> None:
    """The composition root lowers the diarizer thread's priority this way."""
    calls: list[tuple[str, int]] = []

    class Recording(FakeDiarizer):
        def diarize(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            calls.append(("diarize", threading.get_ident()))
            return super().diarize(*args, **kwargs)  # type: ignore[arg-type]

    def setup() -> None:
        calls.append(("setup", threading.get_ident()))

    result = _run(_use_case(diarizer=Recording(), diarizer_thread_setup=setup))
    assert result.speakers == ("SPEAKER_00", "SPEAKER_01")
    (first, thread), (second, same_thread) = calls
    assert (first, second) == ("setup", "diarize")
    assert thread == same_thread != threading.get_ident()


def test_after_run_follows_every_run_once_its_slot_is_free() -> None:
    """The composition root hands freed memory back to the system there."""
    seen: list[bool] = []
    use_case: TranscribeAudio

    def after_run() -> None:
        # The slot is free again: another run could start now.
        free = use_case._slots.acquire(blocking=False)
        if free:
            use_case._slots.release()
        seen.append(free)

    use_case = _use_case(FakeAsr(), FakeDiarizer(), after_run=after_run)
    _run(use_case)
    assert seen == [True]

    class Failing(FakeAsr):
        def transcribe(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
            raise RuntimeError("engine crashed")

    failing = _use_case(Failing(), after_run=after_run)
    with pytest.raises(RuntimeError, match="engine crashed"):
        _run(failing, TranscriptionOptions(diarize=False))
    assert seen == [True, True]


def test_a_run_cancelled_before_its_slot_leaves_nothing_to_release() -> None:
    calls: list[str] = []
    use_case = _use_case(FakeAsr(), after_run=lambda: calls.append("after"))
    audio = use_case.decode(io.BytesIO(wav_bytes(4)))
    token = CancelToken()
    token.cancel("gone")
    with pytest.raises(Cancelled):
        use_case.transcribe(audio, TranscriptionOptions(diarize=False), cancel=token)
    assert calls == []
