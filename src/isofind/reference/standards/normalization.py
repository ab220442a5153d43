"""Normalization of isotope values to reference standards (pure maths, no I/O).

Conventions used throughout this module:

* Every uncertainty that goes in or comes out is a 2σ-level uncertainty in the unit of
  the value (a ratio, or ‰ for delta values). Declared uncertainties of other levels are
  brought to 2σ with :func:`to_two_sigma` before they are used.
* Propagation is linear (first order, GUM): the output variance is the sum of the
  squared partial derivatives times the input variances, all inputs independent. Because
  every term is a 2σ uncertainty, the result is again at the 2σ level.
* Delta values are in per mil: δ = (R / R_ref − 1) · 1000 (Brand et al. 2014, Pure Appl.
  Chem. 86, 425–467, doi:10.1515/pac-2013-1023).

Every calculation returns a frozen :class:`NormalizedValue` naming the standard values it
used, so that a later correction of a certificate never silently changes a past result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

PER_MIL = 1000.0

# Brand et al. (2014), Pure Appl. Chem. 86, 425–467, doi:10.1515/pac-2013-1023 (IUPAC).
VSMOW_PER_VPDB_SLOPE = 1.03092
VSMOW_PER_VPDB_INTERCEPT = 30.92

_TWO_SIGMA_LEVEL = frozenset({"2s", "2sd", "2se", "95%cl", "95%ci", "k=2"})
_ONE_SIGMA_LEVEL = frozenset({"1s", "s", "1sd", "sd", "1se", "se"})
_EXACT = "exact"
_UNSTATED = "unstated"


class InvalidInputError(ValueError):
    """A value given to a calculation is unusable; names the offending field and value."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"{field}={value!r}: {reason}")


class UncertaintyTypeError(InvalidInputError):
    """An uncertainty type that cannot be expressed at the 2σ level."""


class ValueKind(StrEnum):
    """Whether a quantity is an isotope ratio or a delta value in ‰."""

    RATIO = "ratio"
    DELTA = "delta"


@dataclass(frozen=True, slots=True)
class StandardValue:
    """One value of a standard as used in a calculation (certified or lab-measured).

    ``uncertainty`` is at the 2σ level. ``scale`` names the standard the value is expressed
    against: the reference of a delta (e.g. ``"JMC-Lyon"``) or the standard a ratio was
    normalized to. ``version`` and ``citation`` let a stored result point back at the
    exact record that produced it.
    """

    standard: str
    quantity: str
    value: float
    uncertainty: float
    scale: str | None = None
    version: int | None = None
    citation: str | None = None

    def __post_init__(self) -> None:
        require_name("standard", self.standard)
        require_name("quantity", self.quantity)
        require_finite("value", self.value)
        require_uncertainty("uncertainty", self.uncertainty)

    @classmethod
    def from_declared(
        cls,
        standard: str,
        quantity: str,
        value: float,
        uncertainty: float,
        uncertainty_type: str,
        *,
        scale: str | None = None,
        version: int | None = None,
        citation: str | None = None,
    ) -> StandardValue:
        """Build a value from an uncertainty as published (1SD, 2SE, 95 % CL…)."""
        return cls(
            standard=standard,
            quantity=quantity,
            value=value,
            uncertainty=to_two_sigma(uncertainty, uncertainty_type),
            scale=scale,
            version=version,
            citation=citation,
        )


@dataclass(frozen=True, slots=True)
class NormalizedValue:
    """Result of a normalization: the new value, its 2σ uncertainty and its provenance.

    ``input_value``/``input_uncertainty`` keep the value as measured; ``used`` lists
    every standard value the result depends on, in the order they entered the formula;
    ``method`` names the formula.
    """

    value: float
    uncertainty: float
    input_value: float
    input_uncertainty: float
    used: tuple[StandardValue, ...]
    method: str


# An import converts every value it reads (1.2 million for 100,000 samples, issue 4), with one
# or two spellings in the whole file.
@lru_cache(maxsize=256)
def canonical_uncertainty_type(uncertainty_type: str) -> str:
    """Spelling-independent key of an uncertainty type: ``"2 SD"`` → ``"2sd"``."""
    return "".join(uncertainty_type.split()).casefold().replace("σ", "s")


