"""`scribe jobs list|show|cancel`, in process, on a SQLite file in a temporary data directory."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scribe.adapters.db import Database, default_url
from scribe.adapters.db.job_store import SqlJobStore
from scribe.cli import main
from scribe.domain.jobs import Job, JobStatus, JobUsage
from scribe.domain.options import Task

T0 = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SqlJobStore:
    monkeypatch.setenv("SCRIBE_DATA_DIR", str(tmp_path))
    database = Database(default_url(tmp_path))
    database.upgrade()
    return SqlJobStore(database)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_jobs_list_show_and_cancel(capsys: pytest.CaptureFixture[str], store: SqlJobStore) -> None:
    done = Job("job_done", "key_a", Task.TRANSCRIBE, "whisper-base", {}, T0, filename="standup.m4a")
    store.add(done.start(T0).complete(T0 + timedelta(seconds=9), JobUsage(61.5, 9.0)))
    hook = "https://example.com/hook"
    waiting = Job("job_waiting", "key_b", Task.TRANSLATE, "whisper-base", {}, T0 + timedelta(1))
    store.add(replace(waiting, callback_url=hook))

    code, out, _ = run(capsys, "jobs", "list")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["ID", "STATUS", "PROGRESS"]
    assert lines[1].startswith("job_waiting") and "queued" in lines[1] and "key_b" in lines[1]
    assert lines[2].startswith("job_done") and "completed" in lines[2] and "61.5" in lines[2]
    assert "FILE" in lines[0] and "standup.m4a" in lines[2]
    code, out, err = run(capsys, "jobs", "list", "--limit", "1")
    assert len(out.splitlines()) == 2 and "--after job_waiting" in err

    code, out, _ = run(capsys, "jobs", "show", "job_done")
    shown = json.loads(out)
    assert shown["object"] == "audio.job" and shown["status"] == "completed"
    assert shown["usage"]["seconds"] == 61.5 and shown["filename"] == "standup.m4a"

    code, out, err = run(capsys, "jobs", "list", "--status", "completed", "--status", "failed")
    assert code == 0 and [line.split()[0] for line in out.splitlines()[1:]] == ["job_done"]
    code, _, err = run(capsys, "jobs", "list", "--status", "finished")
    assert code == 2 and "Unknown job status 'finished'" in err

    code, out, _ = run(capsys, "jobs", "cancel", "job_waiting")
    assert code == 0 and out.strip() == "job_waiting: cancelled"
    job = store.get("job_waiting")
    assert job is not None and job.status is JobStatus.CANCELLED
    # Its callback waits in the outbox for a server (this process delivers nothing).
    code, out, _ = run(capsys, "jobs", "show", "job_waiting")
    assert json.loads(out)["callback"] == {
        "url": hook,
        "status": "pending",
        "attempts": 0,
        "last_error": None,
        "delivered_at": None,
    }
    code, out, _ = run(capsys, "jobs", "list")
    assert "CALLBACK" in out.splitlines()[0]
    assert out.splitlines()[1].endswith("pending (0 attempts)")
    assert out.splitlines()[2].endswith("-")

    code, _, err = run(capsys, "jobs", "cancel", "job_done")
    assert code == 2 and "already completed" in err
    code, _, err = run(capsys, "jobs", "show", "job_nope")
    assert code == 2 and "No job found" in err
