from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from scribe.api.app import create_app
from tests.fakes import fake_services


@pytest.fixture
def services() -> Any:
    s: Any = fake_services(max_upload_mb=1)
    s.warm_up.run()
    return s


@pytest.fixture
def client(services: Any) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as c:
        yield c
