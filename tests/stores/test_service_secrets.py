"""The webhook signing secret kept in the database, on SQLite and on PostgreSQL: get-or-create
agrees across processes racing, the data directory's secret of before is the one kept, the CLI
prints it, two processes built by the composition root on one database (each with its own
data directory, no SCRIBE_WEBHOOK_SECRET) sign callbacks that one secret verifies, and a rotation
(`scribe webhooks rotate-secret`) signs with both secrets for its overlap, then the new alone."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from standardwebhooks import Webhook

from scribe.adapters.db import Database
from scribe.adapters.db.service_secrets import SqlServiceSecrets
from scribe.adapters.webhooks.secret import (
    NAME,
    SigningSecret,
    new_secret,
    rotate_signing_secret,
    secret_path,
    signing_secret,
)
from scribe.bootstrap import Services, prepare
from scribe.config import Settings
from scribe.domain.jobs import Job, JobStatus, JobUsage
from scribe.domain.options import Task
from scribe.ports.service_secrets import KeptSecret
from tests.fakes import services_on_database
from tests.webhook_receiver import holding_receiver

RACERS = 6


def _settings(database_url: str, data_dir: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=data_dir, webhook_secret=None)


def _old_file(data_dir: Path) -> str:
    """The secret file an earlier version made in the data directory."""
    secret = new_secret()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret_path(data_dir).write_text(secret + "\n", encoding="ascii")
    secret_path(data_dir).chmod(0o600)
    return secret


def test_processes_racing_to_make_the_secret_all_get_the_one_kept(database_url: str) -> None:
    Database(database_url).upgrade()
    # Each racer has its own engine (its own connections), as separate processes have; all of
    # them find no secret and make one before any inserts.
    databases = [Database(database_url) for _ in range(RACERS)]
    everyone_made_one = threading.Barrier(RACERS, timeout=20)
    made: list[str] = []
    got: list[str] = []
    errors: list[BaseException] = []

    def make() -> str:
        secret = new_secret()
        made.append(secret)
        everyone_made_one.wait()
        return secret

    def race(database: Database) -> None:
        try:
            got.append(SqlServiceSecrets(database).get_or_create(NAME, make))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=race, args=(db,)) for db in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(made) == RACERS and len(set(made)) == RACERS  # the race did happen
    assert len(got) == RACERS and len(set(got)) == 1 and got[0] in made
    assert SqlServiceSecrets(databases[0]).get(NAME) == got[0]
    assert SqlServiceSecrets(databases[0]).get_or_create(NAME, new_secret) == got[0]
    for db in databases:
        db.dispose()


def test_a_new_install_keeps_a_new_secret_in_the_database_only(
    database: Database, tmp_path: Path
) -> None:
    settings = _settings(str(database.url), tmp_path / "data")
    secret, source = signing_secret(settings, SqlServiceSecrets(database))
    assert source == "the database"
    assert SqlServiceSecrets(database).get(NAME) == secret
    assert not secret_path(tmp_path / "data").exists()  # no file any more
    assert signing_secret(settings, SqlServiceSecrets(database))[0] == secret


def test_an_upgrade_keeps_the_data_directorys_secret_of_before(
    database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SqlServiceSecrets(database)
    url = database.url.render_as_string(hide_password=False)
    before = _old_file(tmp_path / "node1")
    assert signing_secret(_settings(url, tmp_path / "node1"), store) == (before, "the database")
    assert store.get(NAME) == before

    # The file is read only while the database has none: deleted, the secret stays.
    secret_path(tmp_path / "node1").unlink()
    assert signing_secret(_settings(url, tmp_path / "node1"), store)[0] == before

    # Another node's own file of before (the scaled shape): the database's wins, with a warning.
    other = _old_file(tmp_path / "node2")
    with caplog.at_level(logging.WARNING, logger="scribe.adapters.webhooks.secret"):
        assert signing_secret(_settings(url, tmp_path / "node2"), store)[0] == before
    assert other != before
    assert any("other than the database's" in r.getMessage() for r in caplog.records)


def test_a_broken_file_of_before_stops_only_while_the_database_has_no_secret(
    database: Database, tmp_path: Path
) -> None:
    from scribe.domain.errors import ConfigurationError

    store = SqlServiceSecrets(database)
    url = database.url.render_as_string(hide_password=False)
    secret_path(tmp_path).write_text("whsec_short\n")
    with pytest.raises(ConfigurationError, match="delete the file"):
        signing_secret(_settings(url, tmp_path), store)
    assert store.get(NAME) is None  # nothing was kept in its place
    kept = store.get_or_create(NAME, new_secret)
    assert signing_secret(_settings(url, tmp_path), store)[0] == kept


@pytest.fixture
def cli_on_database(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ModuleType:
    """``scribe``'s CLI with the test database, its own data directory and no secret set."""
    from scribe import cli

    monkeypatch.setenv("SCRIBE_DATABASE_URL", database_url)
    monkeypatch.setenv("SCRIBE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SCRIBE_WEBHOOK_SECRET", raising=False)
    return cli


