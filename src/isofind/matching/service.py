"""The rules of an analysis: which sample, which sources, which options, and the answer.

The route layer hands a body; this module resolves the sample (stored or typed in), checks
and normalises its isotope values with the samples vocabulary, fetches the prepared sources
(cached per index generation, narrowed to what the viewer may read), runs the pure engine,
shapes the answer, stores it as a report and logs the activity. It never commits: the
request's unit of work does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy.orm import Session

from isofind.activity.service import record as record_activity
from isofind.config import Settings
from isofind.errors import ApiError, ServiceUnavailable, Unprocessable
from isofind.matching import reports
from isofind.matching.basis import Ratio
from isofind.matching.engine import (
    ALGORITHMS,
    DEFAULT_FRACTIONATION_2S_PER_AMU,
    DEFAULT_INTERLAB_RELATIVE_2S,
    ENGINE_VERSION,
    LIKELIHOODS,
    IsotopeValue,
    MatchOptions,
    MatchResult,
    match_batch,
)
from isofind.matching.errors import MatchingInputError
from isofind.matching.repository import (
    GROUP_FIELDS,
    BoundingBox,
    Readable,
    SourceCache,
    SourceFilter,
    SourceSet,
    engine_quantity,
    readable,
    restrict_to_ids,
)
from isofind.matching.schemas import (
    DEFAULT_THRESHOLD,
    MANUAL_THRESHOLD,
    AdvancedIn,
    IsotopeItemIn,
    ManualAnalyzeIn,
    MatchingOptionsIn,
    SelectionIn,
)
from isofind.matching.sources import PreparedSources
from isofind.matching.zones import (
    ZoneCache,
    ZoneSet,
    count_zones,
    unknown_zone_names,
    zone_weights,
)
from isofind.permissions.service import Viewer
from isofind.reference.elements.service import custom_symbols
from isofind.samples import service as samples
from isofind.samples.rules import Problems
from isofind.samples.vocabulary import (
    normalise_element,
    normalise_material,
    parse_isotope_quantity,
)

COMMUNITY_UNAVAILABLE = (
    "the community database is not available on this server yet; use database_sources "
    '"local" (live samples) and/or "archive" (archived samples)'
)

# --- runtime: per-process caches --------------------------------------------------------------


@dataclass
class MatchingRuntime:
    """What a process keeps between analyses: the settings and the caches."""

    settings: Settings
    sources: SourceCache
    zones: ZoneCache

    @classmethod
    def create(cls, settings: Settings) -> MatchingRuntime:
        return cls(settings, SourceCache(settings.match_cache_size), ZoneCache())


# --- the query sample -------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryValue:
    """One isotope value of the query, element and ratio in canonical form."""

    element: str
    ratio: str
    value: float
    uncertainty: float | None
    standard: str | None
    normalized_value: float | None = None
    normalized_uncertainty: float | None = None

    @property
    def normalized(self) -> bool:
        return self.normalized_value is not None

    def for_engine(self) -> IsotopeValue:
        if self.normalized_value is None:
            return IsotopeValue(self.ratio, self.value, self.uncertainty, False)
        sigma = self.normalized_uncertainty
        if sigma is None and self.uncertainty is not None and self.value:
            # Bracketing scales the value: its relative uncertainty carries over.
            sigma = self.uncertainty * self.normalized_value / self.value
        return IsotopeValue(self.ratio, self.normalized_value, sigma, True)

    def view(self) -> dict[str, Any]:
        return {
            "element": self.element, "ratio": self.ratio, "value": self.value,
            "uncertainty": self.uncertainty, "standard": self.standard,
            "normalized_value": self.normalized_value,
            "normalized_uncertainty": self.normalized_uncertainty,
            "is_normalized": self.normalized,
        }


@dataclass
class Query:
    sample: dict[str, Any]
    sample_id: int | None
    material: str | None
    values: list[QueryValue]
    warnings: list[str] = field(default_factory=list)

    def inputs(self) -> dict[str, Any]:
        return {**self.sample, "isotope_data": [value.view() for value in self.values]}


def _resolve_item(element_text: str, ratio_text: str,
                  custom: Collection[str]) -> tuple[str | None, str | None, str | None]:
    """(element, canonical ratio, problem) for one item's spelling."""
    element = normalise_element(element_text, custom)
    quantity = parse_isotope_quantity(ratio_text, custom)
    if element is None:
        return None, None, f"unknown element {element_text!r}"
    if quantity is None:
        return element, None, (f"{ratio_text!r} is not an isotope ratio (206Pb/204Pb) or "
                               "delta (δ65Cu)")
    if element not in quantity.elements:
        return element, None, f"{quantity.name} is not a quantity of {element}"
    return element, quantity.name, None


