"""SampleDB routes for objects, versions, actions, action types and the object log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Query, Request, Response, status
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from isofind.api_v1.dependencies import V1Viewer
from isofind.api_v1.wire import v1_router
from isofind.errors import BadRequest, NotFound
from isofind.identity.dependencies import Db, client_address
from isofind.identity.models import User
from isofind.identity.schemas import V1User
from isofind.objects import actions as action_rules
from isofind.objects import service
from isofind.objects.diffs import calculate_diff
from isofind.objects.json_codec import JSON_OBJECT, JSON_OBJECTS
from isofind.objects.models import ActionType, ObjectLogEntry, ObjectRecord
from isofind.objects.schema_store import stored_schemas
from isofind.objects.schemas import (
    action_json,
    action_type_json,
    log_entry_json,
    name_only,
    version_row_json,
    version_row_json_bytes,
    version_rows_json_bytes,
)
from isofind.permissions import service as permissions
from isofind.permissions.models import Level

router = v1_router(prefix="/api/v1", tags=["SampleDB: Objects"])
actions_router = v1_router(prefix="/api/v1", tags=["SampleDB: Actions"])
log_router = v1_router(prefix="/api/v1", tags=["SampleDB: Object Log Entries"])

ACTION_TYPE_ALIASES = {"sample": -99, "measurement": -98, "simulation": -97}
OBJECT_KEYS = {"object_id", "version_id", "action_id", "schema", "data", "data_diff"}


def _flag(value: str | None) -> bool:
    return bool(value) and value.lower() not in {"false", "0", "no"}


def _object_body(body: Any, *, allow_diff: bool) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("JSON object body required")
    allowed = OBJECT_KEYS if allow_diff else OBJECT_KEYS - {"data_diff"}
    for key in body:
        if key not in allowed:
            raise BadRequest(f"invalid key '{key}'")
    return body


def _json_response(content: bytes) -> Response:
    # What FastAPI sends for a returned value, without validating the value against the
    # response model first (a copy of every dict of a 1,000-object list).
    return Response(content=content, media_type="application/json")


def _version_url(object_id: int, version_id: int) -> str:
    return f"/api/v1/objects/{object_id}/versions/{version_id}"


def _action_type_id(db: Db, value: str | None) -> int | None:
    if value is None or value == "":
        return None
    type_id = ACTION_TYPE_ALIASES.get(value)
    if type_id is None:
        try:
            type_id = int(value)
        except ValueError:
            raise BadRequest("No matching action type exists.") from None
    if db.get(ActionType, type_id) is None:
        raise BadRequest("No matching action type exists.")
    return type_id


@router.get("/objects/", summary="Reading a list of all objects",
            response_model=list[dict[str, Any]])
def list_objects(
    viewer: V1Viewer,
    db: Db,
    q: str = "",
    use_advanced_search: str | None = None,
    action_id: int | None = None,
    action_type: str | None = None,
    action_type_id: str | None = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    name_only_: Annotated[str | None, Query(alias="name_only")] = None,
    get_referencing_objects: str | None = None,
) -> Response:
    """Current versions of the objects the caller may read, newest first."""
    if action_id is not None and service.find_action(db, action_id) is None:
        raise BadRequest("No action with the given action_id exists.")
    query = service.ObjectQuery(
        action_id=action_id,
        action_type_id=_action_type_id(db, action_type if action_type is not None
                                       else action_type_id),
        q=q or None,
        use_advanced_search=use_advanced_search is None or _flag(use_advanced_search),
        limit=limit,
        offset=offset,
    )
    rows = service.list_object_rows(db, viewer, query)
    # row[5] is schema_digest: by position, as by name costs 0.25 ms per 1,000 rows.
    schemas = stored_schemas(db, {row[5] for row in rows})
    if not _flag(name_only_) and not _flag(get_referencing_objects):
        return _json_response(version_rows_json_bytes(rows, schemas))
    items = []
    for row in rows:
        item = version_row_json(row, schemas)
        if _flag(name_only_):
            item = name_only(item)
        if _flag(get_referencing_objects):
            item["referencing_objects"] = service.referencing_ids(db, viewer, item["object_id"])
        items.append(item)
    return _json_response(JSON_OBJECTS.dump_json(items))


@router.get("/objects/{object_id}", status_code=302, response_class=RedirectResponse,
            summary="Getting the current object version")
def current_version(object_id: int, request: Request, viewer: V1Viewer, db: Db) -> Response:
    record = service.get_object(db, viewer, object_id)
    url = _version_url(object_id, record.version_id)
    if request.url.query:
        url += "?" + request.url.query
    return RedirectResponse(url, status_code=302)


@router.get("/objects/{object_id}/versions/{version_id}", summary="Reading an object version",
            response_model=dict[str, Any])
def read_version(
    object_id: int,
    version_id: int,
    viewer: V1Viewer,
    db: Db,
    embed_action: str | None = None,
    embed_user: str | None = None,
    include_diff: str | None = None,
) -> Response:
    row = service.get_version_row(db, viewer, object_id, version_id)
    schemas = stored_schemas(db, (row.schema_digest,))
    if not (embed_action or embed_user or include_diff):
        return _json_response(version_row_json_bytes(row, schemas))
    body = version_row_json(row, schemas)
    if embed_action:
        body["action"] = action_json(service.get_action(db, body["action_id"]))
    if embed_user:
        user = db.get(User, body["user_id"])
        body["user"] = V1User.of(user, with_email=False).model_dump(exclude={"email"})
    if include_diff:
        previous = (service.get_version(db, viewer, object_id, version_id - 1).data
                    if version_id > 0 else {})
        body["data_diff"] = calculate_diff(previous, body["data"]) or {}
    return _json_response(JSON_OBJECT.dump_json(body))


@router.post("/objects/", status_code=201, summary="Creating a new object")
def create_object(request: Request, viewer: V1Viewer, db: Db,
                  body: Annotated[Any, Body()] = None) -> Response:
    payload = _object_body(body, allow_diff=False)
    if "object_id" in payload:
        raise BadRequest("object_id cannot be set")
    if "action_id" not in payload:
        raise BadRequest("action_id must be set")
    if "data" not in payload:
        raise BadRequest("data must be set")
    record = service.create_object(
        db, viewer, payload["action_id"], payload["data"], schema=payload.get("schema"),
        version_id=payload.get("version_id"), client_address=client_address(request))
    return Response(status_code=status.HTTP_201_CREATED,
                    headers={"Location": _version_url(record.id, 0)})


@router.post("/objects/{object_id}/versions/", status_code=201,
             summary="Updating an object / Creating a new object version")
def create_version(object_id: int, request: Request, viewer: V1Viewer, db: Db,
                   body: Annotated[Any, Body()] = None) -> Response:
    payload = _object_body(body, allow_diff=True)
    if "object_id" in payload and payload["object_id"] != object_id:
        raise BadRequest(f"object_id must be {object_id}")
    record = service.add_version(
        db, viewer, object_id, data=payload.get("data"), data_diff=payload.get("data_diff"),
        schema=payload.get("schema"), action_id=payload.get("action_id"),
        version_id=payload.get("version_id"), client_address=client_address(request))
    return Response(status_code=status.HTTP_201_CREATED,
                    headers={"Location": _version_url(record.id, record.version_id)})


def _eln_reference(object_id: int) -> dict[str, Any]:
    return {"object_id": object_id, "component_uuid": None, "eln_source_url": None,
            "eln_object_url": None}


@router.get("/objects/{object_id}/related_objects",
            summary="Reading the objects an object references and is referenced by")
def related_objects(object_id: int, viewer: V1Viewer, db: Db) -> dict[str, Any]:
    record = service.get_object(db, viewer, object_id)
    return {
        "referenced_objects": [
            _eln_reference(i) for i in service.referenced_readable_ids(db, viewer, record)],
        "referencing_objects": [
            _eln_reference(i) for i in service.referencing_ids(db, viewer, object_id)],
    }


@log_router.get("/object_log_entries/", summary="Reading the full accessible object log")
def object_log(viewer: V1Viewer, db: Db, after_id: int | None = None) -> list[dict[str, Any]]:
    query = (
        select(ObjectLogEntry)
        .join(ObjectRecord, ObjectRecord.id == ObjectLogEntry.object_id)
        .where(ObjectRecord.is_deleted.is_(False), permissions.holds(viewer, Level.READ))
        .order_by(ObjectLogEntry.id)
    )
    if after_id is not None:
        query = query.where(ObjectLogEntry.id > after_id)
    return [log_entry_json(entry) for entry in db.scalars(query)]


# --- actions and action types --------------------------------------------------------------


@actions_router.get("/actions/", summary="Reading a list of all actions")
def list_actions(viewer: V1Viewer, db: Db) -> list[dict[str, Any]]:
    return [action_json(a) for a in action_rules.list_actions(db)]


@actions_router.get("/actions/{action_id}", summary="Reading an action")
def read_action(action_id: int, viewer: V1Viewer, db: Db) -> dict[str, Any]:
    return action_json(service.get_action(db, action_id))


@actions_router.post("/actions/{action_id}", summary="Updating an action")
def update_action(action_id: int, viewer: V1Viewer, db: Db,
                  body: Annotated[Any, Body()] = None) -> dict[str, Any]:
    return action_json(action_rules.update_action(db, viewer.user, action_id, body))


@actions_router.post("/actions/", status_code=201,
                     summary="Creating an action (IsoFind extension)")
def create_action(response: Response, viewer: V1Viewer, db: Db,
                  body: Annotated[Any, Body()] = None) -> dict[str, Any]:
    action = action_rules.create_action(db, viewer.user, body)
    response.headers["Location"] = f"/api/v1/actions/{action.id}"
    return action_json(action)


@actions_router.get("/action_types/", summary="Reading a list of all action types")
def list_action_types(viewer: V1Viewer, db: Db) -> list[dict[str, Any]]:
    return [action_type_json(t) for t in action_rules.list_action_types(db)]


@actions_router.get("/action_types/{type_id}", summary="Reading an action type")
def read_action_type(type_id: int, viewer: V1Viewer, db: Db) -> dict[str, Any]:
    action_type = db.get(ActionType, type_id)
    if action_type is None:
        raise NotFound(f"action type {type_id} does not exist")
    return action_type_json(action_type)


@actions_router.post("/action_types/", status_code=201,
                     summary="Creating a custom action type (IsoFind extension)")
def create_action_type(response: Response, viewer: V1Viewer, db: Db,
                       body: Annotated[Any, Body()] = None) -> dict[str, Any]:
    action_type = action_rules.create_action_type(db, viewer.user, body)
    response.headers["Location"] = f"/api/v1/action_types/{action_type.id}"
    return action_type_json(action_type)
