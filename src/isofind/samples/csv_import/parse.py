"""Entry point: `parse_csv(raw bytes) -> ParsedImport`, or ImportErrors listing every problem."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from isofind.samples.csv_import.headers import SAMPLE_FIELDS, FieldRole, match_header
from isofind.samples.csv_import.layouts import (
    IsotopeValueReader,
    Role,
    RowContextReader,
    classify_ratio_header,
    used_roles,
    value_columns,
)
from isofind.samples.csv_import.mapping import (
    BoundSource,
    Column,
    HeaderPositions,
    MissingColumns,
    Profile,
    SourceSpec,
    bind,
    load_profile,
    parse_mapping,
)
from isofind.samples.csv_import.reading import (
    Row,
    UnreadableRow,
    decode,
    read_rows,
    sniff_delimiter,
)
from isofind.samples.csv_import.results import (
    ImportErrors,
    ImportProblem,
    MappingError,
    ParsedImport,
    ParsedIsotopeValue,
    ParsedSample,
    problem,
)
from isofind.samples.csv_import.values import SAMPLE_FIELD_CONVERTERS, CellProblem
from isofind.samples.vocabulary import looks_like_isotope_quantity


def parse_csv(
    raw: bytes,
    mapping: Mapping[str, object] | str | None = None,
    profile: str | None = None,
    custom_elements: frozenset[str] = frozenset(),
) -> ParsedImport:
    """Parse a sample CSV file into samples, merging rows that name the same sample; samples
    come in the order the file first names them.

    `mapping` is a JSON object (or its text) from our field names to columns, applied over the
    named `profile`. Raises MappingError for a bad mapping or profile, and ImportErrors with
    every problem of the file otherwise; nothing is partially returned.
    """
    csv = read_csv(raw, mapping, profile, custom_elements)
    samples = sorted(csv.samples(), key=lambda sample: sample.lines[0])
    return ParsedImport(
        samples=samples,
        recognised_columns=csv.recognised_columns,
        ignored_columns=csv.ignored_columns,
        warnings=csv.warnings,
        encoding=csv.encoding,
        delimiter=csv.delimiter,
    )


def read_csv(
    raw: bytes,
    mapping: Mapping[str, object] | str | None = None,
    profile: str | None = None,
    custom_elements: frozenset[str] = frozenset(),
) -> CsvFile:
    """A sample CSV file read up to its rows, which :meth:`CsvFile.samples` parses.

    Arguments as for :func:`parse_csv`. Raises MappingError for a bad mapping or profile and
    ImportErrors for an empty file; every other problem is raised once the rows are parsed.
    """
    custom = frozenset(custom_elements)
    chosen = load_profile(profile, custom) if profile else Profile(name="", description="")
    specs: dict[Role, SourceSpec] = dict(chosen.mapping)
    if mapping is not None:
        specs.update(parse_mapping(_mapping_object(mapping), custom))

    decoded = decode(raw)
    delimiter = sniff_delimiter(decoded.text)
    errors: list[ImportProblem] = []
    rows = _readable_rows(read_rows(decoded.text, delimiter), errors)
    headers = next(rows, None)
    if headers is None:
        raise ImportErrors(errors or [problem(1, "", "", "the file is empty")])
    plan = _plan(headers.cells, specs, chosen, custom, errors)
    data_rows = list(rows)
    names = [plan.name_of(row) for row in data_rows]
    if not errors and all(name is None for name in names):
        raise ImportErrors([problem(1, "", "", "the file has a header but no data rows")])
    return CsvFile(
        recognised_columns=plan.recognised,
        ignored_columns=plan.ignored,
        encoding=decoded.encoding,
        delimiter=delimiter,
        sample_names=_sample_names(data_rows, names, chosen.one_sample_per_row),
        plan=plan,
        rows=data_rows,
        row_names=names,
        errors=errors,
    )


@dataclass
class CsvFile:
    """A CSV file's header, read, and its rows, to parse.

    Its samples can be parsed while the ones already parsed are stored: the names of all its
    samples are known from the start (``sample_names``, one per data row, ``None`` for a blank
    row), and each sample comes out complete, as soon as the last row naming it is parsed.
    """

    recognised_columns: dict[str, str]
    ignored_columns: list[str]
    encoding: str
    delimiter: str
    sample_names: list[str | None]
    plan: ImportPlan
    rows: list[Row]
    row_names: list[str | None]  # the name cell of each row, as written
    errors: list[ImportProblem]
    warnings: list[ImportProblem] = field(default_factory=list)

    def samples(self) -> Iterator[ParsedSample]:
        """Every sample, each once the last row naming it is parsed. Once a row has a problem
        none comes out any more; ImportErrors then lists every problem of the file, raised
        after the last row."""
        last_row = {name: index for index, name in enumerate(self.sample_names)}
        merging = _Merging()
        for index, (row, name, sample_name) in enumerate(
                zip(self.rows, self.row_names, self.sample_names, strict=True)):
            if name is None or sample_name is None:
                continue
            parsed = self.plan.parse_row(row, name, self.errors, self.warnings)
            if parsed is None or self.errors:
                continue
            merging.add(sample_name, parsed)
            if last_row[sample_name] == index:
                yield merging.complete(sample_name)
        if self.errors:
            raise ImportErrors(self.errors)


def _mapping_object(mapping: object) -> object:
    if not isinstance(mapping, str):
        return mapping
    try:
        return json.loads(mapping)
    except json.JSONDecodeError as error:
        raise MappingError(f"mapping is not valid JSON: {error}") from error


def _readable_rows(rows: Iterator[Row], errors: list[ImportProblem]) -> Iterator[Row]:
    try:
        yield from rows
    except UnreadableRow as unreadable:
        errors.append(problem(unreadable.line, "", "", f"unreadable CSV: {unreadable.reason}"))


@dataclass(slots=True)
class ParsedRow:
    name: str
    fields: dict[str, object]
    values: list[ParsedIsotopeValue]
    line: int


@dataclass(slots=True)
class ImportPlan:
    """How every row of this file is read, decided once from its header."""

    width: int
    name: BoundSource | None
    fields: list[tuple[str, BoundSource, Callable[[str], object]]]
    context: RowContextReader
    values: IsotopeValueReader
    recognised: dict[str, str]
    ignored: list[str]
    positions: dict[str, int]  # header → index, to report a row's problems left to right

    def name_of(self, row: Row) -> str | None:
        """The row's sample name as written, or None for a blank row."""
        cells = row.cells
        if not "".join(cells).strip():
            return None  # blank lines, and the empty rows spreadsheets leave at the end
        if self.name is None:
            return ""
        if len(cells) < self.width:
            cells = self._padded(cells)
        return self.name.source.read(cells)

    def parse_row(
        self, row: Row, name: str, errors: list[ImportProblem], warnings: list[ImportProblem]
    ) -> ParsedRow | None:
        """The row named ``name`` (:meth:`name_of`), or None when it has problems, which are
        added to ``errors``."""
        cells = row.cells
        problems: list[ImportProblem] = []
        if len(cells) != self.width:
            cells = self._fit(cells, row.line, problems)
        if self.name is not None and not name:
            problems.append(problem(row.line, self.name.column, "", "the sample name is missing"))
        fields = self._fields(cells, row.line, problems)
        context = self.context.read(cells, row.line, problems)
        values = self.values.read(cells, row.line, context, problems, warnings)
        if problems:
            errors.extend(sorted(problems, key=self._file_position))
            return None
        return ParsedRow(name, fields, values, row.line)

    def _file_position(self, found: ImportProblem) -> int:
        return self.positions.get(found["column"], self.width)

    def _fit(self, cells: list[str], line: int, problems: list[ImportProblem]) -> list[str]:
        extra = [cell for cell in cells[self.width:] if cell.strip()]
        if extra:
            problems.append(problem(
                line, f"(after column {self.width})", "; ".join(extra),
                f"the row has {len(cells)} cells but the header has {self.width} columns",
            ))
        return self._padded(cells)

    def _padded(self, cells: list[str]) -> list[str]:
        # Rows cut short by spreadsheets simply lack their last, empty, cells.
        return (cells + [""] * self.width)[: self.width]

    def _fields(
        self, cells: Sequence[str], line: int, problems: list[ImportProblem]
    ) -> dict[str, object]:
        fields: dict[str, object] = {}
        for name, bound, convert in self.fields:
            text = bound.source.read(cells)
            if not text:
                continue
            try:
                fields[name] = convert(text)
            except CellProblem as cell_problem:
                problems.append(problem(line, bound.column, text, str(cell_problem)))
        return fields


