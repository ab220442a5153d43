"""Comments on objects; ids count from 0 within each object."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from isofind.db import Base
from isofind.timeutil import utcnow


class Comment(Base):
    __tablename__ = "object_comments"

    object_id: Mapped[int] = mapped_column(
        ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True
    )
    comment_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    content: Mapped[str] = mapped_column(Text)
    utc_datetime: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
