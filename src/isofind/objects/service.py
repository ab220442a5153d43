"""The rules of the object store: every change is a new version; nothing is overwritten.

Both APIs write objects through :func:`create_object` and :func:`add_version`, so the
derived indexes (references, and the listeners other rooms register, such as the
isotope index of samples) are always written in the same transaction as the version.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, select
from sqlalchemy.orm import Session

from isofind.activity.service import record as record_activity
from isofind.errors import BadRequest, Forbidden, NotFound
from isofind.identity.models import Role, User
from isofind.objects.diffs import DiffError, resolve_new_data
from isofind.objects.models import (
    Action,
    ActionType,
    ObjectLogEntry,
    ObjectRecord,
    ObjectReference,
    ObjectVersion,
)
from isofind.objects.references import DatabaseReferences, referenced_ids
from isofind.objects.schema_language import SchemaLanguageError, validate_data
from isofind.objects.search import SearchQueryError, compile_condition, simple_text_condition
from isofind.permissions import service as permissions
from isofind.permissions.models import Level, SubjectType
from isofind.permissions.service import Viewer
from isofind.timeutil import utcnow

VersionListener = Callable[[Session, ObjectRecord], None]
_listeners: list[VersionListener] = []


def on_version_written(listener: VersionListener) -> VersionListener:
    """Register a function run after every new version, in the same transaction."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


# --- reading ------------------------------------------------------------------------------


def visible_objects(viewer: Viewer, level: Level = Level.READ) -> Select[tuple[ObjectRecord]]:
    return select(ObjectRecord).where(ObjectRecord.is_deleted.is_(False), permissions.holds(
        viewer, level))


def get_object(db: Session, viewer: Viewer, object_id: int,
               level: Level = Level.READ) -> ObjectRecord:
    """The object, if it exists and the viewer holds ``level``; else 404 or 403."""
    record = db.scalar(visible_objects(viewer, level).where(ObjectRecord.id == object_id))
    if record is not None:
        return record
    # The common case took one query; telling 404 from 403 needs a second one.
    existing = db.get(ObjectRecord, object_id)
    if existing is None or existing.is_deleted:
        raise NotFound(f"object {object_id} does not exist")
    raise Forbidden(f"insufficient permissions ({level.label}) for object {object_id}")


def get_version(db: Session, viewer: Viewer, object_id: int, version_id: int) -> ObjectVersion:
    get_object(db, viewer, object_id)
    version = db.get(ObjectVersion, (object_id, version_id))
    if version is None:
        raise NotFound(f"version {version_id} of object {object_id} does not exist")
    return version


@dataclass(frozen=True)
class ObjectQuery:
    action_id: int | None = None
    action_type_id: int | None = None
    q: str | None = None
    use_advanced_search: bool = True
    limit: int | None = None
    offset: int = 0


def _search_condition(db: Session, query: ObjectQuery) -> ColumnElement[bool] | None:
    if not query.q:
        return None
    dialect = db.get_bind().dialect.name
    if not query.use_advanced_search:
        return simple_text_condition(query.q, ObjectRecord.data, dialect)
    try:
        return compile_condition(query.q, ObjectRecord.data, dialect)
    except SearchQueryError as exc:
        raise BadRequest(f"invalid search query: {exc}") from None


def list_objects(db: Session, viewer: Viewer, query: ObjectQuery) -> Sequence[ObjectRecord]:
    statement = visible_objects(viewer)
    if query.action_id is not None:
        statement = statement.where(ObjectRecord.action_id == query.action_id)
    if query.action_type_id is not None:
        statement = statement.where(ObjectRecord.action_id.in_(
            select(Action.id).where(Action.type_id == query.action_type_id)))
    condition = _search_condition(db, query)
    if condition is not None:
        statement = statement.where(condition)
    statement = statement.order_by(ObjectRecord.id.desc()).offset(query.offset)
    if query.limit is not None:
        statement = statement.limit(query.limit)
    return db.scalars(statement).all()


def referencing_ids(db: Session, viewer: Viewer, object_id: int) -> list[int]:
    return list(db.scalars(
        select(ObjectReference.object_id)
        .join(ObjectRecord, ObjectRecord.id == ObjectReference.object_id)
        .where(ObjectReference.referenced_object_id == object_id,
               ObjectRecord.is_deleted.is_(False), permissions.holds(viewer, Level.READ))
        .order_by(ObjectReference.object_id)
    ))


def referenced_readable_ids(db: Session, viewer: Viewer, record: ObjectRecord) -> list[int]:
    wanted = sorted(set(referenced_ids(record.data)))
    if not wanted:
        return []
    return list(db.scalars(
        visible_objects(viewer).with_only_columns(ObjectRecord.id)
        .where(ObjectRecord.id.in_(wanted)).order_by(ObjectRecord.id)
    ))


# --- actions -----------------------------------------------------------------------------


def find_action(db: Session, action_id: int) -> Action | None:
    return db.get(Action, action_id)


def get_action(db: Session, action_id: int) -> Action:
    action = find_action(db, action_id)
    if action is None:
        raise NotFound(f"action {action_id} does not exist")
    return action


