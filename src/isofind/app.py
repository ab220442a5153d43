"""create_app(): both API families over one database, their error formats, offline docs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from isofind import __version__
from isofind.activity.router import router as activity_router
from isofind.api_v1.wire import is_v1, v1_error_body, validation_message
from isofind.comments.router_v1 import router as v1_comments_router
from isofind.config import Settings
from isofind.db import Database
from isofind.errors import ApiError
from isofind.files.router_v1 import router as v1_files_router
from isofind.identity.router import router as auth_router
from isofind.identity.router import users_router
from isofind.identity.router_groups import router as v1_groups_router
from isofind.identity.router_v1 import router as v1_users_router
from isofind.identity.router_v1 import tokens_router as v1_tokens_router
from isofind.identity.service import IdentityRuntime
from isofind.instruments.router_v1 import router as v1_instruments_router
from isofind.locations.router_v1 import router as v1_locations_router
from isofind.matching.router import router as matching_router
from isofind.matching.router import zones_router
from isofind.objects.router_v1 import actions_router as v1_actions_router
from isofind.objects.router_v1 import log_router as v1_log_router
from isofind.objects.router_v1 import router as v1_objects_router
from isofind.permissions.router_v1 import router as v1_permissions_router
from isofind.reference.elements.router import router as elements_router
from isofind.reference.library.router import routers as library_routers
from isofind.reference.standards.router import router as standards_router
from isofind.routing import Route
from isofind.samples.router import router as samples_router
from isofind.system.router import config_router
from isofind.system.router import router as system_router

log = logging.getLogger("isofind")

DESCRIPTION = """IsoFind keeps isotope samples and measurements with their full history and
matches a sample's isotope ratios against a database of sources.

* **IsoFind API** (`/api/...`, `/analyze`, `/health`): errors as `{"detail": ...}`.
* **SampleDB HTTP API** (`/api/v1/...`): SampleDB's wire format, errors as `{"message": ...}`.

Authenticate with the `isotrace_session` cookie (`POST /api/auth/login`),
`Authorization: Basic ...`, or `Authorization: Bearer <API or access token>`.
"""


def _error_response(request: Request, status: int, detail: object,
                    headers: dict[str, str] | None = None) -> JSONResponse:
    body = v1_error_body(detail) if is_v1(request) else {"detail": detail}
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error_response(request, exc.status_code, exc.detail, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error_response(request, exc.status_code, exc.detail,
                               getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        if is_v1(request):
            return JSONResponse(v1_error_body(validation_message(exc)), status_code=400)
        return JSONResponse({"detail": _jsonable_errors(exc)}, status_code=422)

    @app.exception_handler(DataError)
    async def _data_error(request: Request, exc: DataError) -> JSONResponse:
        # Values the database cannot store (NUL bytes, out-of-range numbers) are bad input.
        reason = str(exc.orig).splitlines()[0] if exc.orig else "invalid value"
        return _error_response(request, 400, f"Invalid value: {reason}")

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
        # SQLite integers stop at 2**63 - 1; larger ids cannot name anything.
        return _error_response(request, 400, "Invalid value: number too large")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error_response(request, 500, "Internal server error")


def _jsonable_errors(exc: RequestValidationError) -> list[dict[str, object]]:
    errors = []
    for error in exc.errors():
        item = {k: v for k, v in error.items() if k in {"type", "loc", "msg", "input"}}
        if "ctx" in error:
            item["ctx"] = {k: str(v) for k, v in error["ctx"].items()}
        errors.append(item)
    # The input may be the raw body (a JSON body sent as text/plain): bytes, maybe not UTF-8.
    encoded: list[dict[str, object]] = jsonable_encoder(errors, custom_encoder={bytes: _as_text})
    return encoded


def _as_text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    database = Database(settings.effective_database_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        database.dispose()

    app = FastAPIOffline(
        title="IsoFind",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.identity = IdentityRuntime.create(settings)
    install_error_handlers(app)
    add_routes(app, (
        system_router, auth_router, users_router, activity_router, config_router,
        v1_users_router, v1_tokens_router, v1_objects_router, v1_actions_router, v1_log_router,
        v1_permissions_router, v1_instruments_router, v1_locations_router, v1_files_router,
        v1_comments_router, v1_groups_router,
        elements_router, *library_routers,
        samples_router,
        standards_router,
        matching_router, zones_router,
    ))
    return app


def add_routes(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Serve the routers' routes from the app's own route list.

    ``include_router`` keeps each router behind a view that FastAPI walks route by route, twice
    per request; with our 277 routes that was a third of the CPU time of a sample GET (py-spy,
    issue 4). The routes themselves already carry their router's prefix, tags and
    dependencies, and none of our routers sets anything at include time.
    """
    for router in routers:
        if any(not isinstance(route, APIRoute) for route in router.routes):
            raise TypeError("add_routes takes routers of plain routes; list nested routers")
        if any(not isinstance(route, Route) for route in router.routes):
            raise TypeError("add_routes takes routers made by isofind.routing.api_router: "
                            "their routes compute deferred dependencies")
        app.router.routes.extend(router.routes)
