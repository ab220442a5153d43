"""The rules of the object store: every change is a new version; nothing is overwritten.

Both APIs write objects through :func:`create_object` and :func:`add_version`, so the
derived indexes (references, and the listeners other rooms register, such as the
isotope index of samples) are always written in the same transaction as the version.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, NoReturn

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Row,
    Select,
    Text,
    bindparam,
    cast,
    delete,
    func,
    insert,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from isofind.activity.service import record as record_activity
from isofind.errors import BadRequest, Conflict, Forbidden, NotFound
from isofind.identity.models import Role, User
from isofind.objects import schema_store
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
from isofind.objects.schema_store import schema_digest, store_schema, stored_schema
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


DataCheck = Callable[[Session, dict[str, Any], dict[str, Any] | None], None]
_data_checks: dict[int, list[DataCheck]] = {}


def on_version_validating(action_id: int) -> Callable[[DataCheck], DataCheck]:
    """Register a check of the data of every new version of the objects of ``action_id``.

    It runs once the schema has accepted (and completed) the data, before anything is
    written, with the data and the previous version's data (None for a new object). It
    refuses by raising :class:`~isofind.objects.schema_language.DataValidationError`, answered
    as the schema's own errors are (400, naming the path). A room holds its objects to rules
    the schema language cannot say this way, whichever API writes them.
    """
    def register(check: DataCheck) -> DataCheck:
        checks = _data_checks.setdefault(action_id, [])
        if check not in checks:
            checks.append(check)
        return check

    return register


# --- reading ------------------------------------------------------------------------------


def visible_objects(viewer: Viewer, level: Level = Level.READ) -> Select[tuple[ObjectRecord]]:
    return select(ObjectRecord).where(ObjectRecord.is_deleted.is_(False), permissions.holds(
        viewer, level))


# The statements of single-object reads are built once per permission key and executed with
# their ids bound: building a statement and its cache key cost more than running it on SQLite
# (70 µs of a 110 µs query, measured for the token lookup; issue 3).
_OBJECT_ID = bindparam("object_id", type_=Integer)
_VERSION_ID = bindparam("version_id", type_=Integer)


def _held_object(key: permissions.PermissionKey) -> tuple[ColumnElement[bool], ...]:
    return (ObjectRecord.id == _OBJECT_ID, ObjectRecord.is_deleted.is_(False),
            permissions.holds_on_objects(key))


@lru_cache(maxsize=2048)
def _object_statement(key: permissions.PermissionKey) -> Select[tuple[ObjectRecord]]:
    return select(ObjectRecord).where(*_held_object(key))


@lru_cache(maxsize=2048)
def _object_id_statement(key: permissions.PermissionKey) -> Select[tuple[int]]:
    return select(ObjectRecord.id).where(*_held_object(key))


def get_object(db: Session, viewer: Viewer, object_id: int,
               level: Level = Level.READ) -> ObjectRecord:
    """The object, if it exists and the viewer holds ``level``; else 404 or 403."""
    statement = _object_statement(permissions.permission_key(viewer, level))
    record = db.scalar(statement, {"object_id": object_id})
    if record is None:
        _refuse(db, object_id, level)
    return record


def require_object(db: Session, viewer: Viewer, object_id: int,
                   level: Level = Level.READ) -> None:
    """:func:`get_object`'s answer without reading the object's document, for routes that
    need the check only (the entries of its permissions, comments, files, locations)."""
    statement = _object_id_statement(permissions.permission_key(viewer, level))
    if db.scalar(statement, {"object_id": object_id}) is None:
        _refuse(db, object_id, level)


def _refuse(db: Session, object_id: int, level: Level) -> NoReturn:
    # The common case took one query; telling 404 from 403 needs a second one.
    deleted = db.scalar(select(ObjectRecord.is_deleted).where(ObjectRecord.id == object_id))
    if deleted is None or deleted:
        raise NotFound(f"object {object_id} does not exist")
    raise Forbidden(f"insufficient permissions ({level.label}) for object {object_id}")


RECORDS_PER_QUERY = 500


def records_in_order(db: Session, ids: Sequence[int]) -> Iterator[ObjectRecord]:
    """The records of ``ids`` (already checked by the caller), in that order, repeats
    included, read :data:`RECORDS_PER_QUERY` at a time. One query per record cost 0.4 ms;
    all at once would hold every document of a 100,000-sample database in memory.

    A record purged by another transaction since the caller found it is a conflict.
    """
    for start in range(0, len(ids), RECORDS_PER_QUERY):
        chunk = ids[start:start + RECORDS_PER_QUERY]
        found = {record.id: record for record in db.scalars(
            select(ObjectRecord).where(ObjectRecord.id.in_(sorted(set(chunk)))))}
        for object_id in chunk:
            record = found.get(object_id)
            if record is None:
                raise Conflict(f"object {object_id} was purged meanwhile; try again")
            yield record


def get_version(db: Session, viewer: Viewer, object_id: int,
                version_id: int) -> ObjectRecord | ObjectVersion:
    """A version the viewer may read: the object itself when it is the current one."""
    record = get_object(db, viewer, object_id)  # 404 or 403 for the object itself
    if record.version_id == version_id:
        return record
    version = db.get(ObjectVersion, (object_id, version_id))
    if version is None:
        raise NotFound(f"version {version_id} of object {object_id} does not exist")
    return version


VersionRow = Row[tuple[int, int, int, int, str, str, str]]
"""object_id, version_id, action_id, user_id, utc_datetime (SampleDB text), schema digest (see
:mod:`isofind.objects.schema_store`) and data (JSON text): a version's JSON, read without
building ORM objects."""


def _timestamp_text(column: ColumnElement[datetime], dialect: str) -> ColumnElement[str]:
    """``YYYY-MM-DD HH:MM:SS`` formatted by the database, as ``sampledb_timestamp`` does.

    Parsing each row's datetime and formatting it again cost ~2 ms per 1,000 listed objects
    on SQLite, which stores ``YYYY-MM-DD HH:MM:SS.ffffff`` text.
    """
    if dialect == "postgresql":
        return func.to_char(column, "YYYY-MM-DD HH24:MI:SS")
    return func.substr(column, 1, 19)


def _version_columns(entity: type[ObjectRecord] | type[ObjectVersion], object_id: Any,
                     dialect: str) -> tuple[ColumnElement[Any], ...]:
    # Data as text: it decodes twice as fast with pydantic's parser (objects.json_codec).
    return (object_id, entity.version_id, entity.action_id, entity.user_id,
            _timestamp_text(entity.utc_datetime, dialect), entity.schema_digest,
            cast(entity.data, Text))


@lru_cache(maxsize=2048)
def _version_row_statement(dialect: str, key: permissions.PermissionKey) -> CompoundSelect[Any]:
    # The current version lives in ``objects``, the earlier ones in ``object_versions``.
    readable = (ObjectRecord.id == _OBJECT_ID, ObjectRecord.is_deleted.is_(False),
                permissions.holds_on_objects(key))
    current = (select(*_version_columns(ObjectRecord, ObjectRecord.id, dialect))
               .where(ObjectRecord.version_id == _VERSION_ID, *readable))
    earlier = (select(*_version_columns(ObjectVersion, ObjectVersion.object_id, dialect))
               .join(ObjectRecord, ObjectRecord.id == ObjectVersion.object_id)
               .where(ObjectVersion.version_id == _VERSION_ID, *readable))
    return union_all(current, earlier)


def get_version_row(db: Session, viewer: Viewer, object_id: int, version_id: int) -> VersionRow:
    """:func:`get_version` as a :data:`VersionRow`, for routes that only serialize it."""
    statement = _version_row_statement(db.get_bind().dialect.name,
                                       permissions.permission_key(viewer, Level.READ))
    # Through the connection: the session's ORM result handling only slowed rows of columns.
    row = db.connection().execute(
        statement, {"object_id": object_id, "version_id": version_id}).first()
    if row is not None:
        return row
    require_object(db, viewer, object_id)
    raise NotFound(f"version {version_id} of object {object_id} does not exist")


@dataclass(frozen=True)
class ObjectQuery:
    action_id: int | None = None
    action_type_id: int | None = None
    q: str | None = None
    use_advanced_search: bool = True
    limit: int | None = None
    offset: int = 0


def _search_condition(q: str, use_advanced_search: bool,
                      dialect: str) -> ColumnElement[bool]:
    if not use_advanced_search:
        return simple_text_condition(q, ObjectRecord.data, dialect)
    try:
        return compile_condition(q, ObjectRecord.data, dialect)
    except SearchQueryError as exc:
        raise BadRequest(f"invalid search query: {exc}") from None


_LIMIT = bindparam("limit", type_=Integer)
_OFFSET = bindparam("offset", type_=Integer)


@lru_cache(maxsize=256)
def _object_rows_statement(dialect: str, key: permissions.PermissionKey, action_id: int | None,
                           action_type_id: int | None, q: str | None, use_advanced_search: bool,
                           limited: bool) -> Select[Any]:
    """Current versions of readable objects, narrowed and ordered as a list asks; its offset
    and limit (if ``limited``) are bound on execution.

    Built once per distinct list, as single-object reads are: building the statement of a
    search and its cache key took ~1 ms of a 10 ms list (profile, issue 3).
    """
    statement = select(*_version_columns(ObjectRecord, ObjectRecord.id, dialect)).where(
        ObjectRecord.is_deleted.is_(False), permissions.holds_on_objects(key))
    if action_id is not None:
        statement = statement.where(ObjectRecord.action_id == action_id)
    if action_type_id is not None:
        statement = statement.where(ObjectRecord.action_id.in_(
            select(Action.id).where(Action.type_id == action_type_id)))
    if q:
        statement = statement.where(_search_condition(q, use_advanced_search, dialect))
    statement = statement.order_by(ObjectRecord.id.desc()).offset(_OFFSET)
    return statement.limit(_LIMIT) if limited else statement


def list_object_rows(db: Session, viewer: Viewer, query: ObjectQuery) -> Sequence[VersionRow]:
    """Current versions of the objects the viewer may read, as ``query`` asks, newest first,
    as :data:`VersionRow` s: building 1,000 ORM objects and decoding each row's schema took
    half the time of a list (profile, issue 3)."""
    statement = _object_rows_statement(
        db.get_bind().dialect.name, permissions.permission_key(viewer, Level.READ),
        query.action_id, query.action_type_id, query.q, query.use_advanced_search,
        query.limit is not None)
    return db.connection().execute(
        statement, {"offset": query.offset, "limit": query.limit}).all()


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


# Built once: building the statement and its cache key on every creation cost more than
# running it on SQLite.
_ACTION_FOR_NEW_OBJECT = (select(Action, ActionType.admin_only)
                          .outerjoin(ActionType, ActionType.id == Action.type_id)
                          .where(Action.id == bindparam("action_id", type_=Integer)))


def action_for_new_object(db: Session, user: User, action_id: object) -> Action:
    if not isinstance(action_id, int) or isinstance(action_id, bool):
        raise BadRequest("action_id must be an integer")
    found = db.execute(_ACTION_FOR_NEW_OBJECT, {"action_id": action_id}).first()
    if found is None:
        raise BadRequest(f"action_id {action_id} does not name an action")
    action, admin_only = found
    if admin_only and user.role < Role.ADMIN:
        raise Forbidden(f"only administrators may create objects with action {action_id}")
    return action


# --- writing -----------------------------------------------------------------------------


def _validated(db: Session, viewer: Viewer, data: object, schema: dict[str, Any],
               digest: str, action_id: int, previous: ObjectRecord | None) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadRequest("data must be a JSON object")
    checked = copy.deepcopy(data)  # validation completes quantities in place
    object_id = None if previous is None else previous.id
    try:
        validate_data(checked, schema, DatabaseReferences(db, viewer), object_id=object_id,
                      schema_is_valid=schema_store.known_valid(digest))
        schema_store.note_valid(digest)  # validate_data raised SchemaError for an invalid one
        for check in _data_checks.get(action_id, ()):
            check(db, checked, None if previous is None else previous.data)
    except SchemaLanguageError as exc:
        raise BadRequest(f"invalid data: {exc}") from None
    return checked


def _index(db: Session, record: ObjectRecord, *, is_new: bool = False) -> None:
    if not is_new:
        db.execute(_REFERENCES_DELETE, {"object_id": record.id})
    targets = sorted(set(referenced_ids(record.data)))
    if targets:
        db.execute(_REFERENCE_INSERT, [
            {"object_id": record.id, "referenced_object_id": target} for target in targets])
    db.flush()
    for listener in _listeners:
        listener(db, record)


# Rows nobody reads back in the request are inserted by these plain statements, built once:
# an ORM flush, or an ORM insert built per call, cost more than the INSERT it ran (profiles of
# object creation, issue 3: 0.37 -> 0.21 ms per log entry on PostgreSQL).
_LOG_INSERT = insert(ObjectLogEntry.__table__)
_VERSION_INSERT = insert(ObjectVersion.__table__)
_REFERENCE_INSERT = insert(ObjectReference.__table__)
_REFERENCES_DELETE = delete(ObjectReference).where(ObjectReference.object_id == _OBJECT_ID)


def _log(db: Session, kind: str, record: ObjectRecord, user: User,
         data: dict[str, Any] | None = None) -> None:
    db.execute(_LOG_INSERT, {"type": kind, "object_id": record.id, "user_id": user.id,
                             "data": data or {}, "utc_datetime": utcnow(),
                             "is_imported": False})


def _keep_previous_version(db: Session, record: ObjectRecord) -> None:
    """The record's current version into ``object_versions``, before it is replaced."""
    db.execute(_VERSION_INSERT, {
        "object_id": record.id, "version_id": record.version_id,
        "action_id": record.action_id, "schema_digest": record.schema_digest,
        "data": record.data, "user_id": record.user_id, "utc_datetime": record.utc_datetime})


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
    digest = schema_digest(action.schema)
    checked = _validated(db, viewer, data, action.schema, digest, action.id, None)
    store_schema(db, action.schema, digest)
    now = utcnow()
    record = ObjectRecord(action_id=action.id, version_id=0, schema_digest=digest, data=checked,
                          user_id=user.id, utc_datetime=now, creator_id=user.id, created_at=now,
                          is_deleted=False)
    db.add(record)
    db.flush()
    permissions.set_level(db, record.id, SubjectType.USER, user.id, Level.GRANT)
    _log(db, "CREATE_OBJECT", record, user)
    _index(db, record, is_new=True)
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
    previous_schema = stored_schema(db, record.schema_digest).schema
    if schema is None:
        schema, digest = previous_schema, record.schema_digest
    elif isinstance(schema, dict) and schema in (previous_schema, action.schema):
        digest = schema_digest(schema)  # as sent: reads show its key order
    else:
        raise BadRequest("schema must be equal to the previous schema or the action's schema")
    try:
        new_data = resolve_new_data(record.data, data=data, data_diff=data_diff)
    except DiffError as exc:
        raise BadRequest(f"invalid data_diff: {exc}") from None
    checked = _validated(db, viewer, new_data, schema, digest, record.action_id, record)
    if digest != record.schema_digest:
        store_schema(db, schema, digest)
    _keep_previous_version(db, record)
    now = utcnow()
    record.version_id = new_version
    record.schema_digest = digest
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


