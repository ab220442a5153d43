"""The derived index of isotope samples, rebuilt from the current version of each object.

Registered as a version listener of the object store, so a write through either API (the
IsoFind sample routes or ``/api/v1/objects``) re-derives the rows in the same transaction.
The bulk import writes the same rows through :func:`index_rows`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from isofind.bulk_insert import insert_rows
from isofind.objects.models import ObjectRecord
from isofind.objects.service import on_version_written
from isofind.samples import object_rules  # noqa: F401  registers the sample rules too
from isofind.samples.action import (
    ISOTOPE_SAMPLE_ACTION_ID,
    is_archived,
    isotope_values,
    sample_fields,
)
from isofind.samples.models import IndexGeneration, IsotopeValue, SampleIndex
from isofind.samples.vocabulary import fold


def name_key(name: str) -> str:
    """What makes two sample names the same sample: case, accents and spacing aside."""
    return " ".join(fold(name).split())[:500]


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def index_rows(sample_id: int, data: dict[str, Any], *, created_at: datetime,
               creator_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ``sample_index`` row and the ``isotope_values`` rows of one sample's data."""
    return plain_index_rows(sample_id, sample_fields(data), isotope_values(data),
                            archived=is_archived(data), created_at=created_at,
                            creator_id=creator_id)


def _clip(value: Any, length: int) -> str | None:
    """Text for a bounded index column: data written through /api/v1 is only checked against
    the schema, and PostgreSQL would refuse a longer value where SQLite keeps it."""
    return None if value is None else str(value)[:length]


def plain_index_rows(sample_id: int, fields: dict[str, Any], values: list[dict[str, Any]], *,
                     archived: bool, created_at: datetime, creator_id: int,
                     key: str | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The same rows from the plain fields and values the data was built from (imports,
    which know each name's ``key`` already)."""
    name = str(fields.get("name") or "")
    sample = {
        "sample_id": sample_id, "name_key": name_key(name) if key is None else key,
        "name": name,
        "material_type": _clip(fields.get("material_type"), 200),
        "sector": fields.get("sector"),
        "classification": _clip(fields.get("classification"), 20),
        "project": _clip(fields.get("project"), 300),
        "collection_date": _clip(fields.get("collection_date"), 40),
        "collection_location": fields.get("collection_location"),
        "description": fields.get("description"),
        "latitude": _float(fields.get("latitude")), "longitude": _float(fields.get("longitude")),
        "archived": archived, "created_at": created_at, "creator_id": creator_id,
    }
    rows = []
    seen: set[int] = set()
    for item in values:
        isotope_id, value = item.get("isotope_id"), _float(item.get("value"))
        # Data written through /api/v1 is validated by the schema, not by our rules: an item
        # without a usable id or value (or a repeated id) cannot be indexed and is skipped.
        if isotope_id is None or value is None or isotope_id in seen:
            continue
        seen.add(isotope_id)
        rows.append({
            "sample_id": sample_id, "isotope_id": isotope_id,
            "element": _clip(item.get("element") or "", 20),
            "quantity": _clip(item.get("ratio") or "", 40),
            "value": value, "uncertainty": _float(item.get("uncertainty")),
            "standard": _clip(item.get("standard"), 200),
            "normalized_value": _float(item.get("normalized_value")),
            "normalized_uncertainty": _float(item.get("normalized_uncertainty")),
            "normalized_standard": _clip(item.get("normalized_to"), 200),
        })
    return sample, rows


def bump_generation(db: Session) -> None:
    db.execute(update(IndexGeneration).where(IndexGeneration.id == 1)
               .values(generation=IndexGeneration.generation + 1))


def generation(db: Session) -> int:
    """The index generation this transaction sees."""
    return db.scalar(select(IndexGeneration.generation).where(IndexGeneration.id == 1)) or 0


IndexRows = list[tuple[dict[str, Any], list[dict[str, Any]]]]


def index_table_rows(rows: IndexRows) -> list[tuple[Table, list[dict[str, Any]]]]:
    """Rows of :func:`index_rows` per table, in the order they must be written."""
    return [(SampleIndex.__table__, [sample for sample, _ in rows]),
            (IsotopeValue.__table__, [value for _, values in rows for value in values])]


def write_index(db: Session, rows: IndexRows) -> None:
    """Insert index rows of samples that have none yet."""
    if not rows:
        return
    for table, table_rows in index_table_rows(rows):
        insert_rows(db, table, table_rows)
    bump_generation(db)


def drop_index(db: Session, sample_ids: list[int]) -> None:
    db.execute(delete(IsotopeValue).where(IsotopeValue.sample_id.in_(sample_ids)))
    db.execute(delete(SampleIndex).where(SampleIndex.sample_id.in_(sample_ids)))
    bump_generation(db)


@on_version_written
def reindex_sample(db: Session, record: ObjectRecord) -> None:
    if record.action_id != ISOTOPE_SAMPLE_ACTION_ID:
        return
    drop_index(db, [record.id])
    if not record.is_deleted:
        write_index(db, [index_rows(record.id, record.data, created_at=record.created_at,
                                    creator_id=record.creator_id)])
