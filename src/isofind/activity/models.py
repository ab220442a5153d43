"""The activity log: who did what, to which target, from where."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from isofind.db import Base, JsonDocument
from isofind.timeutil import utcnow


class ActivityEntry(Base):
    __tablename__ = "activity_log"
    __table_args__ = (Index("ix_activity_log_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    utc_datetime: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(80), index=True)
    target_type: Mapped[str | None] = mapped_column(String(80))
    target_id: Mapped[str | None] = mapped_column(String(120))
    details: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    client_address: Mapped[str | None] = mapped_column(String(64))
