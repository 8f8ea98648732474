"""Where a pyannote pipeline comes from, and the errors when it is nowhere (no pyannote needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scribe.adapters.diarization.pyannote_diarizer import PyannoteDiarizer
from scribe.adapters.diarization.pyannote_source import (
    DEFAULT_PIPELINE,
    PipelineSource,
    hub_offline,
)
from scribe.config import Settings
from scribe.domain.errors import ModelUnavailable


def test_name() -> None:
    assert PyannoteDiarizer(pipeline="/nonexistent").name == "pyannote"


def test_one_default_pipeline() -> None:
    assert Settings().pyannote_pipeline == DEFAULT_PIPELINE


def test_missing_local_folder_is_model_unavailable(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-pipeline"
    d = PyannoteDiarizer(pipeline=str(missing))
    with pytest.raises(ModelUnavailable) as info:
        d.load()
    assert str(missing) in info.value.message
    assert "SCRIBE_PYANNOTE_PIPELINE" in info.value.message
    assert not d.loaded


def test_folder_without_config_is_model_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match=r"config\.yaml"):
        PyannoteDiarizer(pipeline=str(tmp_path)).load()


def test_local_folder_and_file_resolve_to_themselves(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("pipeline: {}\n")
    assert PipelineSource(str(tmp_path)).resolve() == str(tmp_path)
    assert PipelineSource(str(tmp_path / "config.yaml")).resolve() == str(tmp_path / "config.yaml")


def test_uncached_hub_name_names_every_way_to_provide_it(tmp_path: Path) -> None:
    source = PipelineSource("someone/not-cached", cache_dir=str(tmp_path))
    with pytest.raises(ModelUnavailable) as info:
        source.resolve()
    message = info.value.message
    assert "someone/not-cached" in message and "HF_TOKEN" in message
    assert "SCRIBE_ALLOW_DOWNLOADS" in message and "SCRIBE_PYANNOTE_PIPELINE" in message
    # With downloads on, the name goes to pyannote as it is.
    assert PipelineSource("someone/not-cached", allow_downloads=True).resolve() == (
        "someone/not-cached"
    )


def test_unknown_device_is_refused_when_built() -> None:
    with pytest.raises(ValueError, match="cuda:N"):
        PyannoteDiarizer(pipeline="/nonexistent", device="auto")


def test_hub_offline_context_sets_and_restores_offline_mode() -> None:
    from huggingface_hub import constants

    before = constants.HF_HUB_OFFLINE
    with hub_offline(True):
        assert constants.is_offline_mode()
    assert before == constants.HF_HUB_OFFLINE
    with hub_offline(False):
        assert before == constants.HF_HUB_OFFLINE
