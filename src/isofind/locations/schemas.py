"""Request bodies and the SampleDB wire shapes of locations, location types and assignments.

Bodies are strict (no strings for numbers, no numbers for booleans) and refuse unknown
keys, so a typo answers 400 naming the key instead of being silently ignored.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from isofind.locations.models import (
    DEFAULT_LOCATION_TYPE_ID,
    Location,
    LocationType,
    ObjectLocationAssignment,
)
from isofind.timeutil import sampledb_timestamp

# Ids are 32-bit integer columns; larger numbers cannot name anything and would
# overflow SQLite's driver, so they are refused as bad input.
ID_MIN = -(2**31)
ID_MAX = 2**31 - 1

RowId = Annotated[StrictInt, Field(ge=ID_MIN, le=ID_MAX)]
LocationName = Annotated[StrictStr, Field(min_length=1, max_length=300)]
TypeName = Annotated[StrictStr, Field(min_length=1, max_length=200)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewLocation(_Body):
    """``POST /api/v1/locations/``: upstream SampleDB's body, plus ``is_hidden``."""

    name: LocationName
    description: StrictStr = ""
    parent_location_id: RowId | None = None
    type_id: RowId = DEFAULT_LOCATION_TYPE_ID
    is_hidden: StrictBool = False


class LocationUpdate(_Body):
    """``PUT /api/v1/locations/{id}``: the whole location as ``GET`` returns it."""

    location_id: RowId | None = None
    name: LocationName
    description: StrictStr
    parent_location_id: RowId | None
    type_id: RowId
    is_hidden: StrictBool


class NewLocationType(_Body):
    """``POST /api/v1/location_types/``: the document's ``name`` plus the type's switches."""

    name: TypeName
    location_name_singular: TypeName = "Location"
    location_name_plural: TypeName = "Locations"
    admin_only: StrictBool = False
    enable_parent_location: StrictBool = True
    enable_sub_locations: StrictBool = True
    enable_object_assignments: StrictBool = True
    enable_responsible_users: StrictBool = False
    show_location_log: StrictBool = False


class NewAssignment(_Body):
    """``POST /api/v1/objects/{id}/locations/``: upstream SampleDB's body."""

    object_id: RowId | None = None
    location_id: RowId | None = None
    responsible_user_id: RowId | None = None
    description: StrictStr = ""


def location_json(location: Location) -> dict[str, Any]:
    return {
        "location_id": location.id,
        "name": location.name,
        "description": location.description,
        "parent_location_id": location.parent_location_id,
        "type_id": location.type_id,
        "is_hidden": location.is_hidden,
    }


def location_type_json(location_type: LocationType) -> dict[str, Any]:
    return {"location_type_id": location_type.id, "name": location_type.name}


def assignment_json(assignment: ObjectLocationAssignment) -> dict[str, Any]:
    return {
        "object_id": assignment.object_id,
        "location_id": assignment.location_id,
        "responsible_user_id": assignment.responsible_user_id,
        "user_id": assignment.user_id,
        "description": assignment.description,
        "utc_datetime": sampledb_timestamp(assignment.utc_datetime),
    }