def _plan(
    headers: list[str],
    specs: Mapping[Role, SourceSpec],
    profile: Profile,
    custom: frozenset[str],
    errors: list[ImportProblem],
) -> ImportPlan:
    headers = [header.strip() for header in headers]
    bound = _bind_mapping(specs, HeaderPositions(headers), errors)
    mapped_indices = _column_indices(bound.values())
    bound.update(_resolve_unmapped(headers, mapped_indices, set(bound), custom, errors))
    values = value_columns(bound)
    sample_roles = [FieldRole(field) for field in SAMPLE_FIELDS if FieldRole(field) in bound]
    context = RowContextReader(bound)
    used = [
        *(bound[role] for role in sample_roles),
        *context.sources(),
        *(bound[role] for role in used_roles(values, bound)),
    ]
    name = bound.get(FieldRole("name"))
    if FieldRole("name") not in specs and name is None:
        errors.append(problem(1, "name", "", "no column gives the sample name (name, nom, "
                                             "échantillon …) and the mapping names none"))
    recognised, ignored = _column_report(headers, used)
    return ImportPlan(
        width=len(headers),
        name=name,
        fields=[(role.field, bound[role], SAMPLE_FIELD_CONVERTERS[role.field])
                for role in sample_roles if role.field != "name"],
        context=context,
        values=IsotopeValueReader(values, custom, profile.skip_unreadable_uncertainties),
        recognised=recognised,
        ignored=ignored,
        positions={header: index for index, header in reversed(list(enumerate(headers)))},
    )


