"""What the CSV parsing layer hands to the service: parsed samples, or the complete error list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict


class ImportProblem(TypedDict):
    line: int  # line of the file, header = 1
    column: str  # header as written in the file, or our field name for composed values
    value: str
    message: str


def problem(line: int, column: str, value: str, message: str) -> ImportProblem:
    return {"line": line, "column": column, "value": value, "message": message}


@dataclass(slots=True)
class ParsedIsotopeValue:
    element: str
    value: float
    line: int
    ratio: str | None = None  # canonical, e.g. 206Pb/204Pb
    delta: str | None = None  # canonical, e.g. δ65Cu
    scale: str | None = None  # reference scale of a delta
    uncertainty: float | None = None  # 2σ level
    uncertainty_type_declared: str | None = None  # as written in the file: 1σ, 2SD, 2SE …
    standard: str | None = None
    method: str | None = None
    instrument: str | None = None
    session_date: str | None = None  # ISO date

    def identity(self) -> tuple[str, str | None, str | None, float, float | None, str | None]:
        """What makes two values the same measurement: importing it twice adds nothing."""
        return (self.element, self.ratio, self.delta, self.value, self.uncertainty, self.standard)


@dataclass(slots=True)
class ParsedSample:
    name: str
    fields: dict[str, object]  # our field names → normalised values; only fields the file gives
    isotope_values: list[ParsedIsotopeValue] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


@dataclass(slots=True)
class ParsedImport:
    samples: list[ParsedSample]
    recognised_columns: dict[str, str]  # header → field (fields joined with ", " if several)
    ignored_columns: list[str]
    warnings: list[ImportProblem]  # problems the profile allows to pass, e.g. skipped values
    encoding: str
    delimiter: str


class ImportErrors(Exception):
    """The file cannot be imported; `errors` lists every problem found, in file order."""

    def __init__(self, errors: list[ImportProblem]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} problem(s) in the CSV file")


class MappingError(ValueError):
    """The `mapping` or `profile` given with the file is itself wrong."""
