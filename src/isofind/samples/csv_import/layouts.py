"""Where the isotope values of a row are: the two layouts, and reading values from a row.

- Wide: `element_N`, `isotope_ratio_N`, `ratio_value_N`, `uncertainty_N`, `standard_N`
  (optionally `uncertainty_type_N`, `scale_N`); unnumbered, one value per row.
- Ratio-named: a column per ratio or delta (`206Pb/204Pb`, `δ65Cu`), its uncertainty in
  `2s_206Pb/204Pb`, `206Pb/204Pb 2σ`, `206Pb/204Pb (1SD)`, `err 206Pb/204Pb` …
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from isofind.reference.standards.normalization import to_two_sigma
from isofind.samples.csv_import.headers import FieldRole, GroupRole
from isofind.samples.csv_import.results import ImportProblem, ParsedIsotopeValue, problem
from isofind.samples.csv_import.values import CellProblem, as_date, parse_number
from isofind.samples.vocabulary import (
    IsotopeQuantity,
    normalise_element,
    parse_isotope_quantity,
    parse_uncertainty_type,
)

if TYPE_CHECKING:
    from isofind.samples.csv_import.mapping import BoundSource


@dataclass(frozen=True, slots=True)
class RatioRole:
    """A column named by a ratio or delta: its values, or their uncertainties."""

    quantity: IsotopeQuantity
    uncertainty: bool = False
    # Two headers for the same uncertainty are one role whatever they declare.
    declared_type: str | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        if not self.uncertainty:
            return self.quantity.name
        return f"{self.quantity.name} uncertainty ({self.declared_type or 'undeclared'})"


_TYPE = r"[12]\s*(?:σ|sigma|sd|se|s)"
_WORD = r"err(?:or|eur)?|unc(?:ertainty)?|incertitude"
_MARKER = rf"±?\s*(?P<marker>{_TYPE}|{_WORD})"
_UNCERTAINTY_BEFORE = re.compile(rf"\(?{_MARKER}\)?[\s_:-]+(?P<quantity>.+)", re.IGNORECASE)
_UNCERTAINTY_AFTER = re.compile(
    rf"(?P<quantity>.+?)(?:[\s_:-]+|(?=[(±]))\(?{_MARKER}\)?", re.IGNORECASE
)


def classify_ratio_header(header: str, custom_symbols: frozenset[str]) -> RatioRole | None:
    """The ratio or delta a header names, as a value or as an uncertainty column, or None."""
    quantity = _quantity(header.strip(), custom_symbols)
    if quantity is not None:
        return RatioRole(quantity)
    for pattern in (_UNCERTAINTY_BEFORE, _UNCERTAINTY_AFTER):
        match = pattern.fullmatch(header.strip())
        if match:
            quantity = _quantity(match["quantity"].strip(), custom_symbols)
            if quantity is not None:
                declared = parse_uncertainty_type(match["marker"])
                return RatioRole(quantity, uncertainty=True, declared_type=declared)
    return None


@lru_cache(maxsize=4096)
def _quantity(text: str, custom_symbols: frozenset[str]) -> IsotopeQuantity | None:
    return parse_isotope_quantity(text, custom_symbols)


@lru_cache(maxsize=1024)
def _element(text: str, custom_symbols: frozenset[str]) -> str | None:
    return normalise_element(text, custom_symbols)


@dataclass(frozen=True, slots=True)
class ValueColumns:
    """Where one isotope value of a row is read."""

    value: BoundSource
    quantity: IsotopeQuantity | None = None  # fixed by a ratio-named column …
    ratio: BoundSource | None = None  # … or written in a cell (wide layout)
    element: BoundSource | None = None
    uncertainty: BoundSource | None = None
    declared_type: str | None = None  # declared by the uncertainty's header (2s_…)
    uncertainty_type: BoundSource | None = None
    standard: BoundSource | None = None
    scale: BoundSource | None = None


Role = FieldRole | GroupRole | RatioRole


def value_columns(bound: Mapping[Role, BoundSource]) -> list[ValueColumns]:
    """Every isotope value a row can hold: ratio-named columns, then wide-layout groups."""
    return [*_ratio_named(bound), *_wide(bound)]


def used_roles(columns: Sequence[ValueColumns], bound: Mapping[Role, BoundSource]) -> set[Role]:
    """The roles these value columns read; the other isotope columns go unused."""
    sources = {
        source
        for value in columns
        for source in (value.value, value.ratio, value.element, value.uncertainty,
                       value.uncertainty_type, value.standard, value.scale)
        if source is not None
    }
    return {role for role, source in bound.items() if source in sources}


def _ratio_named(bound: Mapping[Role, BoundSource]) -> list[ValueColumns]:
    columns = []
    for role, source in bound.items():
        if isinstance(role, RatioRole) and not role.uncertainty:
            uncertainty_role = next(
                (other for other in bound
                 if isinstance(other, RatioRole) and other.uncertainty
                 and other.quantity == role.quantity),
                None,
            )
            columns.append(ValueColumns(
                value=source,
                quantity=role.quantity,
                uncertainty=bound[uncertainty_role] if uncertainty_role else None,
                declared_type=uncertainty_role.declared_type if uncertainty_role else None,
            ))
    return columns


def _wide(bound: Mapping[Role, BoundSource]) -> list[ValueColumns]:
    groups: dict[str, dict[str, BoundSource]] = {}
    for role, source in bound.items():
        if isinstance(role, GroupRole):
            groups.setdefault(role.group, {})[role.field] = source
    columns = []
    for group, parts in groups.items():
        if "isotope_ratio" not in parts or "ratio_value" not in parts:
            continue
        # Unnumbered standard, uncertainty type and scale are row defaults (RowContext).
        numbered = group != ""
        columns.append(ValueColumns(
            value=parts["ratio_value"],
            ratio=parts["isotope_ratio"],
            element=parts.get("element"),
            uncertainty=parts.get("uncertainty"),
            uncertainty_type=parts.get("uncertainty_type") if numbered else None,
            standard=parts.get("standard") if numbered else None,
            scale=parts.get("scale") if numbered else None,
        ))
    return columns


@dataclass(slots=True)
class RowContext:
    """What every isotope value of a row shares unless its own columns say otherwise."""

    standard: str | None = None
    uncertainty_type: str | None = None
    scale: str | None = None
    method: str | None = None
    instrument: str | None = None
    session_date: str | None = None


class RowContextReader:
    """Reads a row's shared isotope fields: standard, uncertainty type, scale, method …"""

    def __init__(self, bound: Mapping[Role, BoundSource]) -> None:
        self.standard = bound.get(GroupRole("standard", ""))
        self.uncertainty_type = bound.get(GroupRole("uncertainty_type", ""))
        self.scale = bound.get(GroupRole("scale", ""))
        self.method = bound.get(FieldRole("method"))
        self.instrument = bound.get(FieldRole("instrument"))
        self.session_date = bound.get(FieldRole("session_date"))

    def sources(self) -> list[BoundSource]:
        candidates = (self.standard, self.uncertainty_type, self.scale, self.method,
                      self.instrument, self.session_date)
        return [source for source in candidates if source is not None]

    def read(self, cells: Sequence[str], line: int, problems: list[ImportProblem]) -> RowContext:
        context = RowContext(
            standard=_text(self.standard, cells),
            scale=_text(self.scale, cells),
            method=_text(self.method, cells),
            instrument=_text(self.instrument, cells),
        )
        if self.uncertainty_type is not None:
            context.uncertainty_type = _uncertainty_type(self.uncertainty_type, cells, line,
                                                         problems)
        text = self.session_date.source.read(cells) if self.session_date is not None else ""
        if text and self.session_date is not None:
            try:
                context.session_date = as_date(text)
            except CellProblem as bad_date:
                problems.append(problem(line, self.session_date.column, text, str(bad_date)))
        return context