def _bind_mapping(
    specs: Mapping[Role, SourceSpec], positions: HeaderPositions, errors: list[ImportProblem]
) -> dict[Role, BoundSource]:
    bound: dict[Role, BoundSource] = {}
    for role, spec in specs.items():
        try:
            bound[role] = BoundSource(bind(spec, positions), role.label)
        except MissingColumns as missing:
            errors.extend(
                problem(1, header, "", f"the mapping reads {role.label} from column {header!r}, "
                                       "which the file does not have")
                for header in missing.headers
            )
    return bound


def _column_indices(sources: Iterable[BoundSource]) -> set[int]:
    return {column.index for bound in sources for column in bound.source.inputs}


def _resolve_unmapped(
    headers: Sequence[str],
    mapped_indices: set[int],
    mapped_roles: set[Role],
    custom: frozenset[str],
    errors: list[ImportProblem],
) -> dict[Role, BoundSource]:
    """Roles of the columns the mapping leaves alone: exact names win over typos, then the
    leftmost column; a role the mapping already fills is not guessed again."""
    best: dict[Role, tuple[bool, int]] = {}
    for index, header in enumerate(headers):
        if index in mapped_indices or not header:
            continue
        ratio = classify_ratio_header(header, custom)
        if ratio is None and looks_like_isotope_quantity(header):
            errors.append(problem(1, header, header, "a ratio or delta of an unknown element or "
                                                     "isotope: declare it as a custom element"))
            continue
        match = None if ratio else match_header(header)
        role: Role | None = ratio or (match.role if match else None)
        if role is None or role in mapped_roles:
            continue
        exact = ratio is not None or (match is not None and match.exact)
        if role not in best or (exact and not best[role][0]):
            best[role] = (exact, index)
    return {
        role: BoundSource(Column(index, headers[index]), role.label)
        for role, (_, index) in sorted(best.items(), key=lambda item: item[1][1])
    }


def _column_report(
    headers: Sequence[str], used: Sequence[BoundSource]
) -> tuple[dict[str, str], list[str]]:
    fields_by_index: dict[int, list[str]] = {}
    for bound in used:
        for column in bound.source.inputs:
            fields_by_index.setdefault(column.index, []).append(bound.label)
    recognised = {
        headers[index]: ", ".join(fields) for index, fields in sorted(fields_by_index.items())
    }
    ignored = [
        header for index, header in enumerate(headers) if header and index not in fields_by_index
    ]
    return recognised, ignored


def _sample_names(rows: Sequence[Row], names: Sequence[str | None],
                  one_sample_per_row: bool) -> list[str | None]:
    """The sample each row belongs to: the one it names, or with a profile of one sample per
    row, a name that repeats gets the row's line."""
    if not one_sample_per_row:
        return list(names)
    counts = Counter(name for name in names if name is not None)
    return [name if name is None or counts[name] == 1 else f"{name} (line {row.line})"
            for row, name in zip(rows, names, strict=True)]


class _Merging:
    """Samples being read: later rows fill and update a sample's fields, add its new values."""

    def __init__(self) -> None:
        self.samples: dict[str, ParsedSample] = {}
        # Identities of a sample's values, built only once a second row names it: most don't.
        self.seen: dict[str, set[tuple[object, ...]]] = {}

    def add(self, name: str, row: ParsedRow) -> None:
        sample = self.samples.get(name)
        if sample is None:
            fields = {"name": name, **row.fields}
            self.samples[name] = ParsedSample(name, fields, _distinct(row.values), [row.line])
            return
        sample.fields.update(row.fields)
        sample.lines.append(row.line)
        identities = self.seen.get(name)
        if identities is None:
            identities = self.seen[name] = {value.identity() for value in sample.isotope_values}
        for value in row.values:
            identity = value.identity()
            if identity not in identities:
                identities.add(identity)
                sample.isotope_values.append(value)

    def complete(self, name: str) -> ParsedSample:
        self.seen.pop(name, None)
        return self.samples.pop(name)


def _distinct(values: list[ParsedIsotopeValue]) -> list[ParsedIsotopeValue]:
    identities = {value.identity(): value for value in values}
    return values if len(identities) == len(values) else list(identities.values())
