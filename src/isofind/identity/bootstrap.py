"""First start: the administrator account and its recovery code."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isofind.activity.service import record
from isofind.identity import secrets as idsecrets
from isofind.identity import service
from isofind.identity.models import Role, User


@dataclass(frozen=True)
class InitialAdmin:
    username: str
    password: str | None  # None when the caller chose it
    recovery_code: str


def has_users(db: Session) -> bool:
    return bool(db.scalar(select(func.count()).select_from(User)))


def create_initial_admin(
    db: Session,
    runtime: service.IdentityRuntime,
    username: str = "admin",
    password: str | None = None,
) -> InitialAdmin | None:
    """Create the first administrator, or None when accounts already exist."""
    if has_users(db):
        return None
    generated = None if password else idsecrets.new_password()
    admin = service.create_user(
        db, runtime, username=username, password=password or generated or "",
        role=Role.ADMIN, display_name="Administrator",
    )
    code = service.issue_recovery_code(db, admin)
    record(db, "user.created", user_id=admin.id, target_type="user", target_id=admin.id,
           details={"username": admin.username, "role": "admin", "initial": True})
    return InitialAdmin(admin.username, generated, code)
