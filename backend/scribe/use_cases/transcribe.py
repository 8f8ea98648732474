"""TranscribeAudio: decode, run ASR and diarization in parallel, attribute speakers, post-process."""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import BinaryIO

from scribe.domain.audio import MIN_DURATION_SECONDS, Audio
from scribe.domain.cancellation import CancelToken
from scribe.domain.errors import Cancelled, InvalidAudio
from scribe.domain.options import TranscriptionOptions
from scribe.domain.speakers import (
    SpeakerLabeler,
    assign_speakers,
    relabel_turns,
    speakers_in_order,
)
from scribe.domain.transcript import Diarization, Segment, SpeakerTurn, Transcript
from scribe.ports.asr_engine import AsrEngine
from scribe.ports.audio_decoder import AudioDecoder
from scribe.ports.diarizer import Diarizer
from scribe.ports.post_processor import PostProcessor
from scribe.ports.progress import ProgressSink

from .engines import AsrEngines

log = logging.getLogger(__name__)

# Share of the progress bar each stage takes (ASR dominates).
_ASR_SHARE = 0.9
# How often a request waiting for a free slot checks whether it was cancelled.
_SLOT_POLL_SECONDS = 0.2


class _NoProgress:
    def on_segment(self, segment: Segment) -> None:
        pass

    def on_attributed(self, segment: Segment) -> None:
        pass

    def on_progress(self, fraction: float, stage: str) -> None:
        pass


class _Attribution:
    """Gives decoded segments their speakers as soon as the diarizer's turns are known.

    Until the diarizer finishes, decoded segments wait; from then on each is attributed as it
    arrives and handed to the sink. The result equals attributing the whole transcript at the
    end (same splits, ids and labels).
    """

    def __init__(
        self,
        pending: Future[Diarization],
        identify: Callable[[Diarization], dict[str, str]],
        sink: ProgressSink,
        token: CancelToken | None = None,
    ) -> None:
        self._pending = pending
        self._token = token or CancelToken()
        self._identify = identify
        self._sink = sink
        self._waiting: list[Segment] = []
        self._turns: list[SpeakerTurn] | None = None
        self._labeler = SpeakerLabeler()
        self.segments: list[Segment] = []

    def add(self, segment: Segment) -> None:
        self._waiting.append(segment)
        if self._turns is not None or self._pending.done():
            self._flush()

    def finish(self) -> tuple[tuple[Segment, ...], tuple[SpeakerTurn, ...]]:
        """Every segment attributed (waits for the diarizer), and the turns with final labels."""
        self._flush()
        assert self._turns is not None
        labels = self._labeler.finish(self._turns)
        return tuple(self.segments), relabel_turns(self._turns, labels)

    def _flush(self) -> None:
        if self._turns is None:
            while True:  # waiting for the diarizer, a cancel still stops the work
                try:
                    diarization = self._pending.result(timeout=_SLOT_POLL_SECONDS)
                    break
                except TimeoutError:
                    self._token.raise_if_cancelled()
            self._turns = list(diarization.turns)
            self._labeler = SpeakerLabeler(self._identify(diarization))
        waiting, self._waiting = self._waiting, []
        if not waiting:
            return
        pieces = assign_speakers(waiting, self._turns, first_id=len(self.segments))
        for piece in self._labeler.relabel(pieces):
            self.segments.append(piece)
            self._sink.on_attributed(piece)


