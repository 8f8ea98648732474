"""TranscribeAudio: decode, run ASR and diarization in parallel, attribute speakers, post-process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import BinaryIO

from scribe.domain.audio import Audio
from scribe.domain.options import TranscriptionOptions
from scribe.domain.speakers import (
    assign_speakers,
    relabel,
    relabel_turns,
    speaker_labels,
    speakers_in_order,
)
from scribe.domain.transcript import AsrResult, Diarization, Segment, SpeakerTurn, Transcript
from scribe.ports.audio_decoder import AudioDecoder
from scribe.ports.diarizer import Diarizer
from scribe.ports.post_processor import PostProcessor
from scribe.ports.progress import ProgressSink

from .engines import AsrEngines

log = logging.getLogger(__name__)

# Share of the progress bar each stage takes (ASR dominates).
_ASR_SHARE = 0.9


class _NoProgress:
    def on_segment(self, segment: Segment) -> None:
        pass

    def on_progress(self, fraction: float, stage: str) -> None:
        pass


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
    ) -> None:
        self._decoder = decoder
        self._engines = engines
        self._diarizer = diarizer
        self._post_processors = tuple(post_processors)
        self._slots = threading.BoundedSemaphore(max_concurrent)

    def decode(self, source: BinaryIO) -> Audio:
        """Decode an upload; raises InvalidAudio for anything that is not audio."""
        return self._decoder.decode(source)

    def transcribe(
        self,
        audio: Audio,
        options: TranscriptionOptions,
        progress: ProgressSink | None = None,
    ) -> Transcript:
        """Transcribe decoded audio (waits for a free slot when the server is busy).

        ``options`` come from ``OptionsBuilder.build``, which has validated them.
        """
        sink = progress or _NoProgress()
        engine = self._engines.select(options.model)
        diarizer = self._diarizer if options.diarize else None
        with self._slots:
            duration = max(audio.duration, 1e-6)

            def on_segment(segment: Segment) -> None:
                sink.on_segment(segment)
                sink.on_progress(_ASR_SHARE * min(1.0, segment.end / duration), "transcribing")

            sink.on_progress(0.0, "transcribing")
            if diarizer is None:
                asr = engine.transcribe(audio, options, on_segment)
                diarization = Diarization()
            else:
                with ThreadPoolExecutor(max_workers=1, thread_name_prefix="diarize") as pool:
                    pending = pool.submit(self._diarize, diarizer, audio, options)
                    try:
                        asr = engine.transcribe(audio, options, on_segment)
                    finally:
                        diarization = pending.result()
            sink.on_progress(_ASR_SHARE, "attributing")
            names = self._identify(diarizer, audio, diarization, options) if diarizer else {}
            transcript = self._assemble(asr, diarization.turns, names)
            for step in self._post_processors:
                if step.wanted(options):
                    transcript = step.apply(transcript, options)
            sink.on_progress(1.0, "done")
            return transcript

    @staticmethod
    def _diarize(diarizer: Diarizer, audio: Audio, options: TranscriptionOptions) -> Diarization:
        found = diarizer.diarize(audio, options.speakers)
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

    @staticmethod
    def _assemble(
        asr: AsrResult, turns: Sequence[SpeakerTurn], names: dict[str, str]
    ) -> Transcript:
        segments = asr.segments
        labelled: tuple[SpeakerTurn, ...] = ()
        if turns:
            attributed = assign_speakers(asr.segments, turns)
            labels = speaker_labels(attributed, turns, names)
            segments = relabel(attributed, labels)
            labelled = relabel_turns(turns, labels)
        return Transcript(
            language=asr.language,
            duration=asr.duration,
            segments=tuple(segments),
            speakers=speakers_in_order(segments),
            turns=labelled,
        )
