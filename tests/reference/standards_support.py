"""Helpers shared by the standards, CRM and shift route tests."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from isofind.samples.models import IsotopeValue, SampleIndex
from isofind.timeutil import utcnow

SEED: list[dict[str, Any]] = json.loads(
    files("isofind.reference.standards").joinpath("data", "standards.json")
    .read_text(encoding="utf-8"))
# Migration 0005_standards gives the i-th seeded standard the id -(i + 1).
BUILT_IN = {(entry["abbreviation"], entry["quantity"]): -(i + 1) for i, entry in enumerate(SEED)}

SRM981_206 = BUILT_IN[("SRM 981", "206Pb/204Pb")]
SRM3114_D65 = BUILT_IN[("SRM 3114", "δ65Cu")]
AA_ETH = BUILT_IN[("AA-ETH", "δ66Zn")]


def create_standard(client: TestClient, auth: Any = None, **fields: Any) -> dict[str, Any]:
    body = {"name": "Lab lead", "abbreviation": "LabPb", "element": "Pb",
            "quantity": "206Pb/204Pb", "value": 16.9350, "uncertainty": 0.0020,
            "uncertainty_type": "2SD", **fields}
    response = client.post("/api/standards/custom", json=body, auth=auth)
    assert response.status_code == 201, response.text
    return response.json()


def add_crm(client: TestClient, name: str = "House basalt", auth: Any = None,
            **fields: Any) -> dict[str, Any]:
    response = client.post("/api/crm/add", json={"name": name, **fields}, auth=auth)
    assert response.status_code == 201, response.text
    return response.json()


def insert_sample_value(app: FastAPI, sample_id: int, quantity: str, standard: str,
                        name: str = "Galena") -> None:
    """Index one isotope value of an existing object, as the samples room derives it."""
    with app.state.database.session(write=True) as db:
        db.add(SampleIndex(sample_id=sample_id, name_key=name.lower(), name=name,
                           archived=False, created_at=utcnow(), creator_id=1))
        db.flush()
        db.add(IsotopeValue(sample_id=sample_id, isotope_id=1, element="Pb", quantity=quantity,
                            value=18.0, uncertainty=0.002, standard=standard))
