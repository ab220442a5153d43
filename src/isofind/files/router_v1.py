"""SampleDB routes of the files room."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Path, Request, Response, status

from isofind.api_v1.dependencies import V1Viewer
from isofind.api_v1.wire import v1_router
from isofind.files import service
from isofind.files.schemas import file_json
from isofind.identity.dependencies import Db, client_address

# sampledbapi posts JSON without a Content-Type header; FastAPI ignores such bodies
# unless the router is lenient.
router = v1_router(prefix="/api/v1", tags=["SampleDB: Files"])

# Ids are INTEGER columns: larger values would overflow SQLite (a 500), so they are
# refused as bad input.
Id = Annotated[int, Path(ge=0, le=2**31 - 1)]


@router.get("/objects/{object_id}/files/", summary="Reading a list of an object's files")
def list_files(object_id: Id, viewer: V1Viewer, db: Db) -> list[dict[str, Any]]:
    """File information without content, by file id; needs read permission."""
    return [file_json(f, include_content=False)
            for f in service.list_files(db, viewer, object_id)]


@router.get("/objects/{object_id}/files/{file_id}", summary="Reading information for a file")
def read_file(object_id: Id, file_id: Id, viewer: V1Viewer, db: Db) -> dict[str, Any]:
    """File information, with `base64_content` for database storage; needs read permission."""
    return file_json(service.get_file(db, viewer, object_id, file_id), include_content=True)


@router.post("/objects/{object_id}/files/", status_code=201, response_class=Response,
             summary="Uploading a file")
def upload_file(object_id: Id, request: Request, viewer: V1Viewer, db: Db,
                body: Annotated[Any, Body()] = None) -> Response:
    """Attach a file; needs write permission. Bodies by `storage`:

    * `database`: `original_file_name` (at most 150 bytes, no path separators),
      `base64_content` (at most 32 MiB decoded), optional
      `hash` `{"algorithm": "sha256" | "sha512", "hexdigest": ...}` (a mismatch is 400);
    * `url`: `url` (http or https, at most 2,048 characters);
    * `local_reference`: `filepath` (relative to, or absolute under, the configured local
      files directory; `..` and symlinks leading out of it are refused), optional `hash`.

    Answers 201 with `Location: /api/v1/objects/{object_id}/files/{file_id}`.
    """
    file = service.create_file(
        db, viewer, object_id, body,
        local_files_dir=request.app.state.settings.local_files_dir,
        client_address=client_address(request))
    return Response(status_code=status.HTTP_201_CREATED,
                    headers={"Location": f"/api/v1/objects/{object_id}/files/{file.file_id}"})
