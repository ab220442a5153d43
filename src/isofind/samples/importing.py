"""Importing samples into the database: CSV files and .isof documents.

One transaction per file. Samples merge by name (case and accents aside) with the samples the
importing user may change: metadata given by the file replaces the stored one, new isotope
values are appended, a value identical to a stored one (same ratio, value, uncertainty,
standard) is not added again — importing a file twice changes nothing. New samples are
written in bulk.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from isofind.activity.service import record as record_activity
from isofind.bulk_insert import BackgroundInserts, refresh_statistics
from isofind.db import Base, among
from isofind.errors import Forbidden, Unprocessable
from isofind.gc_pause import collector_paused
from isofind.identity.models import User
from isofind.objects import bulk
from isofind.objects import service as objects
from isofind.objects.models import ObjectRecord
from isofind.permissions import service as permissions
from isofind.permissions.models import Level
from isofind.permissions.service import Viewer
from isofind.reference.elements.service import custom_symbols
from isofind.reference.library import service as library
from isofind.reference.library.links import link_sample
from isofind.reference.library.schemas import LinkIn
from isofind.reference.standards.normalization import to_two_sigma
from isofind.samples.action import (
    ISOTOPE_SAMPLE_ACTION_ID,
    is_archived,
    isotope_values,
    next_isotope_id,
    object_data,
    sample_fields,
)
from isofind.samples.batch_building import SAMPLES_PER_BATCH, Batch, build_batches, warm_up
from isofind.samples.csv_import import ImportErrors, MappingError, read_csv
from isofind.samples.csv_import.results import ParsedIsotopeValue, ParsedSample
from isofind.samples.index import (
    bump_generation,
    name_key,
)
from isofind.samples.isof import IsofError, IsofImport, read_isof
from isofind.samples.models import SampleIndex
from isofind.samples.rules import identity, with_ids
from isofind.samples.yields import store_yield
from isofind.timeutil import utcnow

Progress = Callable[[int], None]


@dataclass(slots=True)
class IncomingSample:
    """A sample as a file gives it: plain fields (only those the file has) and values."""

    fields: dict[str, Any]
    isotopes: list[dict[str, Any]] = field(default_factory=list)
    place: int = 0  # where the file first names it: samples of one key merge in this order

    key: str = field(init=False)  # its name key, which merges it with a stored sample

    def __post_init__(self) -> None:
        self.key = name_key(self.fields["name"])


@dataclass(slots=True)
class MergeReport:
    samples_created: int = 0
    samples_updated: int = 0
    samples_unchanged: int = 0
    values_added: int = 0
    ids_by_key: dict[str, int] = field(default_factory=dict)  # name key → stored sample

    def as_dict(self) -> dict[str, Any]:
        return {"samples_created": self.samples_created, "samples_updated": self.samples_updated,
                "samples_unchanged": self.samples_unchanged, "values_added": self.values_added}


def plain_value(value: ParsedIsotopeValue) -> dict[str, Any]:
    declared = value.uncertainty_type_declared
    uncertainty_declared = None
    if declared and value.uncertainty is not None:
        uncertainty_declared = value.uncertainty / to_two_sigma(1.0, declared)
    return {
        "element": value.element, "ratio": value.ratio or value.delta, "value": value.value,
        "uncertainty": value.uncertainty, "uncertainty_type_declared": declared,
        "uncertainty_declared": uncertainty_declared, "reference_scale": value.scale,
        "standard": value.standard, "method": value.method, "instrument": value.instrument,
        "session_date": value.session_date,
    }


def _one_line(name: str) -> str:
    # A quoted CSV cell may hold a line break; a sample name is one line.
    return " ".join(name.split())


def from_parsed(sample: ParsedSample) -> IncomingSample:
    fields = dict(sample.fields)
    fields["name"] = _one_line(str(sample.name))
    return IncomingSample(fields, [plain_value(value) for value in sample.isotope_values],
                          place=sample.lines[0])


def _sample_keys(names: Iterable[str | None]) -> list[str]:
    """The name key of each sample a file's rows name, once per sample."""
    return [name_key(_one_line(name)) for name in dict.fromkeys(names) if name is not None]


