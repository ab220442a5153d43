"""Sample exports: the CSV of sample metadata and the JSON batch with everything attached."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from isofind.csv_export import stream_csv
from isofind.db import Database
from isofind.permissions.service import Viewer
from isofind.reference.library import service as library
from isofind.reference.library.methods import method_by_key
from isofind.reference.library.pipelines import pipeline_by_key
from isofind.reference.library.schemas import MethodOut, PipelineOut
from isofind.samples import service as samples
from isofind.samples.access import require_sample
from isofind.samples.isof import write_isof
from isofind.samples.yields import yields_of
from isofind.timeutil import utcnow

CSV_COLUMNS = ("sample_id", "name", "material_type", "sector", "collection_date",
               "collection_location", "description", "classification", "latitude", "longitude",
               "project")


def export_csv(database: Database, viewer: Viewer) -> Iterator[str]:
    """Every readable, non-archived sample as CSV, read in its own transaction (streamed after
    the request's has ended) from the index alone."""
    index = samples.readable_index(viewer).subquery()
    query = select(*(index.c[name] for name in CSV_COLUMNS)).order_by(index.c.sample_id)
    with database.session(write=False) as db:
        rows = db.execute(query.execution_options(yield_per=5000))
        yield from stream_csv(CSV_COLUMNS, rows)


def full_sample(db: Session, viewer: Viewer, sample_id: int) -> dict[str, Any]:
    """A sample with its isotopes, methods, publications and pipeline."""
    return _with_attachments(db, samples.get_sample(db, viewer, sample_id))


def _with_attachments(db: Session, sample: dict[str, Any]) -> dict[str, Any]:
    sample_id = sample["sample_id"]
    dois = [sample["doi"]] if sample.get("doi") else []
    return {
        **sample,
        "methods": library.sample_methods(db, sample_id),
        "publications": library.publications_for_dois(db, dois),
        "pipeline": library.sample_pipeline(db, sample_id),
    }


def export_batch(db: Session, viewer: Viewer, sample_ids: list[int]) -> list[dict[str, Any]]:
    """The listed samples with everything attached, in the order asked; an id the viewer may not
    read answers 404 naming it, as for a single sample."""
    for sample_id in sample_ids:
        require_sample(db, viewer, sample_id)
    found = {s["sample_id"]: s for s in samples.list_samples(
        db, viewer, ids=sample_ids, include_archived=True)}
    return [_with_attachments(db, found[sample_id]) for sample_id in dict.fromkeys(sample_ids)]




def _isof_samples(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**sample, "isotope_data": [
        {k: v for k, v in value.items() if not k.startswith(("normalized", "normalization"))}
        for value in sample["isotope_data"]]} for sample in found]


def _library_for(db: Session, links: list[dict[str, Any]],
                 yield_keys: set[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The methods and pipelines the exported samples name, with the methods of the pipelines."""
    pipelines = {}
    for key in sorted({link["pipeline_key"] for link in links if link["pipeline_key"]}):
        pipeline = pipeline_by_key(db, key)
        if pipeline is not None:
            pipelines[key] = PipelineOut.of(pipeline).model_dump(mode="json")
    method_keys = {link["method_key"] for link in links if link["method_key"]} | yield_keys | {
        stage["method_key"] for pipeline in pipelines.values() for stage in pipeline["stages"]}
    methods = [MethodOut.of(method).model_dump(mode="json") for key in sorted(method_keys)
               if (method := method_by_key(db, key)) is not None]
    return methods, list(pipelines.values())


def export_isof(db: Session, viewer: Viewer, sample_ids: list[int] | None) -> bytes:
    """An unsigned .isof document of the listed samples (all readable ones if None), with
    their methods, pipelines, purification yields and method assignments."""
    for sample_id in sample_ids or []:
        require_sample(db, viewer, sample_id)
    found = samples.list_samples(db, viewer, ids=sample_ids, include_archived=True,
                                 sort="asc")
    ids = [sample["sample_id"] for sample in found]
    links = [link for sample_id in ids for link in library.sample_methods(db, sample_id)]
    stored_yields = yields_of(db, ids)
    methods, pipelines = _library_for(
        db, links, {entry.method_key for entry in stored_yields if entry.method_key})
    return write_isof(
        _isof_samples(found), methods=methods, pipelines=pipelines,
        yields=[{"sample_id": entry.sample_id, "element": entry.element,
                 "yield_percent": entry.yield_percent, "operator": entry.operator,
                 "method_key": entry.method_key, "notes": entry.notes,
                 "date": entry.recorded_at.date().isoformat()} for entry in stored_yields],
        assignments=[{"sample_id": link["sample_id"], "method_key": link["method_key"],
                      "pipeline_key": link["pipeline_key"],
                      "assigned_at": str(link["assigned_at"]), "assigned_by": link["assigned_by"]}
                     for link in links],
        created_by=viewer.user.username if viewer.user else None,
        created_at=utcnow().replace(microsecond=0).isoformat() + "Z",
    )
