"""Tables of the matching room: reference geographic zones and stored analysis reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from isofind.db import Base, JsonDocument
from isofind.timeutil import utcnow


class Zone(Base):
    """A reference geographic zone: a GeoJSON Polygon or MultiPolygon (lon, lat in degrees).

    ``version`` grows with every change, so caches of prepared geometries and of sources
    grouped by zone can tell an edited zone from an unchanged one without comparing shapes.
    """

    __tablename__ = "zones"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    geometry: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    prior_weight: Mapped[float | None] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class MatchingReport(Base):
    """One analysis run through the routes: what was asked, on which data, and the answer.

    ``sample_id`` has no foreign key on purpose: a report outlives a purged sample.
    """

    __tablename__ = "matching_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    route: Mapped[str] = mapped_column(String(80))
    sample_id: Mapped[int | None] = mapped_column(Integer, index=True)
    sample_name: Mapped[str | None] = mapped_column(Text)
    algorithm: Mapped[str] = mapped_column(String(20))
    threshold: Mapped[float] = mapped_column(Float)
    engine_version: Mapped[str] = mapped_column(String(20))
    index_generation: Mapped[int] = mapped_column(Integer)
    inputs: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    options: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    result: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
