"""Small predicates shared by schema and data validation."""

import re
from datetime import datetime
from typing import Final, TypeGuard

UTC_DATETIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
_UTC_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_TIMESERIES_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?")
# ISO 639 language code with an optional region or script subtag ("en", "de", "zh-Hant").
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")

_JSON_TYPE_NAMES: Final = (
    (bool, "boolean"),
    (int, "number"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def is_number(value: object) -> TypeGuard[int | float]:
    """JSON numbers; booleans are excluded although Python treats them as ints."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_integer(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def json_type_name(value: object) -> str:
    """The JSON name of a value's type, for messages ("null", "array", ...)."""
    if value is None:
        return "null"
    for python_type, name in _JSON_TYPE_NAMES:
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def is_language_code(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _LANGUAGE_CODE.fullmatch(value) is not None


def _matches_datetime(pattern: re.Pattern[str], value: object, formats: tuple[str, ...]) -> bool:
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        return False
    for date_format in formats:
        try:
            datetime.strptime(value, date_format)
        except ValueError:
            continue
        return True
    return False


def is_utc_datetime(value: object) -> bool:
    """Whether ``value`` is a real date and time written ``YYYY-MM-DD HH:MM:SS``."""
    return _matches_datetime(_UTC_DATETIME, value, (UTC_DATETIME_FORMAT,))


def is_timeseries_datetime(value: object) -> bool:
    """``YYYY-MM-DD HH:MM:SS`` with optional fractional seconds (up to microseconds)."""
    return _matches_datetime(
        _TIMESERIES_DATETIME, value, (UTC_DATETIME_FORMAT, UTC_DATETIME_FORMAT + ".%f")
    )
