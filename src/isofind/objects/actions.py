"""Rules for actions and action types (created by admins; user-specific actions by their owner)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isofind.errors import BadRequest, Forbidden, NotFound, Unauthorized
from isofind.identity.models import Role, User
from isofind.instruments.models import Instrument, InstrumentScientist
from isofind.objects.models import Action, ActionType
from isofind.objects.schema_language import SchemaError, validate_schema

ACTION_KEYS = {"action_id", "instrument_id", "user_id", "type", "type_id", "name",
               "description", "is_hidden", "schema"}
FIXED_ACTION_KEYS = ("action_id", "instrument_id", "user_id", "type_id")
ACTION_TYPE_KEYS = {"name", "object_name", "description", "admin_only"}


def list_actions(db: Session) -> list[Action]:
    return list(db.scalars(select(Action).order_by(Action.id)))


def list_action_types(db: Session) -> list[ActionType]:
    return list(db.scalars(select(ActionType).order_by(ActionType.id)))


def _signed_in(user: User | None) -> User:
    if user is None:
        raise Unauthorized("Authentication required")
    return user


def _json_object(body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("JSON object body required")
    for key in body:
        if key not in allowed:
            raise BadRequest(f"invalid key '{key}'")
    return body


def _typed(body: dict[str, Any], key: str, kind: type, *, required: bool = False) -> Any:
    if key not in body:
        if required:
            raise BadRequest(f"{key} must be set")
        return None
    value = body[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BadRequest(f"{key} must be of type {kind.__name__}")
    return value


def _checked_schema(schema: Any) -> dict[str, Any]:
    try:
        validate_schema(schema)
    except SchemaError as exc:
        raise BadRequest(f"invalid schema: {exc}") from None
    assert isinstance(schema, dict)
    return schema


def update_action(db: Session, user: User | None, action_id: int, body: Any) -> Action:
    user = _signed_in(user)
    action = db.get(Action, action_id)
    if action is None:
        raise NotFound(f"action {action_id} does not exist")
    payload = _json_object(body, ACTION_KEYS)
    if action.is_locked:
        raise Forbidden(f"action {action_id} is built in and cannot be changed")
    if user.role < Role.ADMIN and action.user_id != user.id:
        raise Forbidden(f"only administrators or its owner may change action {action_id}")
    current = {"action_id": action.id, "instrument_id": action.instrument_id,
               "user_id": action.user_id, "type_id": action.type_id}
    for key in FIXED_ACTION_KEYS:
        if key in payload and payload[key] != current[key]:
            raise BadRequest(f"{key} must not be changed")
    if "type" in payload and payload["type"] != _type_name(action.type_id):
        raise BadRequest("type must not be changed")
    name = _typed(payload, "name", str)
    description = _typed(payload, "description", str)
    is_hidden = _typed(payload, "is_hidden", bool)
    if "schema" in payload:
        action.schema = _checked_schema(payload["schema"])
    if name is not None:
        action.name = _non_empty_name(name)
    if description is not None:
        action.description = description
    if is_hidden is not None:
        action.is_hidden = is_hidden
    db.flush()
    return action


def _type_name(type_id: int) -> str:
    return {-99: "sample", -98: "measurement", -97: "simulation"}.get(type_id, "custom")


def _non_empty_name(name: str) -> str:
    if not name.strip():
        raise BadRequest("name must not be empty")
    return name.strip()


def create_action(db: Session, user: User | None, body: Any) -> Action:
    """Admins create any action; other users create actions of their own (user-specific)."""
    user = _signed_in(user)
    if user.is_readonly:
        raise Forbidden("read-only users cannot create actions")
    payload = _json_object(body, ACTION_KEYS - {"action_id", "user_id", "type"})
    type_id = _typed(payload, "type_id", int, required=True)
    action_type = db.get(ActionType, type_id)
    if action_type is None:
        raise BadRequest(f"type_id {type_id} does not name an action type")
    if action_type.admin_only and user.role < Role.ADMIN:
        raise Forbidden(f"only administrators may create actions of type {type_id}")
    instrument_id = _typed(payload, "instrument_id", int)
    if instrument_id is not None:
        _check_instrument(db, user, instrument_id)
    if "schema" not in payload:
        raise BadRequest("schema must be set")
    action = Action(
        type_id=type_id,
        name=_non_empty_name(_typed(payload, "name", str, required=True)),
        description=_typed(payload, "description", str) or "",
        is_hidden=bool(_typed(payload, "is_hidden", bool)),
        schema=_checked_schema(payload["schema"]),
        instrument_id=instrument_id,
        user_id=None if user.role >= Role.ADMIN else user.id,
        is_locked=False,
    )
    db.add(action)
    db.flush()
    return action


def _check_instrument(db: Session, user: User, instrument_id: int) -> None:
    if db.get(Instrument, instrument_id) is None:
        raise BadRequest(f"instrument_id {instrument_id} does not name an instrument")
    if user.role >= Role.ADMIN:
        return
    scientist = db.get(InstrumentScientist, (instrument_id, user.id))
    if scientist is None:
        raise Forbidden(f"only scientists of instrument {instrument_id} may add actions to it")


def create_action_type(db: Session, user: User | None, body: Any) -> ActionType:
    user = _signed_in(user)
    if user.role < Role.ADMIN:
        raise Forbidden("only administrators may create action types")
    payload = _json_object(body, ACTION_TYPE_KEYS)
    name = _non_empty_name(_typed(payload, "name", str, required=True))
    next_id = max(db.scalar(select(func.max(ActionType.id))) or 0, 0) + 1
    action_type = ActionType(
        id=next_id,
        name=name,
        object_name=_typed(payload, "object_name", str) or name.lower(),
        description=_typed(payload, "description", str) or "",
        admin_only=bool(_typed(payload, "admin_only", bool)),
    )
    db.add(action_type)
    db.flush()
    return action_type
