"""The SampleDB JSON form of object files."""

from __future__ import annotations

import base64
from typing import Any

from isofind.files.models import ObjectFile


def file_json(file: ObjectFile, *, include_content: bool) -> dict[str, Any]:
    """A file as SampleDB shows it; lists leave the content out, as SampleDB's do."""
    body: dict[str, Any] = {"object_id": file.object_id, "file_id": file.file_id,
                            "storage": file.storage}
    if file.storage == "url":
        body["url"] = file.url
    else:
        body["original_file_name"] = file.original_file_name
    if file.storage == "local_reference":
        body["filepath"] = file.local_path
    if file.storage == "database" and include_content:
        body["base64_content"] = base64.b64encode(file.content or b"").decode("ascii")
    if file.sha256 is not None:
        body["hash"] = {"algorithm": "sha256", "hexdigest": file.sha256}
    return body
