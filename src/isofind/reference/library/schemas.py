"""Bodies of the library routes.

Method and pipeline bodies have the fields of the `.isof` format's Method and Pipeline
(``isof.models``), so `dataclasses.asdict` of a parsed file is a valid body and our output
writes back to the same file. Element symbols need the lab's custom elements, so they are
normalised by the service, not here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from isofind.reference.library.models import (
    Method,
    Pipeline,
    Publication,
    SampleMethod,
    SamplePipeline,
)
from isofind.samples.vocabulary import normalise_doi
from isofind.schemas import RequestBody

MethodType = Literal["digestion", "purification", "separation", "analysis"]
StageStatus = Literal["pending", "in_progress", "done", "failed"]

RowId = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Proxies and browsers may fold the `//` of a DOI URL given in a path: `https:/doi.org/...`.
_FOLDED_SCHEME = re.compile(r"^(https?):/+", re.IGNORECASE)


def bare_doi(text: str) -> str | None:
    """The bare DOI (`10.1/x`) of `10.1/x`, `doi:10.1/x` or `https://doi.org/10.1/x`."""
    return normalise_doi(_FOLDED_SCHEME.sub(r"\1://", text.strip()))


def _doi_field(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    doi = bare_doi(value)
    if doi is None:
        raise ValueError(f"{value!r} is not a DOI (expected 10.xxxx/..., doi:10.xxxx/... "
                         "or https://doi.org/10.xxxx/...)")
    return doi


def _key_field(value: str) -> str:
    key = value.strip()
    if not key:
        raise ValueError("must not be blank")
    if _CONTROL.search(key):
        raise ValueError("must not contain control characters")
    return key


def _optional_text(value: str | None) -> str | None:
    """Blank text means absent: `.isof` writers leave empty strings for missing values."""
    if value is None:
        return None
    stripped = value.strip()
    return stripped or None


_Short = Annotated[str, Field(max_length=300)]
_Long = Annotated[str, Field(max_length=20_000)]
ShortText = Annotated[_Short | None, AfterValidator(_optional_text)]
LongText = Annotated[_Long | None, AfterValidator(_optional_text)]
Doi = Annotated[_Short | None, AfterValidator(_doi_field)]
Key = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_key_field)]
ElementName = Annotated[Annotated[str, Field(max_length=50)] | None,
                        AfterValidator(_optional_text)]


class _Body(RequestBody):
    model_config = ConfigDict(extra="forbid")


# --- methods ---------------------------------------------------------------------------------


class EquipmentIn(_Body):
    column: ShortText = None
    resin: ShortText = None
    resin_volume_ml: float | None = Field(default=None, ge=0, le=100_000)
    reagents: LongText = None
    temperature: ShortText = None


class StepIn(_Body):
    num: int | None = Field(default=None, ge=1, le=10_000,
                            description="defaults to the step's position, from 1")
    title: _Short = ""
    detail: LongText = None
    final: bool = False


class ReferenceIn(_Body):
    doi: Doi = None
    citation: LongText = None


class MethodIn(_Body):
    """A method of the library, as an `.isof` Method."""

    key: Key = Field(examples=["pb-sr-spec"])
    name: Annotated[str, Field(min_length=1, max_length=300), AfterValidator(_key_field)]
    type: MethodType | None = None
    element: ElementName = Field(default=None,
                                 description="symbol or name, normalised: `lead` → `Pb`")
    target_matrices: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=200)
    duration: ShortText = None
    duration_hours: float | None = Field(default=None, ge=0, le=100_000)
    yield_min_pct: float | None = Field(default=None, ge=0, le=200)
    yield_max_pct: float | None = Field(default=None, ge=0, le=200)
    equipment: EquipmentIn | None = None
    steps: list[StepIn] = Field(default_factory=list, max_length=1000)
    reference: ReferenceIn | None = None
    notes: LongText = None

    @field_validator("target_matrices")
    @classmethod
    def _matrices(cls, value: list[str]) -> list[str]:
        kept: list[str] = []
        for matrix in (" ".join(item.split()) for item in value):
            if matrix and matrix not in kept:
                kept.append(matrix)
        return kept

    @field_validator("steps")
    @classmethod
    def _numbered_steps(cls, value: list[StepIn]) -> list[StepIn]:
        numbered = [step if step.num is not None else step.model_copy(update={"num": index})
                    for index, step in enumerate(value, start=1)]
        nums = [step.num for step in numbered]
        repeated = sorted({num for num in nums if nums.count(num) > 1 and num is not None})
        if repeated:
            raise ValueError(f"step numbers listed twice: {', '.join(map(str, repeated))}")
        return sorted(numbered, key=lambda step: step.num or 0)

    @model_validator(mode="after")
    def _ordered_yields(self) -> MethodIn:
        low, high = self.yield_min_pct, self.yield_max_pct
        if low is not None and high is not None and low > high:
            raise ValueError(f"yield_min_pct ({low:g}) is above yield_max_pct ({high:g})")
        return self


class EquipmentOut(BaseModel):
    column: str | None
    resin: str | None
    resin_volume_ml: float | None
    reagents: str | None
    temperature: str | None


class StepOut(BaseModel):
    num: int
    title: str
    detail: str | None
    final: bool


class ReferenceOut(BaseModel):
    doi: str | None
    citation: str | None


class MethodOut(BaseModel):
    id: int
    key: str
    name: str
    type: str | None
    element: str | None
    target_matrices: list[str]
    duration: str | None
    duration_hours: float | None
    yield_min_pct: float | None
    yield_max_pct: float | None
    equipment: EquipmentOut | None
    steps: list[StepOut]
    reference: ReferenceOut | None
    notes: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, method: Method) -> MethodOut:
        has_reference = method.reference_doi is not None or method.reference_citation is not None
        return cls(
            id=method.id, key=method.key, name=method.name, type=method.type,
            element=method.element, target_matrices=list(method.target_matrices or []),
            duration=method.duration, duration_hours=method.duration_hours,
            yield_min_pct=method.yield_min_pct, yield_max_pct=method.yield_max_pct,
            equipment=EquipmentOut(**method.equipment) if method.equipment else None,
            steps=[StepOut(**step) for step in method.steps or []],
            reference=ReferenceOut(doi=method.reference_doi,
                                   citation=method.reference_citation) if has_reference else None,
            notes=method.notes, created_at=method.created_at, updated_at=method.updated_at,
        )


class YieldRangeOut(BaseModel):
    method_id: int
    name: str
    type: str | None
    element: str | None
    yield_min_pct: float | None
    yield_max_pct: float | None


# --- pipelines -------------------------------------------------------------------------------


class StageIn(_Body):
    order: int | None = Field(default=None, ge=1, le=10_000,
                              description="defaults to the stage's position, from 1")
    method_key: Key
    label: ShortText = None


class PipelineIn(_Body):
    """A pipeline, as an `.isof` Pipeline: ordered stages naming methods by key."""

    key: Key = Field(examples=["pb-ore"])
    name: ShortText = None
    element: ElementName = None
    description: LongText = None
    stages: list[StageIn] = Field(min_length=1, max_length=1000)

    @field_validator("stages")
    @classmethod
    def _ordered_stages(cls, value: list[StageIn]) -> list[StageIn]:
        ordered = [stage if stage.order is not None
                   else stage.model_copy(update={"order": index})
                   for index, stage in enumerate(value, start=1)]
        orders = [stage.order for stage in ordered]
        repeated = sorted({order for order in orders if orders.count(order) > 1 and order})
        if repeated:
            raise ValueError(f"stage orders listed twice: {', '.join(map(str, repeated))}")
        return sorted(ordered, key=lambda stage: stage.order or 0)


class StageOut(BaseModel):
    order: int
    method_key: str
    method_id: int
    method_name: str
    method_type: str | None
    label: str | None


class PipelineOut(BaseModel):
    id: int
    key: str
    name: str | None
    element: str | None
    description: str | None
    stages: list[StageOut]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, pipeline: Pipeline) -> PipelineOut:
        return cls(
            id=pipeline.id, key=pipeline.key, name=pipeline.name, element=pipeline.element,
            description=pipeline.description, created_at=pipeline.created_at,
            updated_at=pipeline.updated_at,
            stages=[StageOut(order=stage.position, method_key=stage.method.key,
                             method_id=stage.method_id, method_name=stage.method.name,
                             method_type=stage.method.type, label=stage.label)
                    for stage in pipeline.stages],
        )


# --- sample links and progress ---------------------------------------------------------------


class LinkIn(_Body):
    """A method and/or a pipeline for a sample; each by id or by key."""

    method_id: RowId | None = None
    method_key: ShortText = None
    pipeline_id: RowId | None = None
    pipeline_key: ShortText = None
    notes: LongText = None

    @model_validator(mode="after")
    def _names_something(self) -> LinkIn:
        if self.method_id is not None and self.method_key is not None:
            raise ValueError("give method_id or method_key, not both")
        if self.pipeline_id is not None and self.pipeline_key is not None:
            raise ValueError("give pipeline_id or pipeline_key, not both")
        if (self.method_id, self.method_key, self.pipeline_id, self.pipeline_key) == (None,) * 4:
            raise ValueError("give a method (method_id or method_key) and/or a pipeline "
                             "(pipeline_id or pipeline_key)")
        return self


class BatchLinkIn(LinkIn):
    """One method and/or pipeline for many samples, all or none."""

    sample_ids: list[RowId] = Field(min_length=1, max_length=10_000)


class LinkOut(BaseModel):
    id: int
    sample_id: int
    method_id: int | None
    method_key: str | None
    method: MethodOut | None
    pipeline_id: int | None
    pipeline_key: str | None
    sample_pipeline_id: int | None = Field(
        description="id of the sample's pipeline progress this link created, if any")
    notes: str | None
    assigned_by: str | None = Field(description="username")
    assigned_by_id: int | None
    assigned_at: datetime

    @classmethod
    def of(cls, link: SampleMethod, usernames: Mapping[int, str],
           sample_pipeline_id: int | None) -> LinkOut:
        method, pipeline = link.method, link.pipeline
        return cls(
            id=link.id, sample_id=link.sample_id, method_id=link.method_id,
            method_key=method.key if method else None,
            method=MethodOut.of(method) if method else None,
            pipeline_id=link.pipeline_id, pipeline_key=pipeline.key if pipeline else None,
            sample_pipeline_id=sample_pipeline_id, notes=link.notes,
            assigned_by=usernames.get(link.assigned_by) if link.assigned_by else None,
            assigned_by_id=link.assigned_by, assigned_at=link.assigned_at,
        )


class BatchLinkOut(BaseModel):
    linked: list[LinkOut]
    skipped: list[int] = Field(description="samples that already had this method and pipeline")


class ProgressIn(_Body):
    stage: int = Field(ge=1, le=10_000, description="the stage's `order` in the pipeline")
    status: StageStatus
    operator: ShortText = Field(default=None,
                                description="who did the work, if not the signed-in user")
    notes: LongText = None


class StageProgressOut(BaseModel):
    order: int
    method_key: str
    method_id: int
    method_name: str
    method_type: str | None
    label: str | None
    status: StageStatus
    operator: str | None
    notes: str | None
    updated_by: str | None = Field(description="username")
    updated_at: datetime | None


class SamplePipelineOut(BaseModel):
    id: int = Field(description="sp_id, for PUT /api/v2/sample-pipelines/{sp_id}/progress")
    sample_id: int
    link_id: int
    pipeline: PipelineOut
    status: StageStatus = Field(description="failed if a stage failed, done if all are done, "
                                            "pending if none started, else in_progress")
    stages_done: int
    stages_total: int
    stages: list[StageProgressOut]
    assigned_by: str | None
    assigned_at: datetime

    @classmethod
    def of(cls, sample_pipeline: SamplePipeline,
           usernames: Mapping[int, str]) -> SamplePipelineOut:
        pipeline = PipelineOut.of(sample_pipeline.pipeline)
        by_position = {row.position: row for row in sample_pipeline.progress}
        stages = []
        for stage in pipeline.stages:
            row = by_position.get(stage.order)
            stages.append(StageProgressOut(
                **stage.model_dump(),
                status=row.status if row else "pending",  # stage added after assignment
                operator=row.operator if row else None, notes=row.notes if row else None,
                updated_by=usernames.get(row.updated_by) if row and row.updated_by else None,
                updated_at=row.updated_at if row else None,
            ))
        statuses = [stage.status for stage in stages]
        return cls(
            id=sample_pipeline.id, sample_id=sample_pipeline.sample_id,
            link_id=sample_pipeline.link_id, pipeline=pipeline,
            status=overall_status(statuses), stages_done=statuses.count("done"),
            stages_total=len(statuses), stages=stages,
            assigned_by=usernames.get(sample_pipeline.assigned_by)
            if sample_pipeline.assigned_by else None,
            assigned_at=sample_pipeline.assigned_at,
        )


def overall_status(statuses: list[StageStatus]) -> StageStatus:
    if "failed" in statuses:
        return "failed"
    if statuses and all(status == "done" for status in statuses):
        return "done"
    if all(status == "pending" for status in statuses):
        return "pending"
    return "in_progress"


# --- publications ----------------------------------------------------------------------------


class PublicationIn(_Body):
    """A bibliographic reference; the DOI is stored bare (`https://doi.org/10.1/x` → `10.1/x`)
    and must be unique, whatever its case."""

    doi: Doi = None
    title: LongText = None
    authors: list[Annotated[str, Field(max_length=300)]] | str = Field(
        default_factory=list, description="a list, or one string with authors separated by ;")
    year: int | None = Field(default=None, ge=1500, le=2200)
    journal: ShortText = None
    citation: LongText = None

    @field_validator("authors")
    @classmethod
    def _author_list(cls, value: list[str] | str) -> list[str]:
        items = value.split(";") if isinstance(value, str) else value
        return [" ".join(item.split()) for item in items if item.strip()]

    @model_validator(mode="after")
    def _identifies_something(self) -> PublicationIn:
        if self.doi is None and self.title is None and self.citation is None:
            raise ValueError("give at least a doi, a title or a citation")
        return self


class PublicationOut(BaseModel):
    id: int
    doi: str | None
    url: str | None
    title: str | None
    authors: list[str]
    year: int | None
    journal: str | None
    citation: str | None
    created_at: datetime

    @classmethod
    def of(cls, publication: Publication) -> PublicationOut:
        doi = publication.doi
        return cls(
            id=publication.id, doi=doi, url=f"https://doi.org/{doi}" if doi else None,
            title=publication.title, authors=list(publication.authors or []),
            year=publication.year, journal=publication.journal, citation=publication.citation,
            created_at=publication.created_at,
        )


def plain(model: BaseModel) -> dict[str, Any]:
    """A JSON-ready dict of an output model, for the other rooms that embed ours."""
    return model.model_dump(mode="json")
