"""Download progress as log lines. Nothing can be downloaded here: the reporter is fed a fake
stream of byte counts, and the wiring into huggingface_hub is checked through the function its
downloads (hf_hub_download, as NeMo and pyannote call it) get their progress bar from."""

from __future__ import annotations

import logging

import pytest

from scribe.adapters.download_progress import (
    LoggingProgress,
    ProgressReporter,
    hub_download_progress,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_reporter_logs_file_bytes_and_percent_at_most_every_few_seconds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    reporter = ProgressReporter("model.nemo", 2_400_000_000, every=5.0, clock=clock)
    with caplog.at_level(logging.INFO, logger="scribe.downloads"):
        for step in range(1, 25):  # 100 MB a second for 24 s
            clock.now = float(step)
            reporter.update(step * 100_000_000)
        reporter.finish()
        reporter.finish()  # once
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "downloading model.nemo: 100.0 MB of 2.4 GB (4 %)"
    assert "downloading model.nemo: 600.0 MB of 2.4 GB (25 %)" in lines
    assert len(lines) == 6  # at 1, 6, 11, 16, 21 s, and the end
    assert lines[-1] == "downloaded model.nemo (2.4 GB)"


def test_an_unknown_size_or_an_interrupted_download_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reporter = ProgressReporter("config.yaml", None, clock=Clock())
    with caplog.at_level(logging.INFO, logger="scribe.downloads"):
        reporter.update(512)
        reporter.finish()
    assert [r.getMessage() for r in caplog.records] == [
        "downloading config.yaml: 512 B",
        "downloading config.yaml: 512 B: stopped",
    ]


def test_huggingface_hub_downloads_get_the_logging_bar_while_a_model_loads(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    from huggingface_hub.utils.tqdm import _get_progress_bar_context

    def bar() -> object:
        # What huggingface_hub's http_get asks for (file_download.py) for each file.
        return _get_progress_bar_context(
            desc="pytorch_model.bin",
            log_level=logging.INFO,
            total=1000,
            initial=0,
            name="huggingface_hub.http_get",
        )

    with caplog.at_level(logging.INFO, logger="scribe.downloads"):
        with hub_download_progress(True), bar() as progress:  # type: ignore[attr-defined]
            assert isinstance(progress, LoggingProgress)
            for _ in range(4):
                progress.update(250)
        with bar() as plain:  # type: ignore[attr-defined]
            assert not isinstance(plain, LoggingProgress)  # put back afterwards
        with hub_download_progress(False), bar() as off:  # type: ignore[attr-defined]
            assert not isinstance(off, LoggingProgress)  # downloads off: nothing changes
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "downloading pytorch_model.bin: 250 B of 1.0 KB (25 %)"
    assert lines[-1] == "downloaded pytorch_model.bin (1.0 KB)"
    assert "\r" not in capsys.readouterr().err  # no bar drawn