def clean_items(items: Sequence[IsotopeItemIn], custom: Collection[str]) -> list[QueryValue]:
    """Typed-in values with canonical spellings; every problem in one 422 naming the item."""
    problems = Problems()
    values: list[QueryValue] = []
    first_of: dict[str, int] = {}
    for index, item in enumerate(items):
        element, ratio, problem = _resolve_item(item.element, item.ratio, custom)
        if problem is not None:
            field_name = "element" if element is None else "ratio"
            problems.add(("isotope_data", index, field_name), problem,
                         getattr(item, field_name))
            continue
        assert element is not None and ratio is not None
        quantity = engine_quantity(ratio)
        if isinstance(quantity, Ratio) and item.value <= 0:
            problems.add(("isotope_data", index, "value"), f"a ratio must be positive, got "
                         f"{item.value:g}", item.value)
            continue
        if ratio in first_of:
            problems.add(("isotope_data", index, "ratio"), f"{ratio} is given twice (items "
                         f"{first_of[ratio]} and {index})", item.ratio)
            continue
        first_of[ratio] = index
        values.append(QueryValue(element, ratio, item.value, item.uncertainty, item.standard,
                                 item.normalized_value, item.normalized_uncertainty))
    problems.raise_if_any()
    return values


def _stored_values(sample_id: int, items: Iterable[Mapping[str, Any]],
                   custom: Collection[str]) -> tuple[list[QueryValue], list[str]]:
    """A stored sample's values; unreadable ones are skipped with a warning, and a quantity
    measured twice keeps its later measurement (the higher isotope id)."""
    by_ratio: dict[str, QueryValue] = {}
    warnings = []
    for item in items:
        element, ratio, problem = _resolve_item(str(item.get("element") or ""),
                                                str(item.get("ratio") or ""), custom)
        value = item.get("value")
        if problem is not None or not isinstance(value, int | float):
            reason = problem or "no numeric value"
            warnings.append(f"isotope value {item.get('isotope_id')} of sample {sample_id} "
                            f"not used: {reason}")
            continue
        assert element is not None and ratio is not None
        if ratio in by_ratio:
            warnings.append(f"{ratio} is measured more than once in sample {sample_id}: the "
                            f"latest measurement (isotope value {item.get('isotope_id')}) "
                            "was used")
        by_ratio[ratio] = QueryValue(
            element, ratio, float(value), _number(item.get("uncertainty")),
            item.get("standard"), _number(item.get("normalized_value")),
            _number(item.get("normalized_uncertainty")))
    return list(by_ratio.values()), warnings


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _sample_echo(sample: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "sample_id": sample.get("sample_id"),
        "name": sample.get("name"),
        "material_type": sample.get("material_type"),
        "classification": sample.get("classification"),
        "sector": sample.get("sector"),
        "project": sample.get("project"),
        "latitude": sample.get("latitude"),
        "longitude": sample.get("longitude"),
        "archived": sample.get("archived", False),
        "temporary": False,
    }