def _writable_by_name(db: Session, viewer: Viewer, keys: list[str]) -> dict[str, int]:
    """The oldest writable sample of each name key."""
    found: dict[str, int] = {}
    for named in among(SampleIndex.name_key, sorted(set(keys)), db.get_bind().dialect.name):
        query = (select(SampleIndex.name_key, SampleIndex.sample_id)
                 .join(ObjectRecord, ObjectRecord.id == SampleIndex.sample_id)
                 .where(named, permissions.holds(viewer, Level.WRITE)))
        for key, sample_id in db.execute(query):
            found[key] = min(sample_id, found.get(key, sample_id))
    return found


def _merged_data(record: ObjectRecord, incoming: IncomingSample,
                 archive: bool) -> tuple[dict[str, Any] | None, int]:
    """The data of the sample's next version and the number of values it adds, or None when
    the file brings nothing new: no value, no field and no archived flag the sample lacks."""
    stored = isotope_values(record.data)
    known = {identity(value) for value in stored}
    new = [value for value in incoming.isotopes if identity(value) not in known]
    stored_fields = sample_fields(record.data)
    # The stored name stays: the file's spelling may differ in case or accents only.
    fields = {**stored_fields,
              **{k: v for k, v in incoming.fields.items() if v is not None and k != "name"}}
    was_archived = is_archived(record.data)
    archived = archive or was_archived
    if not new and fields == stored_fields and archived == was_archived:
        return None, 0
    numbered, next_id = with_ids(new, [], next_isotope_id(record.data))
    data = object_data(fields, [*stored, *numbered], archived=archived,
                       next_isotope_id=next_id)
    return data, len(numbered)


def _update_existing(db: Session, viewer: Viewer, record: ObjectRecord,
                     incoming: IncomingSample, archive: bool, report: MergeReport) -> None:
    data, added = _merged_data(record, incoming, archive)
    if data is None or data == record.data:
        report.samples_unchanged += 1
    else:
        objects.add_version(db, viewer, record.id, data=data, log_type="EDIT_OBJECT")
        report.samples_updated += 1
        report.values_added += added
    report.ids_by_key[incoming.key] = record.id


def _update_all(db: Session, viewer: Viewer, updates: list[tuple[int, IncomingSample]],
                archive: bool, report: MergeReport, progress: Progress | None) -> None:
    """Merge each incoming sample into its stored one, in file order."""
    records = objects.records_in_order(db, [sample_id for sample_id, _ in updates])
    for record, (_, incoming) in zip(records, updates, strict=True):
        _update_existing(db, viewer, record, incoming, archive, report)
        if progress:
            progress(1)


def _new_batches(creation: bulk.Creation, samples: Iterator[IncomingSample],
                 ids: dict[str, int], archive: bool) -> Iterator[Batch]:
    while chunk := list(islice(samples, SAMPLES_PER_BATCH)):
        yield Batch(creation, [sample.fields for sample in chunk],
                    [sample.isotopes for sample in chunk], [sample.key for sample in chunk],
                    [ids[sample.key] for sample in chunk], archive)


def _create_new(db: Session, user: User, samples: Iterator[IncomingSample],
                ids: dict[str, int], archive: bool, report: MergeReport,
                progress: Progress | None, workers: int) -> None:
    """Write the new ``samples`` (one per key of ``ids``) in batches, as they come."""
    creation = bulk.start_creation(db, user, objects.get_action(db, ISOTOPE_SAMPLE_ACTION_ID),
                                   utcnow())
    batches = _new_batches(creation, samples, ids, archive)
    tables = Base.metadata.tables
    written: dict[str, Table] = {}
    with BackgroundInserts(db) as inserts:
        built_batches = build_batches(
            batches, len(ids), workers=workers,
            for_copy=db.get_bind().dialect.name == "postgresql")
        for batch, built in built_batches:
            for table_name, rows in built.rows:
                written[table_name] = tables[table_name]
                inserts.insert(tables[table_name], rows)
            report.samples_created += len(batch.ids)
            report.values_added += built.values
            report.ids_by_key.update(zip(batch.keys, batch.ids, strict=True))
            if progress:
                progress(len(batch.ids))
    bump_generation(db)
    refresh_statistics(db, written.values(), len(ids))


