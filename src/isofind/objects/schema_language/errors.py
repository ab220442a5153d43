"""Exceptions of the schema language, each carrying the path of the offending value."""

from collections.abc import Sequence
from typing import TypeAlias

JsonPath: TypeAlias = list[str | int]


def format_path(path: Sequence[str | int]) -> str:
    """Render a path as a JSON Pointer (RFC 6901), e.g. ``/mass_list/2/units``."""
    if not path:
        return "/"
    escaped = (str(part).replace("~", "~0").replace("/", "~1") for part in path)
    return "/" + "/".join(escaped)


class SchemaLanguageError(ValueError):
    """A schema or a data document broke a rule of the SampleDB schema language.

    ``message`` says what is wrong; ``path`` lists the keys and array indices leading to
    the offending value (empty for the document itself).
    """

    def __init__(self, message: str, path: Sequence[str | int]) -> None:
        self.message = message
        self.path: JsonPath = list(path)
        super().__init__(f"{message} (at {format_path(self.path)})")


class SchemaError(SchemaLanguageError):
    """An action schema is invalid; ``path`` points into the schema document."""


class DataValidationError(SchemaLanguageError):
    """Object data does not match its schema; ``path`` points into the data document."""
