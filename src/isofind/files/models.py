"""Files attached to objects; ids count from 0 within each object."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from isofind.db import Base
from isofind.timeutil import utcnow


class ObjectFile(Base):
    __tablename__ = "object_files"

    object_id: Mapped[int] = mapped_column(
        ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True
    )
    file_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    storage: Mapped[str] = mapped_column(String(20))  # database | url | local_reference
    original_file_name: Mapped[str | None] = mapped_column(String(500))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    url: Mapped[str | None] = mapped_column(Text)
    local_path: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    utc_datetime: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