def stored_query(db: Session, viewer: Viewer, sample_id: int,
                 override: Sequence[IsotopeItemIn] = ()) -> Query:
    """A database sample (404 when unknown or unreadable), its values or the ``override``."""
    sample = samples.get_sample(db, viewer, sample_id)
    custom = custom_symbols(db)
    if override:
        values, warnings = clean_items(override, custom), []
    else:
        values, warnings = _stored_values(sample_id, sample.get("isotope_data") or [], custom)
        if not values:
            raise Unprocessable(f"sample {sample_id} has no isotope values to match; give "
                                "isotope_data")
    return Query(_sample_echo(sample), sample_id, sample.get("material_type"), values, warnings)


def manual_query(db: Session, body: ManualAnalyzeIn) -> Query:
    """A temporary sample typed in: never stored."""
    material = normalise_material(body.material_type) if body.material_type else None
    values = clean_items(body.isotope_data, custom_symbols(db))
    sample = {
        "sample_id": None, "name": body.sample_name or "manual sample",
        "material_type": material or None, "classification": None, "sector": None,
        "project": None, "latitude": None, "longitude": None, "archived": False,
        "temporary": True,
    }
    return Query(sample, None, material or None, values)


# --- options ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Analysis:
    """Every option of one analysis, resolved (defaults applied)."""

    route: str
    algorithm: str
    threshold: float
    alpha: float
    classification_filter: str
    database_sources: tuple[str, ...]
    same_material: bool
    group_by: str
    priors: str
    likelihood: str
    max_groups: int
    n_nearest: int
    zone_priors: Mapping[str, float] | None = None
    material_override: str | None = None
    material_types: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    bbox: BoundingBox | None = None
    date_from: str | None = None
    date_to: str | None = None
    elements: tuple[str, ...] | None = None
    ratios: tuple[str, ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "route": self.route, "algorithm": self.algorithm, "threshold": self.threshold,
            "alpha": self.alpha, "classification_filter": self.classification_filter,
            "database_sources": list(self.database_sources),
            "same_material": self.same_material, "group_by": self.group_by,
            "priors": self.priors, "zone_priors": dict(self.zone_priors or {}) or None,
            "likelihood": self.likelihood, "max_groups": self.max_groups,
            "n_nearest": self.n_nearest, "material_type": self.material_override,
            "material_types": list(self.material_types), "projects": list(self.projects),
            "bbox": None if self.bbox is None else vars(self.bbox),
            "date_from": self.date_from, "date_to": self.date_to,
            "elements": None if self.elements is None else list(self.elements),
            "ratios": None if self.ratios is None else list(self.ratios),
        }

    def source_filter(self, elements: tuple[str, ...]) -> SourceFilter:
        archived = tuple(sorted({source == "archive" for source in self.database_sources
                                 if source in ("local", "archive")}))
        return SourceFilter(
            elements=elements, classification=self.classification_filter, archived=archived,
            group_by=self.group_by, material_types=self.material_types, projects=self.projects,
            bbox=self.bbox, date_from=self.date_from, date_to=self.date_to)


