"""Accounts and credentials: the rules behind every way of signing in.

Failed attempts are counted per lower-cased username whether or not the account
exists, so lockout answers the same for strangers and reveals nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from pwdlib import PasswordHash
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from isofind.activity.service import record
from isofind.config import Settings
from isofind.errors import BadRequest, Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized
from isofind.identity import secrets as idsecrets
from isofind.identity.models import (
    ApiToken,
    LoginSession,
    LoginThrottle,
    RecoveryCode,
    Role,
    User,
)
from isofind.names import caseless
from isofind.recent import Recent
from isofind.timeutil import utcnow

INVALID_CREDENTIALS = "Invalid username or password"
MIN_PASSWORD_LENGTH = 8


class BasicAuthCache:
    """Successful Basic verifications, so scripts do not pay argon2 on every request.

    Keyed by an HMAC of username and password under a per-process key (never the
    password itself); an entry is honoured only while the user's credentials stamp
    in the database still matches, so password changes, deactivation and lockout
    invalidate it in every worker at once.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self._key = secrets.token_bytes(32)
        self._entries: Recent[bytes, tuple[int, int]] = Recent(capacity)

    def _fingerprint(self, username: str, password: str) -> bytes:
        message = username.encode() + b"\x00" + password.encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def get(self, username: str, password: str) -> tuple[int, int] | None:
        return self._entries.get(self._fingerprint(username, password))

    def put(self, username: str, password: str, user_id: int, stamp: int) -> None:
        self._entries.put(self._fingerprint(username, password), (user_id, stamp))


@dataclass
class IdentityRuntime:
    """Per-process identity state: settings, the password hasher and the Basic cache."""

    settings: Settings
    hasher: PasswordHash
    basic_cache: BasicAuthCache
    dummy_hash: str

    @classmethod
    def create(cls, settings: Settings) -> IdentityRuntime:
        hasher = idsecrets.password_hasher(settings)
        return cls(settings, hasher, BasicAuthCache(), hasher.hash(secrets.token_hex(16)))


# --- users -----------------------------------------------------------------------------


def find_user(db: Session, username: str) -> User | None:
    if "\x00" in username:  # no stored name has one, and PostgreSQL text cannot hold it
        return None
    return db.scalar(select(User).where(User.username_key == caseless(username)))


def get_user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None or user.is_deleted:
        raise NotFound(f"user {user_id} does not exist")
    return user


def list_users(db: Session, *, include_deleted: bool = False) -> list[User]:
    query = select(User).order_by(User.id)
    if not include_deleted:
        query = query.where(User.is_deleted.is_(False))
    return list(db.scalars(query))


def check_new_password(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(f"{field} must have at least {MIN_PASSWORD_LENGTH} characters")


def create_user(
    db: Session,
    runtime: IdentityRuntime,
    *,
    username: str,
    password: str,
    role: Role = Role.USER,
    email: str | None = None,
    display_name: str | None = None,
    orcid: str | None = None,
    affiliation: str | None = None,
    is_readonly: bool = False,
) -> User:
    username = username.strip()
    if not username or len(username) > 150 or any(ch.isspace() for ch in username):
        raise BadRequest(f"username {username!r} must be 1-150 characters without spaces")
    check_new_password(password)
    taken = Conflict(f"username {username!r} is already taken")
    if find_user(db, username) is not None:
        raise taken
    user = User(
        username=username,
        password_hash=runtime.hasher.hash(password),
        role=int(role),
        email=email,
        display_name=display_name,
        orcid=orcid,
        affiliation=affiliation,
        is_readonly=is_readonly,
        credentials_stamp=0,
        is_active=True,
        is_deleted=False,
        admin_permissions_enabled=False,
    )
    try:
        with db.begin_nested():  # a concurrent creation of the same name loses cleanly
            db.add(user)
    except IntegrityError:
        raise taken from None
    return user


# Built once: SQLAlchemy memoises a statement's cache key on the statement object, and
# single-user mode runs this on every request (issue 4).
_FIRST_ACTIVE_ADMIN = (
    select(User)
    .where(User.role == int(Role.ADMIN), User.is_active.is_(True), User.is_deleted.is_(False))
    .order_by(User.id)
    .limit(1)
)


def local_owner(db: Session) -> User:
    """The account single-user mode acts as: the first active admin."""
    owner = db.scalar(_FIRST_ACTIVE_ADMIN)
    if owner is None:
        raise Unauthorized("no administrator exists yet: run 'isofind init'")
    return owner


def revoke_credentials(db: Session, user: User) -> None:
    """End every session and token of a user and invalidate cached Basic logins."""
    now = utcnow()
    user.credentials_stamp += 1
    db.execute(update(LoginSession).where(LoginSession.user_id == user.id)
               .values(expires_at=now))
    db.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
               .values(revoked_at=now))


