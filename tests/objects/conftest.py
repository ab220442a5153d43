"""Helpers for the object-store tests: an action to create objects with."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from isofind.objects.models import Action

SIMPLE_SCHEMA: dict[str, Any] = {
    "title": "Object Information",
    "type": "object",
    "properties": {
        "name": {"title": "Object Name", "type": "text"},
        "mass": {"title": "Mass", "type": "quantity", "units": "mg"},
        "done": {"title": "Done", "type": "bool"},
        "ref": {"title": "Reference", "type": "object_reference"},
        "masses": {"title": "Masses", "type": "array",
                   "items": {"title": "Mass", "type": "quantity", "units": "g"}},
    },
    "required": ["name"],
}


def name_data(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": {"_type": "text", "text": name}, **extra}


@pytest.fixture
def action_id(app: FastAPI) -> int:
    with app.state.database.session(write=True) as db:
        action = Action(type_id=-99, name="Sample", description="", is_hidden=False,
                        schema=SIMPLE_SCHEMA, is_locked=False)
        db.add(action)
        db.flush()
        return action.id
