"""Purification yields: one per (sample, element), recorded or replaced.

A yield above 105 % suggests contamination (an analytical convention, as the .isof format has
it); one outside the method's accepted range is suspect too. Both are flagged, not refused:
the measurement happened and must be recorded.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from isofind.activity.service import record as record_activity
from isofind.errors import NotFound, Unprocessable
from isofind.permissions.models import Level
from isofind.permissions.service import Viewer
from isofind.reference.elements.service import custom_symbols
from isofind.reference.library import service as library
from isofind.samples.access import require_sample
from isofind.samples.models import PurificationYield
from isofind.samples.schemas import PurificationYieldIn
from isofind.samples.vocabulary import normalise_element
from isofind.timeutil import iso_timestamp, utcnow

CONTAMINATION_THRESHOLD = 105.0


def _flags(db: Session, entry: PurificationYield) -> list[str]:
    flags = []
    if entry.yield_percent > CONTAMINATION_THRESHOLD:
        flags.append(f"above {CONTAMINATION_THRESHOLD:g} %: probable contamination")
    accepted = library.yield_range(db, entry.method_key) if entry.method_key else None
    if accepted is not None:
        low, high = accepted
        if (low is not None and entry.yield_percent < low) or (
                high is not None and entry.yield_percent > high):
            bounds = "–".join("-" if bound is None else f"{bound:g}" for bound in (low, high))
            flags.append(f"outside the accepted range of method {entry.method_key} "
                         f"({bounds} %)")
    return flags


def _view(db: Session, entry: PurificationYield) -> dict[str, Any]:
    flags = _flags(db, entry)
    return {
        "id": entry.id, "sample_id": entry.sample_id, "element": entry.element,
        "yield_percent": entry.yield_percent, "operator": entry.operator,
        "method_key": entry.method_key, "notes": entry.notes,
        "recorded_at": iso_timestamp(entry.recorded_at), "recorded_by": entry.recorded_by,
        "flagged": bool(flags), "flags": flags,
    }


def list_yields(db: Session, viewer: Viewer, sample_id: int) -> list[dict[str, Any]]:
    require_sample(db, viewer, sample_id)
    entries = db.scalars(select(PurificationYield).where(PurificationYield.sample_id == sample_id)
                         .order_by(PurificationYield.element))
    return [_view(db, entry) for entry in entries]


def _element(db: Session, text: str) -> str:
    element = normalise_element(text, custom_symbols(db))
    if element is None:
        raise Unprocessable([{"loc": ["body", "element"], "msg": f"unknown element {text!r}",
                              "type": "value_error", "input": text}])
    return element


def store_yield(db: Session, sample_id: int, element: str, values: dict[str, Any],
                user_id: int | None) -> PurificationYield:
    """Insert or replace the yield of (sample, element); the caller has checked access."""
    entry = db.scalar(select(PurificationYield).where(
        PurificationYield.sample_id == sample_id, PurificationYield.element == element))
    if entry is None:
        entry = PurificationYield(sample_id=sample_id, element=element)
        db.add(entry)
    entry.yield_percent = values["yield_percent"]
    entry.operator = values.get("operator")
    entry.method_key = values.get("method_key")
    entry.notes = values.get("notes")
    entry.recorded_at = utcnow()
    entry.recorded_by = user_id
    db.flush()
    return entry


def record_yield(db: Session, viewer: Viewer, sample_id: int, body: PurificationYieldIn, *,
                 client_address: str | None = None) -> dict[str, Any]:
    require_sample(db, viewer, sample_id, Level.WRITE)
    element = _element(db, body.element)
    entry = store_yield(db, sample_id, element, body.model_dump(), viewer.user_id)
    record_activity(db, "sample.yield_recorded", user_id=viewer.user_id, target_type="sample",
                    target_id=sample_id, details={"element": element,
                                                  "yield_percent": body.yield_percent},
                    client_address=client_address)
    return _view(db, entry)


def yields_of(db: Session, sample_ids: list[int]) -> list[PurificationYield]:
    return list(db.scalars(select(PurificationYield).where(
        PurificationYield.sample_id.in_(sample_ids)).order_by(
        PurificationYield.sample_id, PurificationYield.element)))


def delete_yield(db: Session, viewer: Viewer, sample_id: int, element_text: str, *,
                 client_address: str | None = None) -> None:
    require_sample(db, viewer, sample_id, Level.WRITE)
    element = _element(db, element_text)
    deleted = db.execute(delete(PurificationYield).where(
        PurificationYield.sample_id == sample_id, PurificationYield.element == element))
    if not deleted.rowcount:
        raise NotFound(f"sample {sample_id} has no purification yield for {element}")
    record_activity(db, "sample.yield_deleted", user_id=viewer.user_id, target_type="sample",
                    target_id=sample_id, details={"element": element},
                    client_address=client_address)