def _importing_user(viewer: Viewer) -> User:
    user = viewer.user
    if user is None or user.is_readonly:
        raise Forbidden("read-only users cannot import samples")
    return user


def _sorted_out(samples: Iterable[IncomingSample], keys: list[str], existing: dict[str, int],
                updates: list[tuple[int, IncomingSample]]) -> Iterator[IncomingSample]:
    """The new samples, each once every sample of its key has come; samples of a stored key
    are added to ``updates``."""
    remaining = Counter(keys)
    waiting: dict[str, list[IncomingSample]] = {}
    for sample in samples:
        key = sample.key
        remaining[key] -= 1
        if key in existing:
            updates.append((existing[key], sample))
            continue
        waiting.setdefault(key, []).append(sample)
        if not remaining[key]:
            yield _one_sample(waiting.pop(key))


def _one_sample(named_alike: list[IncomingSample]) -> IncomingSample:
    """Names that differ in case or accents only are one sample: in file order, later ones fill
    and update the fields and add their values; the first spelling stays, as a stored one
    does."""
    first, *later = sorted(named_alike, key=lambda sample: sample.place)
    for sample in later:
        first.fields.update({k: v for k, v in sample.fields.items()
                             if v is not None and k != "name"})
        first.isotopes.extend(sample.isotopes)
    return first


def merge_samples(db: Session, viewer: Viewer, keys: list[str],
                  samples: Iterable[IncomingSample], *, archive: bool = False,
                  progress: Progress | None = None, workers: int = 0) -> MergeReport:
    """Write ``samples`` into the database, merging by name; one transaction (the caller's).

    ``keys`` holds the name key of every sample to come, in file order (new samples get their
    ids in this order). ``samples`` may be produced (parsed) while the first ones are written,
    in another order when a file names one sample in several places: a new sample is written
    once every sample of its key has come.
    """
    user = _importing_user(viewer)
    report = MergeReport()
    existing = _writable_by_name(db, viewer, keys)
    new_keys = [key for key in dict.fromkeys(keys) if key not in existing]
    ids = dict(zip(new_keys, bulk.reserve_object_ids(db, len(new_keys)), strict=True))
    updates: list[tuple[int, IncomingSample]] = []
    new = _sorted_out(samples, keys, existing, updates)
    if ids:
        _create_new(db, user, new, ids, archive, report, progress, workers)
    else:
        for _ in new:  # nothing comes out: reading the samples sorts out the updates
            pass
    _update_all(db, viewer, updates, archive, report, progress)
    return report


@collector_paused()
def import_csv(db: Session, viewer: Viewer, raw: bytes, *, archive_mode: bool = False,
               mapping: str | None = None, profile: str | None = None,
               filename: str | None = None, client_address: str | None = None,
               progress: Progress | None = None,
               workers: int = 0) -> dict[str, Any]:
    _importing_user(viewer)  # before the worker's fork server is started for the file
    warm_up(len(raw), workers)
    try:
        csv = read_csv(raw, mapping=mapping, profile=profile,
                       custom_elements=custom_symbols(db))
        # Rows are parsed while the samples of the rows before them are written: a file with
        # a problem is refused once every row is read, and the transaction undoes the writes.
        report = merge_samples(db, viewer, _sample_keys(csv.sample_names),
                               map(from_parsed, csv.samples()), archive=archive_mode,
                               progress=progress, workers=workers)
    except MappingError as exc:
        raise Unprocessable([{"line": None, "column": "mapping", "value": mapping or profile,
                              "message": str(exc)}]) from None
    except ImportErrors as exc:
        raise Unprocessable(exc.errors) from None
    result = {
        "success": True, **report.as_dict(), "archive_mode": archive_mode,
        "encoding": csv.encoding, "delimiter": csv.delimiter,
        "recognised_columns": csv.recognised_columns,
        "ignored_columns": csv.ignored_columns, "warnings": csv.warnings,
    }
    record_activity(db, "samples.imported", user_id=viewer.user_id, target_type="import",
                    target_id=filename, details={"format": "csv", **report.as_dict(),
                                                 "archive_mode": archive_mode},
                    client_address=client_address)
    return result


