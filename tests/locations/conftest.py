"""Helpers for the location tests (objects and permissions come from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN


@pytest.fixture
def make_location(client: TestClient) -> Callable[..., int]:
    """Create a location through the API as the administrator; returns its id."""

    def create(name: str = "Freezer A", **fields: Any) -> int:
        response = client.post("/api/v1/locations/", auth=ADMIN, json={"name": name, **fields})
        assert response.status_code == 201, response.text
        return int(response.json()["location_id"])

    return create
