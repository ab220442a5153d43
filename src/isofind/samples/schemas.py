"""Bodies of the sample routes.

Shapes and ranges are checked here (422 naming the field); vocabulary that needs the
database (custom elements) is resolved by :mod:`isofind.samples.rules`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, AliasChoices, ConfigDict, Field, field_validator

from isofind.samples.action import LATITUDE_RANGE, LONGITUDE_RANGE
from isofind.samples.csv_import.values import parse_date
from isofind.samples.vocabulary import parse_uncertainty_type
from isofind.schemas import RequestBody


def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _iso_date(value: str | None) -> str | None:
    if value is None or value.strip() == "":
        return None
    parsed = parse_date(value.strip())
    if parsed is None:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")
    return parsed


def _stripped(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


Number = Annotated[float, AfterValidator(_finite)]
OptionalNumber = Annotated[float | None, AfterValidator(_finite)]
Text = Annotated[str | None, Field(max_length=20000), AfterValidator(_stripped)]
ShortText = Annotated[str | None, Field(max_length=500), AfterValidator(_stripped)]
IsoDate = Annotated[str | None, AfterValidator(_iso_date)]


class IsotopeValueIn(RequestBody):
    """One isotope value; ``uncertainty`` is 2σ unless ``uncertainty_type`` says otherwise."""

    model_config = ConfigDict(extra="forbid")

    isotope_id: int | None = Field(default=None, description="Ignored on input: assigned.")
    element: str = Field(min_length=1, max_length=40)
    ratio: str = Field(min_length=1, max_length=60,
                       description="Canonical ratio (206Pb/204Pb) or delta (δ65Cu).")
    value: Number
    uncertainty: OptionalNumber = Field(default=None, ge=0)
    uncertainty_type: ShortText = Field(
        default=None, description="1σ, 2σ (default), 1SD, 2SD, 1SE, 2SE as declared.")
    reference_scale: ShortText = None
    standard: ShortText = None
    method: ShortText = None
    instrument: ShortText = None
    session_date: IsoDate = None
    notes: Text = None
    correlated_ratio: ShortText = None
    correlation: OptionalNumber = Field(default=None, ge=-1, le=1)
    n_cycles: int | None = Field(default=None, ge=0, le=10**9)

    @field_validator("uncertainty_type")
    @classmethod
    def _known_uncertainty_type(cls, value: str | None) -> str | None:
        if value is not None and parse_uncertainty_type(value) is None:
            raise ValueError(f"{value!r} is not an uncertainty type (1σ, 2σ, 1SD, 2SD, 1SE, 2SE)")
        return value


class SampleFieldsIn(RequestBody):
    model_config = ConfigDict(extra="forbid")

    material_type: ShortText = None
    sector: Text = None
    collection_date: IsoDate = None
    collection_location: Text = None
    description: Text = None
    classification: ShortText = Field(default=None, description="source or daughter (or fille).")
    latitude: OptionalNumber = Field(default=None, ge=LATITUDE_RANGE[0], le=LATITUDE_RANGE[1])
    longitude: OptionalNumber = Field(default=None, ge=LONGITUDE_RANGE[0],
                                      le=LONGITUDE_RANGE[1])
    project: ShortText = None
    altitude: OptionalNumber = Field(default=None, ge=-12000, le=9000)
    collector: ShortText = None
    notes: Text = None
    reference: Text = None
    doi: ShortText = None
    workflow_stage: ShortText = None

    @field_validator("latitude", "longitude", mode="before")
    @classmethod
    def _decimal_comma(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.strip().replace(",", ".")
        return value


def _single_line_name(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("name must not be empty")
    if "\n" in value or "\r" in value:
        raise ValueError("name must be a single line")
    return value


SampleName = Annotated[str, Field(max_length=500), AfterValidator(_single_line_name)]


class SampleIn(SampleFieldsIn):
    """A whole sample (POST, PUT)."""

    name: SampleName
    isotope_data: list[IsotopeValueIn] = Field(default_factory=list, max_length=10000)


class SamplePatch(SampleFieldsIn):
    """Only the fields given change; ``isotope_data``, if given, replaces the list (values
    identical to stored ones keep their ``isotope_id``)."""

    name: SampleName | None = None
    isotope_data: list[IsotopeValueIn] | None = Field(default=None, max_length=10000)


class PurificationYieldIn(RequestBody):
    model_config = ConfigDict(extra="forbid")

    element: str = Field(min_length=1, max_length=40)
    yield_percent: Number = Field(ge=0, le=1000)
    operator: ShortText = None
    method_key: ShortText = None
    notes: Text = None


class NormalizeIn(RequestBody):
    model_config = ConfigDict(extra="forbid")

    reference_standard: ShortText = Field(
        default=None, validation_alias=AliasChoices("reference_standard", "target_standard"),
        description="The standard to normalize to; default: each element's reference.")
