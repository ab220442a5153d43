"""Instruments, their scientists, and instrument log entries.

A log entry is a chain of versions (content, categories, event time); its file and
object attachments belong to the entry, not to a version. Foreign keys whose
conventional name would pass PostgreSQL's 63-character limit are named by hand.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from isofind.db import Base
from isofind.timeutil import utcnow

# Colours of log categories, as SampleDB names them.
CATEGORY_THEMES = ("gray", "blue", "green", "yellow", "red")


class Instrument(Base):
    __tablename__ = "instruments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    short_description: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    is_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))


class InstrumentScientist(Base):
    """Users responsible for an instrument: they hold grant on its actions' objects."""

    __tablename__ = "instrument_scientists"

    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )


class InstrumentLogCategory(Base):
    __tablename__ = "instrument_log_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(100))
    theme: Mapped[str] = mapped_column(String(16), default="gray")


class InstrumentLogEntry(Base):
    __tablename__ = "instrument_log_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), index=True
    )
    # The author; users are only ever anonymised, never removed, so no cascade.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class InstrumentLogEntryVersion(Base):
    __tablename__ = "instrument_log_entry_versions"

    log_entry_id: Mapped[int] = mapped_column(
        ForeignKey("instrument_log_entries.id", ondelete="CASCADE",
                   name="fk_instrument_log_entry_versions_log_entry"),
        primary_key=True,
    )
    version_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    content: Mapped[str] = mapped_column(Text, default="")
    content_is_markdown: Mapped[bool] = mapped_column(Boolean, default=False)
    utc_datetime: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    event_utc_datetime: Mapped[datetime | None] = mapped_column(DateTime)


class InstrumentLogEntryVersionCategory(Base):
    __tablename__ = "instrument_log_entry_version_categories"
    __table_args__ = (
        ForeignKeyConstraint(
            ["log_entry_id", "version_id"],
            ["instrument_log_entry_versions.log_entry_id",
             "instrument_log_entry_versions.version_id"],
            ondelete="CASCADE",
            name="fk_instrument_log_version_categories_version",
        ),
    )

    log_entry_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    category_id: Mapped[int] = mapped_column(
        ForeignKey("instrument_log_categories.id", ondelete="CASCADE",
                   name="fk_instrument_log_version_categories_category"),
        primary_key=True,
    )


class InstrumentLogFileAttachment(Base):
    __tablename__ = "instrument_log_file_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    log_entry_id: Mapped[int] = mapped_column(
        ForeignKey("instrument_log_entries.id", ondelete="CASCADE",
                   name="fk_instrument_log_file_attachments_log_entry"),
        index=True,
    )
    file_name: Mapped[str] = mapped_column(String(256))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class InstrumentLogObjectAttachment(Base):
    __tablename__ = "instrument_log_object_attachments"
    __table_args__ = (UniqueConstraint("log_entry_id", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    log_entry_id: Mapped[int] = mapped_column(
        ForeignKey("instrument_log_entries.id", ondelete="CASCADE",
                   name="fk_instrument_log_object_attachments_log_entry"),
        index=True,
    )
    # Purging an object removes its attachments; a tombstone keeps them but hides them.
    object_id: Mapped[int] = mapped_column(
        ForeignKey("objects.id", ondelete="CASCADE",
                   name="fk_instrument_log_object_attachments_object")
    )
