"""Tables of the samples room.

``sample_index`` and ``isotope_values`` are derived from each isotope sample's current
version (written in the same transaction, rebuildable from the versions): plain columns for
fast lists, statistics and matching. A deleted sample has no rows here. Purification yields
are ordinary relational rows, one per (sample, element).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from isofind.db import Base
from isofind.timeutil import utcnow


class SampleIndex(Base):
    __tablename__ = "sample_index"
    __table_args__ = (Index("ix_sample_index_archived_id", "archived", "sample_id"),)

    sample_id: Mapped[int] = mapped_column(
        ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    # Case- and accent-folded name: rows of an import merge with the sample of the same name.
    name_key: Mapped[str] = mapped_column(String(500), index=True)
    name: Mapped[str] = mapped_column(Text)
    material_type: Mapped[str | None] = mapped_column(String(200))
    sector: Mapped[str | None] = mapped_column(Text)
    classification: Mapped[str | None] = mapped_column(String(20))
    project: Mapped[str | None] = mapped_column(String(300), index=True)
    collection_date: Mapped[str | None] = mapped_column(String(40))
    # Kept here too so the CSV export reads no JSON.
    collection_location: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # A copy of objects.creator_id, whose foreign key holds: not checked twice (0010).
    creator_id: Mapped[int] = mapped_column(Integer)


class IsotopeValue(Base):
    __tablename__ = "isotope_values"
    __table_args__ = (
        Index("ix_isotope_values_quantity", "quantity", "sample_id"),
    )

    # No foreign key: written and dropped with its sample_index row (index.py), and checking
    # a key per value cost PostgreSQL more than storing the value (migration 0007).
    sample_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    isotope_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    element: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[str] = mapped_column(String(40))  # canonical ratio or delta
    value: Mapped[float] = mapped_column(Float)
    uncertainty: Mapped[float | None] = mapped_column(Float)  # 2σ
    standard: Mapped[str | None] = mapped_column(String(200))
    normalized_value: Mapped[float | None] = mapped_column(Float)
    normalized_uncertainty: Mapped[float | None] = mapped_column(Float)
    normalized_standard: Mapped[str | None] = mapped_column(String(200))


class PurificationYield(Base):
    __tablename__ = "purification_yields"
    __table_args__ = (UniqueConstraint("sample_id", "element"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"))
    element: Mapped[str] = mapped_column(String(20))
    yield_percent: Mapped[float] = mapped_column(Float)
    operator: Mapped[str | None] = mapped_column(String(200))
    method_key: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class IndexGeneration(Base):
    """One row: a counter bumped by every write to the isotope index, in the same transaction.

    Caches of source matrices (matching) are keyed by it, so every worker process sees a change
    and unchanged data is never reloaded.
    """

    __tablename__ = "sample_index_generation"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(Integer, default=0)
