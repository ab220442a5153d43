"""SampleDB JSON shapes of objects, versions, actions, action types and log entries."""

from __future__ import annotations

from typing import Any

from isofind.objects.models import Action, ActionType, ObjectLogEntry, ObjectRecord, ObjectVersion
from isofind.timeutil import sampledb_timestamp

ACTION_TYPE_NAMES = {-99: "sample", -98: "measurement", -97: "simulation"}


def version_json(version: ObjectVersion | ObjectRecord) -> dict[str, Any]:
    is_record = isinstance(version, ObjectRecord)
    return {
        "object_id": version.id if is_record else version.object_id,
        "version_id": version.version_id,
        "action_id": version.action_id,
        "user_id": version.user_id,
        "utc_datetime": sampledb_timestamp(version.utc_datetime),
        "schema": version.schema,
        "data": version.data,
    }


def name_only(item: dict[str, Any]) -> dict[str, Any]:
    schema = item["schema"]
    item["schema"] = {
        key: value for key, value in schema.items() if key in {"title", "type"}
    } | {"properties": {"name": schema.get("properties", {}).get("name", {})},
         "required": ["name"]}
    item["data"] = {"name": item["data"].get("name")}
    return item


def action_json(action: Action) -> dict[str, Any]:
    return {
        "action_id": action.id,
        "instrument_id": action.instrument_id,
        "user_id": action.user_id,
        "type": ACTION_TYPE_NAMES.get(action.type_id, "custom"),
        "type_id": action.type_id,
        "name": action.name,
        "description": action.description,
        "is_hidden": action.is_hidden,
        "schema": action.schema,
    }


def action_type_json(action_type: ActionType) -> dict[str, Any]:
    return {
        "type_id": action_type.id,
        "name": action_type.name,
        "object_name": action_type.object_name,
        "admin_only": action_type.admin_only,
    }


def log_entry_json(entry: ObjectLogEntry) -> dict[str, Any]:
    return {
        "log_entry_id": entry.id,
        "type": entry.type,
        "object_id": entry.object_id,
        "user_id": entry.user_id,
        "data": entry.data,
        "utc_datetime": sampledb_timestamp(entry.utc_datetime),
        "is_imported": entry.is_imported,
    }
