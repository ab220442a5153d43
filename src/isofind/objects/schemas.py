"""SampleDB JSON shapes of objects, versions, actions, action types and log entries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from isofind.objects.json_codec import JSON_OBJECT, decode_json
from isofind.objects.models import Action, ActionType, ObjectLogEntry
from isofind.objects.schema_store import StoredSchema
from isofind.objects.service import VersionRow
from isofind.recent import Recent
from isofind.timeutil import sampledb_timestamp

ACTION_TYPE_NAMES = {-99: "sample", -98: "measurement", -97: "simulation"}


def version_row_json(row: VersionRow, schemas: Mapping[str, StoredSchema]) -> dict[str, Any]:
    """A version as SampleDB shows it, from a row of ``get_version_row`` or
    ``list_object_rows`` and its stored schema (shared: replace it, never change it)."""
    object_id, version_id, action_id, user_id, utc_datetime, digest, data = row
    return {
        "object_id": object_id,
        "version_id": version_id,
        "action_id": action_id,
        "user_id": user_id,
        "utc_datetime": utc_datetime,
        "schema": schemas[digest].schema,
        "data": decode_json(data),
    }


# The response JSON of a stored document, by the document's text: a function of the text
# alone, so an entry never goes stale. Decoding and encoding again took 70 % of a list of
# 1,000 sample objects (py-spy, issue 3); hashing the text is a hundredth of that. Documents
# over 64 kB (time series, charts) are encoded each time rather than kept.
_encoded_documents: Recent[str, bytes] = Recent(4096, largest=64 * 1024)
_dump = JSON_OBJECT.serializer.to_json  # dump_json without its per-call Python wrapper


def _document_json(text: str) -> bytes:
    encoded = _encoded_documents.get(text)
    if encoded is None:
        encoded = _dump(decode_json(text))
        _encoded_documents.put(text, encoded)
    return encoded


def version_rows_json_bytes(rows: Sequence[VersionRow],
                            schemas: Mapping[str, StoredSchema]) -> bytes:
    """``JSON_OBJECTS.dump_json([version_row_json(row, schemas) ...])``, byte for byte, with
    each schema serialized once instead of once per row (a test compares both)."""
    items = [
        b'{"object_id":%d,"version_id":%d,"action_id":%d,"user_id":%d,"utc_datetime":"%s",'
        b'"schema":%s,"data":%s}'
        % (object_id, version_id, action_id, user_id, utc_datetime.encode(),
           schemas[digest].json, _document_json(data))
        for object_id, version_id, action_id, user_id, utc_datetime, digest, data in rows
    ]
    return b"[" + b",".join(items) + b"]"


def version_row_json_bytes(row: VersionRow, schemas: Mapping[str, StoredSchema]) -> bytes:
    """``JSON_OBJECT.dump_json(version_row_json(row, schemas))``, byte for byte."""
    return version_rows_json_bytes((row,), schemas)[1:-1]


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
