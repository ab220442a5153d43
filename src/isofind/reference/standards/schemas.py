"""Request bodies and responses of the standards, CRM and shift routes.

Bodies refuse unknown keys and strings for numbers, so a typo answers 422 naming the key
instead of being silently ignored. Uncertainties go in as declared (value and type, e.g.
``0.04`` ``2SD``); responses add the 2σ value the calculations use.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, StringConstraints

Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]
Positive = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0)]


def _text(max_length: int) -> Any:
    return Annotated[
        StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)
    ]


Name = _text(200)
ShortName = _text(100)
Symbol = _text(20)
Quantity = _text(40)
UncertaintyType = _text(40)
Unit = _text(20)
LongText = _text(4000)
Doi = _text(200)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Reference(BaseModel):
    citation: str | None
    doi: str | None


# --- standards ------------------------------------------------------------------------------


class StandardIn(_Body):
    """``POST /api/standards/custom``: a lab's own standard, or a value the library lacks."""

    name: Name
    abbreviation: ShortName
    element: Symbol
    quantity: Quantity = Field(description="Canonical ratio (206Pb/204Pb) or delta (δ65Cu).")
    scale: ShortName | None = Field(
        None, description="For a delta: the standard whose scale it is expressed on."
    )
    value: Number
    uncertainty: NonNegative | None = None
    uncertainty_type: UncertaintyType = Field(
        "2SD", description="1SD, 2SD, 1SE, 2SE, 95% CL, k=2, exact or unstated."
    )
    normalization: LongText | None = None
    note: LongText | None = None
    citation: LongText | None = None
    doi: Doi | None = None
    is_reference: StrictBool = Field(
        False, description="The lab's chosen reference for its element and quantity."
    )
    measured_value: Number | None = Field(None, description="The lab's measured mean.")
    measured_uncertainty: NonNegative | None = None
    measured_uncertainty_type: UncertaintyType | None = None


class StandardUpdate(_Body):
    """``PUT /api/standards/{id}``: only the fields sent change; ``null`` clears a field.

    A built-in standard keeps the certified values of its cited source: only the lab's own
    fields (``is_reference`` and the measured mean) may change.
    """

    name: Name | None = None
    abbreviation: ShortName | None = None
    element: Symbol | None = None
    quantity: Quantity | None = None
    scale: ShortName | None = None
    value: Number | None = None
    uncertainty: NonNegative | None = None
    uncertainty_type: UncertaintyType | None = None
    normalization: LongText | None = None
    note: LongText | None = None
    citation: LongText | None = None
    doi: Doi | None = None
    is_reference: StrictBool | None = None
    measured_value: Number | None = None
    measured_uncertainty: NonNegative | None = None
    measured_uncertainty_type: UncertaintyType | None = None


class LabShiftOut(BaseModel):
    """Shift from the lab's measured mean of a standard to its certified value."""

    value: float = Field(description="Factor R_cert/R_meas (ratio) or offset in ‰ (delta).")
    uncertainty: float
    offset_permil: float
    offset_uncertainty: float


class StandardVersionOut(BaseModel):
    version: int
    change: str
    value: float
    uncertainty: float | None
    uncertainty_type: str
    scale: str | None
    is_reference: bool
    measured_value: float | None
    measured_uncertainty: float | None
    measured_uncertainty_type: str | None
    reference: Reference
    user_id: int | None
    utc_datetime: datetime


class StandardOut(BaseModel):
    id: int
    is_custom: bool
    version: int
    name: str
    abbreviation: str
    element: str
    kind: str
    quantity: str
    scale: str | None
    value: float
    uncertainty: float | None
    uncertainty_type: str
    uncertainty_2s: float | None = Field(description="None when the source states no level.")
    normalization: str | None
    note: str | None
    reference: Reference
    is_reference: bool
    measured_value: float | None
    measured_uncertainty: float | None
    measured_uncertainty_type: str | None
    lab_shift: LabShiftOut | None
    updated_at: datetime
    updated_by: int | None
    versions: list[StandardVersionOut] | None = None


class DeletedOut(BaseModel):
    success: bool = True
    message: str


# --- certified reference materials ----------------------------------------------------------


class ConcentrationIn(_Body):
    element: Symbol
    value: Positive
    uncertainty: NonNegative | None = None
    uncertainty_type: UncertaintyType = "2SD"
    unit: Unit = Field(description="µg/g, ng/g, mg/kg, wt% …")
    citation: LongText | None = None
    doi: Doi | None = None


class IsotopeIn(_Body):
    ratio: Quantity = Field(description="Ratio or delta in any common spelling.")
    value: Number
    uncertainty: NonNegative | None = None
    uncertainty_type: UncertaintyType = "2SD"
    technique: Name | None = None
    scale: ShortName | None = Field(
        None, description="Standard the certified value is expressed on (required for a delta)."
    )
    citation: LongText | None = None
    doi: Doi | None = None
    note: LongText | None = None
    measured_value: Number | None = Field(None, description="The lab's measured mean.")
    measured_uncertainty: NonNegative | None = None
    measured_uncertainty_type: UncertaintyType | None = None
    measured_standard: ShortName | None = Field(
        None, description="Standard the lab measured this CRM against."
    )


