"""SampleDB routes of the instruments room: instruments, their logs, and (as IsoFind
extensions) creating and changing instruments and log categories."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response, status

from isofind.api_v1.dependencies import V1Viewer
from isofind.api_v1.wire import v1_router
from isofind.identity.dependencies import Db, client_address
from isofind.instruments import service
from isofind.instruments.schemas import (
    InstrumentBody,
    InstrumentChanges,
    LogCategoryBody,
    LogEntryBody,
    category_json,
    file_attachment_json,
    instrument_json,
    log_entry_version_json,
    object_attachment_json,
)

router = v1_router(prefix="/api/v1", tags=["SampleDB: Instruments"])

EXTENSION = "IsoFind extension (not in the SampleDB HTTP API document). "
CREATED = {201: {"description": "Created", "headers": {
    "Location": {"description": "URL of the new resource", "schema": {"type": "string"}}}}}


def _instrument_url(instrument_id: int) -> str:
    return f"/api/v1/instruments/{instrument_id}"


def _instrument(view: service.InstrumentView) -> dict[str, Any]:
    return instrument_json(view.instrument, view.scientist_ids, view.show_notes)


def _log_entry(view: service.LogEntryView) -> dict[str, Any]:
    return {
        "log_entry_id": view.entry.id,
        "author": view.entry.user_id,
        "versions": [log_entry_version_json(v.version, v.categories) for v in view.versions],
    }


# --- instruments -------------------------------------------------------------------------


@router.get("/instruments/", summary="Reading a list of all instruments",
            description="Hidden instruments are listed to administrators and their own "
                        "instrument scientists only; `notes` (an IsoFind extension, like "
                        "`short_description`) is included for those users only.")
def list_instruments(viewer: V1Viewer, db: Db) -> list[dict[str, Any]]:
    return [_instrument(view) for view in service.list_instruments(db, viewer)]


@router.post("/instruments/", status_code=201, responses=CREATED,
             summary="Creating an instrument",
             description=EXTENSION + "Administrators only. Answers the new instrument.")
def create_instrument(body: InstrumentBody, request: Request, response: Response,
                      viewer: V1Viewer, db: Db) -> dict[str, Any]:
    view = service.create_instrument(db, viewer, body, client_address(request))
    response.headers["Location"] = _instrument_url(view.instrument.id)
    return _instrument(view)


@router.get("/instruments/{instrument_id}", summary="Reading an instrument",
            description="A hidden instrument is unlisted, not secret: it answers by id.")
def read_instrument(instrument_id: int, viewer: V1Viewer, db: Db) -> dict[str, Any]:
    return _instrument(service.get_instrument(db, viewer, instrument_id))


@router.put("/instruments/{instrument_id}", summary="Changing an instrument",
            description=EXTENSION + "Administrators and the instrument's scientists. The "
                        "keys sent are set, the others stay unchanged; `instrument_scientists`"
                        " replaces the whole list.")
def update_instrument(instrument_id: int, body: InstrumentChanges, request: Request,
                      viewer: V1Viewer, db: Db) -> dict[str, Any]:
    view = service.update_instrument(db, viewer, instrument_id, body, client_address(request))
    return _instrument(view)


# --- log entries -------------------------------------------------------------------------


@router.get("/instruments/{instrument_id}/log_entries/",
            summary="Reading a list of all log entries for an instrument")
def list_log_entries(instrument_id: int, viewer: V1Viewer, db: Db) -> list[dict[str, Any]]:
    return [_log_entry(view) for view in service.list_log_entries(db, viewer, instrument_id)]


@router.post("/instruments/{instrument_id}/log_entries/", status_code=201, responses=CREATED,
             summary="Creating an instrument log entry",
             description="`content_is_markdown` and `event_utc_datetime` (ISO 8601, converted "
                         "to UTC) are optional IsoFind extensions.")
def create_log_entry(instrument_id: int, body: LogEntryBody, request: Request,
                     viewer: V1Viewer, db: Db) -> Response:
    entry = service.create_log_entry(db, viewer, instrument_id, body, client_address(request))
    location = f"{_instrument_url(instrument_id)}/log_entries/{entry.id}"
    return Response(status_code=status.HTTP_201_CREATED, headers={"Location": location})


@router.get("/instruments/{instrument_id}/log_entries/{log_entry_id}",
            summary="Reading an instrument log entry")
def read_log_entry(instrument_id: int, log_entry_id: int, viewer: V1Viewer,
                   db: Db) -> dict[str, Any]:
    return _log_entry(service.get_log_entry(db, viewer, instrument_id, log_entry_id))


# --- log categories ----------------------------------------------------------------------


@router.get("/instruments/{instrument_id}/log_categories/",
            summary="Reading a list of all log categories for an instrument")
def list_log_categories(instrument_id: int, viewer: V1Viewer, db: Db) -> list[dict[str, Any]]:
    return [category_json(c) for c in service.list_log_categories(db, viewer, instrument_id)]


@router.post("/instruments/{instrument_id}/log_categories/", status_code=201,
             responses=CREATED, summary="Creating an instrument log category",
             description=EXTENSION + "Administrators and the instrument's scientists. `theme` "
                         "is gray (default), blue, green, yellow or red.")
def create_log_category(instrument_id: int, body: LogCategoryBody, request: Request,
                        response: Response, viewer: V1Viewer, db: Db) -> dict[str, Any]:
    category = service.create_log_category(db, viewer, instrument_id, body,
                                           client_address(request))
    response.headers["Location"] = (
        f"{_instrument_url(instrument_id)}/log_categories/{category.id}")
    return category_json(category)


@router.get("/instruments/{instrument_id}/log_categories/{category_id}",
            summary="Reading an instrument log category")
def read_log_category(instrument_id: int, category_id: int, viewer: V1Viewer,
                      db: Db) -> dict[str, Any]:
    return category_json(service.get_log_category(db, viewer, instrument_id, category_id))


# --- attachments -------------------------------------------------------------------------


@router.get("/instruments/{instrument_id}/log_entries/{log_entry_id}/file_attachments/",
            summary="Reading a list of all file attachments for a log entry")
def list_file_attachments(instrument_id: int, log_entry_id: int, viewer: V1Viewer,
                          db: Db) -> list[dict[str, Any]]:
    return [file_attachment_json(a) for a in
            service.list_file_attachments(db, viewer, instrument_id, log_entry_id)]


@router.get("/instruments/{instrument_id}/log_entries/{log_entry_id}/file_attachments/"
            "{file_attachment_id}", summary="Reading a file attachment for a log entry")
def read_file_attachment(instrument_id: int, log_entry_id: int, file_attachment_id: int,
                         viewer: V1Viewer, db: Db) -> dict[str, Any]:
    return file_attachment_json(service.get_file_attachment(
        db, viewer, instrument_id, log_entry_id, file_attachment_id))


@router.get("/instruments/{instrument_id}/log_entries/{log_entry_id}/object_attachments/",
            summary="Reading a list of all object attachments for a log entry",
            description="Attachments of objects the caller may not read are left out.")
def list_object_attachments(instrument_id: int, log_entry_id: int, viewer: V1Viewer,
                            db: Db) -> list[dict[str, Any]]:
    return [object_attachment_json(a) for a in
            service.list_object_attachments(db, viewer, instrument_id, log_entry_id)]


@router.get("/instruments/{instrument_id}/log_entries/{log_entry_id}/object_attachments/"
            "{object_attachment_id}", summary="Reading an object attachment for a log entry",
            description="An attachment of an object the caller may not read answers 404.")
def read_object_attachment(instrument_id: int, log_entry_id: int, object_attachment_id: int,
                           viewer: V1Viewer, db: Db) -> dict[str, Any]:
    return object_attachment_json(service.get_object_attachment(
        db, viewer, instrument_id, log_entry_id, object_attachment_id))