def _text(source: BoundSource | None, cells: Sequence[str]) -> str | None:
    return (source.source.read(cells) or None) if source is not None else None


def _uncertainty_type(
    source: BoundSource, cells: Sequence[str], line: int, problems: list[ImportProblem]
) -> str | None:
    text = source.source.read(cells)
    if not text:
        return None
    declared = parse_uncertainty_type(text)
    if declared is None:
        problems.append(problem(line, source.column, text,
                                "unknown uncertainty type: use 1σ, 1SD, 1SE, 2σ, 2SD or 2SE"))
    return declared


class IsotopeValueReader:
    """Reads every isotope value of a row, reporting each bad cell."""

    def __init__(
        self,
        columns: Sequence[ValueColumns],
        custom_symbols: frozenset[str],
        skip_unreadable_uncertainties: bool,
    ) -> None:
        self.columns = columns
        self.custom_symbols = custom_symbols
        self.skip_unreadable_uncertainties = skip_unreadable_uncertainties

    def read(
        self,
        cells: Sequence[str],
        line: int,
        context: RowContext,
        problems: list[ImportProblem],
        warnings: list[ImportProblem],
    ) -> list[ParsedIsotopeValue]:
        values = []
        for columns in self.columns:
            value = self._read_one(columns, cells, line, context, problems, warnings)
            if value is not None:
                values.append(value)
        return values

    def _read_one(
        self,
        columns: ValueColumns,
        cells: Sequence[str],
        line: int,
        context: RowContext,
        problems: list[ImportProblem],
        warnings: list[ImportProblem],
    ) -> ParsedIsotopeValue | None:
        value_text = columns.value.source.read(cells)
        uncertainty_text = columns.uncertainty.source.read(cells) if columns.uncertainty else ""
        if not value_text:
            if uncertainty_text and columns.uncertainty is not None:
                problems.append(problem(line, columns.uncertainty.column, uncertainty_text,
                                        "an uncertainty without its value"))
            return None
        before = len(problems)
        quantity = columns.quantity or self._cell_quantity(columns, cells, line, problems)
        element = self._element(columns, quantity, cells, line, problems)
        number = parse_number(value_text)
        if number is None:
            problems.append(problem(line, columns.value.column, value_text, "not a number"))
        elif quantity is not None and (refusal := quantity.refuses(number)) is not None:
            problems.append(problem(line, columns.value.column, value_text, refusal))
        uncertainty, declared = self._uncertainty(
            columns, uncertainty_text, cells, line, context, problems, warnings
        )
        if len(problems) > before or quantity is None or element is None or number is None:
            return None
        is_delta = quantity.kind == "delta"
        return ParsedIsotopeValue(
            element=element,
            value=number,
            line=line,
            ratio=None if is_delta else quantity.name,
            delta=quantity.name if is_delta else None,
            scale=(_text(columns.scale, cells) or context.scale) if is_delta else None,
            uncertainty=uncertainty,
            uncertainty_type_declared=declared,
            standard=_text(columns.standard, cells) or context.standard,
            method=context.method,
            instrument=context.instrument,
            session_date=context.session_date,
        )

    def _cell_quantity(
        self,
        columns: ValueColumns,
        cells: Sequence[str],
        line: int,
        problems: list[ImportProblem],
    ) -> IsotopeQuantity | None:
        if columns.ratio is None:
            return None
        text = columns.ratio.source.read(cells)
        if not text:
            problems.append(problem(line, columns.ratio.column, text,
                                    "a value without its isotope ratio"))
            return None
        quantity = _quantity(text, self.custom_symbols)
        if quantity is None:
            problems.append(problem(
                line, columns.ratio.column, text,
                "not an isotope ratio or delta of a known element (e.g. 206Pb/204Pb, δ65Cu)",
            ))
        return quantity

    def _element(
        self,
        columns: ValueColumns,
        quantity: IsotopeQuantity | None,
        cells: Sequence[str],
        line: int,
        problems: list[ImportProblem],
    ) -> str | None:
        text = columns.element.source.read(cells) if columns.element else ""
        if not text or columns.element is None:
            return quantity.element if quantity else None
        element = _element(text, self.custom_symbols)
        if element is None:
            problems.append(problem(line, columns.element.column, text,
                                    "unknown element: neither predefined nor a custom element"))
        elif quantity is not None and element not in quantity.elements:
            problems.append(problem(line, columns.element.column, text,
                                    f"element {element} does not match {quantity.name}"))
        return element

    def _uncertainty(
        self,
        columns: ValueColumns,
        text: str,
        cells: Sequence[str],
        line: int,
        context: RowContext,
        problems: list[ImportProblem],
        warnings: list[ImportProblem],
    ) -> tuple[float | None, str | None]:
        if not text or columns.uncertainty is None:
            return None, None
        number = parse_number(text)
        if number is None and self.skip_unreadable_uncertainties:
            warnings.append(problem(line, columns.uncertainty.column, text,
                                    "not a number: value kept without this uncertainty"))
            return None, None
        if number is None or number < 0:
            problems.append(problem(line, columns.uncertainty.column, text,
                                    "not a number" if number is None else "negative uncertainty"))
            return None, None
        declared = columns.declared_type
        if declared is None and columns.uncertainty_type is not None:
            declared = _uncertainty_type(columns.uncertainty_type, cells, line, problems)
        declared = declared or context.uncertainty_type
        return (to_two_sigma(number, declared) if declared else number), declared
