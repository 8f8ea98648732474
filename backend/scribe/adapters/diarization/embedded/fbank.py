"""Kaldi-compatible log mel filterbank features in plain torch (what CAM++ was trained on).

torchaudio's ``compliance.kaldi.fbank`` would do, but torchaudio's native library does not load
beside CPU torch here, so this is the same recipe written out: 25 ms frames every 10 ms
(``snip_edges``), DC removal, pre-emphasis 0.97, Povey window, 512-point power spectrum,
80 triangular mel bins from 20 Hz to Nyquist, natural log, no dither, no energy. In float32,
as Kaldi computes it (float64 took twice the time for differences under 1e-3 in the logs).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

SAMPLE_RATE = 16_000
FRAME_LENGTH = 400  # 25 ms
FRAME_SHIFT = 160  # 10 ms
FFT_SIZE = 512
PREEMPHASIS = 0.97
LOW_FREQ = 20.0


def num_frames(num_samples: int) -> int:
    """Frames Kaldi makes from this many samples (``snip_edges=True``)."""
    if num_samples < FRAME_LENGTH:
        return 0
    return 1 + (num_samples - FRAME_LENGTH) // FRAME_SHIFT


class Fbank:
    """Computes ``(frames, num_mel_bins)`` log mel energies of a 16 kHz waveform."""

    def __init__(self, num_mel_bins: int = 80) -> None:
        import torch

        self.num_mel_bins = num_mel_bins
        window = torch.hann_window(FRAME_LENGTH, periodic=False, dtype=torch.float64).pow(0.85)
        self._window = window.to(torch.float32)
        self._mel = _mel_banks(num_mel_bins).to(torch.float32)

    def __call__(self, waveform: torch.Tensor) -> torch.Tensor:
        """Features of float waveforms ``(..., samples)`` -> ``(..., frames, num_mel_bins)``.

        Any amplitude scale works: it only shifts the log energies, and CAM++ input is
        mean-normalised per window anyway.
        """
        import torch

        n = num_frames(int(waveform.shape[-1]))
        if n == 0:
            return torch.zeros((*waveform.shape[:-1], 0, self.num_mel_bins), dtype=torch.float32)
        x = waveform.to(torch.float32)
        frames = x.unfold(-1, FRAME_LENGTH, FRAME_SHIFT)[..., :n, :]
        frames = frames - frames.mean(dim=-1, keepdim=True)
        previous = torch.cat([frames[..., :1], frames[..., :-1]], dim=-1)
        frames = (frames - PREEMPHASIS * previous) * self._window
        spectrum = torch.fft.rfft(frames, n=FFT_SIZE).abs().pow(2)
        energies = spectrum[..., : FFT_SIZE // 2] @ self._mel.T
        eps = torch.finfo(torch.float32).eps
        features: torch.Tensor = energies.clamp_min(eps).log()
        return features


def _mel_banks(num_bins: int) -> torch.Tensor:
    """Kaldi's triangular mel filters over FFT bins 0..255 (the Nyquist bin is dropped)."""
    import torch

    def mel(freq: float) -> float:
        return 1127.0 * math.log(1.0 + freq / 700.0)

    nyquist = SAMPLE_RATE / 2
    low, high = mel(LOW_FREQ), mel(nyquist)
    delta = (high - low) / (num_bins + 1)
    bin_mels = 1127.0 * torch.log1p(
        torch.arange(FFT_SIZE // 2, dtype=torch.float64) * (SAMPLE_RATE / FFT_SIZE) / 700.0
    )
    banks = torch.zeros((num_bins, FFT_SIZE // 2), dtype=torch.float64)
    for b in range(num_bins):
        left, centre, right = low + b * delta, low + (b + 1) * delta, low + (b + 2) * delta
        up = (bin_mels - left) / (centre - left)
        down = (right - bin_mels) / (right - centre)
        banks[b] = torch.clamp(torch.minimum(up, down), min=0.0)
    return banks
