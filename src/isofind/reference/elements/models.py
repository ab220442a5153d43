"""Custom elements: the lab's own isotopic systems, beside the predefined ones (not stored)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from isofind.db import Base, JsonDocument
from isofind.timeutil import utcnow


class CustomElement(Base):
    __tablename__ = "custom_elements"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Canonical case (`Xx`), so a unique symbol is also unique case-insensitively.
    symbol: Mapped[str] = mapped_column(String(3), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str | None] = mapped_column(String(200))
    atomic_number: Mapped[int | None] = mapped_column(Integer)
    # [{"mass_number": 204, "abundance": 1.4 | null}, ...] in ascending mass number
    isotopes: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
