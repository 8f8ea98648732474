"""The composition root maps settings onto the adapters it builds (nothing is loaded here)."""

import io
from pathlib import Path

import pytest

from scribe import bootstrap
from scribe.bootstrap import build_services, engine_name, resolve_device
from scribe.config import Settings
from scribe.domain.errors import InvalidAudio, ModelUnavailable
from tests.fakes import wav_bytes


def test_a_recording_longer_than_the_limit_is_refused() -> None:
    services = build_services(Settings(max_audio_minutes=0.05, diarizer="none", device="cpu"))
    assert services.decoder.decode(io.BytesIO(wav_bytes(2))).duration == pytest.approx(2.0)
    with pytest.raises(InvalidAudio) as error:
        services.decoder.decode(io.BytesIO(wav_bytes(4)))
    assert error.value.code == "audio_too_long"


def test_engines_are_named_after_their_models() -> None:
    assert engine_name("whisper", "base") == "whisper-base"
    assert engine_name("whisper", "Systran/faster-whisper-small") == "whisper-small"
    assert engine_name("nemo", "nvidia/parakeet-tdt-0.6b-v2") == "parakeet-tdt-0.6b-v2"
    assert engine_name("nemo", "/models/my_parakeet.nemo") == "my_parakeet"


def test_both_engines_can_be_configured_and_the_first_is_the_default() -> None:
    services = build_services(Settings(asr_engine="nemo,whisper", diarizer="none", device="cpu"))
    assert [e.name for e in services.engines.all] == ["parakeet-tdt-0.6b-v2", "whisper-base"]
    assert services.engines.select("whisper-1").name == "parakeet-tdt-0.6b-v2"


def test_an_unknown_engine_is_a_settings_error() -> None:
    with pytest.raises(ValueError, match="whisper"):
        Settings(asr_engine="whisper,wav2vec")


@pytest.mark.parametrize("gpu", [True, False])
def test_the_device_is_resolved_once_here(monkeypatch: pytest.MonkeyPatch, gpu: bool) -> None:
    monkeypatch.setattr(bootstrap, "_cuda_available", lambda: gpu)
    assert resolve_device(Settings(device="cpu")) == "cpu"
    assert resolve_device(Settings(device="auto")) == ("cuda" if gpu else "cpu")
    fallback = Settings(device="cuda", allow_cpu_fallback=True)
    assert resolve_device(fallback) == ("cuda" if gpu else "cpu")
    if gpu:
        assert resolve_device(Settings(device="cuda")) == "cuda"
    else:
        with pytest.raises(ModelUnavailable) as error:
            resolve_device(Settings(device="cuda"))
        assert "SCRIBE_DEVICE=cpu" in error.value.message
        assert "SCRIBE_ALLOW_CPU_FALLBACK" in error.value.message


def test_adapters_get_the_resolved_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bootstrap, "_cuda_available", lambda: False)
    settings = Settings(
        asr_engine="nemo,whisper", diarizer="pyannote", device="cuda", allow_cpu_fallback=True
    )
    services = build_services(settings)
    assert [e.device for e in services.engines.all] == ["cpu", "cpu"]
    assert services.diarizer is not None and services.diarizer._device == "cpu"


def test_the_embedded_diarizer_gets_its_settings(tmp_path: Path) -> None:
    from scribe.adapters.diarization.embedded import EmbeddedDiarizer

    settings = Settings(
        diarizer="embedded",
        device="cpu",
        cache_dir=tmp_path,
        embedded_diarizer_precision="bfloat16",
        embedded_diarizer_workers=3,
    )
    diarizer = build_services(settings).diarizer
    assert isinstance(diarizer, EmbeddedDiarizer)
    assert diarizer.settings.workers == 3
    assert diarizer.settings.segmentation_precision == "bfloat16"
    assert diarizer.settings.cache_dir == tmp_path
    with pytest.raises(ValueError, match="embedded_diarizer_workers"):
        Settings(embedded_diarizer_workers=0)
