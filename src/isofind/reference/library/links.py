"""Rules for sample–method links and a sample's progress through its pipeline.

A link records a method and/or a pipeline assigned to a sample, by whom and when (an
`.isof` Assignment). Reading needs read permission on the sample, linking and progress
need write permission: an unreadable sample answers 404, a read-only one 403. A sample
follows at most one pipeline; assigning it creates one progress row per stage, all
pending, and removing the link that assigned it removes that progress.

Linking one sample refuses a method or pipeline it already has (409). The batch route is
all or nothing over its samples, but idempotent: a sample that already has everything
asked for is skipped, so a batch can be sent again after adding samples to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from isofind.activity.service import record
from isofind.db import among
from isofind.errors import Conflict, Forbidden, NotFound
from isofind.objects.models import ObjectRecord
from isofind.permissions.models import Level
from isofind.permissions.service import Viewer
from isofind.reference.library.common import field_error, id_list, usernames
from isofind.reference.library.methods import get_method, method_by_key
from isofind.reference.library.models import (
    Method,
    Pipeline,
    SampleMethod,
    SamplePipeline,
    StageProgress,
)
from isofind.reference.library.pipelines import get_pipeline, pipeline_by_key
from isofind.reference.library.schemas import (
    BatchLinkIn,
    BatchLinkOut,
    LinkIn,
    LinkOut,
    ProgressIn,
    SamplePipelineOut,
)
from isofind.samples.access import require_sample, sample_objects
from isofind.timeutil import utcnow


@dataclass(frozen=True)
class Target:
    """What a link request assigns."""

    method: Method | None
    pipeline: Pipeline | None

    @property
    def details(self) -> dict[str, str | None]:
        return {"method_key": self.method.key if self.method else None,
                "pipeline_key": self.pipeline.key if self.pipeline else None}


# --- reading ---------------------------------------------------------------------------------


def sample_pipeline_row(db: Session, sample_id: int) -> SamplePipeline | None:
    return db.scalar(select(SamplePipeline).where(SamplePipeline.sample_id == sample_id))


def link_views(db: Session, links: Sequence[SampleMethod]) -> list[LinkOut]:
    link_ids = [link.id for link in links]
    progress_ids: dict[int, int] = {}
    for linked in among(SamplePipeline.link_id, link_ids, db.get_bind().dialect.name):
        rows = db.execute(select(SamplePipeline.link_id, SamplePipeline.id).where(linked))
        progress_ids.update({link_id: progress_id for link_id, progress_id in rows})
    names = usernames(db, (link.assigned_by for link in links))
    return [LinkOut.of(link, names, progress_ids.get(link.id)) for link in links]


def sample_links(db: Session, sample_id: int) -> list[LinkOut]:
    links = db.scalars(select(SampleMethod).where(SampleMethod.sample_id == sample_id)
                       .order_by(SampleMethod.assigned_at, SampleMethod.id)).unique().all()
    return link_views(db, links)


def pipeline_view(db: Session, sample_pipeline: SamplePipeline) -> SamplePipelineOut:
    ids = [sample_pipeline.assigned_by, *(row.updated_by for row in sample_pipeline.progress)]
    return SamplePipelineOut.of(sample_pipeline, usernames(db, ids))


def list_links(db: Session, viewer: Viewer, sample_id: int) -> list[LinkOut]:
    require_sample(db, viewer, sample_id, Level.READ)
    return sample_links(db, sample_id)


def read_sample_pipeline(db: Session, viewer: Viewer, sample_id: int) -> SamplePipelineOut | None:
    require_sample(db, viewer, sample_id, Level.READ)
    row = sample_pipeline_row(db, sample_id)
    return pipeline_view(db, row) if row else None


# --- what a request assigns ------------------------------------------------------------------


def _method_of(db: Session, body: LinkIn) -> Method | None:
    if body.method_id is not None:
        try:
            return get_method(db, body.method_id)
        except NotFound:
            raise field_error(["body", "method_id"], f"no method with id {body.method_id}",
                              body.method_id) from None
    if body.method_key is not None:
        method = method_by_key(db, body.method_key)
        if method is None:
            raise field_error(["body", "method_key"], f"no method with key {body.method_key!r}",
                              body.method_key)
        return method
    return None


def _pipeline_of(db: Session, body: LinkIn) -> Pipeline | None:
    if body.pipeline_id is not None:
        try:
            return get_pipeline(db, body.pipeline_id)
        except NotFound:
            raise field_error(["body", "pipeline_id"], f"no pipeline with id {body.pipeline_id}",
                              body.pipeline_id) from None
    if body.pipeline_key is not None:
        pipeline = pipeline_by_key(db, body.pipeline_key)
        if pipeline is None:
            raise field_error(["body", "pipeline_key"],
                              f"no pipeline with key {body.pipeline_key!r}", body.pipeline_key)
        return pipeline
    return None


def target_of(db: Session, body: LinkIn) -> Target:
    return Target(_method_of(db, body), _pipeline_of(db, body))


# --- writing ---------------------------------------------------------------------------------


def _create_link(db: Session, viewer: Viewer, sample_id: int, target: Target,
                 notes: str | None) -> SampleMethod:
    user = viewer.user
    assert user is not None  # write permission on a sample implies a user
    now = utcnow()
    link = SampleMethod(sample_id=sample_id, method=target.method, pipeline=target.pipeline,
                        notes=notes, assigned_by=user.id, assigned_at=now)
    db.add(link)
    db.flush()
    if target.pipeline is not None:
        progress = [StageProgress(position=stage.position, status="pending")
                    for stage in target.pipeline.stages]
        db.add(SamplePipeline(sample_id=sample_id, pipeline=target.pipeline, link_id=link.id,
                              assigned_by=user.id, assigned_at=now, progress=progress))
        try:
            db.flush()
        except IntegrityError:
            # Another request gave the sample a pipeline since we looked.
            raise Conflict(f"sample {sample_id} already follows a pipeline") from None
    return link


def _linked_method_samples(db: Session, sample_ids: Sequence[int], method: Method) -> set[int]:
    found: set[int] = set()
    for linked in among(SampleMethod.sample_id, sample_ids, db.get_bind().dialect.name):
        found.update(db.scalars(select(SampleMethod.sample_id).where(
            linked, SampleMethod.method_id == method.id)))
    return found


def _current_pipelines(db: Session, sample_ids: Sequence[int]) -> dict[int, SamplePipeline]:
    current: dict[int, SamplePipeline] = {}
    for following in among(SamplePipeline.sample_id, sample_ids, db.get_bind().dialect.name):
        for row in db.scalars(select(SamplePipeline).where(following)).unique():
            current[row.sample_id] = row
    return current


def _record_link(db: Session, viewer: Viewer, link: SampleMethod, target: Target,
                 client_address: str | None) -> None:
    record(db, "sample.method_linked", user_id=viewer.user_id, target_type="sample",
           target_id=link.sample_id, details={"link_id": link.id, **target.details},
           client_address=client_address)


def link_sample(db: Session, viewer: Viewer, sample_id: int, body: LinkIn, *,
                client_address: str | None = None) -> LinkOut:
    require_sample(db, viewer, sample_id, Level.WRITE)
    target = target_of(db, body)
    if target.method and _linked_method_samples(db, [sample_id], target.method):
        raise Conflict(f"method {target.method.key!r} is already linked to sample {sample_id}")
    current = sample_pipeline_row(db, sample_id)
    if target.pipeline and current is not None:
        raise Conflict(f"sample {sample_id} already follows pipeline {current.pipeline.key!r}; "
                       f"remove its link {current.link_id} first")
    link = _create_link(db, viewer, sample_id, target, body.notes)
    _record_link(db, viewer, link, target, client_address)
    return link_views(db, [link])[0]


def _ids_holding(db: Session, viewer: Viewer, ids: Sequence[int], level: Level) -> set[int]:
    held: set[int] = set()
    for asked in among(ObjectRecord.id, ids, db.get_bind().dialect.name):
        held.update(db.scalars(sample_objects(viewer, level).with_only_columns(ObjectRecord.id)
                               .where(asked)))
    return held


def _require_writable(db: Session, viewer: Viewer, ids: Sequence[int]) -> None:
    """All samples writable, else 404 naming the unreadable ones or 403 the read-only ones."""
    writable = _ids_holding(db, viewer, ids, Level.WRITE)
    missing = [sample_id for sample_id in ids if sample_id not in writable]
    if not missing:
        return
    readable = _ids_holding(db, viewer, missing, Level.READ)
    unknown = [sample_id for sample_id in missing if sample_id not in readable]
    if unknown:
        raise NotFound(f"{_samples(unknown)} not found")
    raise Forbidden(f"you may read {_samples(missing)} but not change "
                    f"{'it' if len(missing) == 1 else 'them'}")


def _samples(ids: Sequence[int]) -> str:
    return f"{'sample' if len(ids) == 1 else 'samples'} {id_list(ids)}"


def _unique(ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(ids))


def link_batch(db: Session, viewer: Viewer, body: BatchLinkIn, *,
               client_address: str | None = None) -> BatchLinkOut:
    target = target_of(db, body)
    sample_ids = _unique(body.sample_ids)
    _require_writable(db, viewer, sample_ids)
    has_method = _linked_method_samples(db, sample_ids, target.method) if target.method else set()
    current = _current_pipelines(db, sample_ids) if target.pipeline else {}
    if target.pipeline is not None:
        elsewhere = [sample_id for sample_id, row in current.items()
                     if row.pipeline_id != target.pipeline.id]
        if elsewhere:
            verb = "follows" if len(elsewhere) == 1 else "follow"
            raise Conflict(f"{_samples(sorted(elsewhere))} already {verb} another pipeline "
                           f"than {target.pipeline.key!r}; nothing was linked")
    links, skipped = [], []
    for sample_id in sample_ids:
        missing = Target(target.method if sample_id not in has_method else None,
                         target.pipeline if sample_id not in current else None)
        if missing.method is None and missing.pipeline is None:
            skipped.append(sample_id)
            continue
        link = _create_link(db, viewer, sample_id, missing, body.notes)
        _record_link(db, viewer, link, missing, client_address)
        links.append(link)
    return BatchLinkOut(linked=link_views(db, links), skipped=skipped)


def unlink(db: Session, viewer: Viewer, link_id: int, *,
           client_address: str | None = None) -> None:
    link = db.get(SampleMethod, link_id)
    if link is None:
        raise NotFound(f"sample-method link {link_id} not found")
    try:
        require_sample(db, viewer, link.sample_id, Level.WRITE)
    except NotFound:
        raise NotFound(f"sample-method link {link_id} not found") from None
    target = Target(link.method, link.pipeline)
    sample_id = link.sample_id
    db.delete(link)  # the database cascades to the pipeline progress it created
    db.flush()
    record(db, "sample.method_unlinked", user_id=viewer.user_id, target_type="sample",
           target_id=sample_id, details={"link_id": link_id, **target.details},
           client_address=client_address)


def update_progress(db: Session, viewer: Viewer, sample_pipeline_id: int, body: ProgressIn, *,
                    client_address: str | None = None) -> SamplePipelineOut:
    row = db.get(SamplePipeline, sample_pipeline_id)
    if row is None:
        raise NotFound(f"sample pipeline {sample_pipeline_id} not found")
    try:
        require_sample(db, viewer, row.sample_id, Level.WRITE)
    except NotFound:
        raise NotFound(f"sample pipeline {sample_pipeline_id} not found") from None
    positions = [stage.position for stage in row.pipeline.stages]
    if body.stage not in positions:
        raise field_error(["body", "stage"], f"pipeline {row.pipeline.key!r} has no stage "
                          f"{body.stage} (its stages: {id_list(positions)})", body.stage)
    progress = next((item for item in row.progress if item.position == body.stage), None)
    if progress is None:  # a stage added to the pipeline after the sample was assigned
        progress = StageProgress(position=body.stage)
        row.progress.append(progress)
    previous = progress.status or "pending"
    progress.status = body.status
    if "operator" in body.model_fields_set:
        progress.operator = body.operator
    if "notes" in body.model_fields_set:
        progress.notes = body.notes
    progress.updated_by = viewer.user_id
    progress.updated_at = utcnow()
    db.flush()
    record(db, "sample.pipeline_progress", user_id=viewer.user_id, target_type="sample",
           target_id=row.sample_id,
           details={"sample_pipeline_id": row.id, "pipeline_key": row.pipeline.key,
                    "stage": body.stage, "status": body.status, "previous_status": previous},
           client_address=client_address)
    return pipeline_view(db, row)
