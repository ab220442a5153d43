"""Normalizing the isotope values of samples to a reference standard, and undoing it.

Measured values are never overwritten: a normalization is a new version of the sample in
which each value gains ``normalized_value``, ``normalized_uncertainty``, ``normalized_to``,
the method and the standard versions and shifts used (so a corrected certificate never
silently changes a past result). The maths and the standards live in
:mod:`isofind.reference.standards.service`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from isofind.activity.service import record as record_activity
from isofind.objects.models import ObjectRecord
from isofind.objects.service import records_in_order
from isofind.permissions.models import Level
from isofind.permissions.service import Viewer
from isofind.reference.standards.service import Library, normalize_values
from isofind.samples.access import require_sample, sample_objects
from isofind.samples.action import isotope_values, sample_fields
from isofind.samples.service import record_view, rewrite_sample
from isofind.timeutil import iso_timestamp, utcnow

NORMALIZATION_FIELDS = ("normalized_value", "normalized_uncertainty", "normalized_to",
                        "normalization_method", "normalization_used", "normalized_at")

Outcome = dict[str, Any]


def _normalized(values: list[dict[str, Any]], results: list[dict[str, Any]],
                moment: str) -> tuple[list[dict[str, Any]], list[Outcome]]:
    """Values with the successful results written beside the measured ones."""
    updated, outcomes = [], []
    for value, result in zip(values, results, strict=True):
        outcome = {"isotope_id": value["isotope_id"], "ratio": value["ratio"],
                   "value": value["value"], "uncertainty": value["uncertainty"],
                   "standard": value["standard"], "normalized": result["normalized"]}
        if result["normalized"]:
            value = {**value, "normalized_value": result["normalized_value"],
                     "normalized_uncertainty": result["normalized_uncertainty"],
                     "normalized_to": result["normalized_to"],
                     "normalization_method": result.get("method"),
                     "normalization_used": json.dumps(result.get("used"), sort_keys=True,
                                                      ensure_ascii=False),
                     "normalized_at": moment}
            outcome.update({k: result.get(k) for k in (
                "normalized_value", "normalized_uncertainty", "normalized_to", "method",
                "path", "warnings")})
        else:
            outcome["reason"] = result["reason"]
        updated.append(value)
        outcomes.append(outcome)
    return updated, outcomes


def _same_normalization(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether only the timestamp would change: then no new version is written."""
    return all(old.get(k) == new.get(k) for k in NORMALIZATION_FIELDS if k != "normalized_at")


def _normalize_record(db: Session, viewer: Viewer, record: ObjectRecord, library: Library,
                      target: str | None, client_address: str | None
                      ) -> tuple[ObjectRecord, list[Outcome], bool]:
    values = isotope_values(record.data)
    results = normalize_values(library, values, target)
    updated, outcomes = _normalized(values, results, iso_timestamp(utcnow()))
    # Keep the stored normalization (and its time) where nothing but the time differs.
    kept = [old if _same_normalization(old, new) else new
            for old, new in zip(values, updated, strict=True)]
    changed = kept != values
    if changed:
        record = rewrite_sample(db, viewer, record, sample_fields(record.data), kept,
                                client_address=client_address)
    return record, outcomes, changed


def normalize_sample(db: Session, viewer: Viewer, sample_id: int, target: str | None, *,
                     client_address: str | None = None) -> dict[str, Any]:
    """Normalize one sample's values to ``target`` (None: each element's reference)."""
    record = require_sample(db, viewer, sample_id, Level.WRITE)
    record, outcomes, _ = _normalize_record(db, viewer, record, Library.load(db), target,
                                            client_address)
    record_activity(db, "sample.normalized", user_id=viewer.user_id, target_type="sample",
                    target_id=sample_id, details={"target_standard": target},
                    client_address=client_address)
    return {"sample": record_view(record), "values": outcomes,
            "values_normalized": sum(o["normalized"] for o in outcomes),
            "values_skipped": sum(not o["normalized"] for o in outcomes)}


def _each_writable(db: Session, viewer: Viewer,
                   change: Callable[[ObjectRecord], tuple[bool, int, int, list[str]]]
                   ) -> dict[str, Any]:
    ids = list(db.scalars(sample_objects(viewer, Level.WRITE)
                          .with_only_columns(ObjectRecord.id).order_by(ObjectRecord.id)))
    counts: dict[str, Any] = {"samples_examined": len(ids), "samples_changed": 0,
                              "values_changed": 0, "values_skipped": 0, "skipped_reasons": {}}
    for record in records_in_order(db, ids):
        changed, values_changed, values_skipped, reasons = change(record)
        counts["samples_changed"] += changed
        counts["values_changed"] += values_changed
        counts["values_skipped"] += values_skipped
        for reason in reasons:
            counts["skipped_reasons"][reason] = counts["skipped_reasons"].get(reason, 0) + 1
    return counts


def auto_normalize(db: Session, viewer: Viewer, *,
                   client_address: str | None = None) -> dict[str, Any]:
    """Every sample the caller may change, to each element's reference standard, wherever a
    lab-measured standard value or a calculated shift makes it possible."""
    library = Library.load(db)  # once: loading it for each sample made 4,600 samples take 15 s

    def change(record: ObjectRecord) -> tuple[bool, int, int, list[str]]:
        before = isotope_values(record.data)
        written, outcomes, changed = _normalize_record(db, viewer, record, library, None,
                                                       client_address)
        after = isotope_values(written.data)
        differing = sum(old != new for old, new in zip(before, after, strict=True))
        reasons = [o["reason"] for o in outcomes if not o["normalized"]]
        return changed, differing, len(reasons), reasons

    counts = _each_writable(db, viewer, change)
    record_activity(db, "samples.auto_normalized", user_id=viewer.user_id,
                    target_type="samples", details=_summary(counts),
                    client_address=client_address)
    return counts


def reset_all(db: Session, viewer: Viewer, *,
              client_address: str | None = None) -> dict[str, Any]:
    """Back to measured values: normalization fields removed (as a new version)."""
    def change(record: ObjectRecord) -> tuple[bool, int, int, list[str]]:
        values = isotope_values(record.data)
        cleared = [{k: v for k, v in value.items() if k not in NORMALIZATION_FIELDS}
                   for value in values]
        changed_values = sum(old.get("normalized_value") is not None for old in values)
        if not changed_values:
            return False, 0, 0, []
        rewrite_sample(db, viewer, record, sample_fields(record.data), cleared,
                       client_address=client_address)
        return True, changed_values, 0, []

    counts = _each_writable(db, viewer, change)
    record_activity(db, "samples.normalizations_reset", user_id=viewer.user_id,
                    target_type="samples", details=_summary(counts),
                    client_address=client_address)
    return counts


def _summary(counts: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in counts.items() if k != "skipped_reasons"}
