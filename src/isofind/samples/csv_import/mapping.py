"""The optional `mapping` and the named `profile`s: which column(s) feed which field.

A mapping is a JSON object from our field names to a source:

- `"Column"`: the cell of that column;
- `["A", "B"]`: the non-empty cells joined with ", " (an item may itself be a `first_of`);
- `{"first_of": ["A", "B"]}`: the first non-empty cell among those columns;
- `{"value": "source"}`: the same constant on every row.

Keys are sample fields (`sector`), row-wide isotope fields (`instrument`), wide-layout parts
(`isotope_ratio_1`, or `standard` for the whole row), or ratio and delta names
(`206Pb/204Pb`, `2s_206Pb/204Pb` for its uncertainty).

A profile is a JSON file in `profiles/`: `{"description", "mapping", "one_sample_per_row",
"skip_unreadable_uncertainties"}`; a mapping given with the file overrides its entries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources

from isofind.samples.csv_import.headers import (
    ROW_FIELDS,
    SAMPLE_FIELDS,
    VALUE_FIELDS,
    FieldRole,
    GroupRole,
    normalise_header,
)
from isofind.samples.csv_import.layouts import Role, classify_ratio_header
from isofind.samples.csv_import.results import MappingError

# --- Sources: how a row's cells become one text ---------------------------------------------

class Column:
    __slots__ = ("header", "index")

    def __init__(self, index: int, header: str) -> None:
        self.index = index
        self.header = header

    @property
    def inputs(self) -> tuple[Column, ...]:
        return (self,)

    def read(self, cells: Sequence[str]) -> str:
        return cells[self.index].strip()


class FirstOf:
    __slots__ = ("columns",)

    def __init__(self, columns: Sequence[Column]) -> None:
        self.columns = tuple(columns)

    @property
    def inputs(self) -> tuple[Column, ...]:
        return self.columns

    def read(self, cells: Sequence[str]) -> str:
        for column in self.columns:
            text = column.read(cells)
            if text:
                return text
        return ""


class Joined:
    __slots__ = ("parts",)

    def __init__(self, parts: Sequence[Column | FirstOf | Constant]) -> None:
        self.parts = tuple(parts)

    @property
    def inputs(self) -> tuple[Column, ...]:
        return tuple(column for part in self.parts for column in part.inputs)

    def read(self, cells: Sequence[str]) -> str:
        return ", ".join(text for part in self.parts if (text := part.read(cells)))


class Constant:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    @property
    def inputs(self) -> tuple[Column, ...]:
        return ()

    def read(self, cells: Sequence[str]) -> str:
        return self.text


Source = Column | FirstOf | Joined | Constant


@dataclass(frozen=True, slots=True)
class BoundSource:
    """A source and the field it feeds."""

    source: Source
    label: str

    @property
    def column(self) -> str:
        """What an error names: the header when one column feeds the field, else the field."""
        inputs = self.source.inputs
        return inputs[0].header if len(inputs) == 1 else self.label


# --- Mapping specifications: parsed before the file's headers are known ----------------------

@dataclass(frozen=True, slots=True)
class ColumnSpec:
    header: str


@dataclass(frozen=True, slots=True)
class FirstOfSpec:
    headers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class JoinedSpec:
    parts: tuple[ColumnSpec | FirstOfSpec | ConstantSpec, ...]


@dataclass(frozen=True, slots=True)
class ConstantSpec:
    text: str


SourceSpec = ColumnSpec | FirstOfSpec | JoinedSpec | ConstantSpec

_WIDE_KEY = re.compile(rf"({'|'.join(VALUE_FIELDS)})(?:_(\d+))?")


def role_for_key(key: str, custom_symbols: frozenset[str]) -> Role:
    """Our name for a mapping key; a key we do not know is a MappingError."""
    if key in SAMPLE_FIELDS or key in ROW_FIELDS:
        return FieldRole(key)
    wide = _WIDE_KEY.fullmatch(key)
    if wide:
        return GroupRole(wide[1], wide[2] or "")
    ratio = classify_ratio_header(key, custom_symbols)
    if ratio is not None:
        return ratio
    known = ", ".join((*SAMPLE_FIELDS, *ROW_FIELDS))
    raise MappingError(
        f"mapping key {key!r} is not a field ({known}), a wide-layout column such as "
        "isotope_ratio_1, nor a ratio or delta such as 206Pb/204Pb"
    )


def _column_names(value: object, key: str) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(item, str) and item.strip() for item in value)
    ):
        raise MappingError(f"mapping {key!r}: first_of needs a non-empty list of column names")
    return tuple(item.strip() for item in value)


def _single_source(value: object, key: str) -> ColumnSpec | FirstOfSpec | ConstantSpec:
    if isinstance(value, str) and value.strip():
        return ColumnSpec(value.strip())
    if isinstance(value, dict) and set(value) == {"value"}:
        constant = value["value"]
        if isinstance(constant, bool) or not isinstance(constant, str | int | float):
            raise MappingError(f"mapping {key!r}: a constant must be a string or a number")
        return ConstantSpec(str(constant).strip())
    if isinstance(value, dict) and set(value) == {"first_of"}:
        return FirstOfSpec(_column_names(value["first_of"], key))
    raise MappingError(
        f"mapping {key!r}: expected a column name, a list of column names, "
        '{"first_of": [...]} or {"value": ...}'
    )


def parse_source(value: object, key: str) -> SourceSpec:
    if isinstance(value, list):
        if not value:
            raise MappingError(f"mapping {key!r}: the list of columns is empty")
        return JoinedSpec(tuple(_single_source(item, key) for item in value))
    return _single_source(value, key)


def parse_mapping(
    mapping: object, custom_symbols: frozenset[str] = frozenset()
) -> dict[Role, SourceSpec]:
    """Validate a mapping object; every problem in it is a MappingError."""
    if not isinstance(mapping, Mapping):
        raise MappingError("mapping must be a JSON object from field names to columns")
    parsed: dict[Role, SourceSpec] = {}
    for key, value in mapping.items():
        if not isinstance(key, str):
            raise MappingError(f"mapping key {key!r} must be a string")
        parsed[role_for_key(key.strip(), custom_symbols)] = parse_source(value, key)
    return parsed


# --- Profiles -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    description: str
    mapping: dict[Role, SourceSpec] = field(default_factory=dict)
    # Rows never merge: rows whose names collide get " (line N)" appended to stay apart.
    one_sample_per_row: bool = False
    # Published compilations hold uncertainties such as ".1 - .2" (a range): keep the value,
    # drop that uncertainty and report a warning instead of refusing the file.
    skip_unreadable_uncertainties: bool = False


_PROFILE_NAME = re.compile(r"[a-z0-9_-]+")
_PROFILE_KEYS = {"description", "mapping", "one_sample_per_row", "skip_unreadable_uncertainties"}


def available_profiles() -> list[str]:
    folder = resources.files(__package__).joinpath("profiles")
    return sorted(item.name[:-5] for item in folder.iterdir() if item.name.endswith(".json"))


def load_profile(name: str, custom_symbols: frozenset[str] = frozenset()) -> Profile:
    """The shipped profile `name` (case ignored); an unknown name is a MappingError."""
    wanted = name.strip().lower()
    if not _PROFILE_NAME.fullmatch(wanted) or wanted not in available_profiles():
        choices = ", ".join(available_profiles())
        raise MappingError(f"unknown profile {name!r}; available profiles: {choices}")
    text = resources.files(__package__).joinpath("profiles", f"{wanted}.json").read_text("utf-8")
    return _profile_from_json(wanted, json.loads(text), custom_symbols)


def _profile_from_json(name: str, content: object, custom: frozenset[str]) -> Profile:
    if not isinstance(content, dict) or not set(content) <= _PROFILE_KEYS:
        raise MappingError(f"profile {name!r} is malformed: allowed keys are {_PROFILE_KEYS}")
    flags = {key: content.get(key, False) for key in _PROFILE_KEYS - {"description", "mapping"}}
    if not all(isinstance(flag, bool) for flag in flags.values()):
        raise MappingError(f"profile {name!r} is malformed: options must be true or false")
    return Profile(
        name=name,
        description=str(content.get("description", "")),
        mapping=parse_mapping(content.get("mapping", {}), custom),
        one_sample_per_row=flags["one_sample_per_row"],
        skip_unreadable_uncertainties=flags["skip_unreadable_uncertainties"],
    )


# --- Binding specifications to the file's headers ------------------------------------------

class HeaderPositions:
    """Finds a named column: the exact header first, then the same header once normalised."""

    def __init__(self, headers: Sequence[str]) -> None:
        self.headers = headers
        self._exact: dict[str, int] = {}
        self._normalised: dict[str, int] = {}
        for index, header in enumerate(headers):
            self._exact.setdefault(header, index)
            self._normalised.setdefault(normalise_header(header), index)

    def column(self, header: str) -> Column | None:
        index = self._exact.get(header)
        if index is None:
            index = self._normalised.get(normalise_header(header))
        return None if index is None else Column(index, self.headers[index])


class MissingColumns(Exception):
    """The mapping names columns this file does not have."""

    def __init__(self, headers: list[str]) -> None:
        self.headers = headers
        super().__init__(", ".join(headers))


def _named_columns(spec: SourceSpec) -> list[str]:
    if isinstance(spec, ColumnSpec):
        return [spec.header]
    if isinstance(spec, FirstOfSpec):
        return list(spec.headers)
    if isinstance(spec, JoinedSpec):
        return [name for part in spec.parts for name in _named_columns(part)]
    return []


def bind(spec: SourceSpec, positions: HeaderPositions) -> Source:
    """The source reading `spec` from the rows of this file."""
    named = {name: positions.column(name) for name in _named_columns(spec)}
    columns = {name: column for name, column in named.items() if column is not None}
    if len(columns) < len(named):
        raise MissingColumns([name for name in named if name not in columns])
    if isinstance(spec, JoinedSpec):
        return Joined([_bind_part(part, columns) for part in spec.parts])
    return _bind_part(spec, columns)


def _bind_part(
    spec: ColumnSpec | FirstOfSpec | ConstantSpec, columns: dict[str, Column]
) -> Column | FirstOf | Constant:
    if isinstance(spec, ColumnSpec):
        return columns[spec.header]
    if isinstance(spec, FirstOfSpec):
        return FirstOf([columns[header] for header in spec.headers])
    return Constant(spec.text)
