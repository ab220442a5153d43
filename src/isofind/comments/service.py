"""Rules for comments: anyone who may write an object may comment on it; comments are
immutable, their ids count from 0 within each object. Content: a non-blank string of at
most 100,000 characters."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isofind.activity.service import record as record_activity
from isofind.comments.models import Comment
from isofind.errors import BadRequest, Forbidden, NotFound
from isofind.objects.models import ObjectLogEntry, ObjectRecord
from isofind.objects.service import require_object
from isofind.permissions.models import Level
from isofind.permissions.service import Viewer
from isofind.timeutil import utcnow

MAX_CONTENT_LENGTH = 100_000
ALLOWED_KEYS = {"object_id", "content"}


def list_comments(db: Session, viewer: Viewer, object_id: int) -> Sequence[Comment]:
    require_object(db, viewer, object_id, Level.READ)
    return db.scalars(select(Comment).where(Comment.object_id == object_id)
                      .order_by(Comment.comment_id)).all()


def get_comment(db: Session, viewer: Viewer, object_id: int, comment_id: int) -> Comment:
    require_object(db, viewer, object_id, Level.READ)
    comment = db.get(Comment, (object_id, comment_id))
    if comment is None:
        raise NotFound(f"comment {comment_id} of object {object_id} does not exist")
    return comment


def _content(body: object, object_id: int) -> str:
    if not isinstance(body, dict):
        raise BadRequest("JSON object body required")
    for key in body:
        if key not in ALLOWED_KEYS:
            raise BadRequest(f"invalid key '{key}'")
    if "object_id" in body and body["object_id"] != object_id:
        raise BadRequest(f"object_id must be {object_id}")
    if "content" not in body:
        raise BadRequest("content must be set")
    content = body["content"]
    if not isinstance(content, str):
        raise BadRequest("content must be a string")
    if not content.strip():
        raise BadRequest("content must not be empty")
    if len(content) > MAX_CONTENT_LENGTH:
        raise BadRequest(f"content must be at most {MAX_CONTENT_LENGTH} characters")
    if "\x00" in content:
        raise BadRequest("content must not contain NUL characters")
    return content


def _next_comment_id(db: Session, object_id: int) -> int:
    # Lock the object row so concurrent posts (PostgreSQL) cannot pick the same id;
    # SQLite writers are already serialised by BEGIN IMMEDIATE.
    db.execute(select(ObjectRecord.id).where(ObjectRecord.id == object_id).with_for_update())
    last = db.scalar(select(func.max(Comment.comment_id)).where(Comment.object_id == object_id))
    return 0 if last is None else last + 1


def create_comment(db: Session, viewer: Viewer, object_id: int, body: object, *,
                   client_address: str | None = None) -> Comment:
    """Post a comment on an object the viewer may write; logs it on the object and activity."""
    require_object(db, viewer, object_id, Level.WRITE)
    if viewer.user is None:
        raise Forbidden("anonymous users cannot post comments")
    user_id = viewer.user.id
    content = _content(body, object_id)
    now = utcnow()
    comment = Comment(object_id=object_id, comment_id=_next_comment_id(db, object_id),
                      user_id=user_id, content=content, utc_datetime=now)
    db.add(comment)
    db.add(ObjectLogEntry(type="POST_COMMENT", object_id=object_id, user_id=user_id,
                          data={"comment_id": comment.comment_id}, utc_datetime=now))
    record_activity(db, "comment.posted", user_id=user_id, target_type="object",
                    target_id=object_id, details={"comment_id": comment.comment_id},
                    client_address=client_address)
    db.flush()
    return comment
