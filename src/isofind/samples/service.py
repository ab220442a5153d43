"""The rules of isotope samples: the IsoFind face of objects of the "Isotope sample" action.

Every write is a new version through :mod:`isofind.objects.service`, whose version listener
(:mod:`isofind.samples.index`) re-derives the index in the same transaction. Lists and
statistics read the index joined with the permission condition; single samples are read
from their current version.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from isofind.activity.service import record as record_activity
from isofind.db import among
from isofind.errors import NotFound
from isofind.identity.models import User
from isofind.objects import service as objects
from isofind.objects.json_codec import JSON_OBJECT
from isofind.objects.models import ObjectRecord
from isofind.permissions import service as permissions
from isofind.permissions.models import Level
from isofind.permissions.service import Viewer
from isofind.recent import Recent
from isofind.reference.elements.service import custom_symbols
from isofind.samples.access import require_sample
from isofind.samples.action import (
    ISOTOPE_SAMPLE_ACTION_ID,
    is_archived,
    isotope_values,
    next_isotope_id,
    object_data,
    sample_fields,
)
from isofind.samples.index import drop_index, reindex_sample
from isofind.samples.models import IsotopeValue, SampleIndex
from isofind.samples.rules import Problems, clean_fields, clean_isotope_values, with_ids
from isofind.samples.schemas import IsotopeValueIn, SampleIn, SamplePatch
from isofind.timeutil import iso_timestamp, utcnow

SortOrder = Literal["asc", "desc"]


# --- views ---------------------------------------------------------------------------------


def isotope_views(data: dict[str, Any]) -> list[dict[str, Any]]:
    views = isotope_values(data)  # fresh dictionaries with exactly the view's fields
    for view in views:
        view["is_normalized"] = view["normalized_value"] is not None
    return views


def sample_view(sample_id: int, data: dict[str, Any], *, version_id: int,
                created_at: Any, updated_at: Any, creator_id: int) -> dict[str, Any]:
    return {
        "id": sample_id, "sample_id": sample_id, **sample_fields(data),
        "archived": is_archived(data), "version_id": version_id,
        "created_at": iso_timestamp(created_at), "updated_at": iso_timestamp(updated_at),
        "creator_id": creator_id,
        "isotope_data": isotope_views(data),
    }


def record_view(record: ObjectRecord | Row[Any]) -> dict[str, Any]:
    return sample_view(record.id, record.data, version_id=record.version_id,
                       created_at=record.created_at, updated_at=record.utc_datetime,
                       creator_id=record.creator_id)


_VIEW_COLUMNS = (ObjectRecord.id, ObjectRecord.data, ObjectRecord.version_id,
                 ObjectRecord.created_at, ObjectRecord.utc_datetime, ObjectRecord.creator_id)


def readable_index(viewer: Viewer, *, include_archived: bool = False) -> Any:
    """``sample_index`` rows of samples the viewer may read (live ones: deleted have none)."""
    query = select(SampleIndex).join(ObjectRecord, ObjectRecord.id == SampleIndex.sample_id) \
        .where(permissions.holds(viewer, Level.READ))
    if not include_archived:
        query = query.where(SampleIndex.archived.is_(False))
    return query


# --- reading -------------------------------------------------------------------------------


def _list_query(viewer: Viewer, columns: Sequence[Any], *, limit: int | None, sort: SortOrder,
                include_archived: bool, ids: Sequence[int] | None = None) -> Any:
    # Ordered by the index's key so the database walks (archived, sample_id) and stops at
    # ``limit``, instead of checking permissions on every sample before sorting.
    order = SampleIndex.sample_id.asc() if sort == "asc" else SampleIndex.sample_id.desc()
    query = (select(*columns).join(SampleIndex, SampleIndex.sample_id == ObjectRecord.id)
             .where(permissions.holds(viewer, Level.READ)).order_by(order))
    if not include_archived:
        query = query.where(SampleIndex.archived.is_(False))
    if ids is not None:
        query = query.where(ObjectRecord.id.in_(ids))
    if limit is not None:
        query = query.limit(limit)
    return query


def list_samples(db: Session, viewer: Viewer, *, limit: int | None = None,
                 sort: SortOrder = "desc", include_archived: bool = False,
                 ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    query = _list_query(viewer, _VIEW_COLUMNS, limit=limit, sort=sort,
                        include_archived=include_archived, ids=ids)
    return [record_view(row) for row in db.execute(query)]


# The JSON of a sample version's view, by (id, version, version time). A version never
# changes once written, so an entry never goes stale; the time tells a version apart from one
# of a purged sample whose id SQLite gave again. Lists read the permitted ids and versions
# first and decode only the documents of versions not seen yet: decoding and viewing took
# two thirds of a 100-sample list (py-spy, issue 4). About 2.5 kB a sample; views over 64 kB
# (thousands of values) are not kept.
_VersionKey = tuple[int, int, datetime]
_encoded_views: Recent[_VersionKey, bytes] = Recent(10_000, largest=64 * 1024)
_KEY_COLUMNS = (ObjectRecord.id, ObjectRecord.version_id, ObjectRecord.utc_datetime)


def _encoded_view(row: Row[Any]) -> bytes:
    encoded = JSON_OBJECT.dump_json(record_view(row))
    _encoded_views.put((row.id, row.version_id, row.utc_datetime), encoded)
    return encoded


def list_samples_json(db: Session, viewer: Viewer, *, limit: int | None = None,
                      sort: SortOrder = "desc", include_archived: bool = False) -> bytes:
    """:func:`list_samples` as the JSON FastAPI would send for it, byte for byte."""
    listed = db.execute(_list_query(viewer, _KEY_COLUMNS, limit=limit, sort=sort,
                                    include_archived=include_archived)).all()
    found = {row.id: _encoded_views.get((row.id, row.version_id, row.utc_datetime))
             for row in listed}
    missing = [sample_id for sample_id, encoded in found.items() if encoded is None]
    # The objects were found readable just before; one changed or deleted meanwhile (a
    # PostgreSQL read takes a snapshot per statement) is shown as it is now, or left out.
    for chosen in among(ObjectRecord.id, missing, db.get_bind().dialect.name):
        for row in db.execute(select(*_VIEW_COLUMNS).where(chosen,
                                                           ObjectRecord.is_deleted.is_(False))):
            found[row.id] = _encoded_view(row)
    return b"[" + b",".join(encoded for encoded in found.values() if encoded is not None) + b"]"


def get_sample(db: Session, viewer: Viewer, sample_id: int) -> dict[str, Any]:
    return record_view(require_sample(db, viewer, sample_id))


def isotopic_data(db: Session, viewer: Viewer) -> list[dict[str, Any]]:
    """Every isotope value of the readable samples, with whether it has been normalized."""
    query = (select(IsotopeValue, SampleIndex.name)
             .join(SampleIndex, SampleIndex.sample_id == IsotopeValue.sample_id)
             .join(ObjectRecord, ObjectRecord.id == SampleIndex.sample_id)
             .where(permissions.holds(viewer, Level.READ), SampleIndex.archived.is_(False))
             .order_by(IsotopeValue.sample_id, IsotopeValue.isotope_id))
    return [{
        "sample_id": value.sample_id, "sample_name": name, "isotope_id": value.isotope_id,
        "element": value.element, "ratio": value.quantity, "value": value.value,
        "uncertainty": value.uncertainty, "standard": value.standard,
        "normalized_value": value.normalized_value,
        "normalized_uncertainty": value.normalized_uncertainty,
        "normalized_to": value.normalized_standard,
        "is_normalized": value.normalized_value is not None,
    } for value, name in db.execute(query)]


_METADATA_FIELDS = ("name", "latitude", "longitude", "altitude", "project", "collection_date",
                    "collection_location", "description", "sector", "material_type",
                    "classification")


def metadata(db: Session, viewer: Viewer) -> dict[str, dict[str, Any]]:
    """GPS, project, dates and description of each readable sample, keyed by sample_id."""
    query = (select(ObjectRecord.id, ObjectRecord.data)
             .join(SampleIndex, SampleIndex.sample_id == ObjectRecord.id)
             .where(permissions.holds(viewer, Level.READ), SampleIndex.archived.is_(False))
             .order_by(ObjectRecord.id))
    result = {}
    for sample_id, data in db.execute(query):
        fields = sample_fields(data)
        result[str(sample_id)] = {name: fields[name] for name in _METADATA_FIELDS}
    return result


def stats(db: Session, viewer: Viewer) -> dict[str, Any]:
    readable = readable_index(viewer).subquery()
    total = db.scalar(select(func.count()).select_from(readable)) or 0
    with_gps = db.scalar(select(func.count()).select_from(readable).where(
        readable.c.latitude.is_not(None), readable.c.longitude.is_not(None))) or 0
    by_material = {
        (material or "unspecified"): count for material, count in db.execute(
            select(readable.c.material_type, func.count())
            .group_by(readable.c.material_type).order_by(readable.c.material_type))
    }
    by_classification = {
        (classification or "unspecified"): count for classification, count in db.execute(
            select(readable.c.classification, func.count())
            .group_by(readable.c.classification).order_by(readable.c.classification))
    }
    elements = list(db.scalars(
        select(IsotopeValue.element).distinct()
        .where(IsotopeValue.sample_id.in_(select(readable.c.sample_id)))
        .order_by(IsotopeValue.element)))
    values = db.scalar(select(func.count()).select_from(IsotopeValue).where(
        IsotopeValue.sample_id.in_(select(readable.c.sample_id)))) or 0
    return {
        "total_samples": total, "samples_with_gps": with_gps,
        "unique_elements": len(elements), "elements": elements,
        "total_isotope_values": values, "by_material_type": by_material,
        "by_classification": by_classification,
    }


# --- writing -------------------------------------------------------------------------------


def _clean_isotopes(db: Session, items: list[IsotopeValueIn],
                    problems: Problems) -> list[dict[str, Any]]:
    return clean_isotope_values((item.model_dump() for item in items), custom_symbols(db),
                                problems)


def create_sample(db: Session, viewer: Viewer, body: SampleIn, *,
                  client_address: str | None = None) -> dict[str, Any]:
    problems = Problems()
    fields = clean_fields(body.model_dump(exclude={"isotope_data"}), problems)
    isotopes = _clean_isotopes(db, body.isotope_data, problems)
    problems.raise_if_any()
    numbered, next_id = with_ids(isotopes, [], 1)
    data = object_data(fields, numbered, archived=False, next_isotope_id=next_id)
    record = objects.create_object(db, viewer, ISOTOPE_SAMPLE_ACTION_ID, data,
                                   client_address=client_address)
    return record_view(record)


def rewrite_sample(db: Session, viewer: Viewer, record: ObjectRecord, fields: dict[str, Any],
                   values: list[dict[str, Any]], *, next_id: int | None = None,
                   archived: bool | None = None,
                   client_address: str | None = None) -> ObjectRecord:
    """A new version with these fields and values, unless nothing changes."""
    data = object_data(
        fields, values,
        archived=is_archived(record.data) if archived is None else archived,
        next_isotope_id=next_isotope_id(record.data) if next_id is None else next_id)
    if data == record.data:
        return record  # nothing changed: no new version
    return objects.add_version(db, viewer, record.id, data=data, client_address=client_address)


def _renumbered(db: Session, record: ObjectRecord, items: list[IsotopeValueIn],
                problems: Problems) -> tuple[list[dict[str, Any]], int]:
    isotopes = _clean_isotopes(db, items, problems)
    problems.raise_if_any()
    return with_ids(isotopes, isotope_values(record.data), next_isotope_id(record.data))


def replace_sample(db: Session, viewer: Viewer, sample_id: int, body: SampleIn, *,
                   client_address: str | None = None) -> dict[str, Any]:
    record = require_sample(db, viewer, sample_id, Level.WRITE)
    problems = Problems()
    fields = clean_fields(body.model_dump(exclude={"isotope_data"}), problems)
    numbered, next_id = _renumbered(db, record, body.isotope_data, problems)
    return record_view(rewrite_sample(db, viewer, record, fields, numbered, next_id=next_id,
                                      client_address=client_address))


def patch_sample(db: Session, viewer: Viewer, sample_id: int, body: SamplePatch, *,
                 client_address: str | None = None) -> dict[str, Any]:
    record = require_sample(db, viewer, sample_id, Level.WRITE)
    problems = Problems()
    given = body.model_dump(exclude_unset=True, exclude={"isotope_data"})
    if "name" in given and given["name"] is None:
        problems.add(("name",), "name cannot be removed", None)
    fields = {**sample_fields(record.data), **clean_fields(given, problems)}
    if body.isotope_data is not None:
        numbered, next_id = _renumbered(db, record, body.isotope_data, problems)
    else:
        problems.raise_if_any()
        numbered, next_id = isotope_values(record.data), next_isotope_id(record.data)
    return record_view(rewrite_sample(db, viewer, record, fields, numbered, next_id=next_id,
                                      client_address=client_address))


def delete_isotope(db: Session, viewer: Viewer, sample_id: int, isotope_id: int, *,
                   client_address: str | None = None) -> dict[str, Any]:
    record = require_sample(db, viewer, sample_id, Level.WRITE)
    values = isotope_values(record.data)
    kept = [value for value in values if value["isotope_id"] != isotope_id]
    if len(kept) == len(values):
        raise NotFound(f"sample {sample_id} has no isotope value {isotope_id}")
    return record_view(rewrite_sample(db, viewer, record, sample_fields(record.data), kept,
                                      client_address=client_address))


def set_archived(db: Session, viewer: Viewer, sample_id: int, archived: bool, *,
                 client_address: str | None = None) -> dict[str, Any]:
    record = require_sample(db, viewer, sample_id, Level.WRITE)
    return record_view(rewrite_sample(db, viewer, record, sample_fields(record.data),
                                      isotope_values(record.data), archived=archived,
                                      client_address=client_address))


# --- deletion: tombstones ----------------------------------------------------------------------


def delete_sample(db: Session, viewer: Viewer, sample_id: int, *,
                  client_address: str | None = None) -> None:
    """Tombstone: gone from both APIs (404), versions kept, restorable by an admin."""
    record = require_sample(db, viewer, sample_id, Level.GRANT)
    record.is_deleted = True
    record.deleted_at = utcnow()
    drop_index(db, [record.id])
    record_activity(db, "sample.deleted", user_id=viewer.user_id, target_type="sample",
                    target_id=record.id, details={"name": sample_fields(record.data)["name"]},
                    client_address=client_address)


def deleted_samples(db: Session) -> list[dict[str, Any]]:
    query = (select(ObjectRecord).where(ObjectRecord.action_id == ISOTOPE_SAMPLE_ACTION_ID,
                                        ObjectRecord.is_deleted.is_(True))
             .order_by(ObjectRecord.id))
    return [{"sample_id": record.id, "name": sample_fields(record.data)["name"],
             "deleted_at": iso_timestamp(record.deleted_at) if record.deleted_at else None,
             "versions": record.version_id + 1}
            for record in db.scalars(query)]


def _tombstone(db: Session, sample_id: int) -> ObjectRecord:
    record = db.get(ObjectRecord, sample_id)
    if record is None or record.action_id != ISOTOPE_SAMPLE_ACTION_ID or not record.is_deleted:
        raise NotFound(f"no deleted sample {sample_id}")
    return record


def restore_sample(db: Session, admin: User, sample_id: int) -> None:
    record = _tombstone(db, sample_id)
    record.is_deleted = False
    record.deleted_at = None
    db.flush()
    reindex_sample(db, record)
    record_activity(db, "sample.restored", user_id=admin.id, target_type="sample",
                    target_id=sample_id)


def purge_sample(db: Session, admin: User, sample_id: int) -> None:
    """Remove a deleted sample and all its versions for good."""
    record = _tombstone(db, sample_id)
    name = sample_fields(record.data)["name"]
    db.delete(record)
    db.flush()
    record_activity(db, "sample.purged", user_id=admin.id, target_type="sample",
                    target_id=sample_id, details={"name": name})