def set_password(db: Session, runtime: IdentityRuntime, user: User, password: str) -> None:
    check_new_password(password, "new_password")
    user.password_hash = runtime.hasher.hash(password)
    user.credentials_stamp += 1


def set_active(db: Session, user: User, active: bool) -> None:
    user.is_active = active
    if not active:
        revoke_credentials(db, user)


def delete_user(db: Session, user: User) -> None:
    """Anonymise: the row stays as author of versions and log entries, but can never sign in."""
    revoke_credentials(db, user)
    user.username = f"deleted-user-{user.id}"
    user.email = None
    user.display_name = f"Deleted user {user.id}"
    user.orcid = None
    user.affiliation = None
    user.password_hash = "!"
    user.is_active = False
    user.is_deleted = True


# --- passwords and lockout ---------------------------------------------------------------


def _throttle_key(username: str) -> str:
    return caseless(username.replace("\x00", ""))[:150]


def _throttle(db: Session, username: str) -> LoginThrottle | None:
    return db.get(LoginThrottle, _throttle_key(username))


def _lock_remaining(throttle: LoginThrottle | None, now: datetime) -> float:
    if throttle is None or throttle.locked_until is None or throttle.locked_until <= now:
        return 0.0
    return (throttle.locked_until - now).total_seconds()


def _locked_error(seconds: float) -> TooManyRequests:
    return TooManyRequests(
        "Too many failed attempts; try again later or ask an administrator to unlock the account",
        headers={"Retry-After": str(max(1, math.ceil(seconds)))},
    )


def _record_failure(
    db: Session, runtime: IdentityRuntime, username: str, user: User | None, client: str | None
) -> None:
    """Count a failure in its own committed transaction: the request itself will fail.

    The request's transaction is rolled back first, so on SQLite the write starts
    a fresh transaction instead of upgrading a read snapshot.
    """
    db.rollback()
    key = _throttle_key(username)
    now = utcnow()
    throttle = db.get(LoginThrottle, key) or LoginThrottle(username=key, failures=0)
    if throttle.locked_until is not None and throttle.locked_until <= now:
        throttle.failures = 0
        throttle.locked_until = None
    throttle.failures += 1
    throttle.last_failure_at = now
    db.add(throttle)
    record(db, "auth.login_failed", user_id=user.id if user else None, target_type="user",
           target_id=user.id if user else None, details={"username": key},
           client_address=client)
    if throttle.failures >= runtime.settings.lockout_attempts:
        throttle.locked_until = now + timedelta(minutes=runtime.settings.lockout_minutes)
        if user is not None:
            user.credentials_stamp += 1
        record(db, "auth.locked_out", user_id=user.id if user else None, target_type="user",
               target_id=user.id if user else None, details={"username": key},
               client_address=client)
    db.commit()


