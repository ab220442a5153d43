"""Source samples prepared once for many matches.

``prepare_sources`` sorts the sources by group, converts them to the ratio basis and computes
every group's statistics (means, shrunk covariances, degrees of freedom) and kernel members.
The result is immutable apart from memoised derived data, so a service can keep one per
database generation and share it between requests:

* a *view* re-expresses the sources in the basis of a sample (204Pb-based by default,
  206Pb-based for a sample without 204Pb), computed on first use;
* a *subset* holds the group statistics on one set of ratios, for samples or groups where
  some ratios are missing (members must have all of them), computed on first use;
* ``for_material`` restricts the sources to one material type, computed on first use.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray

from isofind.matching.basis import (
    DEFAULT_DELTA_2S,
    DEFAULT_RELATIVE_2S,
    Quantity,
    choose_references,
    parse_quantities,
    to_basis,
)
from isofind.matching.errors import InvalidSourcesError, InvalidValueError
from isofind.matching.linalg import entries_first
from isofind.matching.statistics import GroupStatistics, group_statistics

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
ObjectArray = NDArray[np.object_]

#: Column sets are int64 bitmasks, and (group, pattern) pairs share one int64 key.
MAX_QUANTITIES = 30


@dataclass(frozen=True)
class Coordinates:
    latitude: float
    longitude: float


def spherical_mean(latitudes: FloatArray, longitudes: FloatArray) -> Coordinates | None:
    """Mean position on the sphere (mean of unit vectors), right across the antimeridian.

    None when no coordinates are known or they cancel out (e.g. two antipodal points).
    """
    known = np.isfinite(latitudes) & np.isfinite(longitudes)
    if not known.any():
        return None
    lat, lon = np.radians(latitudes[known]), np.radians(longitudes[known])
    x = float(np.mean(np.cos(lat) * np.cos(lon)))
    y = float(np.mean(np.cos(lat) * np.sin(lon)))
    z = float(np.mean(np.sin(lat)))
    horizontal = np.hypot(x, y)
    if np.hypot(horizontal, z) < 1e-9:
        return None
    return Coordinates(
        latitude=float(np.degrees(np.arctan2(z, horizontal))),
        longitude=float(np.degrees(np.arctan2(y, x))) if horizontal > 1e-12 else 0.0,
    )


def bitmasks(available: NDArray[np.bool_]) -> IntArray:
    """Row-wise bitmask of available columns (column c ↦ bit c)."""
    weights = np.left_shift(np.int64(1), np.arange(available.shape[1], dtype=np.int64))
    return (available.astype(np.int64) * weights).sum(axis=1)


def mask_columns(mask: int, n_columns: int) -> IntArray:
    return np.array([c for c in range(n_columns) if mask >> c & 1], dtype=np.int64)


class Subset:
    """Groups compared on one set of ratio columns K: statistics and kernel members."""

    def __init__(self, view: SourceView, mask: int) -> None:
        self.columns = mask_columns(mask, len(view.quantities))
        complete = (view.masks & mask) == mask
        rows = np.flatnonzero(complete)
        group_index = view.group_index[rows]
        present = np.unique(group_index)
        local = np.searchsorted(present, group_index)
        values = view.values[np.ix_(rows, self.columns)]
        covariance = view.covariance[np.ix_(rows, self.columns, self.columns)]
        self.group_ids: IntArray = present.astype(np.int64)
        self.position = {int(g): p for p, g in enumerate(present)}
        self.statistics: GroupStatistics = group_statistics(values, local, present.size, covariance)
        self.starts: IntArray = np.searchsorted(local, np.arange(present.size)).astype(np.int64)
        self.members: FloatArray = np.ascontiguousarray(values.T)
        self.member_covariance: FloatArray = entries_first(covariance)
        self.member_variance: FloatArray = np.ascontiguousarray(
            np.diagonal(covariance, axis1=1, axis2=2).T
        )
        counts = self.statistics.counts.astype(float)
        self.predictive_means: FloatArray = np.ascontiguousarray(self.statistics.means.T)
        self.predictive_covariance: FloatArray = entries_first(
            self.statistics.covariances * ((counts + 1) / counts)[:, None, None]
        )

    def members_of(
        self, positions: IntArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, IntArray]:
        """Members (k, n), their covariances (k, k, n) and variances (k, n), and segment
        starts, restricted to the groups at ``positions`` (no copy when all are wanted)."""
        if positions.size == self.group_ids.size:
            return self.members, self.member_covariance, self.member_variance, self.starts
        counts = self.statistics.counts[positions]
        indices = np.concatenate(
            [
                np.arange(start, start + count)
                for start, count in zip(
                    self.starts[positions].tolist(), counts.tolist(), strict=True
                )
            ]
        )
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        return (
            self.members[:, indices],
            self.member_covariance[:, :, indices],
            self.member_variance[:, indices],
            starts,
        )


class SourceView:
    """The sources expressed in one ratio basis (one reference isotope per element)."""

    def __init__(self, prepared: PreparedSources, references: Mapping[str, int]) -> None:
        conversion = to_basis(
            prepared.quantity_names,
            prepared.raw_values,
            prepared.raw_two_sigma,
            references=references,
            default_relative_2s=prepared.default_relative_2s,
            default_delta_2s=prepared.default_delta_2s,
        )
        if len(conversion.quantities) > MAX_QUANTITIES:
            raise InvalidSourcesError(
                f"at most {MAX_QUANTITIES} basis quantities are supported, "
                f"got {len(conversion.quantities)}"
            )
        self.quantities: tuple[Quantity, ...] = conversion.quantities
        self.names: tuple[str, ...] = conversion.names
        self.values: FloatArray = conversion.values
        self.covariance: FloatArray = np.nan_to_num(conversion.covariance, nan=0.0)
        self.variance: FloatArray = np.ascontiguousarray(
            np.diagonal(conversion.covariance, axis1=1, axis2=2).T
        )
        self.values_by_column: FloatArray = np.ascontiguousarray(conversion.values.T)
        self.available = np.isfinite(conversion.values)
        self.masks: IntArray = bitmasks(self.available)
        self.group_index = prepared.group_index
        self.n_groups = len(prepared.group_names)
        self._subsets: dict[int, Subset] = {}
        self._patterns = self._group_patterns()
        self._one_pattern_per_group = np.unique(self._patterns[0]).size == self._patterns[0].size
        means, variances = [], []
        for column in range(len(self.quantities)):
            known = self.values[self.available[:, column], column]
            means.append(known.mean() if known.size else np.nan)
            variances.append(known.var() if known.size > 1 else np.nan)
        self.background_mean = np.array(means)
        self.background_variance = np.array(variances)

    def subset(self, mask: int) -> Subset:
        found = self._subsets.get(mask)
        if found is None:
            found = self._subsets[mask] = Subset(self, mask)
        return found

    def _group_patterns(self) -> tuple[IntArray, IntArray, IntArray]:
        """Distinct (group, pattern) pairs with their member counts."""
        width = len(self.quantities)
        keys, counts = np.unique(
            (self.group_index << np.int64(width)) | self.masks, return_counts=True
        )
        patterns = keys & ((np.int64(1) << np.int64(width)) - 1)
        return keys >> np.int64(width), patterns, counts.astype(np.int64)

    def shared_masks(self, sample_mask: int) -> IntArray:
        """Columns each group is compared on: the sample's columns ∩ a member pattern,
        choosing the most columns, then the most members having them all (0: none)."""
        groups, patterns, counts = self._patterns
        candidates = patterns & np.int64(sample_mask)
        if self._one_pattern_per_group:
            shared = np.zeros(self.n_groups, dtype=np.int64)
            shared[groups] = candidates
            return shared
        return self._shared_masks_mixed(groups, patterns, counts, candidates)

    def _shared_masks_mixed(
        self, groups: IntArray, patterns: IntArray, counts: IntArray, candidates: IntArray
    ) -> IntArray:
        shared = np.zeros(self.n_groups, dtype=np.int64)
        best = np.full((self.n_groups, 2), -1, dtype=np.int64)
        sizes = np.bitwise_count(candidates)
        boundaries = np.flatnonzero(np.diff(groups)) + 1
        for block in np.split(np.arange(groups.size), boundaries):
            group = int(groups[block[0]])
            for index in block:
                candidate = candidates[index]
                members = counts[block][(patterns[block] & candidate) == candidate].sum()
                key = (int(sizes[index]), int(members))
                if key > tuple(best[group]):
                    best[group] = key
                    shared[group] = candidate
        return shared


class PreparedSources:
    """Sources sorted by group with memoised views and subsets; build with prepare_sources."""

    def __init__(
        self,
        quantity_names: tuple[str, ...],
        raw_values: FloatArray,
        raw_two_sigma: FloatArray,
        group_names: tuple[str, ...],
        group_index: IntArray,
        source_ids: ObjectArray,
        latitudes: FloatArray,
        longitudes: FloatArray,
        materials: ObjectArray,
        default_relative_2s: float,
        default_delta_2s: float,
    ) -> None:
        self.quantity_names = quantity_names
        self.raw_values = raw_values
        self.raw_two_sigma = raw_two_sigma
        self.group_names = group_names
        self.group_index = group_index
        self.source_ids = source_ids
        self.latitudes = latitudes
        self.longitudes = longitudes
        self.materials = materials
        self.default_relative_2s = default_relative_2s
        self.default_delta_2s = default_delta_2s
        self.group_sizes: IntArray = np.bincount(group_index, minlength=len(group_names))
        self.default_references = choose_references(parse_quantities(quantity_names))
        self._views: dict[tuple[tuple[str, int], ...], SourceView] = {}
        self._by_material: dict[str, PreparedSources | None] = {}

    @property
    def n_sources(self) -> int:
        return int(self.group_index.size)

    @cached_property
    def centroids(self) -> tuple[Coordinates | None, ...]:
        starts = np.searchsorted(self.group_index, np.arange(len(self.group_names)))
        ends = np.append(starts[1:], self.n_sources)
        return tuple(
            spherical_mean(self.latitudes[s:e], self.longitudes[s:e])
            for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
        )

    @cached_property
    def materials_available(self) -> tuple[str, ...]:
        return tuple(sorted({m for m in self.materials.tolist() if m is not None}))

    def view(self, references: Mapping[str, int]) -> SourceView:
        """The sources in the basis with these reference isotopes (memoised)."""
        key = tuple(sorted(references.items()))
        found = self._views.get(key)
        if found is None:
            found = self._views[key] = SourceView(self, references)
        return found

    def for_material(self, material: str) -> PreparedSources | None:
        """The sources of one material type, or None when there are none (memoised)."""
        if material not in self._by_material:
            keep = np.array([m == material for m in self.materials.tolist()], dtype=bool)
            self._by_material[material] = self._restricted(keep) if keep.any() else None
        return self._by_material[material]

    def _restricted(self, keep: NDArray[np.bool_]) -> PreparedSources:
        used_groups, group_index = np.unique(self.group_index[keep], return_inverse=True)
        restricted = PreparedSources(
            quantity_names=self.quantity_names,
            raw_values=self.raw_values[keep],
            raw_two_sigma=self.raw_two_sigma[keep],
            group_names=tuple(self.group_names[g] for g in used_groups.tolist()),
            group_index=group_index.reshape(-1).astype(np.int64),
            source_ids=self.source_ids[keep],
            latitudes=self.latitudes[keep],
            longitudes=self.longitudes[keep],
            materials=self.materials[keep],
            default_relative_2s=self.default_relative_2s,
            default_delta_2s=self.default_delta_2s,
        )
        restricted.warm_up()
        return restricted

    def warm_up(self) -> None:
        """Compute the default view and its full-basis group statistics now."""
        view = self.view(self.default_references)
        for mask in np.unique(view.masks).tolist():
            if mask:
                view.subset(int(mask))


def prepare_sources(
    quantities: Sequence[str],
    values: ArrayLike,
    two_sigma: ArrayLike | None,
    groups: Sequence[str],
    *,
    source_ids: Sequence[Hashable] | None = None,
    latitudes: ArrayLike | None = None,
    longitudes: ArrayLike | None = None,
    materials: Sequence[str | None] | None = None,
    default_relative_2s: float = DEFAULT_RELATIVE_2S,
    default_delta_2s: float = DEFAULT_DELTA_2S,
) -> PreparedSources:
    """Validate and prepare n source samples for matching.

    ``values``/``two_sigma``: (n, c) arrays over the ``quantities`` names, NaN = not measured
    (2σ NaN or 0 = not reported, replaced by the defaults). ``groups``: the group label of
    each source (sector, zone, mining area...). Coordinates in decimal degrees, NaN unknown.
    Raises InvalidSourcesError / InvalidQuantityError / InvalidValueError.
    """
    names = tuple(quantities)
    parse_quantities(names)
    matrix = _as_matrix(values, "values")
    n = matrix.shape[0]
    if n == 0:
        raise InvalidSourcesError("no source samples to match against")
    if matrix.shape[1] != len(names):
        raise InvalidSourcesError(
            f"values has {matrix.shape[1]} columns but {len(names)} quantities are named"
        )
    uncertainties = (
        np.full_like(matrix, np.nan) if two_sigma is None else _as_matrix(two_sigma, "two_sigma")
    )
    if uncertainties.shape != matrix.shape:
        raise InvalidSourcesError(
            f"two_sigma shape {uncertainties.shape} differs from values shape {matrix.shape}"
        )
    labels = _labels(groups, n)
    ids = np.array(list(range(n)) if source_ids is None else list(source_ids), dtype=object)
    lat = _coordinates(latitudes, n, "latitudes", 90.0)
    lon = _coordinates(longitudes, n, "longitudes", 180.0)
    kinds = np.array([None] * n if materials is None else list(materials), dtype=object)
    for name, array in (("source_ids", ids), ("materials", kinds)):
        if array.shape != (n,):
            raise InvalidSourcesError(f"{name} has {array.shape[0]} entries for {n} sources")

    group_names, group_index = _factorise(labels)
    order = np.argsort(group_index, kind="stable")
    prepared = PreparedSources(
        quantity_names=names,
        raw_values=matrix[order],
        raw_two_sigma=uncertainties[order],
        group_names=group_names,
        group_index=group_index[order],
        source_ids=ids[order],
        latitudes=lat[order],
        longitudes=lon[order],
        materials=kinds[order],
        default_relative_2s=default_relative_2s,
        default_delta_2s=default_delta_2s,
    )
    try:
        prepared.warm_up()
    except InvalidValueError as error:
        raise InvalidSourcesError(f"source values: {error}") from error
    return prepared


def _as_matrix(values: ArrayLike, name: str) -> FloatArray:
    try:
        matrix = np.array(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise InvalidSourcesError(f"{name} must be numeric: {error}") from error
    if matrix.ndim != 2:
        raise InvalidSourcesError(f"{name} must be a 2-D array (sources × quantities)")
    return matrix


def _labels(groups: Sequence[str], n: int) -> list[str]:
    labels = list(groups)
    if len(labels) != n:
        raise InvalidSourcesError(f"groups has {len(labels)} labels for {n} sources")
    bad = next((i for i, label in enumerate(labels) if not isinstance(label, str)), None)
    if bad is not None:
        raise InvalidSourcesError(f"group label of source {bad} is not a string: {labels[bad]!r}")
    return labels


def _factorise(labels: list[str]) -> tuple[tuple[str, ...], IntArray]:
    """Sorted distinct labels and each label's index (a dict beats sorting strings)."""
    names = tuple(sorted(set(labels)))
    index_of = {name: i for i, name in enumerate(names)}
    return names, np.array([index_of[label] for label in labels], dtype=np.int64)


def _coordinates(values: ArrayLike | None, n: int, name: str, limit: float) -> FloatArray:
    if values is None:
        return np.full(n, np.nan)
    try:
        array = np.array(values, dtype=float).reshape(-1)
    except (TypeError, ValueError) as error:
        raise InvalidSourcesError(f"{name} must be numeric: {error}") from error
    if array.shape != (n,):
        raise InvalidSourcesError(f"{name} has {array.size} entries for {n} sources")
    outside = np.isfinite(array) & (np.abs(array) > limit)
    if outside.any() or np.isinf(array).any():
        index = int(np.flatnonzero(outside | np.isinf(array))[0])
        raise InvalidSourcesError(f"{name}[{index}] = {array[index]} is outside ±{limit}")
    return array
