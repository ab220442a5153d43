"""The SampleDB JSON form of comments."""

from __future__ import annotations

from typing import Any

from isofind.comments.models import Comment
from isofind.timeutil import iso_timestamp


def comment_json(comment: Comment) -> dict[str, Any]:
    return {
        "object_id": comment.object_id,
        "user_id": comment.user_id,
        "comment_id": comment.comment_id,
        "content": comment.content,
        "utc_datetime": iso_timestamp(comment.utc_datetime),
    }
