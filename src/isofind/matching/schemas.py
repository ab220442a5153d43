"""Bodies of the matching and zone routes (shapes and ranges; vocabulary in the service)."""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from isofind.matching.zones import GeometryError, validate_geometry
from isofind.schemas import RequestBody

#: Spec defaults: /analyze and the sample-based routes, and the manual analyses.
DEFAULT_THRESHOLD = 0.85
MANUAL_THRESHOLD = 0.75

Algorithm = Literal["hybrid", "mahalanobis", "bayesian", "euclidean"]
ClassificationFilter = Literal["sources", "daughters", "all"]
DatabaseSource = Literal["local", "archive", "community"]
GroupBy = Literal["sector", "zone", "project", "material_type", "classification",
                  "collection_location"]
PriorMode = Literal["uniform", "proportional", "zones"]
Likelihood = Literal["kernel", "gaussian"]


def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Number = Annotated[float, AfterValidator(_finite)]
OptionalNumber = Annotated[float | None, AfterValidator(_finite)]
Threshold = Annotated[float, Field(ge=0, le=1, description="Score threshold, 0 to 1.")]


class IsotopeItemIn(RequestBody):
    """One isotope value of the sample to match; ``uncertainty`` is 2σ."""

    model_config = ConfigDict(extra="forbid")

    element: str = Field(min_length=1, max_length=40, examples=["Pb"])
    ratio: str = Field(min_length=1, max_length=60, examples=["206Pb/204Pb"],
                       description="Ratio or delta in any common spelling (Pb206/Pb204, δ65Cu).")
    value: Number
    uncertainty: OptionalNumber = Field(default=None, ge=0, description="2σ; none or 0: a "
                                        "default relative uncertainty is assumed.")
    standard: str | None = Field(default=None, max_length=200)
    normalized_value: OptionalNumber = Field(
        default=None, description="Extension: a value normalized to the standard's certified "
                                  "value, used instead of ``value``.")
    normalized_uncertainty: OptionalNumber = Field(default=None, ge=0)


class MatchingOptionsIn(RequestBody):
    """Options every analysis accepts (the spec's fields, then extensions)."""

    model_config = ConfigDict(extra="forbid")

    algorithm: Algorithm = Field("hybrid", description="hybrid, mahalanobis, bayesian or "
                                 "euclidean.")
    classification_filter: ClassificationFilter = Field(
        "sources", description="Sources to compare with: sources, daughters, or all.")
    database_sources: list[DatabaseSource] = Field(
        default_factory=lambda: ["local"], min_length=1, max_length=3,
        description="local (live samples), archive (archived samples), community.")
    same_material: bool = Field(True, description="Only sources of the sample's material type.")
    group_by: GroupBy = Field("sector", description="Extension: how sources form groups.")
    priors: PriorMode | None = Field(
        None, description="Extension: group priors of bayesian and hybrid: uniform (default), "
                          "proportional to group size, or zones (the zones' prior weights).")
    likelihood: Likelihood = Field("kernel", description="Extension: group density.")
    max_groups: int | None = Field(None, ge=1, le=100_000,
                                   description="Extension: groups listed (default 100).")
    n_nearest: int | None = Field(None, ge=0, le=1000,
                                  description="Extension: nearest sources listed (default 10).")


class AnalyzeIn(MatchingOptionsIn):
    sample_id: int = Field(description="Identifier of the sample in the database.")
    isotope_data: list[IsotopeItemIn] = Field(
        default_factory=list, max_length=1000,
        description="Isotopic data to use (if empty, uses data from the database).")
    threshold: Threshold = DEFAULT_THRESHOLD


class ManualAnalyzeIn(MatchingOptionsIn):
    """A temporary sample, never stored."""

    sample_name: str | None = Field(default=None, max_length=500)
    material_type: str | None = Field(default=None, max_length=200)
    isotope_data: list[IsotopeItemIn] = Field(min_length=1, max_length=1000)
    threshold: Threshold = MANUAL_THRESHOLD


class SelectionIn(RequestBody):
    """Which of the sample's values take part (none given: all)."""

    elements: list[str] | None = Field(default=None, max_length=100,
                                       description="Only values of these elements.")
    ratios: list[str] | None = Field(default=None, max_length=200,
                                     description="Only these ratios or deltas.")


class MatchingManualIn(ManualAnalyzeIn, SelectionIn):
    """Manual analysis with a choice of elements and ratios."""


class BoundingBoxIn(RequestBody):
    model_config = ConfigDict(extra="forbid")

    min_latitude: float = Field(ge=-90, le=90)
    max_latitude: float = Field(ge=-90, le=90)
    min_longitude: float = Field(ge=-180, le=180,
                                 description="Greater than max_longitude: crosses 180°.")
    max_longitude: float = Field(ge=-180, le=180)

    @model_validator(mode="after")
    def _ordered(self) -> BoundingBoxIn:
        if self.min_latitude > self.max_latitude:
            raise ValueError("min_latitude must not exceed max_latitude")
        return self


class AdvancedIn(MatchingOptionsIn, SelectionIn):
    """Analysis of a stored sample with extra source filters."""

    isotope_data: list[IsotopeItemIn] = Field(default_factory=list, max_length=1000)
    threshold: Threshold = DEFAULT_THRESHOLD
    material_type: str | None = Field(
        default=None, max_length=200,
        description="Compare with sources of this material instead of the sample's "
                    "(with same_material).")
    material_types: list[str] | None = Field(default=None, max_length=100,
                                             description="Only sources of these materials.")
    projects: list[str] | None = Field(default=None, max_length=100,
                                       description="Only sources of these projects.")
    bbox: BoundingBoxIn | None = Field(default=None, description="Only sources in this box.")
    date_from: date | None = Field(default=None, description="Sources collected on or after.")
    date_to: date | None = Field(default=None, description="Sources collected on or before.")
    zone_priors: dict[str, Annotated[float, Field(ge=0)]] | None = Field(
        default=None, max_length=10_000,
        description="Prior weight per zone name, overriding stored weights (implies priors "
                    "= zones).")

    @model_validator(mode="after")
    def _dates_ordered(self) -> AdvancedIn:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from must not be after date_to")
        return self


class BatchIn(MatchingOptionsIn):
    sample_ids: list[int] = Field(min_length=1, max_length=1000)
    threshold: Threshold = DEFAULT_THRESHOLD


# --- zones ------------------------------------------------------------------------------------


def _geometry(value: Any) -> dict[str, Any]:
    try:
        return validate_geometry(value)
    except GeometryError as error:
        raise ValueError(str(error)) from None


def _name(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("name must not be empty")
    return value


class ZoneIn(RequestBody):
    """A reference zone: a GeoJSON Polygon or MultiPolygon ([longitude, latitude] positions),
    or a Feature holding one."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_name)]
    description: str | None = Field(default=None, max_length=20_000)
    geometry: Annotated[dict[str, Any], AfterValidator(_geometry)]
    prior_weight: float | None = Field(
        default=None, ge=0, allow_inf_nan=False,
        description="Prior weight of the zone for bayesian and hybrid (default 1).")
