"""scripts/start.sh: what it refuses, and what it would start (`--dry-run` starts nothing).

The machine's `nvidia-smi` and `docker` are replaced by small scripts on PATH that answer as a
given driver, GPU and engine would, so each refusal can be seen on a machine without a GPU.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
START = ROOT / "scripts" / "start.sh"

DOCKER_OK = """#!/bin/sh
case "$*" in
  "info --format {{json .Runtimes}}") echo '{"nvidia":{"path":"nvidia-container-runtime"},"runc":{}}' ;;
  "info"*) exit 0 ;;
  "version --format"*) echo 27.0.0 ;;
  "compose version") echo "Docker Compose version v2.40.0" ;;
  *) echo "unexpected: docker $*" >&2; exit 9 ;;
esac
"""


def nvidia_smi(driver: str, mib: int, cuda: str = "13.0") -> str:
    return f"""#!/bin/sh
case "$*" in
  *--query-gpu*) echo "NVIDIA GeForce RTX 4060, {driver}, {mib}" ;;
  *) echo "| NVIDIA-SMI {driver}   Driver Version: {driver}   CUDA Version: {cuda} |" ;;
esac
"""


def run(
    tmp_path: Path,
    *args: str,
    smi: str | None = None,
    docker: str | None = DOCKER_OK,
    token: str | None = "hf_test",
) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, body in (("nvidia-smi", smi), ("docker", docker)):
        if body is not None:
            (bin_dir / name).write_text(body)
            (bin_dir / name).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in {"HF_TOKEN", "DOCKER"}}
    env["PATH"] = f"{bin_dir}:/usr/bin:/bin"
    if docker is None:
        env["DOCKER"] = str(tmp_path / "no-docker-here")
    if token is not None:
        env["HF_TOKEN"] = token
    return subprocess.run(
        ["bash", str(START), *args], capture_output=True, text=True, env=env, check=False
    )


def test_help_says_both_modes(tmp_path: Path) -> None:
    done = run(tmp_path, "--help")
    assert done.returncode == 0
    assert "cpu" in done.stdout and "nemo" in done.stdout and "580" in done.stdout


def test_an_unknown_mode_is_refused(tmp_path: Path) -> None:
    done = run(tmp_path, "gpu-please")
    assert done.returncode == 2
    assert "unknown argument 'gpu-please'" in done.stderr


def test_nemo_without_a_gpu_refuses_and_points_at_cpu(tmp_path: Path) -> None:
    if Path("/usr/bin/nvidia-smi").exists():
        pytest.skip("this machine has nvidia-smi in /usr/bin")
    done = run(tmp_path, "nemo", "--dry-run")
    assert done.returncode == 1
    assert "nvidia-smi was not found" in done.stderr
    assert "scripts/start.sh cpu" in done.stderr
    assert "Will start" not in done.stdout


def test_nemo_refuses_a_driver_older_than_cuda_13_needs(tmp_path: Path) -> None:
    done = run(tmp_path, "nemo", "--dry-run", smi=nvidia_smi("550.54.14", 24564, cuda="12.4"))
    assert done.returncode == 1
    assert "NVIDIA driver 550.54.14 is too old" in done.stderr
    assert ">= 580" in done.stderr and "CUDA 12.4" in done.stderr


def test_nemo_refuses_a_gpu_under_8_gb(tmp_path: Path) -> None:
    done = run(tmp_path, "nemo", "--dry-run", smi=nvidia_smi("580.65.06", 6144))
    assert done.returncode == 1
    assert "6144 MiB" in done.stderr and "need 8 GB" in done.stderr
    assert "too old" not in done.stderr


def test_nemo_refuses_without_a_hugging_face_token(tmp_path: Path) -> None:
    done = run(tmp_path, "nemo", "--dry-run", smi=nvidia_smi("580.65.06", 8188), token="")
    if (ROOT / ".env").exists() and "HF_TOKEN" in (ROOT / ".env").read_text():
        pytest.skip("this checkout's .env sets HF_TOKEN")
    assert done.returncode == 1
    assert "HF_TOKEN is not set" in done.stderr


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    done = run(tmp_path, "nemo", "--dry-run", smi=nvidia_smi("535.1", 4096), docker=None)
    assert done.returncode == 1
    assert "Docker is not installed" in done.stderr
    assert "too old" in done.stderr and "4096 MiB" in done.stderr


def test_nemo_on_a_suitable_machine_would_start_the_gpu_profile(tmp_path: Path) -> None:
    done = run(tmp_path, "nemo", "--dry-run", smi=nvidia_smi("580.65.06", 8188))
    assert done.returncode == 0, done.stderr
    assert "docker compose -f docker-compose.scale.yml --profile gpu up -d" in done.stdout
    assert "ok: NVIDIA driver 580.65.06 (CUDA 13.0)" in done.stdout
    assert "nothing started" in done.stdout


def test_cpu_needs_no_gpu_and_would_start_the_single_service(tmp_path: Path) -> None:
    done = run(tmp_path, "cpu", "--dry-run", token=None)
    assert done.returncode == 0, done.stderr
    assert "docker compose up -d" in done.stdout
    assert "NVIDIA" not in done.stdout + done.stderr