def analysis_options(
    body: MatchingOptionsIn, route: str, settings: Settings, db: Session, *,
    threshold: float | None = None,
) -> Analysis:
    """Resolve a body's options; element and ratio selections are normalised (422 if not)."""
    if "community" in body.database_sources:
        raise ServiceUnavailable(COMMUNITY_UNAVAILABLE)
    custom = custom_symbols(db)
    elements: list[str] | None = None
    ratios: list[str] | None = None
    problems = Problems()
    selection = body if isinstance(body, SelectionIn) else None
    if selection is not None and selection.elements is not None:
        elements = []
        for index, text in enumerate(selection.elements):
            symbol = normalise_element(text, custom)
            if symbol is None:
                problems.add(("elements", index), f"unknown element {text!r}", text)
            else:
                elements.append(symbol)
    if selection is not None and selection.ratios is not None:
        ratios = []
        for index, text in enumerate(selection.ratios):
            quantity = parse_isotope_quantity(text, custom)
            if quantity is None:
                problems.add(("ratios", index), f"{text!r} is not an isotope ratio or delta",
                             text)
            else:
                ratios.append(quantity.name)
    problems.raise_if_any()
    advanced = body if isinstance(body, AdvancedIn) else None
    zone_priors = advanced.zone_priors if advanced else None
    priors = body.priors or ("zones" if zone_priors else "uniform")
    bbox = None
    if advanced and advanced.bbox:
        box = advanced.bbox
        bbox = BoundingBox(box.min_latitude, box.max_latitude, box.min_longitude,
                           box.max_longitude)
    default_threshold = (MANUAL_THRESHOLD if isinstance(body, ManualAnalyzeIn)
                         else DEFAULT_THRESHOLD)
    return Analysis(
        route=route,
        algorithm=body.algorithm,
        threshold=threshold if threshold is not None else getattr(
            body, "threshold", default_threshold),
        alpha=settings.match_alpha,
        classification_filter=body.classification_filter,
        database_sources=tuple(dict.fromkeys(body.database_sources)),
        same_material=body.same_material,
        group_by=body.group_by,
        priors=priors,
        likelihood=body.likelihood,
        max_groups=body.max_groups or settings.match_max_groups,
        n_nearest=settings.match_nearest if body.n_nearest is None else body.n_nearest,
        zone_priors=zone_priors,
        material_override=(normalise_material(advanced.material_type)
                           if advanced and advanced.material_type else None),
        material_types=tuple(sorted({normalise_material(m) for m in advanced.material_types}))
        if advanced and advanced.material_types else (),
        projects=tuple(sorted(set(advanced.projects))) if advanced and advanced.projects
        else (),
        bbox=bbox,
        date_from=advanced.date_from.isoformat() if advanced and advanced.date_from else None,
        date_to=advanced.date_to.isoformat() if advanced and advanced.date_to else None,
        elements=None if elements is None else tuple(dict.fromkeys(elements)),
        ratios=None if ratios is None else tuple(dict.fromkeys(ratios)),
    )


# --- running ----------------------------------------------------------------------------------


@dataclass
class _Prepared:
    """One query ready for the engine."""

    query: Query
    values: list[QueryValue]
    engine_values: list[IsotopeValue]
    elements: tuple[str, ...]
    material: str | None
    warnings: list[str]


def _prepare_query(query: Query, analysis: Analysis) -> _Prepared:
    warnings = list(query.warnings)
    values = query.values
    if analysis.elements is not None:
        values = [v for v in values if v.element in analysis.elements]
    if analysis.ratios is not None:
        values = [v for v in values if v.ratio in analysis.ratios]
        missing = [r for r in analysis.ratios if r not in {v.ratio for v in query.values}]
        if missing:
            warnings.append(f"ratios selected but not measured: {', '.join(missing)}")
    usable, unsupported, elements = [], [], set()
    for value in values:
        quantity = engine_quantity(value.ratio)
        if quantity is None:
            unsupported.append(value)
        else:
            usable.append(value)
            elements.add(quantity.element)
    if unsupported:
        warnings.append(
            f"{', '.join(v.ratio for v in unsupported)} not used: matching compares isotope "
            "ratios of one element (like 206Pb/204Pb) and single-mass deltas (like δ65Cu)")
    if not usable:
        selected = analysis.elements is not None or analysis.ratios is not None
        message = "no isotope value of the sample can be matched"
        if selected:
            message += " with the elements and ratios selected"
        if warnings:
            message += f" ({'; '.join(warnings)})"
        raise Unprocessable(message)
    material = None
    if analysis.same_material:
        material = analysis.material_override or query.material
        if material is None:
            warnings.append("same_material: the sample has no material type, so sources of "
                            "every material were compared")
    return _Prepared(query, usable, [v.for_engine() for v in usable],
                     tuple(sorted(elements)), material, warnings)