def action_for_new_object(db: Session, user: User, action_id: object) -> Action:
    if not isinstance(action_id, int) or isinstance(action_id, bool):
        raise BadRequest("action_id must be an integer")
    action = db.get(Action, action_id)
    if action is None:
        raise BadRequest(f"action_id {action_id} does not name an action")
    action_type = db.get(ActionType, action.type_id)
    if action_type is not None and action_type.admin_only and user.role < Role.ADMIN:
        raise Forbidden(f"only administrators may create objects with action {action_id}")
    return action


# --- writing -----------------------------------------------------------------------------


def _validated(db: Session, viewer: Viewer, data: object, schema: dict[str, Any],
               object_id: int | None) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadRequest("data must be a JSON object")
    checked = copy.deepcopy(data)  # validation completes quantities in place
    try:
        validate_data(checked, schema, DatabaseReferences(db, viewer), object_id=object_id)
    except SchemaLanguageError as exc:
        raise BadRequest(f"invalid data: {exc}") from None
    return checked


def _index(db: Session, record: ObjectRecord) -> None:
    db.execute(delete(ObjectReference).where(ObjectReference.object_id == record.id))
    for target in sorted(set(referenced_ids(record.data))):
        db.add(ObjectReference(object_id=record.id, referenced_object_id=target))
    db.flush()
    for listener in _listeners:
        listener(db, record)


def _log(db: Session, kind: str, record: ObjectRecord, user: User,
         data: dict[str, Any] | None = None) -> None:
    db.add(ObjectLogEntry(type=kind, object_id=record.id, user_id=user.id, data=data or {},
                          utc_datetime=utcnow()))


def _require_writer(user: User) -> None:
    if user.is_readonly:
        raise Forbidden("read-only users cannot create or change objects")


def create_object(
    db: Session,
    viewer: Viewer,
    action_id: object,
    data: object,
    *,
    schema: object = None,
    version_id: object = None,
    client_address: str | None = None,
) -> ObjectRecord:
    user = viewer.user
    if user is None:
        raise Forbidden("anonymous users cannot create objects")
    _require_writer(user)
    action = action_for_new_object(db, user, action_id)
    if version_id is not None and version_id != 0:
        raise BadRequest("version_id must be 0 for a new object")
    if schema is not None and schema != action.schema:
        raise BadRequest("schema must be equal to the action's schema")
    checked = _validated(db, viewer, data, action.schema, None)
    now = utcnow()
    record = ObjectRecord(action_id=action.id, version_id=0, schema=action.schema, data=checked,
                          user_id=user.id, utc_datetime=now, creator_id=user.id, created_at=now,
                          is_deleted=False)
    db.add(record)
    db.flush()
    db.add(ObjectVersion(object_id=record.id, version_id=0, action_id=action.id,
                         schema=action.schema, data=checked, user_id=user.id, utc_datetime=now))
    permissions.set_level(db, record.id, SubjectType.USER, user.id, Level.GRANT)
    _log(db, "CREATE_OBJECT", record, user)
    _index(db, record)
    record_activity(db, "object.created", user_id=user.id, target_type="object",
                    target_id=record.id, details={"action_id": action.id},
                    client_address=client_address)
    return record


def add_version(
    db: Session,
    viewer: Viewer,
    object_id: int,
    *,
    data: object = None,
    data_diff: object = None,
    schema: object = None,
    action_id: object = None,
    version_id: object = None,
    client_address: str | None = None,
    log_type: str = "EDIT_OBJECT",
) -> ObjectRecord:
    record = get_object(db, viewer, object_id, Level.WRITE)
    user = viewer.user
    assert user is not None  # holding write implies a user
    _require_writer(user)
    action = get_action(db, record.action_id)
    new_version = record.version_id + 1
    if action_id is not None and action_id != record.action_id:
        raise BadRequest("action_id must be equal to the previous action_id")
    if version_id is not None and version_id != new_version:
        raise BadRequest(f"version_id must be {new_version}")
    if schema is None:
        schema = record.schema
    elif schema not in (record.schema, action.schema):
        raise BadRequest("schema must be equal to the previous schema or the action's schema")
    try:
        new_data = resolve_new_data(record.data, data=data, data_diff=data_diff)
    except DiffError as exc:
        raise BadRequest(f"invalid data_diff: {exc}") from None
    checked = _validated(db, viewer, new_data, schema, object_id)
    now = utcnow()
    db.add(ObjectVersion(object_id=record.id, version_id=new_version, action_id=record.action_id,
                         schema=schema, data=checked, user_id=user.id, utc_datetime=now))
    record.version_id = new_version
    record.schema = schema
    record.data = checked
    record.user_id = user.id
    record.utc_datetime = now
    db.flush()
    _log(db, log_type, record, user, {"version_id": new_version})
    _index(db, record)
    record_activity(db, "object.updated", user_id=user.id, target_type="object",
                    target_id=record.id, details={"version_id": new_version},
                    client_address=client_address)
    return record


def version_count(db: Session, object_id: int) -> int:
    return db.scalar(select(func.count()).where(ObjectVersion.object_id == object_id)) or 0