# --- .isof documents ------------------------------------------------------------------------


def _isof_sample(sample: dict[str, Any], place: int = 0) -> IncomingSample:
    fields = {k: v for k, v in sample.items() if k not in ("source_id", "isotope_data")}
    fields["name"] = _one_line(str(fields.get("name") or sample["source_id"]))
    return IncomingSample(fields, [dict(value) for value in sample["isotope_data"]], place)


def _stored_ids(document: IsofImport, report: MergeReport) -> dict[str, int]:
    """The file's sample ids → ours."""
    return {sample["source_id"]: report.ids_by_key[_isof_sample(sample).key]
            for sample in document.samples}


def _import_yields(db: Session, viewer: Viewer, document: IsofImport,
                   ids: dict[str, int]) -> int:
    for entry in document.yields:
        store_yield(db, ids[entry["source_id"]], entry["element"], entry, viewer.user_id)
    return len(document.yields)


def _import_assignments(db: Session, viewer: Viewer, document: IsofImport,
                        ids: dict[str, int]) -> int:
    added = 0
    for entry in document.assignments:
        sample_id = ids[entry["source_id"]]
        linked = {(link.get("method_key"), link.get("pipeline_key"))
                  for link in library.sample_methods(db, sample_id)}
        key = (entry.get("method_key"), entry.get("pipeline_key"))
        if key in linked:  # importing the same file twice links nothing twice
            continue
        link_sample(db, viewer, sample_id, LinkIn(method_key=key[0], pipeline_key=key[1]))
        added += 1
    return added


@collector_paused()
def import_isof(db: Session, viewer: Viewer, raw: bytes, *, archive_mode: bool = False,
                filename: str | None = None, client_address: str | None = None,
                progress: Progress | None = None,
                workers: int = 0) -> dict[str, Any]:
    """Import an .isof document (its signature verified when it has one): library first, so
    the samples' methods and pipelines exist, then samples, yields and assignments."""
    user = _importing_user(viewer)
    warm_up(len(raw), workers)
    try:
        document = read_isof(raw, custom_symbols=custom_symbols(db))
    except IsofError as exc:
        raise Unprocessable(exc.problems or [{"path": "", "value": None,
                                              "message": exc.message}]) from None
    library_counts = library.import_library(db, document.methods, document.pipelines, user,
                                            client_address=client_address)
    incoming = [_isof_sample(sample, place) for place, sample in enumerate(document.samples)]
    report = merge_samples(db, viewer, [sample.key for sample in incoming], incoming,
                           archive=archive_mode, progress=progress, workers=workers)
    ids = _stored_ids(document, report)
    result = {
        "success": True, **report.as_dict(), "archive_mode": archive_mode,
        "yields_recorded": _import_yields(db, viewer, document, ids),
        "assignments_added": _import_assignments(db, viewer, document, ids),
        **library_counts, "document": document.document, "skipped": document.skipped,
    }
    record_activity(db, "samples.imported", user_id=viewer.user_id, target_type="import",
                    target_id=filename, details={"format": "isof", **report.as_dict(),
                                                 "archive_mode": archive_mode},
                    client_address=client_address)
    return result
