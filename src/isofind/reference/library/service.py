"""What the other rooms ask of the library: a sample's methods and pipeline, publications by
DOI, a method's yield range, and the import of `.isof` methods and pipelines.

These functions do not check permissions: callers have already checked the sample (or are
an import the caller has authorised). Results are plain JSON-ready dicts in the shapes the
library routes answer.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy.orm import Session

from isofind.activity.service import record
from isofind.errors import Unprocessable
from isofind.identity.models import User
from isofind.reference.library import methods as methods_service
from isofind.reference.library import pipelines as pipelines_service
from isofind.reference.library.common import Loc, validation_errors
from isofind.reference.library.links import pipeline_view, sample_links, sample_pipeline_row
from isofind.reference.library.publications import publications_for_dois as _publications
from isofind.reference.library.schemas import MethodIn, PipelineIn, PublicationOut, plain

__all__ = [
    "import_library",
    "publications_for_dois",
    "sample_methods",
    "sample_pipeline",
    "yield_range",
]

yield_range = methods_service.yield_range


def sample_methods(db: Session, sample_id: int) -> list[dict[str, Any]]:
    """The sample's links, oldest first, as `GET /api/v2/samples/{id}/methods` answers."""
    return [plain(link) for link in sample_links(db, sample_id)]


def sample_pipeline(db: Session, sample_id: int) -> dict[str, Any] | None:
    """The sample's pipeline and per-stage progress, or None when it follows none."""
    row = sample_pipeline_row(db, sample_id)
    return plain(pipeline_view(db, row)) if row else None


def publications_for_dois(db: Session, dois: Collection[str]) -> list[dict[str, Any]]:
    """Stored publications among `dois` (bare, `doi:` or `https://doi.org/` forms)."""
    return [plain(PublicationOut.of(publication)) for publication in _publications(db, dois)]


Body = TypeVar("Body", MethodIn, PipelineIn)


def _parsed(model: type[Body], items: Sequence[dict[str, Any]], name: str) -> list[Body]:
    parsed: list[Body] = []
    errors: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        try:
            body = model.model_validate(item)
        except ValidationError as exc:
            errors.extend(validation_errors(exc, [name, index]))
            continue
        if body.key in seen:
            errors.append({"type": "value_error", "loc": [name, index, "key"],
                           "msg": f"key {body.key!r} also given at {name}[{seen[body.key]}]"})
        seen[body.key] = index
        parsed.append(body)
    if errors:
        raise Unprocessable(errors)
    return parsed


def _import_methods(db: Session, bodies: list[MethodIn], user: User) -> dict[str, int]:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for index, body in enumerate(bodies):
        loc: Loc = ("methods", index)
        values = methods_service.method_values(db, body, loc)
        method = methods_service.method_by_key(db, body.key)
        if method is None:
            methods_service.insert_method(db, user, values)
            counts["created"] += 1
        elif methods_service.differs(method, values):
            methods_service.replace_method(db, method, values)
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    return counts


def _import_pipelines(db: Session, bodies: list[PipelineIn], user: User) -> dict[str, int]:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for index, body in enumerate(bodies):
        values, stages = pipelines_service.pipeline_values(db, body, ("pipelines", index))
        pipeline = pipelines_service.pipeline_by_key(db, body.key)
        if pipeline is None:
            pipelines_service.insert_pipeline(db, user, values, stages)
            counts["created"] += 1
        elif pipelines_service.differs(pipeline, values, stages):
            pipelines_service.replace_pipeline(db, pipeline, values, stages)
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    return counts


def import_library(db: Session, methods: list[dict[str, Any]], pipelines: list[dict[str, Any]],
                   user: User, *, client_address: str | None = None) -> dict[str, int]:
    """Insert or update methods, then pipelines, by key (bodies as the POST routes take them).

    Importing the same file twice changes nothing the second time. Any invalid item is a 422
    listing every problem with its place (`["methods", 2, "element"]`); the caller's
    transaction then rolls back, so nothing is imported.
    """
    method_bodies = _parsed(MethodIn, methods, "methods")
    pipeline_bodies = _parsed(PipelineIn, pipelines, "pipelines")
    method_counts = _import_methods(db, method_bodies, user)
    pipeline_counts = _import_pipelines(db, pipeline_bodies, user)
    counts = {**{f"methods_{k}": v for k, v in method_counts.items()},
              **{f"pipelines_{k}": v for k, v in pipeline_counts.items()}}
    if counts["methods_created"] + counts["methods_updated"] + counts["pipelines_created"] \
            + counts["pipelines_updated"]:
        record(db, "library.imported", user_id=user.id, target_type="library", details=counts,
               client_address=client_address)
    return counts
