"""Locations (a tree), their types, and where objects are."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from isofind.db import Base
from isofind.timeutil import utcnow

# The built-in type seeded by migration 0003_locations, as upstream SampleDB's "Locations".
DEFAULT_LOCATION_TYPE_ID = -99


class LocationType(Base):
    __tablename__ = "location_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    location_name_singular: Mapped[str] = mapped_column(String(200), default="Location")
    location_name_plural: Mapped[str] = mapped_column(String(200), default="Locations")
    admin_only: Mapped[bool] = mapped_column(Boolean, default=False)
    enable_parent_location: Mapped[bool] = mapped_column(Boolean, default=True)
    enable_sub_locations: Mapped[bool] = mapped_column(Boolean, default=True)
    enable_object_assignments: Mapped[bool] = mapped_column(Boolean, default=True)
    enable_responsible_users: Mapped[bool] = mapped_column(Boolean, default=False)
    show_location_log: Mapped[bool] = mapped_column(Boolean, default=False)


class Location(Base):
    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    parent_location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    type_id: Mapped[int] = mapped_column(ForeignKey("location_types.id"))
    is_hidden: Mapped[bool] = mapped_column(Boolean, default=False)


class ObjectLocationAssignment(Base):
    __tablename__ = "object_location_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    object_id: Mapped[int] = mapped_column(
        ForeignKey("objects.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    responsible_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    description: Mapped[str] = mapped_column(Text, default="")
    utc_datetime: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
