"""Normalizing samples to a reference standard: measured values kept, a version per change."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN
from tests.reference.standards_support import SRM981_206

FACTOR = 16.9405 / 16.9300  # SRM 981 certified / the lab's measured mean


def lab_measures_srm981(client: TestClient) -> None:
    response = client.put(f"/api/standards/{SRM981_206}", json={
        "measured_value": 16.9300, "measured_uncertainty": 0.0010, "is_reference": True})
    assert response.status_code == 200, response.text


def sample(client: TestClient) -> dict[str, Any]:
    return client.post("/api/samples", json={"name": "Galena 1", "isotope_data": [
        {"element": "Pb", "ratio": "206Pb/204Pb", "value": 18.0, "uncertainty": 0.002,
         "standard": "NIST SRM 981"},
        {"element": "Sr", "ratio": "87Sr/86Sr", "value": 0.7102, "uncertainty": 0.00002},
    ]}).json()


def test_normalize_one_sample_by_standard_bracketing(client: TestClient) -> None:
    lab_measures_srm981(client)
    sid = sample(client)["id"]

    response = client.post(f"/api/samples/{sid}/normalize", json={})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["values_normalized"], body["values_skipped"]) == (1, 1)
    lead, strontium = body["values"]
    assert lead["value"] == 18.0  # measured, side by side with the normalized value
    assert lead["normalized_value"] == pytest.approx(18.0 * FACTOR, abs=1e-9)
    assert lead["normalized_to"] and strontium["normalized"] is False and strontium["reason"]
    stored = body["sample"]["isotope_data"][0]
    assert stored["value"] == 18.0 and stored["is_normalized"] is True
    assert stored["normalized_value"] == pytest.approx(18.0 * FACTOR, abs=1e-9)
    assert body["sample"]["version_id"] == 1
    first = client.get(f"/api/v1/objects/{sid}/versions/0", auth=ADMIN).json()
    assert "normalized_value" not in first["data"]["isotope_data"][0]
    indexed = client.get("/api/samples/isotopic-data").json()
    assert indexed[0]["is_normalized"] and indexed[0]["normalized_value"] == pytest.approx(
        18.0 * FACTOR, abs=1e-9)

    again = client.post(f"/api/samples/{sid}/normalize").json()
    assert again["sample"]["version_id"] == 1  # same result: no new version


def test_reset_then_auto_normalize(client: TestClient) -> None:
    lab_measures_srm981(client)
    sid = sample(client)["id"]
    client.post(f"/api/samples/{sid}/normalize")

    reset = client.post("/api/samples/reset-all-normalizations").json()
    assert (reset["samples_changed"], reset["values_changed"]) == (1, 1)
    after_reset = client.get(f"/api/samples/{sid}").json()
    assert after_reset["version_id"] == 2
    assert [v["normalized_value"] for v in after_reset["isotope_data"]] == [None, None]
    assert after_reset["isotope_data"][0]["value"] == 18.0

    auto = client.post("/api/samples/auto-normalize").json()
    assert (auto["samples_examined"], auto["samples_changed"], auto["values_changed"],
            auto["values_skipped"]) == (1, 1, 1, 1)
    assert sum(auto["skipped_reasons"].values()) == 1
    normalized = client.get(f"/api/samples/{sid}").json()["isotope_data"][0]
    assert normalized["normalized_value"] == pytest.approx(18.0 * FACTOR, abs=1e-9)


def test_unknown_sample_and_bulk_routes_need_a_manager(multi_client: TestClient,
                                                       add_user: Any) -> None:
    add_user("ana", role="analyst")
    multi_client.headers["Origin"] = "http://testserver"
    multi_client.post("/api/auth/login", json={"username": "ana", "password": "password-123"})
    assert multi_client.post("/api/samples/auto-normalize").status_code == 403
    assert multi_client.post("/api/samples/reset-all-normalizations").status_code == 403
    assert multi_client.post("/api/samples/77/normalize").status_code == 404
