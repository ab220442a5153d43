"""JSON text of objects in and out, as fast as the documents allow and byte for byte as before.

Routes that build their response body themselves use the serializers FastAPI uses for a
returned ``dict``/``list``, so they send the same bytes without FastAPI validating the value
against the response model first (a copy of every dict of a 1,000-object list).
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from isofind.db import decode_json

JSON_OBJECT = TypeAdapter(dict[str, Any])
JSON_OBJECTS = TypeAdapter(list[dict[str, Any]])

__all__ = ["JSON_OBJECT", "JSON_OBJECTS", "decode_json"]
