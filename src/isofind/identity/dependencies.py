"""Who is calling: one resolver for cookies, Basic, API and access tokens, used by every route."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from isofind.errors import Forbidden, Unauthorized
from isofind.identity import service
from isofind.identity.models import LoginSession, Role, User
from isofind.routing import end_with, on_endpoint_thread, unit_of_work

SESSION_COOKIE = "isotrace_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    user: User
    via: str  # session | basic | api_token | access_token | local_owner
    session: LoginSession | None = None


@unit_of_work
async def get_db(request: Request) -> Session:
    """The request's unit of work: committed once the endpoint has returned, rolled back when
    it raised, on the endpoint's own worker-thread call (:func:`isofind.routing.unit_of_work`).

    Opening a session does no I/O, so it happens here, on the event loop.
    """
    database = request.app.state.database
    session = database.open(write=request.method not in SAFE_METHODS)
    end_with(lambda error: database.end(session, error))
    return session


Db = Annotated[Session, Depends(get_db)]


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _challenge(message: str) -> Unauthorized:
    return Unauthorized(message, headers={"WWW-Authenticate": 'Basic realm="IsoFind"'})


def _from_authorization(request: Request, db: Session, header: str) -> Principal:
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    runtime = request.app.state.identity
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _challenge("Malformed Basic credentials") from None
        username, sep, password = decoded.partition(":")
        if not sep:
            raise _challenge("Malformed Basic credentials")
        try:
            user = service.authenticate_basic(db, runtime, username, password,
                                              client_address(request))
        except Unauthorized as exc:
            raise _challenge(exc.detail) from None
        return Principal(user, "basic")
    if scheme.lower() == "bearer" and credentials:
        bearer = service.resolve_bearer(db, credentials)
        if bearer is None:
            raise _challenge("Invalid, expired or revoked token")
        return Principal(bearer.user, "api_token" if bearer.kind == "api" else "access_token")
    raise _challenge("Unsupported Authorization scheme; use Basic or Bearer")


def same_origin(request: Request) -> bool:
    """Does the request carry an Origin (or Referer) naming this server?"""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return False
    host = request.headers.get("host", "")
    return urlsplit(source).netloc.lower() == host.lower()


def _from_cookie(request: Request, db: Session, token: str) -> Principal | None:
    resolved = service.resolve_session(db, token)
    if resolved is None:
        return None
    session, user = resolved
    if request.method not in SAFE_METHODS and not same_origin(request):
        raise Forbidden("Cross-site request refused: Origin or Referer must name this server")
    return Principal(user, "session", session)


def authenticate(request: Request, db: Session) -> Principal | None:
    """The caller's credentials, or None when the request carries none."""
    header = request.headers.get("authorization")
    if header:
        return _from_authorization(request, db, header)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        principal = _from_cookie(request, db, token)
        if principal is not None and principal.session is not None:
            if principal.session.is_locked:
                raise Unauthorized("Session is locked: sign in again to unlock it")
            return principal
    return None


def _refuse_foreign_origin(request: Request) -> None:
    # Without login, any web page could post to the loopback server; browsers mark those.
    origin = request.headers.get("origin")
    if request.method not in SAFE_METHODS and origin and not same_origin(request):
        raise Forbidden("Cross-site request refused: Origin must name this server")


@on_endpoint_thread
def current_principal(request: Request, db: Db) -> Principal:
    """IsoFind routes: credentials in multi-user mode; the local owner in single-user mode."""
    principal = authenticate(request, db)
    if principal is not None:
        return principal
    if request.app.state.settings.multi_user:
        raise Unauthorized("Authentication required")
    _refuse_foreign_origin(request)
    return Principal(service.local_owner(db), "local_owner")


@on_endpoint_thread
def current_user(principal: Annotated[Principal, Depends(current_principal)]) -> User:
    return principal.user


def authenticate_v1(request: Request, db: Db) -> Principal:
    """``/api/v1`` routes always need credentials, in either mode."""
    principal = authenticate(request, db)
    if principal is None:
        raise _challenge("Authentication required")
    return principal


v1_principal = on_endpoint_thread(authenticate_v1)


@on_endpoint_thread
def v1_user(principal: Annotated[Principal, Depends(v1_principal)]) -> User:
    return principal.user


def require_role(role: Role) -> Callable[..., object]:
    @on_endpoint_thread
    def dependency(user: Annotated[User, Depends(current_user)]) -> User:
        if user.role < role:
            raise Forbidden(f"This action requires the {role.label} role")
        return user

    return dependency


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
CurrentUser = Annotated[User, Depends(current_user)]
AnalystUser = Annotated[User, Depends(require_role(Role.ANALYST))]
ManagerUser = Annotated[User, Depends(require_role(Role.MANAGER))]
AdminUser = Annotated[User, Depends(require_role(Role.ADMIN))]
V1Principal = Annotated[Principal, Depends(v1_principal)]
V1User = Annotated[User, Depends(v1_user)]
