"""Physical units for object data, backed by one shared pint registry.

SampleDB stores every quantity twice: the magnitude in the units the user chose and the
magnitude in SI base units (``magnitude_in_base_units``), together with pint's
dimensionality string (e.g. ``"[mass]"``, ``"[length] ** 2"``, ``"dimensionless"``).
Searching and comparing then only needs the base-unit value.

Conversions run on :class:`decimal.Decimal` so that decimal inputs convert without binary
noise (10 g -> 0.01 kg exactly, 25 degC -> 298.15 K exactly); results are returned as float.

The registry extends pint's defaults with the units SampleDB adds
(``sampledb/logic/unit_definitions.txt``: sccm, ppmv, ppmw, ppb, ppbv, ppbw) and with
``permil`` for δ notation of isotope ratios (pint already knows ``permille`` and ``‰``).
"""

import math
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Final

import pint

_EXTRA_DEFINITIONS: Final = (
    "sccm = cm ** 3 / min",
    "ppmv = 1e-6",
    "ppmw = 1e-6",
    "ppb = 1e-9",
    "ppbv = 1e-9",
    "ppbw = 1e-9",
    "permil = 0.001",
)


def _build_registry() -> pint.UnitRegistry:
    registry = pint.UnitRegistry(non_int_type=Decimal)
    for definition in _EXTRA_DEFINITIONS:
        registry.define(definition)
    return registry


# Building a registry parses pint's whole definition file; build it once per process.
ureg: Final[pint.UnitRegistry] = _build_registry()


class InvalidUnitsError(ValueError):
    """Units that cannot be parsed or cannot be converted to SI base units."""

    def __init__(self, units: object, reason: str) -> None:
        self.units = units
        self.reason = reason
        super().__init__(reason)


@lru_cache(maxsize=1024)
def _parse(units: str) -> pint.Unit:
    try:
        unit = ureg.Unit(units)
    except pint.UndefinedUnitError as error:
        raise InvalidUnitsError(units, f"unknown units {units!r}") from error
    # pint's expression parser raises assorted exception types (AssertionError for "m +",
    # ValueError for "3 m", TokenError, ...); all of them mean the text is not a unit.
    except Exception as error:
        raise InvalidUnitsError(units, f"cannot parse units {units!r}") from error
    try:
        ureg.Quantity(Decimal(1), unit).to_base_units()
    except Exception as error:
        raise InvalidUnitsError(
            units, f"units {units!r} cannot be converted to base units"
        ) from error
    return unit


def parse_units(units: object) -> pint.Unit:
    """Return the pint unit for ``units`` (``"1"`` is dimensionless).

    Raises InvalidUnitsError for non-strings, blank strings and anything pint cannot
    parse or convert to base units.
    """
    if not isinstance(units, str):
        raise InvalidUnitsError(units, f"units must be a string, got {units!r}")
    if not units.strip():
        raise InvalidUnitsError(
            units, 'units must not be empty; use "1" for dimensionless quantities'
        )
    return _parse(units)


def units_are_valid(units: object) -> bool:
    """Whether :func:`parse_units` accepts ``units``."""
    try:
        parse_units(units)
    except InvalidUnitsError:
        return False
    return True


def dimensionality_of(units: str) -> str:
    """pint's dimensionality string of ``units``, e.g. ``"[mass] / [length] ** 3"``."""
    return str(parse_units(units).dimensionality)


def same_units(first: str, second: str) -> bool:
    """Whether two unit strings name the same unit (``"g"`` and ``"gram"`` do)."""
    return bool(parse_units(first) == parse_units(second))


def _as_decimal(magnitude: float) -> Decimal:
    if isinstance(magnitude, bool) or not isinstance(magnitude, int | float):
        raise ValueError(f"magnitude must be a number, got {magnitude!r}")
    if not math.isfinite(magnitude):
        raise ValueError(f"magnitude must be a finite number, got {magnitude!r}")
    # str() gives the shortest decimal that round-trips, so 0.1 stays 0.1 instead of
    # 0.1000000000000000055511151231257827...
    return Decimal(str(magnitude))


def _finite_float(value: Decimal, what: str) -> float:
    try:
        result = float(value)
    except (InvalidOperation, OverflowError) as error:
        raise ValueError(f"{what} is out of range") from error
    if not math.isfinite(result):
        raise ValueError(f"{what} is out of range")
    return result


def to_base_units(magnitude: float, units: str) -> float:
    """Convert ``magnitude`` given in ``units`` to SI base units.

    Offset units convert absolutely: ``to_base_units(25, "degC") == 298.15``.
    Raises InvalidUnitsError for bad units and ValueError for non-finite magnitudes or
    results out of float range.
    """
    unit = parse_units(units)
    converted = ureg.Quantity(_as_decimal(magnitude), unit).to_base_units()
    return _finite_float(converted.magnitude, "magnitude in base units")


def from_base_units(magnitude_in_base_units: float, units: str) -> float:
    """Inverse of :func:`to_base_units`: express a base-unit magnitude in ``units``."""
    unit = parse_units(units)
    base_units = ureg.Quantity(Decimal(1), unit).to_base_units().units
    converted = ureg.Quantity(_as_decimal(magnitude_in_base_units), base_units).to(unit)
    return _finite_float(converted.magnitude, "magnitude")


def prepare_quantity(magnitude: float, units: str) -> dict[str, Any]:
    """Build the complete SampleDB quantity value for ``magnitude`` in ``units``.

    >>> prepare_quantity(10, "g")["magnitude_in_base_units"]
    0.01

    Returns ``{"_type": "quantity", "magnitude", "magnitude_in_base_units", "units",
    "dimensionality"}``. Raises InvalidUnitsError for unknown units and ValueError for a
    magnitude that is not a finite number.
    """
    magnitude_in_base_units = to_base_units(magnitude, units)
    return {
        "_type": "quantity",
        "magnitude": float(magnitude),
        "magnitude_in_base_units": magnitude_in_base_units,
        "units": units,
        "dimensionality": dimensionality_of(units),
    }
