"""IsoFind identity routes: /api/auth/*, /api/users/*, /api/user/profile."""

from __future__ import annotations

from fastapi import Request, Response, status

from isofind.activity.service import record
from isofind.errors import BadRequest, Forbidden, NotFound, Unauthorized
from isofind.identity import service
from isofind.identity.dependencies import (
    SESSION_COOKIE,
    AdminUser,
    CurrentPrincipal,
    CurrentUser,
    Db,
    authenticate,
    client_address,
)
from isofind.identity.models import LoginSession, Role
from isofind.identity.schemas import (
    AdminUserOut,
    ChangePasswordIn,
    CheckOut,
    LoginIn,
    LoginOut,
    ProfileIn,
    RecoveryIn,
    RecoveryOut,
    SessionOut,
    Success,
    UserCreateIn,
    UserOut,
)
from isofind.routing import api_router

router = api_router(tags=["System & Authentication"])
users_router = api_router(tags=["User Management"])


def _set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings = request.app.state.settings
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(settings.session_lifetime_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


@router.post("/api/auth/login", response_model=LoginOut)
def login(body: LoginIn, request: Request, response: Response, db: Db) -> LoginOut:
    """Sign in; sets the ``isotrace_session`` cookie. Always accepted in single-user mode."""
    settings = request.app.state.settings
    if not settings.multi_user:
        return LoginOut(success=True, user=UserOut.of(service.local_owner(db)))
    runtime = request.app.state.identity
    client = client_address(request)
    user = service.verify_password(db, runtime, body.username, body.password, client)
    cookie = request.cookies.get(SESSION_COOKIE)
    resolved = service.resolve_session(db, cookie) if cookie else None
    if resolved is not None and resolved[1].id == user.id and resolved[0].is_locked:
        resolved[0].is_locked = False
        record(db, "auth.unlocked_session", user_id=user.id, target_type="session",
               target_id=resolved[0].id, client_address=client)
    else:
        session, token = service.open_session(
            db, runtime, user, client, request.headers.get("user-agent")
        )
        _set_session_cookie(request, response, token)
        record(db, "auth.login", user_id=user.id, target_type="session", target_id=session.id,
               client_address=client)
    return LoginOut(success=True, user=UserOut.of(user))


@router.post("/api/auth/logout", response_model=Success)
def logout(request: Request, response: Response, principal: CurrentPrincipal, db: Db) -> Success:
    """End the current session and clear its cookie."""
    if principal.session is not None:
        service.end_session(db, principal.session)
    response.delete_cookie(SESSION_COOKIE, path="/")
    record(db, "auth.logout", user_id=principal.user.id, target_type="session",
           target_id=principal.session.id if principal.session else None,
           client_address=client_address(request))
    return Success()


@router.get("/api/auth/check", response_model=CheckOut, response_model_exclude_unset=True)
def check(request: Request, db: Db) -> CheckOut:
    """The signed-in user, or ``{"authenticated": false}``."""
    settings = request.app.state.settings
    try:
        principal = authenticate(request, db)
    except (Unauthorized, Forbidden):
        principal = None
    if principal is None and not settings.multi_user:
        owner = service.local_owner(db)
        return CheckOut(authenticated=True, user=UserOut.of(owner), via="local_owner",
                        mode=settings.mode.value)
    if principal is None:
        return CheckOut(authenticated=False)
    return CheckOut(authenticated=True, user=UserOut.of(principal.user), via=principal.via,
                    mode=settings.mode.value)


@router.post("/api/auth/change-password", response_model=Success)
def change_password(
    body: ChangePasswordIn, request: Request, principal: CurrentPrincipal, db: Db
) -> Success:
    """Change one's own password; other sessions and tokens of the account end."""
    runtime = request.app.state.identity
    client = client_address(request)
    user = principal.user
    try:
        service.verify_password(db, runtime, user.username, body.old_password, client)
    except Unauthorized:
        raise BadRequest("old_password is incorrect") from None
    service.set_password(db, runtime, user, body.new_password)
    for session in service.live_sessions(db, user.id):
        if principal.session is None or session.id != principal.session.id:
            service.end_session(db, session)
    record(db, "auth.password_changed", user_id=user.id, target_type="user", target_id=user.id,
           client_address=client)
    return Success(message="Password changed")


@router.post("/api/auth/lock", response_model=Success)
def lock(request: Request, principal: CurrentPrincipal, db: Db) -> Success:
    """Lock the current session: it stays, but needs the password again to be used."""
    if principal.session is None:
        raise BadRequest("Only a browser session (isotrace_session cookie) can be locked")
    principal.session.is_locked = True
    record(db, "auth.lock", user_id=principal.user.id, target_type="session",
           target_id=principal.session.id, client_address=client_address(request))
    return Success(message="Session locked")


@router.get("/api/auth/sessions", response_model=list[SessionOut])
def sessions(principal: CurrentPrincipal, db: Db) -> list[SessionOut]:
    """The caller's live sessions."""
    current = principal.session.id if principal.session else None
    return [
        SessionOut.model_validate(s).model_copy(update={"current": s.id == current})
        for s in service.live_sessions(db, principal.user.id)
    ]


@router.delete("/api/auth/sessions/{session_id}", response_model=Success)
def end_session(session_id: int, request: Request, user: CurrentUser, db: Db) -> Success:
    """End one of one's sessions (administrators may end anybody's)."""
    session = db.get(LoginSession, session_id)
    if session is None or (session.user_id != user.id and user.role < Role.ADMIN):
        raise NotFound(f"session {session_id} does not exist")
    service.end_session(db, session)
    record(db, "auth.session_ended", user_id=user.id, target_type="session",
           target_id=session_id, details={"owner_id": session.user_id},
           client_address=client_address(request))
    return Success()


@router.post("/api/auth/recovery", response_model=RecoveryOut)
def recovery(body: RecoveryIn, request: Request, db: Db) -> RecoveryOut:
    """Reset the administrator's password with the single-use recovery code."""
    runtime = request.app.state.identity
    client = client_address(request)
    user, next_code = service.recover(db, runtime, body.recovery_code, body.new_password, client)
    record(db, "auth.recovery_used", user_id=user.id, target_type="user", target_id=user.id,
           client_address=client)
    return RecoveryOut(success=True, username=user.username, new_recovery_code=next_code)


# --- user management ---------------------------------------------------------------------


def _admin_view(db: Db, user_id: int) -> AdminUserOut:
    user = service.get_user(db, user_id)
    return AdminUserOut(**UserOut.of(user).model_dump(), created_at=user.created_at,
                        **service.lockout_state(db, user))


@users_router.get("/api/users/list", response_model=list[AdminUserOut])
def list_users(admin: AdminUser, db: Db) -> list[AdminUserOut]:
    """All accounts (administrators only)."""
    return [_admin_view(db, user.id) for user in service.list_users(db)]


@users_router.post("/api/users/create", response_model=AdminUserOut,
                   status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreateIn, request: Request, admin: AdminUser, db: Db) -> AdminUserOut:
    """Create an account (administrators only)."""
    user = service.create_user(
        db, request.app.state.identity, username=body.username, password=body.password,
        role=Role.parse(body.role), email=body.email, display_name=body.display_name,
        orcid=body.orcid, affiliation=body.affiliation, is_readonly=body.is_readonly,
    )
    record(db, "user.created", user_id=admin.id, target_type="user", target_id=user.id,
           details={"username": user.username, "role": body.role},
           client_address=client_address(request))
    return _admin_view(db, user.id)


def _other_user(db: Db, admin_id: int, user_id: int, verb: str) -> service.User:
    if user_id == admin_id:
        raise BadRequest(f"You cannot {verb} your own account")
    return service.get_user(db, user_id)


@users_router.post("/api/users/{user_id}/toggle", response_model=AdminUserOut)
def toggle_user(user_id: int, request: Request, admin: AdminUser, db: Db) -> AdminUserOut:
    """Activate or deactivate an account; deactivation ends its sessions and tokens."""
    user = _other_user(db, admin.id, user_id, "deactivate")
    service.set_active(db, user, not user.is_active)
    record(db, "user.activated" if user.is_active else "user.deactivated", user_id=admin.id,
           target_type="user", target_id=user.id, client_address=client_address(request))
    return _admin_view(db, user.id)


@users_router.post("/api/users/{user_id}/unlock", response_model=AdminUserOut)
def unlock_user(user_id: int, request: Request, admin: AdminUser, db: Db) -> AdminUserOut:
    """Lift a lockout after too many failed attempts."""
    user = service.get_user(db, user_id)
    service.unlock(db, user)
    record(db, "user.unlocked", user_id=admin.id, target_type="user", target_id=user.id,
           client_address=client_address(request))
    return _admin_view(db, user.id)


@users_router.delete("/api/users/{user_id}", response_model=Success)
def delete_user(user_id: int, request: Request, admin: AdminUser, db: Db) -> Success:
    """Delete an account: it can no longer sign in and is anonymised, but stays an author."""
    user = _other_user(db, admin.id, user_id, "delete")
    username = user.username
    service.delete_user(db, user)
    record(db, "user.deleted", user_id=admin.id, target_type="user", target_id=user_id,
           details={"username": username}, client_address=client_address(request))
    return Success()


@users_router.put("/api/user/profile", response_model=UserOut)
def update_profile(body: ProfileIn, request: Request, user: CurrentUser, db: Db) -> UserOut:
    """Update one's own display name, email, ORCID and affiliation (only the fields given)."""
    changes = body.model_dump(exclude_unset=True)
    for field, value in changes.items():
        setattr(user, field, value)
    record(db, "user.profile_updated", user_id=user.id, target_type="user", target_id=user.id,
           details={"fields": sorted(changes)}, client_address=client_address(request))
    return UserOut.of(user)
