"""SampleDB routes of the comments room."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Path, Request, Response, status

from isofind.api_v1.dependencies import V1Viewer
from isofind.api_v1.wire import v1_router
from isofind.comments import service
from isofind.comments.schemas import comment_json
from isofind.identity.dependencies import Db, client_address

# sampledbapi posts JSON without a Content-Type header; FastAPI ignores such bodies
# unless the router is lenient.
router = v1_router(prefix="/api/v1", tags=["SampleDB: Comments"])

# Ids are INTEGER columns: larger values would overflow SQLite (a 500), so they are
# refused as bad input.
Id = Annotated[int, Path(ge=0, le=2**31 - 1)]


@router.get("/objects/{object_id}/comments/", summary="Reading a list of an object's comments")
def list_comments(object_id: Id, viewer: V1Viewer, db: Db) -> list[dict[str, Any]]:
    """Comments oldest first; needs read permission."""
    return [comment_json(c) for c in service.list_comments(db, viewer, object_id)]


@router.get("/objects/{object_id}/comments/{comment_id}",
            summary="Reading information for a comment")
def read_comment(object_id: Id, comment_id: Id, viewer: V1Viewer, db: Db) -> dict[str, Any]:
    return comment_json(service.get_comment(db, viewer, object_id, comment_id))


@router.post("/objects/{object_id}/comments/", status_code=201, response_class=Response,
             summary="Posting a comment")
def post_comment(object_id: Id, request: Request, viewer: V1Viewer, db: Db,
                 body: Annotated[Any, Body()] = None) -> Response:
    """Body `{"content": "..."}` (non-blank, at most 100,000 characters); needs write
    permission. Answers 201 with `Location: /api/v1/objects/{object_id}/comments/{id}`."""
    comment = service.create_comment(db, viewer, object_id, body,
                                     client_address=client_address(request))
    return Response(
        status_code=status.HTTP_201_CREATED,
        headers={"Location": f"/api/v1/objects/{object_id}/comments/{comment.comment_id}"})
