"""Bringing stored samples to the current vocabulary, in bulk.

Samples written before a synonym was known, or through the SampleDB API (which validates the
schema, not our vocabulary), may hold `Sédiments`, `fille`, `plomb` or `Pb206/Pb204`. These
passes rewrite them in canonical form, as a new version only where something changes, and
only on samples the caller may change.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isofind.activity.service import record as record_activity
from isofind.objects.models import ObjectRecord
from isofind.permissions.models import Level
from isofind.permissions.service import Viewer
from isofind.reference.elements.service import custom_symbols
from isofind.samples.access import sample_objects
from isofind.samples.action import isotope_values, sample_fields
from isofind.samples.service import rewrite_sample
from isofind.samples.vocabulary import (
    normalise_classification,
    normalise_element,
    normalise_material,
    parse_isotope_quantity,
)

Rewrite = Callable[[dict[str, Any], list[dict[str, Any]]], list[str]]


def _materials(fields: dict[str, Any], _: list[dict[str, Any]]) -> list[str]:
    material = fields.get("material_type")
    if material and normalise_material(material) != material:
        fields["material_type"] = normalise_material(material)
        return ["material_type"]
    return []


def _classification(fields: dict[str, Any], _: list[dict[str, Any]]) -> list[str]:
    classification = fields.get("classification")
    canonical = normalise_classification(classification) if classification else None
    if canonical and canonical != classification:
        fields["classification"] = canonical
        return ["classification"]
    return []


def _isotopes(custom: Collection[str]) -> Rewrite:
    def rewrite(_: dict[str, Any], values: list[dict[str, Any]]) -> list[str]:
        changed = []
        for value in values:
            element = normalise_element(value["element"] or "", custom)
            if element and element != value["element"]:
                value["element"] = element
                changed.append("element")
            quantity = parse_isotope_quantity(value["ratio"] or "", custom)
            if quantity and quantity.name != value["ratio"]:
                value["ratio"] = quantity.name
                changed.append("ratio")
        return changed
    return rewrite


def _apply(db: Session, viewer: Viewer, rewrites: list[Rewrite], action: str,
           client_address: str | None) -> dict[str, Any]:
    counts = {"samples_examined": 0, "samples_changed": 0, "fields_changed": {}}
    writable = sample_objects(viewer, Level.WRITE).order_by(ObjectRecord.id)
    for record in db.scalars(writable).all():
        counts["samples_examined"] += 1
        fields, values = sample_fields(record.data), isotope_values(record.data)
        changed = [name for rewrite in rewrites for name in rewrite(fields, values)]
        if not changed:
            continue
        rewrite_sample(db, viewer, record, fields, values, client_address=client_address)
        counts["samples_changed"] += 1
        for name in changed:
            counts["fields_changed"][name] = counts["fields_changed"].get(name, 0) + 1
    readable = db.scalar(select(func.count()).select_from(sample_objects(viewer).subquery()))
    counts["samples_skipped"] = {"read_only": (readable or 0) - counts["samples_examined"]}
    record_activity(db, action, user_id=viewer.user_id, target_type="samples",
                    details=counts, client_address=client_address)
    return counts


def normalize_materials(db: Session, viewer: Viewer, *,
                        client_address: str | None = None) -> dict[str, Any]:
    return _apply(db, viewer, [_materials], "samples.materials_normalized", client_address)


def normalize_all_data(db: Session, viewer: Viewer, *,
                       client_address: str | None = None) -> dict[str, Any]:
    rewrites = [_materials, _classification, _isotopes(custom_symbols(db))]
    return _apply(db, viewer, rewrites, "samples.data_normalized", client_address)
