"""The one function every room calls to record an activity, and the log queries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, insert, select
from sqlalchemy.orm import Session

from isofind.activity.models import ActivityEntry
from isofind.csv_export import stream_csv
from isofind.db import Database
from isofind.timeutil import utcnow


def record(
    db: Session,
    action: str,
    *,
    user_id: int | None,
    target_type: str | None = None,
    target_id: object | None = None,
    details: dict[str, Any] | None = None,
    client_address: str | None = None,
) -> None:
    # A plain INSERT built once: an ORM add and its flush cost twice as much (issue 3).
    db.execute(_ENTRY_INSERT, {
        "utc_datetime": utcnow(), "action": action, "user_id": user_id,
        "target_type": target_type, "target_id": None if target_id is None else str(target_id),
        "details": details or {}, "client_address": client_address})


_ENTRY_INSERT = insert(ActivityEntry.__table__)


def _filtered(
    user_id: int | None,
    action: str | None,
    target_type: str | None,
    target_id: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Select[tuple[ActivityEntry]]:
    query = select(ActivityEntry)
    if user_id is not None:
        query = query.where(ActivityEntry.user_id == user_id)
    if action:
        # "sample." selects a family of actions, "sample.updated" one action.
        if action.endswith("."):
            query = query.where(ActivityEntry.action.startswith(action, autoescape=True))
        else:
            query = query.where(ActivityEntry.action == action)
    if target_type:
        query = query.where(ActivityEntry.target_type == target_type)
    if target_id:
        query = query.where(ActivityEntry.target_id == target_id)
    if since:
        query = query.where(ActivityEntry.utc_datetime >= since)
    if until:
        query = query.where(ActivityEntry.utc_datetime <= until)
    return query


def search(
    db: Session,
    *,
    user_id: int | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[ActivityEntry]]:
    query = _filtered(user_id, action, target_type, target_id, since, until)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(ActivityEntry.id.desc()).limit(limit).offset(offset)
    ).all()
    return total, list(rows)


def export_csv(database: Database, **filters: Any) -> Iterator[str]:
    """Stream the filtered log as CSV from its own read transaction (the request's has ended)."""
    columns = ["id", "utc_datetime", "user_id", "action", "target_type", "target_id",
               "details", "client_address"]
    query = _filtered(**filters).order_by(ActivityEntry.id)
    with database.session(write=False) as db:
        rows = (
            (entry.id, entry.utc_datetime.isoformat(), entry.user_id, entry.action,
             entry.target_type, entry.target_id,
             json.dumps(entry.details, ensure_ascii=False, sort_keys=True), entry.client_address)
            for entry in db.scalars(query.execution_options(yield_per=1000)))
        yield from stream_csv(columns, rows)