def _needs_zones(analysis: Analysis) -> bool:
    return analysis.group_by == "zone" or analysis.priors == "zones"


def _group_zone_weights(
    zones: ZoneSet, analysis: Analysis
) -> Callable[[SourceSet], dict[str, float]]:
    """A function giving each group of a source set its zone prior weight."""
    weights = zone_weights(zones, dict(analysis.zone_priors or {}))

    def compute(source_set: SourceSet) -> dict[str, float]:
        prepared = source_set.prepared
        if prepared is None:
            return {}
        if analysis.group_by == "zone":
            return {name: weights.get(name, 1.0) for name in prepared.group_names}
        result = {}
        for name, centroid in zip(prepared.group_names, prepared.centroids, strict=True):
            zone = (None if centroid is None
                    else zones.smallest_containing(centroid.latitude, centroid.longitude))
            result[name] = weights[zone.name] if zone is not None else 1.0
        return result

    return compute


def _engine_priors(analysis: Analysis, source_set: SourceSet, sources: PreparedSources,
                   zones: ZoneSet | None) -> str | dict[str, float]:
    if analysis.priors != "zones":
        return analysis.priors
    assert zones is not None
    key = (zones.key, tuple(sorted((analysis.zone_priors or {}).items())))
    per_group = source_set.group_priors(key, _group_zone_weights(zones, analysis))
    present = set(sources.group_names)
    # Groups not named weigh 1: name only the others, and only those present (the engine
    # warns about unknown names).
    return {g: w for g, w in per_group.items() if g in present and w != 1.0}


@dataclass(frozen=True)
class _Visible:
    """Counts about a source set, over the samples the viewer may read only."""

    samples: int
    ungrouped: int
    dropped: int
    normalized: int

    @classmethod
    def of(cls, source_set: SourceSet, access: Readable) -> _Visible:
        def count(ids: Any) -> int:
            return int(access.mask(ids).sum()) if ids.size else 0

        return cls(count(source_set.sample_ids), count(source_set.ungrouped_ids),
                   count(source_set.dropped_ids), count(source_set.normalized_ids))


def _sources_summary(analysis: Analysis, source_set: SourceSet,
                     visible: _Visible) -> dict[str, Any]:
    return {
        "database_sources": list(analysis.database_sources),
        "classification_filter": analysis.classification_filter,
        "group_by": analysis.group_by,
        "index_generation": source_set.generation,
        "samples_selected": visible.samples,
        "normalized_values": visible.normalized,
        "filters": {k: v for k, v in source_set.filter.as_dict().items()
                    if k not in ("classification_filter", "archived", "group_by")},
    }


def _set_warnings(analysis: Analysis, visible: _Visible) -> list[str]:
    warnings = []
    if visible.ungrouped:
        where = ("lie outside every zone or have no coordinates" if analysis.group_by == "zone"
                 else f"have no {analysis.group_by}")
        warnings.append(f"{visible.ungrouped} source sample(s) {where} and were left out")
    if visible.dropped:
        warnings.append(f"{visible.dropped} source value(s) were not usable "
                        "(non-positive ratio or non-finite value) and were left out")
    if visible.normalized:
        warnings.append(f"{visible.normalized} source value(s) normalized to their "
                        "standard were used instead of the measured values")
    return warnings


def _no_source_result(analysis: Analysis) -> MatchResult:
    wanted = " and ".join(analysis.database_sources)
    filters = f"{analysis.classification_filter} in the {wanted} database"
    return MatchResult(
        algorithm=analysis.algorithm, threshold=analysis.threshold, alpha=analysis.alpha,
        likelihood=analysis.likelihood, ratios_used=(), values=(), groups=(), matches=(),
        warnings=(f"no source sample you may read matches the filters ({filters}, with the "
                  "sample's elements)",),
        n_sources=0)


