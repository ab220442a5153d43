"""Tables of standards, certified reference materials and calculated shifts.

Nothing a normalization may have used is overwritten:

* ``standards`` holds only the identity of a standard; every value it ever had is a row of
  ``standard_versions`` and the current one is the highest version. A built-in standard is
  seeded by migration 0005_standards with a negative id and version 1; edits and deletions
  append versions (a deletion only stamps ``deleted_at``), so the values behind any past
  result stay readable.
* A CRM keeps its current values in ``crms``, ``crm_concentrations`` and ``crm_isotopes``
  for queries, and every change appends a full snapshot to ``crm_versions``.
* ``shift_records`` is the history of calculated shifts with the values they came from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

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

from isofind.db import Base, JsonDocument
from isofind.timeutil import utcnow


class Standard(Base):
    __tablename__ = "standards"
    # Built-ins have negative ids: AUTOINCREMENT keeps SQLite from numbering the next one 0.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    is_custom: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    deleted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class StandardVersion(Base):
    """One state of a standard: its certified value, citation and the lab's own values."""

    __tablename__ = "standard_versions"
    __table_args__ = (
        UniqueConstraint("standard_id", "version"),
        Index("ix_standard_versions_quantity", "element", "quantity"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("standards.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(20))  # seeded | created | updated | deleted
    name: Mapped[str] = mapped_column(String(200))
    abbreviation: Mapped[str] = mapped_column(String(100))
    element: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))  # ratio | delta
    quantity: Mapped[str] = mapped_column(String(40))
    scale: Mapped[str | None] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)
    uncertainty: Mapped[float | None] = mapped_column(Float)
    uncertainty_type: Mapped[str] = mapped_column(String(40))
    normalization: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    citation: Mapped[str | None] = mapped_column(Text)
    doi: Mapped[str | None] = mapped_column(String(200))
    is_reference: Mapped[bool] = mapped_column(Boolean, default=False)
    measured_value: Mapped[float | None] = mapped_column(Float)
    measured_uncertainty: Mapped[float | None] = mapped_column(Float)
    measured_uncertainty_type: Mapped[str | None] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    utc_datetime: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Crm(Base):
    __tablename__ = "crms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    material: Mapped[str | None] = mapped_column(String(300))
    producer: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    georem_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CrmConcentration(Base):
    __tablename__ = "crm_concentrations"
    __table_args__ = (UniqueConstraint("crm_id", "element"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    crm_id: Mapped[int] = mapped_column(ForeignKey("crms.id", ondelete="CASCADE"))
    element: Mapped[str] = mapped_column(String(20), index=True)
    value: Mapped[float] = mapped_column(Float)
    uncertainty: Mapped[float | None] = mapped_column(Float)
    uncertainty_type: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(20))
    citation: Mapped[str | None] = mapped_column(Text)
    doi: Mapped[str | None] = mapped_column(String(200))


class CrmIsotope(Base):
    """A certified isotope value of a CRM and, once the lab has measured it, its lab value."""

    __tablename__ = "crm_isotopes"
    __table_args__ = (UniqueConstraint("crm_id", "ratio"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    crm_id: Mapped[int] = mapped_column(ForeignKey("crms.id", ondelete="CASCADE"))
    element: Mapped[str] = mapped_column(String(20), index=True)
    ratio: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[float] = mapped_column(Float)
    uncertainty: Mapped[float | None] = mapped_column(Float)
    uncertainty_type: Mapped[str] = mapped_column(String(40))
    technique: Mapped[str | None] = mapped_column(String(200))
    scale: Mapped[str | None] = mapped_column(String(100))
    citation: Mapped[str | None] = mapped_column(Text)
    doi: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    measured_value: Mapped[float | None] = mapped_column(Float)
    measured_uncertainty: Mapped[float | None] = mapped_column(Float)
    measured_uncertainty_type: Mapped[str | None] = mapped_column(String(40))
    measured_standard: Mapped[str | None] = mapped_column(String(100))


class CrmVersion(Base):
    """A full snapshot of a CRM after one change."""

    __tablename__ = "crm_versions"
    __table_args__ = (UniqueConstraint("crm_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    crm_id: Mapped[int] = mapped_column(ForeignKey("crms.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(80))
    data: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    utc_datetime: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ShiftRecord(Base):
    """A calculated shift: the lab's value of a CRM against its certified value.

    ``from_standard`` is the standard the lab measured against, ``to_standard`` the one the
    certified value is expressed on; when both are the same standard the shift corrects the
    lab's realisation of it. ``value`` is the factor R_cert/R_meas for a ratio and the offset
    in ‰ for a delta; ``basis`` keeps every input with its version.
    """

    __tablename__ = "shift_records"
    __table_args__ = (Index("ix_shift_records_quantity", "element", "quantity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    crm_id: Mapped[int | None] = mapped_column(
        ForeignKey("crms.id", ondelete="SET NULL"), index=True
    )
    crm_name: Mapped[str] = mapped_column(String(200))
    crm_version: Mapped[int] = mapped_column(Integer)
    element: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))
    from_standard: Mapped[str] = mapped_column(String(100))
    to_standard: Mapped[str] = mapped_column(String(100))
    measured_value: Mapped[float] = mapped_column(Float)
    measured_uncertainty: Mapped[float] = mapped_column(Float)
    certified_value: Mapped[float] = mapped_column(Float)
    certified_uncertainty: Mapped[float] = mapped_column(Float)
    value: Mapped[float] = mapped_column(Float)
    uncertainty: Mapped[float] = mapped_column(Float)
    offset_permil: Mapped[float] = mapped_column(Float)
    offset_uncertainty: Mapped[float] = mapped_column(Float)
    basis: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    utc_datetime: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