def test_the_cli_prints_the_databases_secret(
    database_url: str, cli_on_database: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = cli_on_database
    assert cli.main(["webhooks", "secret"]) == 0  # an empty database: upgraded, then made
    printed = capsys.readouterr()
    database = Database(database_url)
    kept = SqlServiceSecrets(database).get(NAME)
    assert kept is not None and printed.out.strip() == kept
    assert "from the database" in printed.err and "***" not in printed.out
    assert cli.main(["webhooks", "secret"]) == 0
    assert capsys.readouterr().out.strip() == kept
    database.dispose()


def _node(database_url: str, data_dir: Path) -> Services:
    """A process as `scribe serve` or `scribe worker` builds it, with its own data directory."""
    settings = Settings(
        database_url=database_url,
        data_dir=data_dir,
        webhook_secret=None,
        callback_allow_private=True,
        asr_engine="whisper",
        diarizer="none",
    )
    services = services_on_database(settings)
    prepare(services)
    return services


def _end_a_job_with_a_callback(services: Services, job_id: str, callback_url: str) -> None:
    store = services.storage.jobs
    now = datetime.now(UTC)
    job = Job(job_id, None, Task.TRANSCRIBE, "m", {}, now, callback_url=callback_url)
    store.add(job)
    running = job.start(now)
    assert store.save(running, expect=JobStatus.QUEUED)
    ended = running.complete(datetime.now(UTC), JobUsage(1.0, 0.5))
    assert store.save(ended, expect=JobStatus.IN_PROGRESS)


@pytest.mark.parametrize("files", ["new", "a file per node from before"])
def test_two_processes_on_one_database_sign_callbacks_alike(
    database_url: str, tmp_path: Path, files: str
) -> None:
    if files != "new":
        first_file = _old_file(tmp_path / "node1")
        _old_file(tmp_path / "node2")
    first = _node(database_url, tmp_path / "node1")
    second = _node(database_url, tmp_path / "node2")
    database = Database(database_url)
    kept = SqlServiceSecrets(database).get(NAME)
    database.dispose()
    assert kept is not None
    if files != "new":
        assert kept == first_file  # the node that started first kept its receivers' secret

    with holding_receiver() as receiver:
        receiver.release.set()  # answer at once
        for services, job_id in ((first, "job_one"), (second, "job_two")):
            _end_a_job_with_a_callback(services, job_id, receiver.url())
            callbacks = services.runner.callbacks
            assert callbacks is not None
            callbacks.deliver_due()
        assert len(receiver.got) == 2
    hook = Webhook(kept)
    events = [hook.verify(got.body, got.headers) for got in receiver.got]
    assert [e["data"]["id"] for e in events] == ["job_one", "job_two"]
    assert not secret_path(tmp_path / "node1").exists() or files != "new"


def test_a_secret_the_database_cannot_give_fails_the_attempt_and_a_later_one_signs(
    database_url: str, tmp_path: Path
) -> None:
    import asyncio

    from scribe.adapters.webhooks.sender import StandardWebhookSender

    database = Database(database_url)  # no schema yet: the table is missing
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path,
        webhook_secret=None,
        callback_allow_private=True,
    )
    sender = StandardWebhookSender.from_settings(
        settings, SigningSecret(settings, SqlServiceSecrets(database))
    )

    def attempt(url: str) -> tuple[bool, bool, str]:
        outcome = asyncio.run(
            sender.send(url, "job.completed", {}, webhook_id="msg_1", timestamp=datetime.now(UTC))
        )
        return outcome.ok, outcome.retryable, outcome.error or ""

    with holding_receiver() as receiver:
        receiver.release.set()
        ok, retryable, error = attempt(receiver.url())
        assert not ok and retryable and error.startswith("no signing secret")
        assert "INSERT" not in error and "SELECT" not in error  # no statement, no parameters
        assert receiver.got == []  # nothing sent unsigned
        database.upgrade()
        assert attempt(receiver.url())[0]
        [got] = receiver.got
    kept = SqlServiceSecrets(database).get(NAME)
    assert kept is not None
    Webhook(kept).verify(got.body, got.headers)
    database.dispose()


# --- rotation -----------------------------------------------------------------------------------


def test_a_rotation_keeps_the_previous_secret_until_its_end(database: Database) -> None:
    store = SqlServiceSecrets(database)
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    until = now + timedelta(hours=24)
    fresh = store.rotate(NAME, "whsec_first", until, now)  # none yet: kept alone
    assert (fresh.value, fresh.previous, fresh.previous_until) == ("whsec_first", None, None)
    old = store.get_or_create(NAME, new_secret)
    assert old == "whsec_first"
    rotated = store.rotate(NAME, "whsec_second", until, now)
    assert rotated == KeptSecret("whsec_second", now, "whsec_first", until)
    assert store.kept(NAME) == rotated and store.get(NAME) == "whsec_second"
    again = store.rotate(NAME, "whsec_third", until + timedelta(hours=1), now)
    assert (again.previous, again.previous_until) == ("whsec_second", until + timedelta(hours=1))
    assert store.kept("another") is None


