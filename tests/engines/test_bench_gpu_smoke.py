"""scripts/bench_gpu.py end to end on CPU with tiny models (``--smoke``), so CI exercises it."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.gpu_stack
@pytest.mark.slow
def test_bench_smoke_writes_every_figure(tmp_path: Path, eval_dir: Path) -> None:
    for module in ("nemo", "pyannote.audio"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (the [gpu] extra)")
    out = tmp_path / "bench.json"
    env = dict(os.environ, HF_HUB_OFFLINE="1", SCRIBE_EVAL_DIR=str(eval_dir))
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bench_gpu.py"), "--smoke", "--out", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "asr_fp32" in done.stdout  # the markdown summary is printed

    report = json.loads(out.read_text())
    assert report["errors"] == {}
    assert report["audio"]["seconds"] == pytest.approx(20.0, abs=0.1)
    for model in ("asr_model", "diarization_model"):
        assert "random" in report[model]["weights"]  # the output says which weights it used
    assert report["asr_model"]["parameters"] > 0
    assert report["asr_model"]["calibration"]["tokens_per_second"] > 0
    runs = report["runs"]
    for name in ("first_job_parallel_cold", "asr_fp32", "diarization", "sequential", "parallel"):
        run = runs[name]
        assert run["wall_s"] > 0
        assert run["rtf"] == pytest.approx(run["wall_s"] / report["audio"]["seconds"], rel=0.01)
        assert "peak_vram_mb" in run  # None on CPU
    assert runs["asr_fp32"]["words"] > 0
    assert runs["diarization"]["turns"] >= 0
    assert runs["parallel"]["speedup_vs_sequential"] > 0
    repeat = report["repeat_jobs"]
    assert repeat["jobs_done"] == repeat["jobs_requested"] == 3
    assert len(repeat["allocated_mb_after_each"]) == 3
    assert isinstance(repeat["no_growth"], bool)
    assert report["anchor"]["beaten"] is None  # no verdict from a CPU run
    assert report["total_seconds"] > 0
