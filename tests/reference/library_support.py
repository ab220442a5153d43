"""Helpers for the library tests: isotope samples, method and pipeline bodies, users."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from isofind.activity.models import ActivityEntry
from isofind.identity.models import User
from isofind.objects.service import create_object
from isofind.permissions.service import Viewer
from isofind.samples.action import ISOTOPE_SAMPLE_ACTION_ID, object_data

PASSWORD = "password-123"


def make_sample(app: FastAPI, name: str = "S1", owner: str = "admin") -> int:
    """An isotope sample object created by `owner` (who holds grant on it); its id."""
    with app.state.database.session(write=True) as db:
        user = db.scalar(select(User).where(User.username == owner))
        assert user is not None
        data = object_data({"name": name}, [], archived=False, next_isotope_id=1)
        return create_object(db, Viewer(user), ISOTOPE_SAMPLE_ACTION_ID, data).id


def method_body(key: str = "pb-ax", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": key,
        "name": "Pb purification on AG1-X8",
        "type": "purification",
        "element": "lead",
        "target_matrices": ["sediment", "ore"],
        "duration": "2 days",
        "duration_hours": 48,
        "yield_min_pct": 90,
        "yield_max_pct": 105,
        "equipment": {"column": "Bio-Rad Poly-Prep", "resin": "AG1-X8",
                      "resin_volume_ml": 0.5, "reagents": "HBr 0.6 M, HCl 6 M",
                      "temperature": "room"},
        "steps": [{"title": "Condition resin", "detail": "HBr 0.6 M"},
                  {"title": "Elute Pb", "detail": "HCl 6 M", "final": True}],
        "reference": {"doi": "https://doi.org/10.1016/J.CHEMGEO.2019.01.001",
                      "citation": "Doe et al. 2019"},
        "notes": "clean lab B",
    }
    body.update(fields)
    return body


def pipeline_body(key: str = "pb-ore", stages: list[str] | list[dict[str, Any]] | None = None,
                  **fields: Any) -> dict[str, Any]:
    """Stages as method keys (labelled `stage N`) or as whole stage bodies."""
    given = ["digest", "pb-ax"] if stages is None else stages
    body: dict[str, Any] = {
        "key": key, "name": "Pb in ores", "element": "Pb", "description": "from powder to MC",
        "stages": [stage if isinstance(stage, dict)
                   else {"method_key": stage, "label": f"stage {index}"}
                   for index, stage in enumerate(given, start=1)],
    }
    body.update(fields)
    return body


def activity(app: FastAPI, action: str) -> list[ActivityEntry]:
    with app.state.database.session(write=False) as db:
        return list(db.scalars(select(ActivityEntry).where(ActivityEntry.action == action)
                               .order_by(ActivityEntry.id)))
