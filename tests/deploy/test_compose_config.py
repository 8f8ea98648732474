"""The compose files as Docker Compose reads them (`docker compose config`), profile by profile.

Skipped when no Docker CLI with the compose v2 plugin is installed (`.ci/run` installs both).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SINGLE = ROOT / "docker-compose.yml"
SCALE = ROOT / "docker-compose.scale.yml"
SCRIBE_SERVICES = {"scribe", "api-cpu", "worker-cpu", "api-gpu", "worker-gpu"}


def _docker() -> str | None:
    for candidate in (os.environ.get("DOCKER"), "/usr/bin/docker", shutil.which("docker")):
        if not candidate or not Path(candidate).exists():
            continue
        done = subprocess.run(
            [candidate, "compose", "version"], capture_output=True, text=True, check=False
        )
        if done.returncode == 0:
            return candidate
    return None


DOCKER = _docker()
pytestmark = pytest.mark.skipif(
    DOCKER is None, reason="no Docker CLI with the compose v2 plugin (`docker compose version`)"
)


def config(file: Path, *profiles: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """The resolved configuration, without the user's .env and SCRIBE_ variables."""
    assert DOCKER is not None
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SCRIBE_", "COMPOSE_"))}
    args = [DOCKER, "compose", "--env-file", os.devnull, "-f", str(file)]
    for profile in profiles:
        args += ["--profile", profile]
    done = subprocess.run(
        [*args, "config", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**clean, **(env or {})},
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def seconds(duration: str) -> float:
    """A compose duration (`45s`, `1m30s`) in seconds."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    parts = re.findall(r"([\d.]+)(ms|h|m|s)", duration)
    assert parts, duration
    return sum(float(n) * units[u] for n, u in parts)


def published(service: dict[str, Any]) -> list[str]:
    return [str(p.get("published")) for p in service.get("ports", [])]


def test_plain_up_is_the_single_cpu_service_with_its_volumes() -> None:
    services = config(SINGLE)["services"]
    assert set(services) == {"scribe"}
    scribe = services["scribe"]
    assert scribe["build"]["target"] == "cpu"
    assert published(scribe) == ["20301"]
    targets = {v["target"] for v in scribe["volumes"]}
    assert {"/var/lib/scribe", "/var/cache/scribe"} <= targets
    grace = float(scribe["environment"]["SCRIBE_SHUTDOWN_GRACE_SECONDS"])
    assert seconds(scribe["stop_grace_period"]) > grace


def test_build_arguments_default_to_the_official_sources() -> None:
    args = config(SINGLE)["services"]["scribe"]["build"]["args"]
    assert args["BASE_IMAGE"] == "python:3.11-slim"
    assert args["TORCH_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    offline = config(SINGLE, env={"SCRIBE_BASE_IMAGE": "stand-in:1"})["services"]["scribe"]
    assert offline["build"]["args"]["BASE_IMAGE"] == "stand-in:1"


@pytest.mark.parametrize(
    ("profile", "api", "worker", "engine"),
    [("scaled", "api-cpu", "worker-cpu", "whisper"), ("gpu", "api-gpu", "worker-gpu", "nemo")],
)
def test_each_scale_profile_starts_only_its_own_topology(
    profile: str, api: str, worker: str, engine: str
) -> None:
    services = config(SCALE, profile)["services"]
    assert set(services) == {api, worker, "redis", "postgres"}
    # One service on the port: the API node.
    assert [name for name, s in services.items() if s.get("ports")] == [api]
    assert published(services[api]) == ["20301"]
    assert services[worker]["command"] == ["scribe", "worker", "--engines", engine]
    for name in (api, worker):
        env = services[name]["environment"]
        assert env["SCRIBE_JOB_QUEUE"] == "celery"
        assert env["SCRIBE_REDIS_URL"] == "redis://redis:6379/0"
        assert env["SCRIBE_DATABASE_URL"].startswith("postgresql+psycopg://scribe:")
        assert env["SCRIBE_DATABASE_URL"].endswith("@postgres/scribe")
        assert env["SCRIBE_ASR_ENGINE"] == engine
        assert services[name]["depends_on"] == {
            "redis": {"condition": "service_healthy", "required": True},
            "postgres": {"condition": "service_healthy", "required": True},
        }
        grace = float(env["SCRIBE_SHUTDOWN_GRACE_SECONDS"])
        assert seconds(services[name]["stop_grace_period"]) > grace
    for name in (api, worker, "redis", "postgres"):  # `up --wait` needs every one healthy
        assert services[name]["healthcheck"]["test"], name
        assert not services[name]["healthcheck"].get("disable"), name
    assert "--appendonly" in services["redis"]["command"]
    appendonly = services["redis"]["command"].index("--appendonly")
    assert services["redis"]["command"][appendonly + 1] == "yes"


def test_the_gpu_worker_reserves_a_gpu_and_the_cpu_one_does_not() -> None:
    gpu = config(SCALE, "gpu")["services"]["worker-gpu"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia"
    assert devices[0]["capabilities"] == ["gpu"]
    cpu = config(SCALE, "scaled")["services"]["worker-cpu"]
    assert "deploy" not in cpu
    # The GPU topology's API node loads no model: it must start on a node without a GPU.
    api = config(SCALE, "gpu")["services"]["api-gpu"]
    assert "deploy" not in api
    assert api["environment"]["SCRIBE_DEVICE"] == "cpu"


def test_redis_and_postgres_images_can_be_replaced() -> None:
    default = config(SCALE, "scaled")["services"]
    assert default["redis"]["image"] == "redis:7"
    assert default["postgres"]["image"] == "postgres:16"
    replaced = config(
        SCALE,
        "scaled",
        env={"SCRIBE_REDIS_IMAGE": "local/redis", "SCRIBE_POSTGRES_IMAGE": "local/postgres"},
    )["services"]
    assert replaced["redis"]["image"] == "local/redis"
    assert replaced["postgres"]["image"] == "local/postgres"


def test_without_a_profile_the_scale_file_starts_nothing() -> None:
    assert config(SCALE).get("services", {}) == {}


def test_every_scribe_service_runs_the_one_image_of_its_kind() -> None:
    images = {
        name: s["image"]
        for file, profiles in ((SINGLE, ()), (SCALE, ("scaled",)), (SCALE, ("gpu",)))
        for name, s in config(file, *profiles)["services"].items()
        if name in SCRIBE_SERVICES
    }
    assert images == {
        "scribe": "scribe:cpu",
        "api-cpu": "scribe:cpu",
        "worker-cpu": "scribe:cpu",
        "api-gpu": "scribe:gpu",
        "worker-gpu": "scribe:gpu",
    }