class CrmIn(_Body):
    name: Name
    material: Name | None = None
    producer: Name | None = None
    description: LongText | None = None
    concentrations: list[ConcentrationIn] = Field(default_factory=list)
    isotopes: list[IsotopeIn] = Field(default_factory=list)


class CrmUpdate(_Body):
    name: Name | None = None
    material: Name | None = None
    producer: Name | None = None
    description: LongText | None = None


class ConcentrationOut(BaseModel):
    element: str
    value: float
    uncertainty: float | None
    uncertainty_type: str
    unit: str
    reference: Reference


class IsotopeOut(BaseModel):
    element: str
    ratio: str
    kind: str
    value: float
    uncertainty: float | None
    uncertainty_type: str
    uncertainty_2s: float | None
    technique: str | None
    scale: str | None
    reference: Reference
    note: str | None
    measured_value: float | None
    measured_uncertainty: float | None
    measured_uncertainty_type: str | None
    measured_standard: str | None


class CrmVersionOut(BaseModel):
    version: int
    change: str
    user_id: int | None
    utc_datetime: datetime


class CrmSummaryOut(BaseModel):
    id: int
    name: str
    material: str | None
    producer: str | None
    georem_id: int | None
    version: int
    elements: list[str]
    concentration_count: int
    isotope_count: int


class CrmOut(BaseModel):
    id: int
    name: str
    material: str | None
    producer: str | None
    description: str | None
    georem_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    updated_by: int | None
    concentrations: list[ConcentrationOut]
    isotopes: list[IsotopeOut]
    versions: list[CrmVersionOut]


class SpreadOut(BaseModel):
    count: int
    min: float
    max: float
    mean: float
    sd: float | None = Field(description="Sample standard deviation; None below two values.")


class UnitSpreadOut(SpreadOut):
    unit: str


class RatioSpreadOut(SpreadOut):
    ratio: str


class ElementStatisticsOut(BaseModel):
    element: str
    crm_count: int
    concentrations: list[UnitSpreadOut]
    isotopes: list[RatioSpreadOut]


class ProducerCountOut(BaseModel):
    producer: str | None
    crm_count: int


class CrmStatisticsOut(BaseModel):
    crm_count: int
    concentration_count: int
    isotope_count: int
    imported_from_georem: int
    producers: list[ProducerCountOut]
    elements: list[ElementStatisticsOut]


class GeoremHitOut(BaseModel):
    georem_id: int
    name: str
    material: str | None
    producer: str | None
    elements: list[str]
    ratios: list[str]
    concentration_count: int
    isotope_count: int
    source: str = Field(description="catalogue (shipped with IsoFind) or online.")
    imported_as: int | None = Field(description="Id of the CRM already imported from it.")


class GeoremSearchOut(BaseModel):
    query: str
    online: bool = Field(description="Whether the online source was consulted.")
    results: list[GeoremHitOut]
    warnings: list[str]


class GeoremImportOut(BaseModel):
    source: str
    crm: CrmOut


# --- shifts ---------------------------------------------------------------------------------


class ShiftOut(BaseModel):
    id: int
    crm_id: int | None
    crm_name: str
    crm_version: int
    element: str
    isotope_ratio: str
    kind: str
    from_standard: str
    to_standard: str
    measured_value: float
    measured_uncertainty: float
    certified_value: float
    certified_uncertainty: float
    value: float = Field(description="Factor R_cert/R_meas (ratio) or offset in ‰ (delta).")
    uncertainty: float
    offset_permil: float
    offset_uncertainty: float
    warnings: list[str]
    user_id: int | None
    utc_datetime: datetime


class SkippedShiftOut(BaseModel):
    crm_id: int
    crm_name: str
    isotope_ratio: str
    reason: str


class CalculateAllOut(BaseModel):
    calculated: int
    skipped: int
    shifts: list[ShiftOut]
    skipped_values: list[SkippedShiftOut]


class ShiftHistoryOut(BaseModel):
    total: int
    items: list[ShiftOut]


class ConvertIn(_Body):
    value: Number
    uncertainty: NonNegative = Field(0.0, description="2σ uncertainty of the value.")
    element: Symbol
    isotope_ratio: Quantity
    from_standard: ShortName
    to_standard: ShortName


class ConversionStepOut(BaseModel):
    from_standard: str
    to_standard: str
    shift_value: float
    shift_uncertainty: float
    reversed: bool
    value: float
    uncertainty: float
    source: dict[str, Any]


class ConvertOut(BaseModel):
    element: str
    isotope_ratio: str
    value: float
    uncertainty: float
    input_value: float
    input_uncertainty: float
    from_standard: str
    to_standard: str
    path: list[str]
    steps: list[ConversionStepOut]
    warnings: list[str]
