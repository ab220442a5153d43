"""Cell text → typed value for each sample field; a bad cell raises CellProblem."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date
from functools import lru_cache

from isofind.samples.action import LATITUDE_RANGE, LONGITUDE_RANGE
from isofind.samples.vocabulary import normalise_classification, normalise_doi, normalise_material


class CellProblem(Exception):
    """One cell cannot be read; the message says why, for the error list."""


_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")
# French files group thousands with spaces (often non-breaking) and may use a true minus sign.
_THOUSANDS_SPACE = re.compile(r"(?<=\d)[ \u00a0\u202f](?=\d{3}(?!\d))")


def parse_number(text: str) -> float | None:
    """A finite number written with a decimal point or a decimal comma, else None.

    `float()` alone would also take `nan`, `inf`, `1_000` and surrounding spaces, which are
    not measurements; `1.234,5` and `1,234.5` are refused since their grouping convention
    cannot be told apart.
    """
    # Most cells are plain decimals: float() reads them 3x faster than the pattern below,
    # and a 100,000-row import has 1.4 million of them (issue 4).
    try:
        number = float(text)
    except ValueError:
        return _localised_number(text)
    if "_" in text or text[:1].isspace() or text[-1:].isspace():
        return None
    return number if math.isfinite(number) else None  # nan, inf, 1e999


def _localised_number(text: str) -> float | None:
    """A decimal comma, a minus sign, thousands grouped by spaces."""
    if not _NUMBER.fullmatch(text):
        text = _THOUSANDS_SPACE.sub("", text).replace("\u2212", "-")
        if not _NUMBER.fullmatch(text):
            return None
    number = float(text.replace(",", "."))
    return number if math.isfinite(number) else None


_TIME_OF_DAY = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_ISO_DATE = re.compile(rf"(\d{{4}})[-/.](\d{{1,2}})[-/.](\d{{1,2}}){_TIME_OF_DAY}")
_DAY_FIRST_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def parse_date(text: str) -> str | None:
    """ISO `YYYY-MM-DD` for an ISO date (time part dropped) or a French `DD/MM/YYYY` one."""
    iso = _ISO_DATE.fullmatch(text)
    if iso:
        year, month, day = iso.groups()
    else:
        day_first = _DAY_FIRST_DATE.fullmatch(text)
        if day_first is None:
            return None
        day, month, year = day_first.groups()
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def as_text(text: str) -> str:
    return text


def as_number(text: str) -> float:
    number = parse_number(text)
    if number is None:
        raise CellProblem("not a number")
    return number


def _bounded(low: float, high: float, label: str) -> Callable[[str], float]:
    def convert(text: str) -> float:
        number = as_number(text)
        if not low <= number <= high:
            raise CellProblem(f"{label} must be between {low:g} and {high:g}")
        return number

    return convert


as_latitude = _bounded(*LATITUDE_RANGE, "latitude")
as_longitude = _bounded(*LONGITUDE_RANGE, "longitude")


def as_date(text: str) -> str:
    iso = parse_date(text)
    if iso is None:
        raise CellProblem("not a date: write YYYY-MM-DD (or DD/MM/YYYY)")
    return iso


# Vocabulary cells repeat down a file: normalise each distinct text once.
@lru_cache(maxsize=4096)
def as_classification(text: str) -> str:
    classification = normalise_classification(text)
    if classification is None:
        raise CellProblem("classification must be source or daughter (source or fille)")
    return classification


@lru_cache(maxsize=4096)
def as_doi(text: str) -> str:
    doi = normalise_doi(text)
    if doi is None:
        raise CellProblem("not a DOI: expected 10.xxxx/… (optionally with https://doi.org/)")
    return doi


@lru_cache(maxsize=4096)
def as_material(text: str) -> str:
    return normalise_material(text)


SAMPLE_FIELD_CONVERTERS: dict[str, Callable[[str], object]] = {
    "name": as_text,
    "material_type": as_material,
    "sector": as_text,
    "collection_date": as_date,
    "collection_location": as_text,
    "description": as_text,
    "classification": as_classification,
    "latitude": as_latitude,
    "longitude": as_longitude,
    "project": as_text,
    "altitude": as_number,
    "collector": as_text,
    "notes": as_text,
    "reference": as_text,
    "doi": as_doi,
}
