"""Methods, pipelines, sample links, pipeline progress and publications.

Methods and pipelines carry the fields of the `.isof` exchange format (``isof.models``) so a
file imported and exported again is the same. Pipeline stages point at methods by id, so a
method's key can change without breaking the pipelines that use it; a sample's progress
through its pipeline is kept by stage position, so editing a pipeline keeps the progress
of the stages that remain.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from isofind.db import Base, JsonDocument
from isofind.timeutil import utcnow


class Method(Base):
    __tablename__ = "methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    type: Mapped[str | None] = mapped_column(String(20), index=True)
    element: Mapped[str | None] = mapped_column(String(20), index=True)
    target_matrices: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    duration: Mapped[str | None] = mapped_column(String(200))
    duration_hours: Mapped[float | None] = mapped_column(Float)
    yield_min_pct: Mapped[float | None] = mapped_column(Float)
    yield_max_pct: Mapped[float | None] = mapped_column(Float)
    equipment: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument, default=list)
    reference_doi: Mapped[str | None] = mapped_column(String(300))
    reference_citation: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Pipeline(Base):
    __tablename__ = "pipelines"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str | None] = mapped_column(String(300))
    element: Mapped[str | None] = mapped_column(String(20), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    stages: Mapped[list[PipelineStage]] = relationship(
        order_by="PipelineStage.position", cascade="all, delete-orphan", lazy="selectin",
    )


class PipelineStage(Base):
    __tablename__ = "pipeline_stages"
    __table_args__ = (UniqueConstraint("pipeline_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # the stage's `order` in .isof
    method_id: Mapped[int] = mapped_column(ForeignKey("methods.id"), index=True)
    label: Mapped[str | None] = mapped_column(String(300))

    method: Mapped[Method] = relationship(lazy="joined")


class SampleMethod(Base):
    """A method and/or a pipeline assigned to a sample (an `.isof` Assignment)."""

    __tablename__ = "sample_methods"
    __table_args__ = (
        CheckConstraint("method_id IS NOT NULL OR pipeline_id IS NOT NULL",
                        name="method_or_pipeline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"),
                                           index=True)
    method_id: Mapped[int | None] = mapped_column(ForeignKey("methods.id"), index=True)
    pipeline_id: Mapped[int | None] = mapped_column(ForeignKey("pipelines.id"), index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    method: Mapped[Method | None] = relationship(lazy="joined")
    pipeline: Mapped[Pipeline | None] = relationship(lazy="joined")


class SamplePipeline(Base):
    """The pipeline a sample follows (at most one), created by the link that assigned it."""

    __tablename__ = "sample_pipelines"

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"),
                                           unique=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id"), index=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("sample_methods.id", ondelete="CASCADE"),
                                         unique=True)
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    pipeline: Mapped[Pipeline] = relationship(lazy="joined")
    progress: Mapped[list[StageProgress]] = relationship(
        order_by="StageProgress.position", cascade="all, delete-orphan", lazy="selectin",
        passive_deletes=True,
    )


class StageProgress(Base):
    __tablename__ = "sample_pipeline_progress"
    __table_args__ = (UniqueConstraint("sample_pipeline_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_pipeline_id: Mapped[int] = mapped_column(
        ForeignKey("sample_pipelines.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    operator: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)


class Publication(Base):
    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    doi: Mapped[str | None] = mapped_column(String(300))  # bare, as given: `10.1016/J.X`
    # DOIs are case-insensitive: the lower-cased form is the one kept unique and looked up.
    doi_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    year: Mapped[int | None] = mapped_column(Integer)
    journal: Mapped[str | None] = mapped_column(String(500))
    citation: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