def _clean_float(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _answer(prepared: _Prepared, analysis: Analysis, result: MatchResult,
            source_set: SourceSet, sources: PreparedSources | None, visible: _Visible,
            extra_warnings: list[str]) -> dict[str, Any]:
    names, sectors = source_set.names, source_set.sectors
    seen: set[int] = set()
    matches = []
    for source in result.matches:
        sample_id = int(cast(int, source.source_id))  # the engine types ids as Hashable
        if sample_id in seen:  # a sample in two overlapping zones is listed once
            continue
        seen.add(sample_id)
        matches.append({
            "sample_id": sample_id, "name": names.get(sample_id),
            "sector": sectors.get(sample_id), "group": source.group,
            "material_type": source.material, "score": source.score,
            "distance": _clean_float(source.distance), "latitude": source.latitude,
            "longitude": source.longitude, "n_ratios": source.n_ratios,
        })
        if len(matches) == analysis.n_nearest:
            break
    groups = [{
        "group": g.group, "score": _clean_float(g.score) or 0.0,
        "p_value": _clean_float(g.p_value),
        "posterior": _clean_float(g.posterior), "n_sources": g.n_sources,
        "centroid": None if g.centroid is None else {
            "latitude": g.centroid.latitude, "longitude": g.centroid.longitude},
        "matched": g.matched, "compatible": g.compatible,
        "distance": _clean_float(g.distance), "ratios": list(g.ratios),
    } for g in result.groups]
    values = [{
        "ratio": v.quantity, "value": v.value, "uncertainty": v.two_sigma,
        "normalized": v.normalized, "derived_from": list(v.derived_from),
    } for v in result.values]
    return {
        "sample": {**prepared.query.sample,
                   "isotope_data": [value.view() for value in prepared.values]},
        "algorithm": result.algorithm,
        "threshold": result.threshold,
        "alpha": result.alpha,
        "likelihood": result.likelihood,
        "priors": analysis.priors,
        "ratios_used": list(result.ratios_used),
        "values": values,
        "normalized": [v.ratio for v in prepared.values if v.normalized],
        "groups": groups,
        "n_groups": 0 if sources is None else len(sources.group_names),
        "groups_matched": sum(1 for g in groups if g["matched"]),
        "matches": matches,
        "n_sources": result.n_sources,
        "sources": _sources_summary(analysis, source_set, visible),
        "warnings": [*prepared.warnings, *extra_warnings, *result.warnings],
        "engine_version": ENGINE_VERSION,
    }


def _error(error: ApiError) -> dict[str, Any]:
    return {"error": error.detail, "status_code": error.status_code}


def run_analyses(db: Session, runtime: MatchingRuntime, viewer: Viewer,
                 queries: Sequence[Query | ApiError], analysis: Analysis,
                 ) -> tuple[list[dict[str, Any] | ApiError], int]:
    """Answers (or the error of each query, isolated), and the index generation used.

    Queries sharing elements and material run through the engine together; the readable
    ids are read once per source filter. A stored sample that is itself one of the sources
    must not match itself: it runs alone against the sources without it.
    """
    outcomes: list[dict[str, Any] | ApiError | None] = [None] * len(queries)
    ready: dict[tuple[tuple[str, ...], str | None], list[tuple[int, _Prepared]]] = {}
    for index, query in enumerate(queries):
        if isinstance(query, ApiError):
            outcomes[index] = query
            continue
        try:
            prepared = _prepare_query(query, analysis)
        except ApiError as error:
            outcomes[index] = error
            continue
        ready.setdefault((prepared.elements, prepared.material), []).append((index, prepared))
    zones = runtime.zones.get(db) if _needs_zones(analysis) else None
    zone_warnings = _zone_warnings(analysis, zones)
    access_by_filter: dict[SourceFilter, Readable] = {}
    generation = 0
    for (elements, material), items in ready.items():
        source_filter = analysis.source_filter(elements)
        source_set = runtime.sources.get(db, source_filter, zones)
        generation = max(generation, source_set.generation)
        if source_filter not in access_by_filter:
            access_by_filter[source_filter] = readable(db, viewer, source_set)
        access = access_by_filter[source_filter]
        visible = _Visible.of(source_set, access)
        extra = [*zone_warnings, *_set_warnings(analysis, visible)]
        shared: list[tuple[int, _Prepared]] = []
        for item in items:
            sample_id = item[1].query.sample_id
            if sample_id is not None and sample_id in source_set.member_ids:
                note = (f"sample {sample_id} is itself one of the sources: it was left out "
                        "of them for its own analysis")
                _run_batch(analysis, source_set, restrict_to_ids(source_set, access,
                                                                 (sample_id,)),
                           material, zones, [item], visible, [*extra, note], outcomes)
            else:
                shared.append(item)
        if shared:
            _run_batch(analysis, source_set, restrict_to_ids(source_set, access), material,
                       zones, shared, visible, extra, outcomes)
    return [outcome for outcome in outcomes if outcome is not None], generation


def _zone_warnings(analysis: Analysis, zones: ZoneSet | None) -> list[str]:
    if zones is None:
        return []
    warnings = []
    if analysis.zone_priors:
        unknown = unknown_zone_names(zones, list(analysis.zone_priors))
        if unknown:
            warnings.append(f"zone_priors name unknown zones: {', '.join(unknown)}")
    if not zones.zones:
        warnings.append("no zone is defined (POST /api/zones): zones neither group sources "
                        "nor weigh priors")
    return warnings


def _run_batch(analysis: Analysis, source_set: SourceSet, sources: PreparedSources | None,
               material: str | None, zones: ZoneSet | None, items: list[tuple[int, _Prepared]],
               visible: _Visible, extra: list[str],
               outcomes: list[dict[str, Any] | ApiError | None]) -> None:
    if sources is None:
        for index, prepared in items:
            outcomes[index] = _answer(prepared, analysis, _no_source_result(analysis),
                                      source_set, None, visible, extra)
        return
    options = MatchOptions(
        algorithm=analysis.algorithm, threshold=analysis.threshold, alpha=analysis.alpha,
        likelihood=analysis.likelihood,
        priors=_engine_priors(analysis, source_set, _material_view(sources, material), zones),
        material=material,
        # Overlapping zones list a sample once per zone: ask for more, keep distinct ones.
        n_nearest=analysis.n_nearest * (3 if source_set.has_duplicates else 1),
        max_groups=analysis.max_groups,
    )
    results = match_batch([prepared.engine_values for _, prepared in items], sources, options)
    for (index, prepared), result in zip(items, results, strict=True):
        if isinstance(result, MatchingInputError):
            outcomes[index] = Unprocessable(str(result))
        else:
            outcomes[index] = _answer(prepared, analysis, result, source_set, sources, visible,
                                      extra)


def _material_view(sources: PreparedSources, material: str | None) -> PreparedSources:
    if material is None:
        return sources
    return sources.for_material(material) or sources


# --- the operations the routes call -----------------------------------------------------------


def _store(db: Session, viewer: Viewer, query: Query, analysis: Analysis,
           answer: dict[str, Any], generation: int) -> int:
    report = reports.store(db, user_id=viewer.user_id, route=analysis.route,
                           inputs=query.inputs(), options=analysis.as_dict(), result=answer,
                           generation=generation)
    return report.id


def analyze(db: Session, runtime: MatchingRuntime, viewer: Viewer, query: Query,
            analysis: Analysis, *, client_address: str | None = None) -> dict[str, Any]:
    """One analysis: the answer with the id of its stored report."""
    outcomes, generation = run_analyses(db, runtime, viewer, [query], analysis)
    outcome = outcomes[0]
    if isinstance(outcome, ApiError):
        raise outcome
    report_id = _store(db, viewer, query, analysis, outcome, generation)
    record_activity(db, "matching.analyzed", user_id=viewer.user_id,
                    target_type="matching_report", target_id=report_id,
                    details={"route": analysis.route, "sample_id": query.sample_id,
                             "algorithm": analysis.algorithm,
                             "groups_matched": outcome["groups_matched"]},
                    client_address=client_address)
    return {"report_id": report_id, **outcome}


def analyze_batch(db: Session, runtime: MatchingRuntime, viewer: Viewer,
                  sample_ids: Sequence[int], analysis: Analysis, *,
                  client_address: str | None = None) -> dict[str, dict[str, Any]]:
    """sample_id → answer, or → {"error", "status_code"} for that sample alone."""
    distinct = list(dict.fromkeys(sample_ids))
    queries: list[Query | ApiError] = []
    for sample_id in distinct:
        try:
            queries.append(stored_query(db, viewer, sample_id))
        except ApiError as error:
            queries.append(error)
    outcomes, generation = run_analyses(db, runtime, viewer, queries, analysis)
    answers: dict[str, dict[str, Any]] = {}
    report_ids = []
    for sample_id, query, outcome in zip(distinct, queries, outcomes, strict=True):
        if isinstance(outcome, ApiError):
            answers[str(sample_id)] = _error(outcome)
            continue
        assert isinstance(query, Query)
        report_id = _store(db, viewer, query, analysis, outcome, generation)
        report_ids.append(report_id)
        answers[str(sample_id)] = {"report_id": report_id, **outcome}
    record_activity(db, "matching.batch", user_id=viewer.user_id,
                    target_type="matching_report",
                    details={"samples": len(distinct), "errors": len(distinct) - len(report_ids),
                             "report_ids": report_ids, "algorithm": analysis.algorithm},
                    client_address=client_address)
    return answers


def matching_config(runtime: MatchingRuntime) -> dict[str, Any]:
    settings = runtime.settings
    return {
        "engine_version": ENGINE_VERSION,
        "default_algorithm": "hybrid",
        "algorithms": list(ALGORITHMS),
        "thresholds": {"analyze": DEFAULT_THRESHOLD, "manual": MANUAL_THRESHOLD},
        "alpha": settings.match_alpha,
        "alpha_setting": "ISOFIND_MATCH_ALPHA",
        "scores": {
            "mahalanobis": "compatibility p-value (Hotelling prediction test)",
            "euclidean": "exp(-d²/2), d the uncertainty-weighted distance to the nearest source",
            "bayesian": "posterior probability of the group",
            "hybrid": "posterior among groups with p-value ≥ alpha, 0 for excluded groups",
        },
        "default_likelihood": "kernel",
        "likelihoods": list(LIKELIHOODS),
        "classification_filters": ["sources", "daughters", "all"],
        "database_sources": {"default": ["local"], "available": ["local", "archive"],
                             "unavailable": ["community"]},
        "group_by": {"default": "sector", "choices": list(GROUP_FIELDS)},
        "priors": {"default": "uniform", "choices": ["uniform", "proportional", "zones"]},
        "same_material": True,
        "max_groups": settings.match_max_groups,
        "n_nearest": settings.match_nearest,
        "interlab_relative_2s": DEFAULT_INTERLAB_RELATIVE_2S,
        "fractionation_2s_per_amu": dict(DEFAULT_FRACTIONATION_2S_PER_AMU),
        "cache": {"size": runtime.sources.size, "entries": len(runtime.sources),
                  "loads": runtime.sources.loads},
    }


def stats(db: Session, viewer: Viewer) -> dict[str, Any]:
    """Samples and elements the viewer may read, zones, and analyses calculated."""
    sample_stats = samples.stats(db, viewer)
    return {
        "samples": sample_stats["total_samples"],
        "samples_with_gps": sample_stats["samples_with_gps"],
        "isotope_values": sample_stats["total_isotope_values"],
        "elements": sample_stats["unique_elements"],
        "element_list": sample_stats["elements"],
        "by_classification": sample_stats["by_classification"],
        "zones": count_zones(db),
        "matches_calculated": reports.count(db),
    }