def to_two_sigma(uncertainty: float, uncertainty_type: str) -> float:
    """Express a declared uncertainty at the 2σ level.

    * 1σ, 1SD, 1SE (also written s, SD, SE): one-sigma level, multiplied by 2.
    * 2σ, 2SD, 2SE, 95 % CL / 95 % CI, k = 2: already two-sigma level, kept as declared.
      A 2SE stays a standard error of the mean (turning it into a 2SD needs n, which a
      published value rarely gives), and an expanded uncertainty at 95 % confidence is
      taken with its stated coverage factor of about 2, not rescaled by 2/1.96.
    * exact: a defined value (a scale anchor such as NBS 19 = +1.95 ‰); must be 0.
    * unstated: the source gives no level (some seed values); refused until declared.

    Raises :class:`UncertaintyTypeError` for any other type, and
    :class:`InvalidInputError` for a negative or non-finite uncertainty.
    """
    require_uncertainty("uncertainty", uncertainty)
    key = canonical_uncertainty_type(uncertainty_type)
    if key in _TWO_SIGMA_LEVEL:
        return uncertainty
    if key in _ONE_SIGMA_LEVEL:
        return 2.0 * uncertainty
    if key == _EXACT:
        if uncertainty != 0.0:
            raise InvalidInputError("uncertainty", uncertainty, "an exact value has none")
        return 0.0
    if key == _UNSTATED:
        raise UncertaintyTypeError(
            "uncertainty_type",
            uncertainty_type,
            "the source does not state the level of this uncertainty; declare it before use",
        )
    raise UncertaintyTypeError(
        "uncertainty_type",
        uncertainty_type,
        "unknown; use 1σ/1SD/1SE, 2σ/2SD/2SE, 95% CL, k=2 or exact",
    )


def bracket_ratio(
    measured: float,
    measured_uncertainty: float,
    certified: StandardValue,
    standard_measured: StandardValue,
) -> NormalizedValue:
    """Correct a measured ratio by standard bracketing.

    R_corr = R_meas · R_cert / R_std,meas, where R_std,meas is the standard as measured in
    the same session and R_cert its certified value.

    Linear propagation with independent inputs, relative uncertainties in quadrature:

        (u_corr / R_corr)² = (u_meas / R_meas)² + (u_cert / R_cert)² + (u_std / R_std,meas)²
    """
    require_ratio("measured", measured)
    require_uncertainty("measured_uncertainty", measured_uncertainty)
    require_ratio("certified.value", certified.value)
    require_ratio("standard_measured.value", standard_measured.value)
    require_same_quantity(certified, standard_measured)
    value = measured * certified.value / standard_measured.value
    relative = math.hypot(
        measured_uncertainty / measured,
        certified.uncertainty / certified.value,
        standard_measured.uncertainty / standard_measured.value,
    )
    return NormalizedValue(
        value=value,
        uncertainty=abs(value) * relative,
        input_value=measured,
        input_uncertainty=measured_uncertainty,
        used=(certified, standard_measured),
        method="standard bracketing: R_meas × R_cert / R_std,meas",
    )


def delta_scale_change(delta_ab: float, delta_bc: float) -> float:
    """δA/C = δA/B + δB/C + 10⁻³ · δA/B · δB/C (all in ‰; exact, from R_A/R_C product)."""
    return delta_ab + delta_bc + delta_ab * delta_bc / PER_MIL


def delta_scale_change_uncertainty(
    delta_ab: float, uncertainty_ab: float, delta_bc: float, uncertainty_bc: float
) -> float:
    """2σ uncertainty of :func:`delta_scale_change` by its partial derivatives.

    ∂δA/C/∂δA/B = 1 + δB/C/1000 and ∂δA/C/∂δB/C = 1 + δA/B/1000, so

        u(δA/C)² = ((1 + δB/C/1000) · u(δA/B))² + ((1 + δA/B/1000) · u(δB/C))²
    """
    return math.hypot(
        (1.0 + delta_bc / PER_MIL) * uncertainty_ab,
        (1.0 + delta_ab / PER_MIL) * uncertainty_bc,
    )


def change_delta_scale(
    delta: float, delta_uncertainty: float, scale: StandardValue
) -> NormalizedValue:
    """Re-express a sample delta measured against standard B on the scale of C.

    ``scale`` is δB/C: the delta of standard B (``scale.standard``) on scale C
    (``scale.scale``), e.g. AA-ETH Zn = +0.28 ‰ vs JMC-Lyon (Archer et al. 2017, J. Anal.
    At. Spectrom. 32, 415, doi:10.1039/c6ja00282j). Formula and propagation as in
    :func:`delta_scale_change` and :func:`delta_scale_change_uncertainty`.
    """
    require_delta("delta", delta)
    require_uncertainty("delta_uncertainty", delta_uncertainty)
    require_delta("scale.value", scale.value)
    return NormalizedValue(
        value=delta_scale_change(delta, scale.value),
        uncertainty=delta_scale_change_uncertainty(
            delta, delta_uncertainty, scale.value, scale.uncertainty
        ),
        input_value=delta,
        input_uncertainty=delta_uncertainty,
        used=(scale,),
        method="delta scale change: δA/B + δB/C + 10⁻³·δA/B·δB/C",
    )


