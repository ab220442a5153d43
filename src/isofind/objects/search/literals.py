"""Reads one bare word of a query as a typed literal or an attribute path."""

import datetime
import functools
import math
import re

import pint

from isofind.objects.search.errors import SearchQueryError
from isofind.objects.search.nodes import (
    WILDCARD,
    Attribute,
    Boolean,
    Date,
    Null,
    Operand,
    PathSegment,
    Quantity,
)

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DATE_FORMATS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d"),
    (re.compile(r"\d{1,2}/\d{1,2}/\d{4}"), "%m/%d/%Y"),
    (re.compile(r"\d{1,2}\.\d{1,2}\.\d{4}"), "%d.%m.%Y"),
)
_FIRST_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SEGMENT = re.compile(r"[A-Za-z0-9_]+")


@functools.cache
def unit_registry() -> pint.UnitRegistry:
    """The module's single pint registry, built on first use because building is slow."""
    return pint.UnitRegistry()


def read_word(text: str, position: int) -> Operand | None:
    """The literal or attribute a bare word stands for, or None for a plain word of text."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return Boolean(lowered == "true", position)
    if lowered == "null":
        return Null(position)
    date = _read_date(text, position)
    if date is not None:
        return date
    number = _NUMBER.match(text)
    if number is not None:
        magnitude_text = number.group()
        units = text[len(magnitude_text) :]
        return make_quantity(magnitude_text, units, text, position, position + len(magnitude_text))
    return _read_attribute(text, position)


def make_quantity(
    magnitude_text: str, units: str, text: str, position: int, units_position: int
) -> Quantity:
    """A quantity with its magnitude in SI base units, as SampleDB stores it."""
    magnitude = float(magnitude_text)
    if not math.isfinite(magnitude):
        raise SearchQueryError(f"number out of range '{magnitude_text}'", position)
    registry = unit_registry()
    try:
        quantity = registry.Quantity(magnitude, units or "dimensionless")
        in_base_units = quantity.to_base_units()
    # pint reports bad unit strings with many unrelated types (UndefinedUnitError,
    # tokenize.TokenError, AssertionError, ...); all of them mean the same to the user.
    except Exception as error:
        raise SearchQueryError(f"unknown units '{units}'", units_position) from error
    magnitude_in_base_units = float(in_base_units.magnitude)
    # 1e308 Mg is finite but 1e311 kg is not: compared as infinity, its tolerance made NaN
    # bounds, which matched nothing on SQLite and failed on PostgreSQL.
    if not math.isfinite(magnitude_in_base_units):
        raise SearchQueryError(f"quantity out of range in base units '{text}'", position)
    return Quantity(
        magnitude=magnitude,
        units=units,
        magnitude_in_base_units=magnitude_in_base_units,
        dimensionality=str(quantity.dimensionality),
        text=text,
        position=position,
    )


def _read_date(text: str, position: int) -> Date | None:
    for pattern, date_format in _DATE_FORMATS:
        if pattern.fullmatch(text):
            try:
                value = datetime.datetime.strptime(text, date_format).date()
            except ValueError as error:
                raise SearchQueryError(f"invalid date '{text}'", position) from error
            return Date(value, text, position)
    return None


def _read_attribute(text: str, position: int) -> Attribute | None:
    if text.startswith("*"):
        raise SearchQueryError("following object references with '*' is not supported", position)
    if not _FIRST_SEGMENT.match(text):
        return None
    segments = text.split(".")
    looks_like_path = len(segments) > 1 or WILDCARD in text
    if not _FIRST_SEGMENT.fullmatch(segments[0]) or not all(
        segment == WILDCARD or _SEGMENT.fullmatch(segment) for segment in segments[1:]
    ):
        if looks_like_path:
            raise SearchQueryError(f"invalid attribute name '{text}'", position)
        return None
    return Attribute(tuple(_path_segment(segment) for segment in segments), text, position)


def _path_segment(segment: str) -> PathSegment:
    return int(segment) if segment.isdigit() else segment