def test_the_cli_rotates_and_shows_the_previous_secret(
    database_url: str, cli_on_database: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = cli_on_database
    assert cli.main(["webhooks", "secret"]) == 0
    old = capsys.readouterr().out.strip()
    assert cli.main(["webhooks", "rotate-secret", "--overlap", "2"]) == 0
    printed = capsys.readouterr()
    new = printed.out.strip()
    assert new != old and new.startswith("whsec_") and "New signing secret" in printed.err
    assert "valid until" in printed.err and printed.err.rstrip().endswith(old)
    database = Database(database_url)
    kept = SqlServiceSecrets(database).kept(NAME)
    database.dispose()
    assert kept is not None and (kept.value, kept.previous) == (new, old)
    assert kept.previous_until is not None
    left = kept.previous_until - datetime.now(UTC)
    assert timedelta(hours=2) - timedelta(minutes=1) < left <= timedelta(hours=2)

    assert cli.main(["webhooks", "secret"]) == 0
    printed = capsys.readouterr()
    assert printed.out.strip() == new  # stdout: the current secret alone, for scripts
    assert f"{kept.previous_until:%Y-%m-%d %H:%M:%S} UTC" in printed.err and old in printed.err

    assert cli.main(["webhooks", "rotate-secret"]) == 2  # during the overlap
    printed = capsys.readouterr()
    assert printed.out == "" and "--force" in printed.err
    assert cli.main(["webhooks", "rotate-secret", "--overlap", "0", "--force"]) == 0
    newest = capsys.readouterr()
    assert newest.out.strip() not in (new, old) and "previous" not in newest.err


def test_the_cli_refuses_to_rotate_a_secret_set_in_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from scribe import cli

    monkeypatch.setenv("SCRIBE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SCRIBE_WEBHOOK_SECRET", new_secret())
    assert cli.main(["webhooks", "rotate-secret"]) == 2
    printed = capsys.readouterr()
    assert printed.out == "" and "rotate it by changing that setting" in printed.err
    assert list(tmp_path.iterdir()) == []  # no database made


def test_callbacks_during_the_overlap_verify_with_either_secret_then_only_the_new_one(
    database_url: str, tmp_path: Path
) -> None:
    from standardwebhooks import WebhookVerificationError

    database = Database(database_url)
    database.upgrade()
    store = SqlServiceSecrets(database)
    settings = _settings(database_url, tmp_path / "node")
    old = signing_secret(settings, store)[0]
    new = rotate_signing_secret(settings, store, timedelta(seconds=2)).current
    ends = store.kept(NAME).previous_until  # type: ignore[union-attr]
    # A process started after the rotation (one running before reads it within REFRESH_SECONDS:
    # tests/unit/test_signing_secret.py).
    node = _node(database_url, tmp_path / "node")

    with holding_receiver() as receiver:
        receiver.release.set()
        _end_a_job_with_a_callback(node, "job_during", receiver.url())
        callbacks = node.runner.callbacks
        assert callbacks is not None
        assert callbacks.deliver_due() == 1
        assert datetime.now(UTC) < ends
        while datetime.now(UTC) < ends:
            time.sleep(0.05)
        _end_a_job_with_a_callback(node, "job_after", receiver.url())
        assert callbacks.deliver_due() == 1
        during, after = receiver.got
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(during.body, during.headers)["data"]["id"] == "job_during"
    assert Webhook(new).verify(after.body, after.headers)["data"]["id"] == "job_after"
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(after.body, after.headers)
    database.dispose()


def test_the_rotation_migration_keeps_the_secret_of_before_and_goes_back(
    database_url: str,
) -> None:
    from alembic import command
    from sqlalchemy import text

    db = Database(database_url)
    with db.engine.connect() as connection:
        command.upgrade(db._alembic_config(connection), "0005")
        connection.commit()
        connection.execute(
            text("INSERT INTO service_secrets (name, value, created_at) VALUES (:n, :v, :t)"),
            {"n": NAME, "v": "whsec_before", "t": datetime.now(UTC)},
        )
        connection.commit()
    db.upgrade()
    kept = SqlServiceSecrets(db).kept(NAME)
    assert kept is not None and (kept.value, kept.previous) == ("whsec_before", None)
    SqlServiceSecrets(db).rotate(NAME, "whsec_after", datetime.now(UTC), datetime.now(UTC))
    with db.engine.connect() as connection:
        command.downgrade(db._alembic_config(connection), "0005")
        connection.commit()
    assert db.current() == "0005"
    with db.engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM service_secrets")).mappings().one()
    assert dict(row).keys() == {"name", "value", "created_at"} and row["value"] == "whsec_after"
    db.dispose()
