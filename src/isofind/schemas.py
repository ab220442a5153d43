"""The base of every request body."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, field_validator


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return any(_contains_nul(item) for item in value)
    return False


class RequestBody(BaseModel):
    """Refuses NUL characters anywhere, which PostgreSQL text cannot store (SQLite can),
    so both backends answer the same."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _contains_nul(value):
            raise ValueError("text must not contain NUL characters")
        return value
