"""`scribe keys` and `scribe db`, in process, on a SQLite file in a temporary data directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from scribe.adapters.db import Database
from scribe.cli import main


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SCRIBE_DATA_DIR", str(tmp_path))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_keys_create_list_revoke_and_usage(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    code, out, err = run(capsys, "keys", "create", "--name", "laptop", "--rpm", "5")
    assert code == 0 and "shown once" in err
    secret = out.strip()
    assert secret.startswith("sk-scribe-") and len(secret) == len("sk-scribe-") + 43
    assert secret.encode() not in (data_dir / "scribe.db").read_bytes()

    run(capsys, "keys", "create", "--name", "ops", "--scope", "admin", "--concurrency", "0")
    code, out, _ = run(capsys, "keys", "list")
    assert code == 0 and secret not in out
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["ID", "NAME", "PREFIX", "SCOPE"]
    assert "laptop" in lines[1] and secret[:18] in lines[1] and "5 rpm" in lines[1]
    assert "never" in lines[1] and "active" in lines[1]
    assert "admin" in lines[2] and "unlimited at once" in lines[2]

    code, out, _ = run(capsys, "keys", "revoke", secret[:18])
    assert code == 0 and "Revoked" in out
    code, _, err = run(capsys, "keys", "revoke", secret[:18])
    assert code == 2 and "already revoked" in err
    assert "revoked" in run(capsys, "keys", "list")[1].splitlines()[1]
    code, out, _ = run(capsys, "keys", "usage", "--since", "7d")
    assert code == 0 and out.split()[:3] == ["DATE", "KEY", "NAME"]
    assert run(capsys, "keys", "revoke", "key_nope")[0] == 2


def test_db_upgrade_and_current(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "db", "current")
    assert code == 0 and "none (empty database)" in out
    head = Database("sqlite://").head()  # the newest migration (tests/stores checks which)
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and f"revision {head}" in out
    assert f"revision: {head}" in run(capsys, "db", "current")[1]


def test_a_newer_schema_stops_serve_and_upgrade_clearly(
    capsys: pytest.CaptureFixture[str], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "db", "upgrade")
    engine = create_engine(f"sqlite:///{data_dir / 'scribe.db'}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    engine.dispose()
    code, _, err = run(capsys, "db", "upgrade")
    assert code == 2 and "newer than this version of Scribe" in err and "Traceback" not in err
    monkeypatch.setenv("SCRIBE_DIARIZER", "none")
    monkeypatch.setenv("SCRIBE_DEVICE", "cpu")
    code, _, err = run(capsys, "serve", "--port", "1")
    assert code == 2 and "schema revision 0999" in err
