"""SampleDB wire format shared by every ``/api/v1`` route."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request

from isofind.routing import Route

V1_PREFIX = "/api/v1"


def is_v1(request: Request) -> bool:
    path = request.url.path
    return path == V1_PREFIX or path.startswith(V1_PREFIX + "/")


def validation_message(exc: RequestValidationError) -> str:
    """One line naming the failing path, as SampleDB's 400 answers do."""
    parts = []
    for error in exc.errors():
        location = "/".join(str(item) for item in error.get("loc", ()) if item != "body")
        parts.append(f"{location or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def v1_error_body(message: Any) -> dict[str, Any]:
    return {"message": message}


def v1_router(**kwargs: Any) -> APIRouter:
    """A router whose paths answer with and without their trailing slash, and that reads
    JSON bodies sent without a Content-Type (the sampledbapi client sends none).

    The client calls both ``objects/`` and ``objects/{id}/comments``; a redirect would
    drop the Authorization header in some clients, so both forms are real routes (the
    slashless twin is hidden from OpenAPI).
    """
    kwargs.setdefault("strict_content_type", False)
    kwargs.setdefault("route_class", Route)
    return _SlashTolerantRouter(**kwargs)


class _SlashTolerantRouter(APIRouter):
    def add_api_route(self, path: str, endpoint: Any, **kwargs: Any) -> None:  # type: ignore[override]
        super().add_api_route(path, endpoint, **kwargs)
        twin = path[:-1] if path.endswith("/") else path + "/"
        if twin:
            super().add_api_route(twin, endpoint, **{**kwargs, "include_in_schema": False})
