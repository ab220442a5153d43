"""Installation facts: health, statistics, global settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from isofind.identity.models import ApiToken, LoginSession, User
from isofind.system.models import SystemSetting
from isofind.timeutil import utcnow


def database_reachable(db: Session) -> bool:
    db.execute(text("SELECT 1"))
    return True


def get_setting(db: Session, key: str) -> str | None:
    row = db.get(SystemSetting, key)
    return row.value if row else None


def put_setting(db: Session, key: str, value: str) -> None:
    row = db.get(SystemSetting, key)
    if row is None:
        db.add(SystemSetting(key=key, value=value))
    else:
        row.value = value


def database_size(db: Session) -> int | None:
    bind = db.get_bind()
    if bind.dialect.name == "postgresql":
        return int(db.scalar(text("SELECT pg_database_size(current_database())")) or 0)
    database = bind.url.database
    if not database or database == ":memory:":
        return None
    files = [Path(database), Path(database + "-wal")]
    return sum(f.stat().st_size for f in files if f.exists())


def statistics(db: Session) -> dict[str, Any]:
    now = utcnow()
    live = (LoginSession.expires_at > now, LoginSession.is_locked.is_(False))
    bind = db.get_bind()
    return {
        "users": {
            "total": db.scalar(select(func.count()).where(User.is_deleted.is_(False))),
            "active_accounts": db.scalar(
                select(func.count()).where(User.is_active.is_(True), User.is_deleted.is_(False))
            ),
            "active_users": db.scalar(select(func.count(func.distinct(LoginSession.user_id)))
                                      .where(*live)),
        },
        "sessions": {"active": db.scalar(select(func.count()).where(*live))},
        "tokens": {"active": db.scalar(
            select(func.count()).where(
                ApiToken.revoked_at.is_(None),
                (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now),
            )
        )},
        "database": {
            "backend": bind.dialect.name,
            "size_bytes": database_size(db),
            "state": "ok" if database_reachable(db) else "unreachable",
        },
    }