def verify_password(
    db: Session, runtime: IdentityRuntime, username: str, password: str, client: str | None
) -> User:
    """The user behind a username and password, counting failures towards lockout."""
    now = utcnow()
    remaining = _lock_remaining(_throttle(db, username), now)
    if remaining:
        raise _locked_error(remaining)
    user = find_user(db, username)
    usable = user is not None and not user.is_deleted
    stored = user.password_hash if usable and user is not None else runtime.dummy_hash
    try:
        valid, upgraded = runtime.hasher.verify_and_update(password, stored)
    except Exception:
        valid, upgraded = False, None
    if not (valid and usable and user is not None):
        _record_failure(db, runtime, username, user if usable else None, client)
        raise Unauthorized(INVALID_CREDENTIALS)
    if not user.is_active:
        raise Forbidden("Account is deactivated")
    throttle = _throttle(db, username)
    if throttle is not None and throttle.failures:
        throttle.failures = 0
        throttle.locked_until = None
    if upgraded:
        user.password_hash = upgraded
    return user


def authenticate_basic(
    db: Session, runtime: IdentityRuntime, username: str, password: str, client: str | None
) -> User:
    cached = runtime.basic_cache.get(username, password)
    if cached is not None:
        user = db.get(User, cached[0])
        if (
            user is not None
            and user.credentials_stamp == cached[1]
            and user.is_active
            and not user.is_deleted
        ):
            return user
    user = verify_password(db, runtime, username, password, client)
    runtime.basic_cache.put(username, password, user.id, user.credentials_stamp)
    return user


def unlock(db: Session, user: User) -> None:
    throttle = _throttle(db, user.username)
    if throttle is not None:
        db.delete(throttle)
        db.flush()


def lockout_state(db: Session, user: User) -> dict[str, object]:
    throttle = _throttle(db, user.username)
    remaining = _lock_remaining(throttle, utcnow())
    return {"failed_attempts": throttle.failures if throttle else 0, "locked": bool(remaining)}


# --- sessions ---------------------------------------------------------------------------


def open_session(
    db: Session, runtime: IdentityRuntime, user: User, client: str | None, agent: str | None
) -> tuple[LoginSession, str]:
    token = idsecrets.new_token()
    now = utcnow()
    session = LoginSession(
        token_digest=idsecrets.digest(token),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=runtime.settings.session_lifetime_hours),
        client_address=client,
        user_agent=(agent or "")[:300] or None,
        is_locked=False,
    )
    db.add(session)
    db.flush()
    return session, token


def resolve_session(db: Session, token: str) -> tuple[LoginSession, User] | None:
    """The live session behind a cookie value, or None when unknown or expired."""
    now = utcnow()
    row = db.execute(
        select(LoginSession, User)
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.token_digest == idsecrets.digest(token))
    ).first()
    if row is None:
        return None
    session, user = row
    if session.expires_at <= now or not user.is_active or user.is_deleted:
        return None
    if (now - session.last_seen_at).total_seconds() > 60:
        session.last_seen_at = now
    return session, user


def end_session(db: Session, session: LoginSession) -> None:
    session.expires_at = utcnow()


def live_sessions(db: Session, user_id: int) -> list[LoginSession]:
    return list(db.scalars(
        select(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.expires_at > utcnow())
        .order_by(LoginSession.id)
    ))


# --- tokens -----------------------------------------------------------------------------


def create_api_token(db: Session, user: User, description: str = "") -> tuple[ApiToken, str]:
    token = idsecrets.new_token()
    row = ApiToken(user_id=user.id, kind="api", token_digest=idsecrets.digest(token),
                   description=description[:500])
    db.add(row)
    db.flush()
    return row, token


@dataclass(frozen=True)
class AccessTokenPair:
    row: ApiToken
    access_token: str
    refresh_token: str


def create_access_token(
    db: Session, runtime: IdentityRuntime, user: User, description: str
) -> AccessTokenPair:
    access, refresh = idsecrets.new_token(), idsecrets.new_token()
    now = utcnow()
    row = ApiToken(
        user_id=user.id,
        kind="access",
        token_digest=idsecrets.digest(access),
        refresh_digest=idsecrets.digest(refresh),
        description=description[:500],
        created_at=now,
        expires_at=now + timedelta(minutes=runtime.settings.access_token_lifetime_minutes),
        refresh_expires_at=now + timedelta(hours=runtime.settings.refresh_token_lifetime_hours),
    )
    db.add(row)
    db.flush()
    return AccessTokenPair(row, access, refresh)