def delta_from_ratio(
    ratio: float, ratio_uncertainty: float, reference: StandardValue
) -> NormalizedValue:
    """δ = (R / R_ref − 1) · 1000, with u(δ)² = (1000/R_ref)² · (u_R² + (R/R_ref)² · u_ref²)."""
    require_ratio("ratio", ratio)
    require_uncertainty("ratio_uncertainty", ratio_uncertainty)
    require_ratio("reference.value", reference.value)
    quotient = ratio / reference.value
    return NormalizedValue(
        value=(quotient - 1.0) * PER_MIL,
        uncertainty=PER_MIL
        / reference.value
        * math.hypot(ratio_uncertainty, quotient * reference.uncertainty),
        input_value=ratio,
        input_uncertainty=ratio_uncertainty,
        used=(reference,),
        method="δ = (R/R_ref − 1)·1000",
    )


def ratio_from_delta(
    delta: float, delta_uncertainty: float, reference: StandardValue
) -> NormalizedValue:
    """R = R_ref · (1 + δ/1000), with u(R)² = ((1 + δ/1000) · u_ref)² + (R_ref · u_δ/1000)²."""
    require_delta("delta", delta)
    require_uncertainty("delta_uncertainty", delta_uncertainty)
    require_ratio("reference.value", reference.value)
    factor = 1.0 + delta / PER_MIL
    return NormalizedValue(
        value=reference.value * factor,
        uncertainty=math.hypot(
            factor * reference.uncertainty, reference.value * delta_uncertainty / PER_MIL
        ),
        input_value=delta,
        input_uncertainty=delta_uncertainty,
        used=(reference,),
        method="R = R_ref·(1 + δ/1000)",
    )


def vpdb_to_vsmow_d18o(delta_vpdb: float, uncertainty: float) -> NormalizedValue:
    """δ18O_VSMOW = 1.03092 · δ18O_VPDB + 30.92 (Brand et al. 2014, IUPAC).

    The coefficients are recommended values without uncertainty, so u_VSMOW = 1.03092 · u_VPDB.
    """
    require_delta("delta_vpdb", delta_vpdb)
    require_uncertainty("uncertainty", uncertainty)
    return NormalizedValue(
        value=VSMOW_PER_VPDB_SLOPE * delta_vpdb + VSMOW_PER_VPDB_INTERCEPT,
        uncertainty=VSMOW_PER_VPDB_SLOPE * uncertainty,
        input_value=delta_vpdb,
        input_uncertainty=uncertainty,
        used=(),
        method="δ18O_VSMOW = 1.03092·δ18O_VPDB + 30.92 (Brand et al. 2014)",
    )


def vsmow_to_vpdb_d18o(delta_vsmow: float, uncertainty: float) -> NormalizedValue:
    """Exact inverse of :func:`vpdb_to_vsmow_d18o`: δ_VPDB = (δ_VSMOW − 30.92) / 1.03092.

    The rounded form published with it, 0.97001 · δ_VSMOW − 29.99, differs by < 0.003 ‰;
    the exact inverse keeps a round trip lossless.
    """
    require_delta("delta_vsmow", delta_vsmow)
    require_uncertainty("uncertainty", uncertainty)
    return NormalizedValue(
        value=(delta_vsmow - VSMOW_PER_VPDB_INTERCEPT) / VSMOW_PER_VPDB_SLOPE,
        uncertainty=uncertainty / VSMOW_PER_VPDB_SLOPE,
        input_value=delta_vsmow,
        input_uncertainty=uncertainty,
        used=(),
        method="δ18O_VPDB = (δ18O_VSMOW − 30.92)/1.03092 (Brand et al. 2014)",
    )


def require_name(field: str, name: str) -> None:
    if not name or not name.strip():
        raise InvalidInputError(field, name, "must be a non-empty name")


def require_finite(field: str, value: float) -> None:
    if not math.isfinite(value):
        raise InvalidInputError(field, value, "must be a finite number")


def require_uncertainty(field: str, uncertainty: float) -> None:
    if not math.isfinite(uncertainty) or uncertainty < 0.0:
        raise InvalidInputError(field, uncertainty, "must be a finite number ≥ 0")


def require_ratio(field: str, ratio: float) -> None:
    if not math.isfinite(ratio) or ratio <= 0.0:
        raise InvalidInputError(field, ratio, "an isotope ratio must be finite and > 0")


def require_delta(field: str, delta: float) -> None:
    # δ ≤ −1000 ‰ would mean a ratio ≤ 0.
    if not math.isfinite(delta) or delta <= -PER_MIL:
        raise InvalidInputError(field, delta, "a delta value must be finite and > −1000 ‰")


def require_same_quantity(first: StandardValue, second: StandardValue) -> None:
    if first.quantity != second.quantity:
        raise InvalidInputError(
            "standard_measured.quantity",
            second.quantity,
            f"does not match certified quantity {first.quantity!r}",
        )
