"""Isotope quantity names and conversion to one non-redundant ratio basis per element.

A lab may report lead as 206Pb/204Pb, 207Pb/204Pb, 208Pb/204Pb, or as 204Pb/206Pb,
207Pb/206Pb, 208Pb/206Pb, or as 206Pb/207Pb, 208Pb/207Pb. Matching needs one coordinate
system, and never a ratio beside the ratios it is derived from (207Pb/206Pb next to
206Pb/204Pb and 207Pb/204Pb makes every covariance matrix singular).

For each element a *reference isotope* r is chosen (Pb: 204, else 206; Sr: 86; Nd: 144;
Hf: 177; Os: 188; otherwise the most frequent denominator). Each other isotope i that the
given ratios connect to r yields one basis ratio i/r, computed along the shortest chain of
given ratios, e.g. 207Pb/204Pb = (207Pb/206Pb) / (204Pb/206Pb). Every basis ratio is thus a
monomial ∏ R_j^(e_j), e_j ∈ {−1, 0, 1}, of the inputs, so that first-order propagation of
independent input uncertainties is exact in log space:

    ln y = E · ln x,    Cov(ln y) = E · diag(σ_j² / x_j²) · Eᵀ,    Cov(y) = D_y Cov(ln y) D_y

with D_y = diag(y) (Taylor 1997, *An Introduction to Error Analysis*, ch. 3). Derived basis
ratios that share an input are therefore correlated, and the full covariance is returned.
Deltas (``δ65Cu``) are already single coordinates and pass through unchanged.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from isofind.matching.errors import InvalidQuantityError, InvalidValueError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

_RATIO_PATTERN = re.compile(r"(\d{1,3})([A-Z][a-z]?)/(\d{1,3})([A-Z][a-z]?)")
_DELTA_PATTERN = re.compile(r"δ(\d{1,3})([A-Z][a-z]?)")

#: Conventional reference (denominator) isotopes, in order of preference.
PREFERRED_REFERENCES: Mapping[str, tuple[int, ...]] = {
    "Pb": (204, 206),
    "Sr": (86,),
    "Nd": (144,),
    "Hf": (177,),
    "Os": (188,),
}

#: 2σ assumed for a ratio whose uncertainty is missing or zero, relative to its value.
DEFAULT_RELATIVE_2S = 5e-4
#: 2σ (‰) assumed for a delta whose uncertainty is missing or zero.
DEFAULT_DELTA_2S = 0.05


@dataclass(frozen=True, order=True)
class Ratio:
    """An isotope ratio numerator/denominator of one element, e.g. 206Pb/204Pb."""

    element: str
    numerator: int
    denominator: int

    @property
    def name(self) -> str:
        return f"{self.numerator}{self.element}/{self.denominator}{self.element}"

    @property
    def mass_difference(self) -> int:
        return self.numerator - self.denominator


@dataclass(frozen=True, order=True)
class Delta:
    """A delta value in per mil against a named scale, e.g. δ65Cu."""

    element: str
    mass: int

    @property
    def name(self) -> str:
        return f"δ{self.mass}{self.element}"


Quantity = Ratio | Delta


def parse_quantity(name: str) -> Quantity:
    """Parse a canonical ratio (``206Pb/204Pb``) or delta (``δ65Cu``) name."""
    ratio = _RATIO_PATTERN.fullmatch(name)
    if ratio is not None:
        numerator, element, denominator, other_element = ratio.groups()
        if element != other_element:
            raise InvalidQuantityError(
                f"ratio {name!r} mixes elements {element} and {other_element}"
            )
        if numerator == denominator:
            raise InvalidQuantityError(f"ratio {name!r} divides an isotope by itself")
        return Ratio(element, int(numerator), int(denominator))
    delta = _DELTA_PATTERN.fullmatch(name)
    if delta is not None:
        return Delta(delta.group(2), int(delta.group(1)))
    raise InvalidQuantityError(
        f"{name!r} is not a canonical isotope ratio (like '206Pb/204Pb') or delta (like 'δ65Cu')"
    )


def parse_quantities(names: Sequence[str]) -> tuple[Quantity, ...]:
    """Parse names, rejecting duplicates (the same quantity given twice is ambiguous)."""
    quantities = tuple(parse_quantity(name) for name in names)
    repeated = [name for name, count in Counter(quantities).items() if count > 1]
    if repeated:
        raise InvalidQuantityError(f"quantity given more than once: {repeated[0].name}")
    return quantities


def choose_references(quantities: Iterable[Quantity]) -> dict[str, int]:
    """Reference isotope per element: the first conventional one present, else the most
    frequent denominator (ties: lightest isotope)."""
    isotopes: dict[str, set[int]] = {}
    denominators: dict[str, Counter[int]] = {}
    for quantity in quantities:
        if isinstance(quantity, Ratio):
            isotopes.setdefault(quantity.element, set()).update(
                (quantity.numerator, quantity.denominator)
            )
            denominators.setdefault(quantity.element, Counter())[quantity.denominator] += 1
    references: dict[str, int] = {}
    for element, present in isotopes.items():
        conventional = [m for m in PREFERRED_REFERENCES.get(element, ()) if m in present]
        if conventional:
            references[element] = conventional[0]
        else:
            counts = denominators[element]
            references[element] = min(counts, key=lambda mass: (-counts[mass], mass))
    return references


@dataclass(frozen=True)
class ConversionPlan:
    """How one availability pattern of inputs maps onto basis quantities.

    ``exponents[o, j]`` is the power of input j in output o (for a delta: 1 on itself).
    """

    outputs: tuple[Quantity, ...]
    exponents: FloatArray
    parents: tuple[tuple[int, ...], ...]
    unused: tuple[int, ...]


def plan_conversion(
    inputs: Sequence[Quantity], available: Sequence[bool], references: Mapping[str, int]
) -> ConversionPlan:
    """Shortest chains of available input ratios from each isotope to its element's
    reference isotope (breadth-first search; ratios already over the reference first)."""
    rows: list[tuple[Quantity, dict[int, float]]] = []
    used: set[int] = set()
    for element in sorted({q.element for q, ok in zip(inputs, available, strict=True) if ok}):
        edges = [
            (index, quantity)
            for index, quantity in enumerate(inputs)
            if available[index] and isinstance(quantity, Ratio) and quantity.element == element
        ]
        if not edges or element not in references:
            continue
        for isotope, chain in _chains_to_reference(edges, references[element]).items():
            rows.append((Ratio(element, isotope, references[element]), chain))
            used.update(chain)
    for index, quantity in enumerate(inputs):
        if available[index] and isinstance(quantity, Delta):
            rows.append((quantity, {index: 1.0}))
            used.add(index)
    rows.sort(key=lambda row: (isinstance(row[0], Delta), row[0]))
    exponents = np.zeros((len(rows), len(inputs)))
    for position, (_, chain) in enumerate(rows):
        for index, power in chain.items():
            exponents[position, index] = power
    unused = tuple(i for i, ok in enumerate(available) if ok and i not in used)
    return ConversionPlan(
        outputs=tuple(quantity for quantity, _ in rows),
        exponents=exponents,
        parents=tuple(tuple(sorted(chain)) for _, chain in rows),
        unused=unused,
    )


def _chains_to_reference(
    edges: Sequence[tuple[int, Ratio]], reference: int
) -> dict[int, dict[int, float]]:
    """For each isotope reachable from ``reference``: input index → exponent of ln(i/r)."""
    ordered = sorted(edges, key=lambda edge: (edge[1].denominator != reference, edge[1]))
    chains: dict[int, dict[int, float]] = {reference: {}}
    queue = deque([reference])
    while queue:
        known = queue.popleft()
        for index, ratio in ordered:
            if known not in (ratio.numerator, ratio.denominator):
                continue
            # ln(new/r) = ln(new/known) + ln(known/r); ln(new/known) = ±ln(a/b)
            new, power = (
                (ratio.numerator, 1.0) if ratio.denominator == known else (ratio.denominator, -1.0)
            )
            if new in chains:
                continue
            chains[new] = {**chains[known], index: power}
            queue.append(new)
    del chains[reference]
    return chains


@dataclass(frozen=True)
class BasisConversion:
    """Values in the basis: ``values`` (n, k) with NaN where a row cannot give a quantity,
    ``covariance`` (n, k, k) in 1σ² units (NaN outside a row's available block)."""

    quantities: tuple[Quantity, ...]
    values: FloatArray
    covariance: FloatArray
    derived: BoolArray
    input_names: tuple[str, ...]
    pattern_index: IntArray
    plans: tuple[ConversionPlan, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(quantity.name for quantity in self.quantities)

    def parents(self, row: int) -> dict[str, tuple[str, ...]]:
        """Input names each basis value of ``row`` was computed from."""
        plan = self.plans[self.pattern_index[row]]
        return {
            quantity.name: tuple(self.input_names[i] for i in parents)
            for quantity, parents in zip(plan.outputs, plan.parents, strict=True)
        }

    def unused(self, row: int) -> tuple[str, ...]:
        """Input names of ``row`` that are redundant with the basis and were left out."""
        return tuple(self.input_names[i] for i in self.plans[self.pattern_index[row]].unused)


def to_basis(
    names: Sequence[str],
    values: FloatArray,
    two_sigma: FloatArray,
    *,
    references: Mapping[str, int] | None = None,
    default_relative_2s: float = DEFAULT_RELATIVE_2S,
    default_delta_2s: float = DEFAULT_DELTA_2S,
) -> BasisConversion:
    """Convert rows of isotope values (NaN = not measured) to the non-redundant basis.

    A 2σ that is NaN or 0 means "not reported" and is replaced by ``default_relative_2s``
    × value (ratios) or ``default_delta_2s`` (deltas): an exact value does not exist and
    would divide by zero downstream.
    """
    quantities = parse_quantities(names)
    values = np.atleast_2d(np.asarray(values, dtype=float))
    two_sigma = np.atleast_2d(np.asarray(two_sigma, dtype=float))
    _check_shapes(names, values, two_sigma)
    is_ratio = np.array([isinstance(q, Ratio) for q in quantities], dtype=bool)
    _check_values(names, values, two_sigma, is_ratio)
    sigma = _one_sigma(values, two_sigma, is_ratio, default_relative_2s, default_delta_2s)
    chosen = dict(references) if references is not None else choose_references(quantities)

    available = np.isfinite(values)
    patterns, pattern_index = _distinct_rows(available)
    plans = tuple(plan_conversion(quantities, tuple(p), chosen) for p in patterns)
    outputs = sorted(
        {q for plan in plans for q in plan.outputs}, key=lambda q: (isinstance(q, Delta), q)
    )
    column = {quantity: position for position, quantity in enumerate(outputs)}

    # Linearised inputs: ln R for ratios (relative σ), δ itself for deltas (absolute σ).
    linear = np.where(is_ratio, np.log(np.where(available & is_ratio, values, 1.0)), values)
    linear_sigma = np.where(is_ratio, sigma / np.where(available, values, 1.0), sigma)
    linear = np.where(available, linear, 0.0)
    linear_sigma = np.where(available, linear_sigma, 0.0)

    n, k = values.shape[0], len(outputs)
    out_values = np.full((n, k), np.nan)
    out_cov = np.full((n, k, k), np.nan)
    derived = np.zeros((n, k), dtype=bool)
    for pattern, plan in enumerate(plans):
        rows = np.flatnonzero(pattern_index == pattern)
        if not plan.outputs or rows.size == 0:
            continue
        cols = np.array([column[q] for q in plan.outputs])
        out_is_ratio = np.array([isinstance(q, Ratio) for q in plan.outputs])
        exponents = plan.exponents
        lin_out = linear[rows] @ exponents.T
        lin_cov = (exponents[None, :, :] * linear_sigma[rows, None, :] ** 2) @ exponents.T
        result = np.where(out_is_ratio, np.exp(lin_out), lin_out)
        scale = np.where(out_is_ratio, result, 1.0)
        out_values[np.ix_(rows, cols)] = result
        out_cov[np.ix_(rows, cols, cols)] = lin_cov * scale[:, :, None] * scale[:, None, :]
        given = np.array([_is_given(q, plan, p, quantities) for p, q in enumerate(plan.outputs)])
        derived[np.ix_(rows, cols)] = ~given
    return BasisConversion(
        quantities=tuple(outputs),
        values=out_values,
        covariance=out_cov,
        derived=derived,
        input_names=tuple(names),
        pattern_index=pattern_index,
        plans=plans,
    )


def _distinct_rows(available: BoolArray) -> tuple[BoolArray, IntArray]:
    """Distinct availability patterns and the pattern of each row (rows packed to bytes,
    which sorts far faster than ``np.unique(axis=0)``)."""
    packed = np.ascontiguousarray(np.packbits(available, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).reshape(-1)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return available[first], inverse.reshape(-1).astype(np.int64)


def _is_given(
    quantity: Quantity, plan: ConversionPlan, position: int, inputs: Sequence[Quantity]
) -> bool:
    """True when the basis value is an input taken as it is (not inverted, not chained)."""
    parents = plan.parents[position]
    return len(parents) == 1 and inputs[parents[0]] == quantity


def _check_shapes(names: Sequence[str], values: FloatArray, two_sigma: FloatArray) -> None:
    if values.ndim != 2 or values.shape[1] != len(names):
        raise InvalidValueError(
            f"values must have one column per quantity ({len(names)}), got shape {values.shape}"
        )
    if two_sigma.shape != values.shape:
        raise InvalidValueError(
            f"two_sigma shape {two_sigma.shape} differs from values shape {values.shape}"
        )


def _check_values(
    names: Sequence[str], values: FloatArray, two_sigma: FloatArray, is_ratio: BoolArray
) -> None:
    problems = (
        (np.isinf(values), "value is infinite"),
        (is_ratio & (values <= 0), "ratio must be positive"),
        (np.isinf(two_sigma) | (two_sigma < 0), "2σ must be a finite non-negative number"),
    )
    for mask, reason in problems:
        if mask.any():
            row, col = (int(i) for i in np.argwhere(mask)[0])
            raise InvalidValueError(
                f"{names[col]} (row {row}): {reason}, got value={values[row, col]!r}, "
                f"2σ={two_sigma[row, col]!r}"
            )


def _one_sigma(
    values: FloatArray,
    two_sigma: FloatArray,
    is_ratio: BoolArray,
    default_relative_2s: float,
    default_delta_2s: float,
) -> FloatArray:
    if default_relative_2s <= 0 or default_delta_2s <= 0:
        raise InvalidValueError("default uncertainties must be positive")
    reported = np.isfinite(two_sigma) & (two_sigma > 0)
    fallback = np.where(is_ratio, default_relative_2s * np.abs(values), default_delta_2s)
    return np.where(reported, two_sigma, fallback) / 2.0