def _token_usable(revoked_at: datetime | None, expires: datetime | None, now: datetime) -> bool:
    return revoked_at is None and (expires is None or expires > now)


# Built once: building the statement and its cache key took 70 µs of the 110 µs lookup that
# every token-authenticated request makes (issue 3). Only the token columns the checks read:
# each column selected costs the driver and SQLAlchemy work on every request.
_BEARER_LOOKUP = (select(ApiToken.kind, ApiToken.token_digest, ApiToken.revoked_at,
                         ApiToken.expires_at, User)
                  .join(User, User.id == ApiToken.user_id)
                  .where(ApiToken.token_digest == bindparam("token_digest")))


class Bearer(NamedTuple):
    kind: str  # "api" or "access"
    user: User


def resolve_bearer(db: Session, token: str) -> Bearer | None:
    """The kind and user of the API or access token behind a bearer value, or None."""
    wanted = idsecrets.digest(token)
    row = db.execute(_BEARER_LOOKUP, {"token_digest": wanted}).first()
    if row is None:
        return None
    kind, stored, revoked_at, expires_at, user = row
    if not idsecrets.digests_equal(stored, wanted):
        return None
    if not _token_usable(revoked_at, expires_at, utcnow()):
        return None
    if not user.is_active or user.is_deleted:
        return None
    return Bearer(kind, user)


def refresh_access_token(
    db: Session, runtime: IdentityRuntime, refresh_token: str
) -> AccessTokenPair | None:
    """Swap a refresh token for a new pair; the old access token is retired."""
    wanted = idsecrets.digest(refresh_token)
    row = db.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.refresh_digest == wanted, ApiToken.kind == "access")
    ).first()
    if row is None:
        return None
    old, user = row
    if not _token_usable(old.revoked_at, old.refresh_expires_at, utcnow()):
        return None
    if not user.is_active or user.is_deleted:
        return None
    old.revoked_at = utcnow()
    return create_access_token(db, runtime, user, old.description)


# --- recovery ---------------------------------------------------------------------------


def issue_recovery_code(db: Session, user: User) -> str:
    """A new single-use recovery code for ``user``; any earlier unused one is retired."""
    now = utcnow()
    db.execute(update(RecoveryCode).where(RecoveryCode.used_at.is_(None)).values(used_at=now))
    code = idsecrets.new_recovery_code()
    db.add(RecoveryCode(
        user_id=user.id,
        code_digest=idsecrets.digest(idsecrets.normalize_recovery_code(code)),
        created_at=now,
    ))
    db.flush()
    return code


# Usernames have no spaces, so this key can never collide with an account.
RECOVERY_THROTTLE_KEY = "recovery code"


def recover(
    db: Session, runtime: IdentityRuntime, code: str, new_password: str, client: str | None
) -> tuple[User, str]:
    """Reset the administrator's password with the recovery code; returns the next code."""
    remaining = _lock_remaining(_throttle(db, RECOVERY_THROTTLE_KEY), utcnow())
    if remaining:
        raise _locked_error(remaining)
    wanted = idsecrets.digest(idsecrets.normalize_recovery_code(code))
    row = db.scalar(select(RecoveryCode).where(RecoveryCode.code_digest == wanted))
    if row is None or row.used_at is not None:
        _record_failure(db, runtime, RECOVERY_THROTTLE_KEY, None, client)
        raise Unauthorized("Invalid or already used recovery code")
    check_new_password(new_password, "new_password")
    user = db.get(User, row.user_id)
    if user is None or user.is_deleted:
        raise Unauthorized("Invalid or already used recovery code")
    row.used_at = utcnow()
    set_password(db, runtime, user, new_password)
    user.is_active = True
    unlock(db, user)
    return user, issue_recovery_code(db, user)
