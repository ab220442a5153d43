"""SampleDB identity routes: /api/v1/users and /api/v1/access_tokens."""

from __future__ import annotations

from fastapi import Request, status

from isofind.activity.service import record
from isofind.api_v1.wire import v1_router
from isofind.errors import Forbidden
from isofind.identity import service
from isofind.identity.dependencies import Db, V1User, authenticate_v1, client_address
from isofind.identity.models import Role
from isofind.identity.schemas import AccessTokenIn, AccessTokenOut
from isofind.identity.schemas import V1User as V1UserOut
from isofind.timeutil import sampledb_timestamp

router = v1_router(prefix="/api/v1", tags=["SampleDB: Users"])
tokens_router = v1_router(prefix="/api/v1", tags=["SampleDB: Access Tokens"])


@router.get("/users/", response_model=list[V1UserOut], response_model_exclude_unset=True)
def list_users(user: V1User, db: Db) -> list[V1UserOut]:
    admin = user.role >= Role.ADMIN
    return [V1UserOut.of(u, with_email=admin) for u in service.list_users(db)]


@router.get("/users/me", response_model=V1UserOut, response_model_exclude_unset=True)
def me(user: V1User) -> V1UserOut:
    return V1UserOut.of(user, with_email=user.role >= Role.ADMIN)


@router.get("/users/{user_id}", response_model=V1UserOut, response_model_exclude_unset=True)
def get_user(user_id: int, user: V1User, db: Db) -> V1UserOut:
    return V1UserOut.of(service.get_user(db, user_id), with_email=user.role >= Role.ADMIN)


def _pair_out(pair: service.AccessTokenPair) -> AccessTokenOut:
    assert pair.row.expires_at is not None
    return AccessTokenOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expiration_utc_datetime=sampledb_timestamp(pair.row.expires_at),
        description=pair.row.description,
    )


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


@tokens_router.post("/access_tokens/", response_model=AccessTokenOut,
                    status_code=status.HTTP_201_CREATED)
def create_access_token(
    request: Request, db: Db, body: AccessTokenIn | None = None
) -> AccessTokenOut:
    """Create a short-lived access token and its refresh token.

    Authenticate with Basic or an API token; or send ``Bearer <refresh_token>`` to get
    a new pair, which retires the access token the refresh token belonged to.
    """
    runtime = request.app.state.identity
    bearer = _bearer(request)
    if bearer is not None:
        refreshed = service.refresh_access_token(db, runtime, bearer)
        if refreshed is not None:
            record(db, "auth.access_token_refreshed", user_id=refreshed.row.user_id,
                   target_type="token", target_id=refreshed.row.id,
                   client_address=client_address(request))
            return _pair_out(refreshed)
    principal = authenticate_v1(request, db)
    if principal.via == "access_token":
        raise Forbidden("An access token cannot create access tokens; use its refresh token")
    pair = service.create_access_token(db, runtime, principal.user,
                                       (body.description if body else ""))
    record(db, "auth.access_token_created", user_id=principal.user.id, target_type="token",
           target_id=pair.row.id, client_address=client_address(request))
    return _pair_out(pair)
