"""Rules for locations, location types and where objects are kept.

Locations are lab-wide reference data, as in SampleDB's document ("a list of all
locations"): every signed-in user reads all of them. Hidden locations are listed too,
with ``is_hidden: true``, as upstream SampleDB's API does; the flag only tells user
interfaces to leave them out of pickers. Only administrators create or change
locations and location types (upstream's ONLY_ADMINS_CAN_MANAGE_LOCATIONS mode).

Object location assignments belong to their object: reading them needs read
permission on the object, adding one needs write permission. They are addressed by
their index in assignment order, from 0.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from isofind.activity.service import record as record_activity
from isofind.errors import BadRequest, Forbidden, NotFound, Unauthorized
from isofind.identity.models import Role, User
from isofind.locations.models import Location, LocationType, ObjectLocationAssignment
from isofind.locations.schemas import (
    LocationUpdate,
    NewAssignment,
    NewLocation,
    NewLocationType,
)
from isofind.objects import service as objects
from isofind.objects.models import ObjectLogEntry, ObjectRecord
from isofind.permissions.models import Level
from isofind.permissions.service import Viewer
from isofind.timeutil import utcnow

# Any constant works: it only has to be the same for every transaction that moves locations.
_LOCATION_TREE_LOCK = 0x150F1D_0C

# --- reading -----------------------------------------------------------------------------


def list_locations(db: Session) -> Sequence[Location]:
    return db.scalars(select(Location).order_by(Location.id)).all()


def get_location(db: Session, location_id: int) -> Location:
    location = db.get(Location, location_id)
    if location is None:
        raise NotFound(f"location {location_id} does not exist")
    return location


def list_location_types(db: Session) -> Sequence[LocationType]:
    return db.scalars(select(LocationType).order_by(LocationType.id)).all()


def get_location_type(db: Session, location_type_id: int) -> LocationType:
    location_type = db.get(LocationType, location_type_id)
    if location_type is None:
        raise NotFound(f"location type {location_type_id} does not exist")
    return location_type


def _assignments_of(object_id: int) -> Select[tuple[ObjectLocationAssignment]]:
    return (select(ObjectLocationAssignment)
            .where(ObjectLocationAssignment.object_id == object_id)
            .order_by(ObjectLocationAssignment.id))


def object_assignments(db: Session, viewer: Viewer,
                       object_id: int) -> Sequence[ObjectLocationAssignment]:
    objects.require_object(db, viewer, object_id, Level.READ)
    return db.scalars(_assignments_of(object_id)).all()


def object_assignment(db: Session, viewer: Viewer, object_id: int,
                      index: int) -> ObjectLocationAssignment:
    objects.require_object(db, viewer, object_id, Level.READ)
    assignment = None
    if index >= 0:
        assignment = db.scalars(_assignments_of(object_id).offset(index).limit(1)).first()
    if assignment is None:
        raise NotFound(f"location assignment {index} for object {object_id} does not exist")
    return assignment


# --- checks shared by the writers --------------------------------------------------------


def _require_location_manager(user: User) -> None:
    if user.role < Role.ADMIN or user.is_readonly:
        raise Forbidden("only administrators may manage locations and location types")


def _named_location(db: Session, field: str, location_id: int) -> Location:
    location = db.get(Location, location_id)
    if location is None:
        raise BadRequest(f"{field} {location_id} does not name a location")
    return location


def _named_type(db: Session, type_id: int) -> LocationType:
    location_type = db.get(LocationType, type_id)
    if location_type is None:
        raise BadRequest(f"type_id {type_id} does not name a location type")
    return location_type


def _named_user(db: Session, field: str, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None or user.is_deleted:
        raise BadRequest(f"{field} {user_id} does not name a user")
    return user


def _ancestor_ids(db: Session, location_id: int) -> set[int]:
    """The location and every location above it, in one recursive query."""
    chain = (select(Location.id, Location.parent_location_id)
             .where(Location.id == location_id)
             .cte("location_chain", recursive=True))
    parent = aliased(Location)
    # UNION (not UNION ALL) stops on repeated rows, so even damaged data cannot loop forever.
    chain = chain.union(select(parent.id, parent.parent_location_id)
                        .join(chain, parent.id == chain.c.parent_location_id))
    return set(db.scalars(select(chain.c.id)))


def _check_parent(db: Session, location_type: LocationType, parent: Location | None) -> None:
    if parent is None:
        return
    if not location_type.enable_parent_location:
        raise BadRequest(f"locations of type {location_type.id} cannot have a parent location")
    if not _named_type(db, parent.type_id).enable_sub_locations:
        raise BadRequest(f"parent_location_id {parent.id}: locations of type {parent.type_id} "
                         "cannot have sub-locations")


def _has_sub_locations(db: Session, location_id: int) -> bool:
    return db.scalar(select(func.count()).where(Location.parent_location_id == location_id)) > 0


def _serialize_tree_changes(db: Session) -> None:
    """Two concurrent moves (A under B, B under A) would each pass the cycle check alone.

    SQLite already runs one writer at a time (BEGIN IMMEDIATE); PostgreSQL needs a lock.
    """
    if db.get_bind().dialect.name == "postgresql":
        db.execute(select(func.pg_advisory_xact_lock(_LOCATION_TREE_LOCK)))


# --- locations ---------------------------------------------------------------------------


def create_location(db: Session, user: User, body: NewLocation,
                    client_address: str | None = None) -> Location:
    _require_location_manager(user)
    location_type = _named_type(db, body.type_id)
    parent = (None if body.parent_location_id is None
              else _named_location(db, "parent_location_id", body.parent_location_id))
    _check_parent(db, location_type, parent)
    location = Location(name=body.name, description=body.description,
                        parent_location_id=body.parent_location_id, type_id=location_type.id,
                        is_hidden=body.is_hidden)
    db.add(location)
    db.flush()
    record_activity(db, "location.created", user_id=user.id, target_type="location",
                    target_id=location.id, details=body.model_dump(),
                    client_address=client_address)
    return location


def update_location(db: Session, user: User, location_id: int, body: LocationUpdate,
                    client_address: str | None = None) -> Location:
    _require_location_manager(user)
    location = get_location(db, location_id)
    if body.location_id is not None and body.location_id != location_id:
        raise BadRequest(f"location_id must be {location_id}")
    _serialize_tree_changes(db)
    location_type = _named_type(db, body.type_id)
    if not location_type.enable_sub_locations and _has_sub_locations(db, location_id):
        raise BadRequest(f"location {location_id} has sub-locations, which locations of type "
                         f"{location_type.id} cannot have")
    parent = (None if body.parent_location_id is None
              else _named_location(db, "parent_location_id", body.parent_location_id))
    _check_parent(db, location_type, parent)
    if parent is not None and location_id in _ancestor_ids(db, parent.id):
        raise BadRequest(f"parent_location_id {parent.id} would make location {location_id} "
                         "its own ancestor")
    location.name = body.name
    location.description = body.description
    location.parent_location_id = body.parent_location_id
    location.type_id = location_type.id
    location.is_hidden = body.is_hidden
    db.flush()
    record_activity(db, "location.updated", user_id=user.id, target_type="location",
                    target_id=location.id, details=body.model_dump(exclude={"location_id"}),
                    client_address=client_address)
    return location


# --- location types ----------------------------------------------------------------------


def _sqlite_type_id(db: Session) -> int | None:
    """SQLite numbers a new row max(id) + 1, so next to the seeded -99 it would hand out
    -98; custom types count from 1 as on PostgreSQL, whose sequence ignores -99."""
    if db.get_bind().dialect.name != "sqlite":
        return None
    return max(db.scalar(select(func.max(LocationType.id))) or 0, 0) + 1


def create_location_type(db: Session, user: User, body: NewLocationType,
                         client_address: str | None = None) -> LocationType:
    _require_location_manager(user)
    location_type = LocationType(id=_sqlite_type_id(db), **body.model_dump())
    db.add(location_type)
    db.flush()
    record_activity(db, "location_type.created", user_id=user.id,
                    target_type="location_type", target_id=location_type.id,
                    details=body.model_dump(), client_address=client_address)
    return location_type


# --- object location assignments ---------------------------------------------------------


def _assignment_location(db: Session, location_id: int | None) -> Location | None:
    if location_id is None:
        return None
    location = _named_location(db, "location_id", location_id)
    if not _named_type(db, location.type_id).enable_object_assignments:
        raise BadRequest(f"location_id {location_id}: locations of type {location.type_id} "
                         "do not take objects")
    return location


def _lock_object(db: Session, object_id: int) -> None:
    """One assignment per object at a time, so each new one learns its index for sure.

    (SQLite runs one writer at a time anyway and ignores FOR UPDATE.)
    """
    db.execute(select(ObjectRecord.id).where(ObjectRecord.id == object_id).with_for_update())


def assign_object(db: Session, viewer: Viewer, object_id: int, body: NewAssignment,
                  client_address: str | None = None) -> tuple[int, ObjectLocationAssignment]:
    """Record where an object is now; returns the new assignment and its index."""
    user = viewer.user
    if user is None:
        raise Unauthorized("Authentication required")
    objects.require_object(db, viewer, object_id, Level.WRITE)
    _lock_object(db, object_id)
    if body.object_id is not None and body.object_id != object_id:
        raise BadRequest(f"object_id must be {object_id}")
    if body.location_id is None and body.responsible_user_id is None:
        raise BadRequest("location_id or responsible_user_id must be set")
    location = _assignment_location(db, body.location_id)
    if body.responsible_user_id is not None:
        _named_user(db, "responsible_user_id", body.responsible_user_id)
    now = utcnow()
    assignment = ObjectLocationAssignment(
        object_id=object_id, location_id=location.id if location else None,
        responsible_user_id=body.responsible_user_id, user_id=user.id,
        description=body.description, utc_datetime=now,
        # Nobody needs to confirm responsibility they assigned to themselves.
        confirmed=body.responsible_user_id == user.id)
    db.add(assignment)
    db.flush()
    index = db.scalar(select(func.count()).where(
        ObjectLocationAssignment.object_id == object_id,
        ObjectLocationAssignment.id < assignment.id))
    db.add(ObjectLogEntry(type="ASSIGN_LOCATION", object_id=object_id, user_id=user.id,
                          data={"object_location_assignment_id": index}, utc_datetime=now))
    record_activity(db, "location.object_assigned", user_id=user.id, target_type="object",
                    target_id=object_id,
                    details={"index": index, "location_id": assignment.location_id,
                             "responsible_user_id": assignment.responsible_user_id},
                    client_address=client_address)
    return index, assignment
