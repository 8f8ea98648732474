"""The job model: ids, legal and illegal transitions, and the codecs a job carries its request
and result with."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scribe.domain.errors import Conflict
from scribe.domain.insights import Entity, Paragraph, Sentence, Sentiment
from scribe.domain.jobs import (
    IllegalTransition,
    Job,
    JobError,
    JobProgress,
    JobStatus,
    JobUsage,
    clean_filename,
    new_job_id,
)
from scribe.domain.options import Task, VadChunking
from scribe.domain.response_format import ResponseFormat
from scribe.domain.transcript import Segment, SpeakerTurn, Transcript, Word
from scribe.domain.transcript_codec import transcript_from_dict, transcript_to_dict
from scribe.use_cases.job_requests import request_from_dict, request_to_dict
from scribe.use_cases.options import ReferenceClip, TranscriptionRequest

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def queued() -> Job:
    return Job(new_job_id(), "key", Task.TRANSCRIBE, "whisper-base", {}, NOW)


def test_ids_look_like_openai_ids_and_do_not_repeat() -> None:
    ids = {new_job_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.startswith("job_") and len(i) == 28 and i[4:].isalnum() for i in ids)


def test_a_job_runs_from_queued_to_completed() -> None:
    running = queued().start(NOW)
    assert running.status is JobStatus.IN_PROGRESS and running.attempts == 1
    assert running.progress == JobProgress("decoding", 0.0)
    halfway = running.advance(JobProgress("transcribing", 0.5))
    done = halfway.complete(NOW, JobUsage(30.0, 4.0))
    assert done.status is JobStatus.COMPLETED and done.status.terminal
    assert done.progress == JobProgress("done", 1.0) and done.usage == JobUsage(30.0, 4.0)


def test_interrupted_jobs_go_back_to_the_queue_and_count_their_attempts() -> None:
    again = queued().start(NOW).requeue()
    assert again.status is JobStatus.QUEUED and again.started_at is None
    assert again.start(NOW).attempts == 2


@pytest.mark.parametrize(
    "step",
    [
        lambda j: j.complete(NOW, JobUsage(1, 1)),  # never ran
        lambda j: j.requeue(),
        lambda j: j.advance(JobProgress("transcribing", 0.1)),
        lambda j: j.cancel(NOW).start(NOW),  # cancelled is final
        lambda j: j.start(NOW).complete(NOW, JobUsage(1, 1)).cancel(NOW),
        lambda j: j.start(NOW).fail(NOW, JobError("X", "boom")).request_cancel(),
    ],
)
def test_illegal_steps_are_refused_as_conflicts(step: object) -> None:
    with pytest.raises(IllegalTransition) as error:
        step(queued())  # type: ignore[operator]
    assert isinstance(error.value, Conflict) and error.value.code == "invalid_job_state"


def test_terminal_statuses() -> None:
    assert {s for s in JobStatus if s.terminal} == {
        JobStatus.COMPLETED,
        JobStatus.FAILED,
        JobStatus.CANCELLED,
    }


def test_a_transcript_survives_the_round_trip_with_every_part() -> None:
    words = (Word(0.0, 0.5, " Hello", 0.9, "A"), Word(0.5, 1.0, " there", 0.8, "A"))
    transcript = Transcript(
        language="en",
        duration=2.0,
        segments=(
            Segment(0, 0.0, 1.0, " Hello there", words, "A", -0.2, 1.1, 0.01, 0.0, (1, 2)),
            Segment(1, 1.0, 2.0, " Bye", (), "B"),
        ),
        speakers=("A", "B"),
        turns=(SpeakerTurn(0.0, 1.0, "A"), SpeakerTurn(1.0, 2.0, "B")),
        paragraphs=(Paragraph(0.0, 1.0, "Hello there", (Sentence(0.0, 1.0, "Hello there"),), "A"),),
        entities=(Entity("PERSON", "Ada", 0.0, 0.5, "A"),),
        sentiment=Sentiment("positive", 0.5),
        segment_sentiments=(Sentiment("neutral", 0.0, 0.0, 1.0, "A", "Hello there"),),
        task=Task.TRANSLATE,
    )
    import json

    stored = json.loads(json.dumps(transcript_to_dict(transcript)))
    assert transcript_from_dict(stored) == transcript


def test_a_request_survives_the_round_trip_with_its_clips() -> None:
    request = TranscriptionRequest(
        model="whisper-1",
        task=Task.TRANSLATE,
        language="fr",
        languages=("fr", "en"),
        prompt="Names: Ada",
        keywords=("Scribe",),
        temperature=0.2,
        response_format=ResponseFormat.VERBOSE_JSON,
        timestamp_granularities=("word",),
        chunking_strategy=VadChunking(0.4, 100, 500),
        diarize=True,
        num_speakers=2,
        known_speakers=(ReferenceClip("Ada", b"\x00\x01RIFF"),),
        detect_entities=True,
        text_rules=("clean",),
    )
    import json

    stored = json.loads(json.dumps(request_to_dict(request)))
    assert request_from_dict(stored) == request


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("meeting.m4a", "meeting.m4a"),
        ("/home/ada/rec/meeting.m4a", "meeting.m4a"),
        ("C:\\Users\\ada\\meeting.m4a", "meeting.m4a"),
        ("a\x00b\tc\nd\x7fe\u2028.wav", "abcde.wav"),
        ("invoice\u202egnp.exe", "invoicegnp.exe"),
        (b"caf\xe9.wav", "caf\ufffd.wav"),
        ("caf\udce9.wav", "caf\ufffd.wav"),  # os.fsdecode's surrogate for a byte
        ("Réunion 😀 (1).ogg", "Réunion 😀 (1).ogg"),
        ("  spaced.wav  ", "spaced.wav"),
        ("é" * 300, "é" * 255),
        ("dir/", None),
        ("..", None),
        ("\x01\x02", None),
        ("", None),
        (None, None),
    ],
)
def test_a_file_name_is_cleaned_to_a_base_name_a_person_can_read(
    raw: str | bytes | None, kept: str | None
) -> None:
    assert clean_filename(raw) == kept
