"""System routes: readiness, health, version, mode, statistics, interface language."""

from __future__ import annotations

from typing import Literal

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from isofind import __build_date__, __version__
from isofind.identity.dependencies import CurrentPrincipal, Db
from isofind.routing import api_router
from isofind.schemas import RequestBody
from isofind.system import service

router = api_router(tags=["System & Authentication"])
config_router = api_router(tags=["Configuration"])


class Status(BaseModel):
    status: str


class VersionInfo(BaseModel):
    version: str
    mode: str
    build_date: str
    database_backend: str
    features: dict[str, bool]


class ModeOut(BaseModel):
    mode: str
    multi_user: bool
    air_gap: bool


class LanguageIn(RequestBody):
    language: Literal["fr", "en"]


class LanguageOut(BaseModel):
    language: Literal["fr", "en"]
    scope: Literal["user", "global"]


@router.get("/api/ready", response_model=Status)
def ready() -> Status:
    """The backend has started and is ready."""
    return Status(status="ready")


@router.get("/health", response_model=Status, responses={503: {"model": Status}})
def health(request: Request) -> Status | JSONResponse:
    """Healthy when the database answers."""
    try:
        with request.app.state.database.session(write=False) as db:
            service.database_reachable(db)
    except SQLAlchemyError as exc:
        return JSONResponse(
            {"status": "unhealthy", "detail": f"database unreachable: {type(exc).__name__}"},
            status_code=503,
        )
    return Status(status="healthy")


@router.get("/api/version/info", response_model=VersionInfo)
def version_info(request: Request) -> VersionInfo:
    settings = request.app.state.settings
    return VersionInfo(
        version=__version__,
        mode=settings.mode.value,
        build_date=__build_date__,
        database_backend=request.app.state.database.engine.dialect.name,
        features={
            "multi_user": settings.multi_user,
            "air_gap": settings.air_gap,
            "sampledb_api": True,
            "anonymous_access": settings.anonymous_access,
        },
    )


@router.get("/api/system/mode", response_model=ModeOut)
def system_mode(request: Request, principal: CurrentPrincipal) -> ModeOut:
    settings = request.app.state.settings
    return ModeOut(mode=settings.mode.value, multi_user=settings.multi_user,
                   air_gap=settings.air_gap)


@router.get("/api/system/stats")
def system_stats(principal: CurrentPrincipal, db: Db) -> dict[str, object]:
    """Active users and sessions, database backend, size and state."""
    return service.statistics(db)


LANGUAGE_KEY = "interface_language"


@config_router.get("/api/config/language", response_model=LanguageOut)
def get_language(request: Request, principal: CurrentPrincipal, db: Db) -> LanguageOut:
    """The interface language: the user's own in multi-user mode, else the installation's."""
    settings = request.app.state.settings
    if settings.multi_user and principal.user.language:
        return LanguageOut(language=principal.user.language, scope="user")
    stored = service.get_setting(db, LANGUAGE_KEY) or settings.language
    return LanguageOut(language=stored, scope="user" if settings.multi_user else "global")


@config_router.post("/api/config/language", response_model=LanguageOut)
def set_language(
    body: LanguageIn, request: Request, principal: CurrentPrincipal, db: Db
) -> LanguageOut:
    """Change the interface language (``fr`` or ``en``)."""
    if request.app.state.settings.multi_user:
        principal.user.language = body.language
        return LanguageOut(language=body.language, scope="user")
    service.put_setting(db, LANGUAGE_KEY, body.language)
    return LanguageOut(language=body.language, scope="global")
