"""SampleDB routes of the locations room: locations, location types, object locations.

The document only reads; creating and changing follow upstream SampleDB's current
API (``POST``/``PUT`` locations, ``POST`` object locations), and ``POST
/location_types/`` is added in the same style. Creations answer 201 with the new
resource and its ``Location``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request, Response, status

from isofind.api_v1.dependencies import V1Viewer
from isofind.api_v1.wire import v1_router
from isofind.identity.dependencies import Db, V1User, client_address
from isofind.locations import service
from isofind.locations.schemas import (
    ID_MAX,
    ID_MIN,
    LocationUpdate,
    NewAssignment,
    NewLocation,
    NewLocationType,
    assignment_json,
    location_json,
    location_type_json,
)

router = v1_router(prefix="/api/v1", tags=["SampleDB: Locations"])

PathId = Annotated[int, Path(ge=ID_MIN, le=ID_MAX)]


# --- locations ---------------------------------------------------------------------------


@router.get("/locations/", summary="Reading a list of all locations")
def list_locations(user: V1User, db: Db) -> list[dict[str, Any]]:
    """Every location, hidden ones included (``is_hidden`` is a hint for user interfaces)."""
    return [location_json(location) for location in service.list_locations(db)]


@router.get("/locations/{location_id}", summary="Reading a location")
def read_location(location_id: PathId, user: V1User, db: Db) -> dict[str, Any]:
    return location_json(service.get_location(db, location_id))


@router.post("/locations/", status_code=status.HTTP_201_CREATED,
             summary="Creating a location (administrators; upstream SampleDB extension)")
def create_location(body: NewLocation, request: Request, response: Response, user: V1User,
                    db: Db) -> dict[str, Any]:
    location = service.create_location(db, user, body, client_address(request))
    response.headers["Location"] = f"/api/v1/locations/{location.id}"
    return location_json(location)


@router.put("/locations/{location_id}",
            summary="Updating a location (administrators; upstream SampleDB extension)")
def update_location(location_id: PathId, body: LocationUpdate, request: Request,
                    user: V1User, db: Db) -> dict[str, Any]:
    return location_json(
        service.update_location(db, user, location_id, body, client_address(request)))


# --- location types ----------------------------------------------------------------------


@router.get("/location_types/", summary="Reading a list of all location types")
def list_location_types(user: V1User, db: Db) -> list[dict[str, Any]]:
    return [location_type_json(t) for t in service.list_location_types(db)]


@router.get("/location_types/{location_type_id}", summary="Reading a location type")
def read_location_type(location_type_id: PathId, user: V1User, db: Db) -> dict[str, Any]:
    return location_type_json(service.get_location_type(db, location_type_id))


@router.post("/location_types/", status_code=status.HTTP_201_CREATED,
             summary="Creating a location type (administrators; IsoFind extension)")
def create_location_type(body: NewLocationType, request: Request, response: Response,
                         user: V1User, db: Db) -> dict[str, Any]:
    location_type = service.create_location_type(db, user, body, client_address(request))
    response.headers["Location"] = f"/api/v1/location_types/{location_type.id}"
    return location_type_json(location_type)


# --- object location assignments ---------------------------------------------------------


@router.get("/objects/{object_id}/locations/", summary="Reading a list of an object's locations")
def list_object_locations(object_id: PathId, viewer: V1Viewer, db: Db) -> list[dict[str, Any]]:
    """The object's location assignments in the order they were made (read permission)."""
    return [assignment_json(a) for a in service.object_assignments(db, viewer, object_id)]


@router.get("/objects/{object_id}/locations/{index}", summary="Reading an object's location")
def read_object_location(object_id: PathId, index: PathId, viewer: V1Viewer,
                         db: Db) -> dict[str, Any]:
    return assignment_json(service.object_assignment(db, viewer, object_id, index))


@router.post("/objects/{object_id}/locations/", status_code=status.HTTP_201_CREATED,
             summary="Assigning a location to an object (upstream SampleDB extension)")
def assign_object_location(object_id: PathId, body: NewAssignment, request: Request,
                           response: Response, viewer: V1Viewer, db: Db) -> dict[str, Any]:
    """Needs write permission on the object; ``location_id`` or ``responsible_user_id``."""
    index, assignment = service.assign_object(db, viewer, object_id, body,
                                              client_address(request))
    response.headers["Location"] = f"/api/v1/objects/{object_id}/locations/{index}"
    return assignment_json(assignment)
