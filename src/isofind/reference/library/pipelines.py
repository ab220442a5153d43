"""Rules for pipelines: ordered stages, each naming a method of the library by key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from isofind.activity.service import record
from isofind.errors import Conflict, NotFound
from isofind.identity.models import User
from isofind.reference.library.common import (
    Loc,
    element_filter,
    element_symbol,
    field_error,
    require_editor,
)
from isofind.reference.library.models import Method, Pipeline, PipelineStage
from isofind.reference.library.schemas import PipelineIn
from isofind.timeutil import utcnow

# A stage as stored: (position, method id, label).
StageRow = tuple[int, int, str | None]


def list_pipelines(db: Session, *, element: str | None = None) -> Sequence[Pipeline]:
    query = select(Pipeline).order_by(Pipeline.key)
    symbol = element_filter(db, element)
    if symbol is not None:
        query = query.where(Pipeline.element == symbol)
    return db.scalars(query).all()


def pipeline_by_key(db: Session, key: str) -> Pipeline | None:
    return db.scalar(select(Pipeline).where(Pipeline.key == key))


def get_pipeline(db: Session, pipeline_id: int) -> Pipeline:
    pipeline = db.get(Pipeline, pipeline_id)
    if pipeline is None:
        raise NotFound(f"pipeline {pipeline_id} not found")
    return pipeline


def pipeline_values(db: Session, body: PipelineIn,
                    loc: Loc = ("body",)) -> tuple[dict[str, Any], list[StageRow]]:
    """Column values and stages of a pipeline body; unknown elements and methods are 422s."""
    values = {"key": body.key, "name": body.name, "description": body.description,
              "element": element_symbol(db, body.element, [*loc, "element"])}
    keys = {stage.method_key for stage in body.stages}
    method_ids = dict(db.execute(select(Method.key, Method.id).where(Method.key.in_(keys))).all())
    stages: list[StageRow] = []
    for index, stage in enumerate(body.stages):
        method_id = method_ids.get(stage.method_key)
        if method_id is None:
            raise field_error([*loc, "stages", index, "method_key"],
                              f"no method with key {stage.method_key!r} in the library",
                              stage.method_key)
        stages.append((stage.order or index + 1, method_id, stage.label))
    return values, stages


def stage_rows(pipeline: Pipeline) -> list[StageRow]:
    return [(stage.position, stage.method_id, stage.label) for stage in pipeline.stages]


def differs(pipeline: Pipeline, values: dict[str, Any], stages: list[StageRow]) -> bool:
    changed = any(getattr(pipeline, name) != value for name, value in values.items())
    return changed or stage_rows(pipeline) != stages


def _flush(db: Session, key: str) -> None:
    try:
        db.flush()
    except IntegrityError:
        raise Conflict(f"a pipeline with key {key!r} already exists") from None


def insert_pipeline(db: Session, user: User, values: dict[str, Any],
                    stages: list[StageRow]) -> Pipeline:
    pipeline = Pipeline(created_by=user.id, **values)
    pipeline.stages = [PipelineStage(position=position, method_id=method_id, label=label)
                       for position, method_id, label in stages]
    db.add(pipeline)
    _flush(db, values["key"])
    return pipeline


def replace_pipeline(db: Session, pipeline: Pipeline, values: dict[str, Any],
                     stages: list[StageRow]) -> None:
    for name, value in values.items():
        setattr(pipeline, name, value)
    # Old stages go first: the new ones may reuse their positions (unique per pipeline).
    pipeline.stages.clear()
    db.flush()
    pipeline.stages.extend(PipelineStage(position=position, method_id=method_id, label=label)
                           for position, method_id, label in stages)
    pipeline.updated_at = utcnow()
    _flush(db, values["key"])


def create_pipeline(db: Session, user: User, body: PipelineIn, *,
                    client_address: str | None = None) -> Pipeline:
    require_editor(user, "the pipelines library")
    other = db.scalar(select(Pipeline.id).where(Pipeline.key == body.key))
    if other is not None:
        raise Conflict(f"a pipeline with key {body.key!r} already exists (id {other})")
    values, stages = pipeline_values(db, body)
    pipeline = insert_pipeline(db, user, values, stages)
    record(db, "pipeline.created", user_id=user.id, target_type="pipeline",
           target_id=pipeline.id, details={"key": pipeline.key}, client_address=client_address)
    return pipeline
