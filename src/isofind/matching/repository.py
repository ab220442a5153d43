"""Source samples for matching, read from the samples room's derived index and cached.

Loading pivots ``isotope_values`` into the engine's (sources × quantities) arrays and
prepares them once (:func:`isofind.matching.sources.prepare_sources`). Prepared sets are kept
in a small per-process LRU keyed by the index *generation* (a counter the samples room bumps
in the same transaction as every write to the index, so every worker sees a change) and by
the filter options: a match never reloads unchanged data.

Permissions are not part of the cached data: a set holds every source the filters select,
and each request narrows it to the ids the viewer may read, obtained by one set-based SQL
query through the permission module's ``holds_in_bulk`` condition. That answer is memoised
per set under the viewer's permission key and the *permission generation* (a counter the
database's own triggers bump on every change to an entry, a membership or an instrument's
scientists), so it is asked again only when the sources or someone's permissions change. The
narrowed set is memoised per set under a digest of the mask, so a viewer who keeps reading the
same sources pays once.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import ColumnElement, not_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import True_

from isofind.errors import ServiceUnavailable
from isofind.matching.basis import Quantity, Ratio, parse_quantity
from isofind.matching.errors import MatchingInputError
from isofind.matching.sources import PreparedSources, prepare_sources
from isofind.matching.zones import ZoneSet, ZonesKey
from isofind.permissions import service as permissions
from isofind.permissions.models import Level
from isofind.permissions.service import PermissionKey, Viewer, permission_key
from isofind.recent import Recent
from isofind.samples.index import generation
from isofind.samples.models import IsotopeValue, SampleIndex

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Sample fields a match may group sources by, besides ``zone``.
GROUP_COLUMNS = {
    "sector": SampleIndex.sector,
    "project": SampleIndex.project,
    "material_type": SampleIndex.material_type,
    "classification": SampleIndex.classification,
    "collection_location": SampleIndex.collection_location,
}
GROUP_FIELDS = (*GROUP_COLUMNS, "zone")
CLASSIFICATION_FILTERS = {"sources": "source", "daughters": "daughter", "all": None}
#: Restricted (viewer-narrowed) sets memoised per cached set.
RESTRICTED_PER_SET = 4
#: Readable parts memoised per cached set: for this many viewers, each of at most this many
#: ids (8 bytes each), so a set's memo stays under 7 MB.
READABLE_PER_SET = 16
READABLE_LARGEST = 50_000


def engine_quantity(name: str) -> Quantity | None:
    """The engine's reading of a canonical name, or None for quantities it cannot match
    (inter-element ratios such as 87Rb/86Sr, two-mass deltas such as δ66/64Zn)."""
    try:
        return parse_quantity(name)
    except MatchingInputError:
        return None


@dataclass(frozen=True)
class BoundingBox:
    min_latitude: float
    max_latitude: float
    min_longitude: float
    max_longitude: float


@dataclass(frozen=True)
class SourceFilter:
    """Which index rows are sources: hashable, part of the cache key."""

    elements: tuple[str, ...]
    classification: str = "sources"
    archived: tuple[bool, ...] = (False,)
    group_by: str = "sector"
    material_types: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    bbox: BoundingBox | None = None
    date_from: str | None = None
    date_to: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        s = SampleIndex
        conditions: list[ColumnElement[bool]] = [s.archived.in_(self.archived)]
        wanted = CLASSIFICATION_FILTERS[self.classification]
        if wanted is not None:
            conditions.append(s.classification == wanted)
        if self.material_types:
            conditions.append(s.material_type.in_(self.material_types))
        if self.projects:
            conditions.append(s.project.in_(self.projects))
        if self.bbox is not None:
            box = self.bbox
            conditions.append(s.latitude.between(box.min_latitude, box.max_latitude))
            if box.min_longitude <= box.max_longitude:
                conditions.append(s.longitude.between(box.min_longitude, box.max_longitude))
            else:  # the box crosses the antimeridian
                conditions.append(or_(s.longitude >= box.min_longitude,
                                      s.longitude <= box.max_longitude))
        # Dates are stored as ISO text (YYYY-MM-DD), so text order is date order.
        if self.date_from is not None:
            conditions.append(s.collection_date >= self.date_from)
        if self.date_to is not None:
            conditions.append(s.collection_date <= self.date_to)
        return conditions

    def as_dict(self) -> dict[str, Any]:
        return {
            "classification_filter": self.classification,
            "archived": list(self.archived),
            "group_by": self.group_by,
            "material_types": list(self.material_types),
            "projects": list(self.projects),
            "bbox": None if self.bbox is None else vars(self.bbox),
            "date_from": self.date_from,
            "date_to": self.date_to,
        }


@dataclass
class SourceSet:
    """The sources one filter selects at one generation, prepared for the engine.

    A sample may appear in several rows when it lies in overlapping zones (one row per zone).
    """

    generation: int
    filter: SourceFilter
    prepared: PreparedSources | None
    row_ids: IntArray  # sample id of each prepared row
    names: dict[int, str]
    sectors: dict[int, str | None]
    # Sample ids behind each count, so a viewer is only told about samples they may read:
    # one entry per grouped sample, per sample left out for want of a group, per value
    # dropped as unusable, per normalized value used.
    sample_ids: IntArray
    ungrouped_ids: IntArray
    dropped_ids: IntArray
    normalized_ids: IntArray
    unsupported: tuple[str, ...]
    has_duplicates: bool
    _restricted: Recent[bytes, PreparedSources] = field(
        default_factory=lambda: Recent(RESTRICTED_PER_SET))
    readable_memo: Recent[tuple[PermissionKey, int], Readable] = field(
        default_factory=lambda: Recent(READABLE_PER_SET))
    _group_priors: dict[Hashable, dict[str, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def narrowed(self, keep: NDArray[np.bool_]) -> PreparedSources | None:
        """The prepared sources restricted to rows where ``keep`` (memoised by mask)."""
        if self.prepared is None or not keep.any():
            return None
        if keep.all():
            return self.prepared
        digest = hashlib.blake2b(np.packbits(keep).tobytes(), digest_size=16).digest()
        found = self._restricted.get(digest)
        if found is None:
            found = _restrict(self.prepared, keep)
            self._restricted.put(digest, found)
        return found

    @cached_property
    def member_ids(self) -> frozenset[int]:
        """Ids of the samples that are sources of this set (in some group)."""
        return frozenset(self.row_ids.tolist())

    def group_priors(self, key: Hashable,
                     compute: Callable[[SourceSet], dict[str, float]]) -> dict[str, float]:
        """Per-group prior weights, memoised under ``key`` (e.g. the zones' versions)."""
        with self._lock:
            found = self._group_priors.get(key)
        if found is None:
            found = compute(self)
            with self._lock:
                self._group_priors[key] = found
        return found


def _restrict(prepared: PreparedSources, keep: NDArray[np.bool_]) -> PreparedSources:
    """The same sources minus some rows, through the engine's public preparation."""
    return prepare_sources(
        prepared.quantity_names,
        prepared.raw_values[keep],
        prepared.raw_two_sigma[keep],
        [prepared.group_names[g] for g in prepared.group_index[keep].tolist()],
        source_ids=prepared.source_ids[keep].tolist(),
        latitudes=prepared.latitudes[keep],
        longitudes=prepared.longitudes[keep],
        materials=prepared.materials[keep].tolist(),
        default_relative_2s=prepared.default_relative_2s,
        default_delta_2s=prepared.default_delta_2s,
    )


# --- loading ----------------------------------------------------------------------------------


def _finite(value: float | None) -> float:
    return value if value is not None and math.isfinite(value) else math.nan


def _coordinate(value: float | None, limit: float) -> float:
    # Data written through /api/v1 skips our range checks: an impossible coordinate is unknown.
    number = _finite(value)
    return number if abs(number) <= limit else math.nan


@dataclass
class _Pivot:
    quantities: list[str]
    values: FloatArray
    two_sigma: FloatArray
    normalized: list[int]  # row (sample position) of each normalized value used
    dropped: list[int]  # sample id of each unusable value
    unsupported: set[str]


def _pivot(rows: list[Any], position: dict[int, int], elements: tuple[str, ...]) -> _Pivot:
    """Value rows (ordered by sample, isotope id) → (samples × quantities) arrays.

    A normalized value replaces the measured one (its uncertainty too, else the measured
    uncertainty scaled to it). A quantity measured twice in one sample: the later value
    (higher isotope id) wins, as the more recent measurement.
    """
    parsed: dict[str, Quantity | None] = {}
    columns: dict[str, int] = {}
    cells: dict[tuple[int, int], tuple[float, float, bool]] = {}
    dropped: list[int] = []
    unsupported: set[str] = set()
    for row in rows:
        if row.quantity in parsed:
            quantity = parsed[row.quantity]
        else:
            quantity = parsed[row.quantity] = engine_quantity(row.quantity)
        if quantity is None or quantity.element not in elements:
            if quantity is None:
                unsupported.add(row.quantity)
            continue
        normalized = row.normalized_value is not None
        value = _finite(row.normalized_value if normalized else row.value)
        if normalized:
            uncertainty = row.normalized_uncertainty
            if uncertainty is None and row.uncertainty is not None and row.value:
                uncertainty = row.uncertainty * value / row.value
        else:
            uncertainty = row.uncertainty
        sigma = _finite(uncertainty)
        if math.isnan(value) or (isinstance(quantity, Ratio) and value <= 0):
            dropped.append(row.sample_id)
            continue
        if sigma < 0:
            sigma = math.nan  # unusable uncertainty: the engine's default applies
        column = columns.setdefault(row.quantity, len(columns))
        cells[(position[row.sample_id], column)] = (value, sigma, normalized)
    values = np.full((len(position), len(columns)), np.nan)
    two_sigma = np.full_like(values, np.nan)
    normalized_rows = []
    for (r, c), (value, sigma, normalized) in cells.items():
        values[r, c] = value
        two_sigma[r, c] = sigma
        if normalized:
            normalized_rows.append(r)
    return _Pivot(list(columns), values, two_sigma, normalized_rows, dropped, unsupported)


def _group_labels(
    source_filter: SourceFilter, samples: list[Any], zones: ZoneSet | None,
    latitudes: FloatArray, longitudes: FloatArray,
) -> tuple[IntArray, list[str]]:
    """(sample position, group label) pairs: one per sample, or one per zone holding it."""
    if source_filter.group_by == "zone":
        assert zones is not None
        inside = zones.membership(latitudes, longitudes)
        zone_rows, positions = np.nonzero(inside)
        order = np.lexsort((zone_rows, positions))
        names = [zone.name for zone in zones.zones]
        return positions[order].astype(np.int64), [names[z] for z in zone_rows[order].tolist()]
    positions, labels = [], []
    for index, sample in enumerate(samples):
        label = sample.group
        label = label.strip() if isinstance(label, str) else None
        if label:
            positions.append(index)
            labels.append(label)
    return np.array(positions, dtype=np.int64), labels


def load_source_set(db: Session, source_filter: SourceFilter, zones: ZoneSet | None,
                    at_generation: int) -> SourceSet:
    """Read and prepare the sources of one filter (two queries: samples, then values)."""
    group_column = GROUP_COLUMNS.get(source_filter.group_by, SampleIndex.sector)
    s = SampleIndex
    sample_rows = db.execute(
        select(s.sample_id, s.name, s.sector, s.material_type, s.latitude, s.longitude,
               group_column.label("group"))
        .where(*source_filter.conditions())
        .order_by(s.sample_id)
    ).all()
    selected = select(s.sample_id).where(*source_filter.conditions())
    value_rows = db.execute(
        select(IsotopeValue.sample_id, IsotopeValue.quantity, IsotopeValue.value,
               IsotopeValue.uncertainty, IsotopeValue.normalized_value,
               IsotopeValue.normalized_uncertainty)
        .where(IsotopeValue.sample_id.in_(selected),
               IsotopeValue.element.in_(source_filter.elements))
        .order_by(IsotopeValue.sample_id, IsotopeValue.isotope_id)
    ).all()
    position = {row.sample_id: i for i, row in enumerate(sample_rows)}
    pivot = _pivot(value_rows, position, source_filter.elements)
    measured = np.isfinite(pivot.values).any(axis=1) if pivot.quantities else np.zeros(
        len(sample_rows), dtype=bool)
    latitudes = np.array([_coordinate(r.latitude, 90.0) for r in sample_rows], dtype=float)
    longitudes = np.array([_coordinate(r.longitude, 180.0) for r in sample_rows], dtype=float)
    keep = np.flatnonzero(measured)
    kept_rows = [sample_rows[i] for i in keep.tolist()]
    positions, labels = _group_labels(
        source_filter, kept_rows, zones, latitudes[keep], longitudes[keep])
    rows = keep[positions] if positions.size else np.zeros(0, dtype=np.int64)
    ids = np.array([sample_rows[i].sample_id for i in rows.tolist()], dtype=np.int64)
    prepared = None
    if rows.size:
        try:
            prepared = prepare_sources(
                pivot.quantities, pivot.values[rows], pivot.two_sigma[rows], labels,
                source_ids=ids.tolist(), latitudes=latitudes[rows], longitudes=longitudes[rows],
                materials=[sample_rows[i].material_type for i in rows.tolist()],
            )
        except MatchingInputError as error:
            raise ServiceUnavailable(
                f"the source samples cannot be prepared for matching: {error}") from error
    grouped = np.unique(rows)
    sample_id_of = np.array([r.sample_id for r in sample_rows], dtype=np.int64)
    return SourceSet(
        generation=at_generation,
        filter=source_filter,
        prepared=prepared,
        row_ids=(np.array(prepared.source_ids.tolist(), dtype=np.int64) if prepared is not None
                 else np.zeros(0, dtype=np.int64)),
        names={r.sample_id: r.name for r in kept_rows},
        sectors={r.sample_id: r.sector for r in kept_rows},
        sample_ids=sample_id_of[grouped],
        ungrouped_ids=sample_id_of[np.setdiff1d(keep, grouped)],
        dropped_ids=np.array(pivot.dropped, dtype=np.int64),
        normalized_ids=sample_id_of[np.array(pivot.normalized, dtype=np.int64)],
        unsupported=tuple(sorted(pivot.unsupported)),
        has_duplicates=bool(rows.size != grouped.size),
    )


@dataclass(frozen=True)
class Readable:
    """What the viewer may read among a filter's samples: everything, everything but
    ``hidden`` ids, or only ``allowed`` ids."""

    hidden: IntArray | None = None
    allowed: IntArray | None = None

    def mask(self, ids: IntArray) -> NDArray[np.bool_]:
        if self.allowed is not None:
            return np.isin(ids, self.allowed)
        if self.hidden is not None and self.hidden.size:
            return ~np.isin(ids, self.hidden)
        return np.ones(ids.size, dtype=bool)


def _ids(db: Session, query: Any) -> IntArray:
    # Iterating rows beats .scalars().all() by half on 100,000 ids.
    return np.sort(np.fromiter((row[0] for row in db.execute(query)), dtype=np.int64))


def readable(db: Session, viewer: Viewer, source_set: SourceSet) -> Readable:
    """The viewer's readable part of a cached set, from the permission module's set-based
    ``holds_in_bulk`` (the per-row ``holds`` took 150-800 ms over 100,000 sources on
    PostgreSQL, issue 6), memoised on the set under the viewer's permission key and the
    permission generation.

    The viewer usually reads (nearly) every source, so the query asks for the ids they may
    *not* read: the database still checks each row, but returns next to nothing. Applying a
    deny-list to cached data is only exact if the data is still that of the cache key, and a
    memoised answer only if the permissions are still those of its key: both generations are
    read again afterwards (their writes bump them in the same transaction). If either moved
    (PostgreSQL reads each statement afresh), ask for the allowed ids instead, which fails
    closed, and memoise nothing. A memoised deny-list stays exact for the set's rows after
    the index moves on: only the permission tables decide who reads a sample.
    """
    condition = permissions.holds_in_bulk(viewer, Level.READ, SampleIndex.sample_id,
                                          dialect=db.get_bind().dialect.name)
    if isinstance(condition, True_):
        return Readable()
    # Read before the query: an answer is never older than its key.
    memo_key = (permission_key(viewer, Level.READ), permissions.permission_generation(db))
    found = source_set.readable_memo.get(memo_key)
    if found is not None:
        return found
    conditions = source_set.filter.conditions()
    hidden = _ids(db, select(SampleIndex.sample_id).where(not_(condition), *conditions))
    if (generation(db) == source_set.generation
            and permissions.permission_generation(db) == memo_key[1]):
        answer = Readable(hidden=hidden)
        if hidden.size <= READABLE_LARGEST:
            source_set.readable_memo.put(memo_key, answer)
        return answer
    return Readable(allowed=_ids(db, select(SampleIndex.sample_id).where(condition,
                                                                        *conditions)))


# --- the cache --------------------------------------------------------------------------------


CacheKey = tuple[int, SourceFilter, ZonesKey | None]


class SourceCache:
    """A bounded LRU of prepared source sets; ``loads`` counts trips to the database."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.loads = 0
        self._entries: Recent[CacheKey, SourceSet] = Recent(size)
        self._lock = threading.Lock()  # guards ``loads`` and ``_loading``
        self._loading: dict[CacheKey, threading.Lock] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, db: Session, source_filter: SourceFilter,
            zones: ZoneSet | None) -> SourceSet:
        # Read the generation before the data: a set is never older than its key.
        at_generation = generation(db)
        key: CacheKey = (at_generation, source_filter,
                         zones.key if source_filter.group_by == "zone" and zones else None)
        found = self._entries.get(key)
        if found is not None:
            return found
        with self._lock:
            key_lock = self._loading.setdefault(key, threading.Lock())
        # One loader per key: concurrent requests for the same data wait for it.
        with key_lock:
            found = self._entries.get(key)
            if found is not None:
                return found
            loaded = load_source_set(db, source_filter, zones, at_generation)
            self._entries.put(key, loaded)
            with self._lock:
                self.loads += 1
                self._loading.pop(key, None)
        return loaded


def restrict_to_ids(source_set: SourceSet, access: Readable,
                    excluded: tuple[int, ...] = ()) -> PreparedSources | None:
    """The set narrowed to what the viewer reads, without the ``excluded`` samples."""
    if source_set.prepared is None:
        return None
    keep = access.mask(source_set.row_ids)
    if excluded:
        keep &= ~np.isin(source_set.row_ids, np.array(excluded, dtype=np.int64))
    return source_set.narrowed(keep)