class TranscribeAudio:
    """Turn one recording into a transcript with speakers.

    ASR and diarization start together on the same decoded samples (two threads: both engines
    release the GIL in native code), so the wall time is about the slower of the two.
    """

    def __init__(
        self,
        decoder: AudioDecoder,
        engines: AsrEngines,
        diarizer: Diarizer | None,
        post_processors: Sequence[PostProcessor] = (),
        max_concurrent: int = 1,
        diarizer_thread_setup: Callable[[], None] | None = None,
        after_run: Callable[[], object] | None = None,
    ) -> None:
        """``diarizer_thread_setup`` runs first on each run's diarizer thread: the composition
        root lowers that thread's CPU priority there, so that ASR, the slower stage, keeps the
        cores and diarization takes the time ASR leaves idle. ``after_run`` runs once each run
        has ended and given up its slot, however it ended: the composition root hands the
        memory the run freed back to the system there."""
        self._decoder = decoder
        self._diarizer_thread_setup = diarizer_thread_setup
        self._after_run = after_run
        self._engines = engines
        self._diarizer = diarizer
        self._post_processors = tuple(post_processors)
        self._slots = threading.BoundedSemaphore(max_concurrent)

    def decode(self, source: BinaryIO) -> Audio:
        """Decode an upload; raises InvalidAudio for anything that is not audio, or too short."""
        audio = self._decoder.decode(source)
        if audio.duration < MIN_DURATION_SECONDS:
            raise InvalidAudio(
                f"The audio is {audio.duration:.3f} s long; the minimum is "
                f"{MIN_DURATION_SECONDS:g} s.",
                code="audio_too_short",
            )
        return audio

    def transcribe(
        self,
        audio: Audio,
        options: TranscriptionOptions,
        progress: ProgressSink | None = None,
        cancel: CancelToken | None = None,
    ) -> Transcript:
        """Transcribe decoded audio (waits for a free slot when the server is busy).

        ``options`` come from ``OptionsBuilder.build``, which has validated them. Once ``cancel``
        is cancelled the work stops at its next safe point (while waiting for a slot, after each
        decoded segment, between stages) with ``Cancelled``.
        """
        sink = progress or _NoProgress()
        token = cancel or CancelToken()
        engine = self._engines.select(options.model)
        try:
            self._acquire(token)
            try:
                return self._run(audio, options, engine, sink, token)
            finally:
                self._slots.release()
                if self._after_run is not None:
                    self._after_run()
        except Cancelled as exc:
            log.info("transcription cancelled: %s", exc.message)
            raise

    def _acquire(self, token: CancelToken) -> None:
        while not self._slots.acquire(timeout=_SLOT_POLL_SECONDS):
            token.raise_if_cancelled()
        try:
            token.raise_if_cancelled()
        except BaseException:
            self._slots.release()
            raise

    def _run(
        self,
        audio: Audio,
        options: TranscriptionOptions,
        engine: AsrEngine,
        sink: ProgressSink,
        token: CancelToken,
    ) -> Transcript:
        diarizer = self._diarizer if options.diarize else None
        duration = max(audio.duration, 1e-6)
        attribution: _Attribution | None = None

        def on_segment(segment: Segment) -> None:
            token.raise_if_cancelled()
            sink.on_segment(segment)
            sink.on_progress(_ASR_SHARE * min(1.0, segment.end / duration), "transcribing")
            if attribution is not None:
                attribution.add(segment)

        sink.on_progress(0.0, "transcribing")
        turns: tuple[SpeakerTurn, ...] = ()
        if diarizer is None:
            asr = engine.transcribe(audio, options, on_segment)
            segments = asr.segments
        else:
            pool = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="diarize", initializer=self._diarizer_thread_setup
            )
            # The diarizer's own stop flag: set whenever this run ends, so a run that was
            # cancelled or failed in ASR does not leave the diarizer working to the end.
            stop_diarizer = CancelToken()
            try:
                # The diarizer's thread logs with the request's context (its request id).
                context = contextvars.copy_context()
                pending = pool.submit(
                    context.run, self._diarize, diarizer, audio, options, stop_diarizer
                )

                def identify(found: Diarization) -> dict[str, str]:
                    return self._identify(diarizer, audio, found, options)

                attribution = _Attribution(pending, identify, sink, token)
                asr = engine.transcribe(audio, options, on_segment)
                token.raise_if_cancelled()
                sink.on_progress(_ASR_SHARE, "attributing")
                segments, turns = attribution.finish()
            finally:
                # A cancelled or failed run does not wait for the diarizer: its thread stops at
                # the diarizer's next check of ``stop_diarizer``, in the background.
                stop_diarizer.cancel("The transcription this diarization was for has ended.")
                pool.shutdown(wait=False, cancel_futures=True)
        token.raise_if_cancelled()
        transcript = Transcript(
            language=asr.language,
            duration=asr.duration,
            segments=tuple(segments),
            task=options.task,
            speakers=speakers_in_order(segments),
            turns=turns,
        )
        for step in self._post_processors:
            if step.wanted(options):
                token.raise_if_cancelled()
                transcript = step.apply(transcript, options)
        sink.on_progress(1.0, "done")
        return transcript

    @staticmethod
    def _diarize(
        diarizer: Diarizer, audio: Audio, options: TranscriptionOptions, cancel: CancelToken
    ) -> Diarization:
        found = diarizer.diarize(audio, options.speakers, cancel)
        return replace(found, turns=tuple(sorted(found.turns, key=lambda t: (t.start, t.end))))

    @staticmethod
    def _identify(
        diarizer: Diarizer,
        audio: Audio,
        diarization: Diarization,
        options: TranscriptionOptions,
    ) -> dict[str, str]:
        if not options.known_speakers or not diarization.turns:
            return {}
        return diarizer.identify(audio, diarization, options.known_speakers)
