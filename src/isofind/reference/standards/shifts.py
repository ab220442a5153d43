"""Inter-standard shifts and conversion of values between standards (pure maths).

A shift links two standards (or scales) for one element and one quantity: it carries a
value measured against ``from_standard`` over to ``to_standard``. For a ratio it is a
factor f = R(on to) / R(on from); for a delta it is d = δ(from on the to-scale) in ‰.
Both describe the same multiplicative relation, 1 + d/1000 = f, so a chain of shifts
multiplies factors for ratios and composes deltas with the scale-change formula
δA/C = δA/B + δB/C + 10⁻³·δA/B·δB/C.

Uncertainties are 2σ in and out, propagated linearly (see
:mod:`isofind.reference.standards.normalization`). Shifts of one chain are taken as independent.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from isofind.reference.standards.normalization import (
    PER_MIL,
    InvalidInputError,
    StandardValue,
    ValueKind,
    delta_scale_change,
    delta_scale_change_uncertainty,
    require_delta,
    require_finite,
    require_name,
    require_ratio,
    require_uncertainty,
)


class NoConversionPath(LookupError):
    """No chain of known shifts links the two standards for this element and quantity."""

    def __init__(self, from_standard: str, to_standard: str, quantity: str, reason: str) -> None:
        self.from_standard = from_standard
        self.to_standard = to_standard
        self.quantity = quantity
        super().__init__(
            f"no conversion of {quantity} from {from_standard!r} to {to_standard!r}: {reason}"
        )


@dataclass(frozen=True, slots=True)
class Shift:
    """A known relation between two standards for one element and quantity.

    ``value`` is the factor R(to)/R(from) for :attr:`ValueKind.RATIO`, or the delta of
    ``from_standard`` on the ``to_standard`` scale in ‰ for :attr:`ValueKind.DELTA`;
    ``uncertainty`` is its 2σ uncertainty. ``basis`` holds the standard values it was
    calculated from and ``label`` identifies the stored record, for traceability.
    """

    element: str
    quantity: str
    kind: ValueKind
    from_standard: str
    to_standard: str
    value: float
    uncertainty: float
    basis: tuple[StandardValue, ...] = ()
    label: str | None = None

    def __post_init__(self) -> None:
        require_name("element", self.element)
        require_name("quantity", self.quantity)
        require_name("from_standard", self.from_standard)
        require_name("to_standard", self.to_standard)
        if self.from_standard == self.to_standard:
            raise InvalidInputError(
                "to_standard", self.to_standard, "a shift must link two different standards"
            )
        require_kind_value("value", self.kind, self.value)
        require_uncertainty("uncertainty", self.uncertainty)

    @property
    def factor(self) -> float:
        """R(to)/R(from); for a delta shift 1 + d/1000."""
        if self.kind is ValueKind.RATIO:
            return self.value
        return 1.0 + self.value / PER_MIL

    @property
    def factor_uncertainty(self) -> float:
        if self.kind is ValueKind.RATIO:
            return self.uncertainty
        return self.uncertainty / PER_MIL

    @property
    def offset_permil(self) -> float:
        """The shift as a delta difference in ‰: (f − 1)·1000 for a ratio shift."""
        if self.kind is ValueKind.RATIO:
            return (self.value - 1.0) * PER_MIL
        return self.value

    @property
    def offset_uncertainty(self) -> float:
        if self.kind is ValueKind.RATIO:
            return self.uncertainty * PER_MIL
        return self.uncertainty

    def reversed(self) -> Shift:
        """The same relation read from ``to_standard`` back to ``from_standard``.

        Ratio: f' = 1/f, u' = u/f². Delta: d' = −d/(1 + d/1000), u' = u/(1 + d/1000)²
        (derivative of the inverse).
        """
        factor = self.factor
        if self.kind is ValueKind.RATIO:
            value, uncertainty = 1.0 / factor, self.uncertainty / factor**2
        else:
            value, uncertainty = -self.value / factor, self.uncertainty / factor**2
        return Shift(
            element=self.element,
            quantity=self.quantity,
            kind=self.kind,
            from_standard=self.to_standard,
            to_standard=self.from_standard,
            value=value,
            uncertainty=uncertainty,
            basis=self.basis,
            label=self.label,
        )


@dataclass(frozen=True, slots=True)
class ConversionStep:
    """One shift applied during a conversion and the value it produced."""

    shift: Shift
    reversed: bool
    value: float
    uncertainty: float


@dataclass(frozen=True, slots=True)
class Conversion:
    """A value carried from one standard to another, with the path of standards taken."""

    value: float
    uncertainty: float
    input_value: float
    input_uncertainty: float
    from_standard: str
    to_standard: str
    path: tuple[str, ...]
    steps: tuple[ConversionStep, ...]


def calculate_shift(
    measured: StandardValue,
    certified: StandardValue,
    *,
    element: str,
    kind: ValueKind,
    label: str | None = None,
) -> Shift:
    """Shift between a lab's measured mean of a CRM/standard and its certified value.

    ``measured.scale`` names what the lab value is expressed against (the shift's
    ``from_standard``), ``certified.scale`` the certificate's (``to_standard``).

    Ratio: f = R_cert / R_meas, u(f) = f · √((u_meas/R_meas)² + (u_cert/R_cert)²); the
    delta difference is (f − 1)·1000 ‰. This f is the standard-bracketing correction.

    Delta (m = measured δ on scale A, c = certified δ on scale B): the offset of A on B
    follows from (1 + c/1000) = (1 + m/1000)(1 + d/1000):

        d = (c − m) / (1 + m/1000)
        u(d)² = (u_c / (1 + m/1000))² + (u_m · (1 + c/1000) / (1 + m/1000)²)²

    which reduces to the plain difference c − m when m is near 0.
    """
    if measured.standard != certified.standard:
        raise InvalidInputError(
            "certified.standard",
            certified.standard,
            f"is not the measured material {measured.standard!r}",
        )
    if measured.quantity != certified.quantity:
        raise InvalidInputError(
            "certified.quantity",
            certified.quantity,
            f"does not match measured quantity {measured.quantity!r}",
        )
    from_standard = required_scale("measured.scale", measured.scale)
    to_standard = required_scale("certified.scale", certified.scale)
    if kind is ValueKind.RATIO:
        value, uncertainty = ratio_shift(measured, certified)
    else:
        value, uncertainty = delta_shift(measured, certified)
    return Shift(
        element=element,
        quantity=measured.quantity,
        kind=kind,
        from_standard=from_standard,
        to_standard=to_standard,
        value=value,
        uncertainty=uncertainty,
        basis=(measured, certified),
        label=label,
    )


def ratio_shift(measured: StandardValue, certified: StandardValue) -> tuple[float, float]:
    require_ratio("measured.value", measured.value)
    require_ratio("certified.value", certified.value)
    factor = certified.value / measured.value
    relative = math.hypot(
        measured.uncertainty / measured.value, certified.uncertainty / certified.value
    )
    return factor, factor * relative


def delta_shift(measured: StandardValue, certified: StandardValue) -> tuple[float, float]:
    require_delta("measured.value", measured.value)
    require_delta("certified.value", certified.value)
    measured_factor = 1.0 + measured.value / PER_MIL
    certified_factor = 1.0 + certified.value / PER_MIL
    offset = (certified.value - measured.value) / measured_factor
    uncertainty = math.hypot(
        certified.uncertainty / measured_factor,
        measured.uncertainty * certified_factor / measured_factor**2,
    )
    return offset, uncertainty


def convert(
    value: float,
    from_standard: str,
    to_standard: str,
    known_shifts: Iterable[Shift],
    *,
    element: str,
    quantity: str,
    uncertainty: float = 0.0,
) -> Conversion:
    """Carry a value from one standard to another through the graph of known shifts.

    Only shifts of the same ``element`` and ``quantity`` are edges; every edge can be
    walked both ways (:meth:`Shift.reversed`). The path with the fewest steps wins; among
    paths of equal length the one giving the smallest propagated uncertainty wins, then
    the first in alphabetical order of the standards visited. Each step applies
    R' = R·f with (u'/R')² = (u/R)² + (u_f/f)² for ratios, and the delta scale change
    with its partial-derivative propagation for deltas; applying them in sequence is the
    same first-order propagation as differentiating the whole chain at once.

    Every shortest path is evaluated, which is cheap for graphs of lab standards (tens of
    nodes) but grows combinatorially on large, densely meshed graphs.

    Raises :class:`NoConversionPath` when no chain links the standards.
    """
    require_name("from_standard", from_standard)
    require_name("to_standard", to_standard)
    require_name("element", element)
    require_name("quantity", quantity)
    require_finite("value", value)
    require_uncertainty("uncertainty", uncertainty)
    relevant = [s for s in known_shifts if s.element == element and s.quantity == quantity]
    if from_standard == to_standard:
        return Conversion(
            value=value,
            uncertainty=uncertainty,
            input_value=value,
            input_uncertainty=uncertainty,
            from_standard=from_standard,
            to_standard=to_standard,
            path=(from_standard,),
            steps=(),
        )
    if not relevant:
        raise NoConversionPath(
            from_standard, to_standard, quantity, f"no known shift for {element} {quantity}"
        )
    require_kind_value("value", single_kind(relevant, quantity), value)
    graph = build_graph(relevant)
    for name in (from_standard, to_standard):
        if name not in graph:
            raise NoConversionPath(
                from_standard, to_standard, quantity, f"no known shift involves {name!r}"
            )
    candidates = (
        apply_path(value, uncertainty, from_standard, to_standard, path)
        for path in shortest_paths(graph, from_standard, to_standard)
    )
    best = min(candidates, key=lambda c: (c.uncertainty, c.path), default=None)
    if best is None:
        raise NoConversionPath(
            from_standard, to_standard, quantity, "the standards are not linked by any chain"
        )
    return best


Edge = tuple[str, Shift, bool]


def single_kind(shifts: list[Shift], quantity: str) -> ValueKind:
    kinds = {shift.kind for shift in shifts}
    if len(kinds) > 1:
        raise InvalidInputError("known_shifts", quantity, "mixes ratio and delta shifts")
    return kinds.pop()


def build_graph(shifts: list[Shift]) -> dict[str, list[Edge]]:
    """Undirected adjacency: each shift is an edge walkable forwards and reversed."""
    graph: dict[str, list[Edge]] = {}
    for shift in shifts:
        graph.setdefault(shift.from_standard, []).append((shift.to_standard, shift, False))
        graph.setdefault(shift.to_standard, []).append((shift.from_standard, shift, True))
    return graph


def hop_distances(graph: dict[str, list[Edge]], start: str) -> dict[str, int]:
    distances = {start: 0}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for neighbour, _, _ in graph[node]:
            if neighbour not in distances:
                distances[neighbour] = distances[node] + 1
                queue.append(neighbour)
    return distances


def shortest_paths(
    graph: dict[str, list[Edge]], start: str, goal: str
) -> Iterator[tuple[Edge, ...]]:
    """Every path with the fewest edges from ``start`` to ``goal``.

    An edge u→v lies on a shortest path iff d(start, u) + 1 + d(v, goal) = d(start, goal).
    """
    from_start = hop_distances(graph, start)
    to_goal = hop_distances(graph, goal)
    if goal not in from_start:
        return
    length = from_start[goal]

    def extend(node: str, prefix: tuple[Edge, ...]) -> Iterator[tuple[Edge, ...]]:
        if node == goal:
            yield prefix
            return
        for edge in graph[node]:
            neighbour = edge[0]
            if from_start[node] + 1 + to_goal.get(neighbour, length + 1) == length:
                yield from extend(neighbour, (*prefix, edge))

    yield from extend(start, ())


def apply_path(
    value: float, uncertainty: float, start: str, goal: str, path: tuple[Edge, ...]
) -> Conversion:
    current, current_uncertainty = value, uncertainty
    steps: list[ConversionStep] = []
    for _, shift, walked_backwards in path:
        oriented = shift.reversed() if walked_backwards else shift
        current, current_uncertainty = apply_shift(current, current_uncertainty, oriented)
        steps.append(ConversionStep(shift, walked_backwards, current, current_uncertainty))
    return Conversion(
        value=current,
        uncertainty=current_uncertainty,
        input_value=value,
        input_uncertainty=uncertainty,
        from_standard=start,
        to_standard=goal,
        path=(start, *(neighbour for neighbour, _, _ in path)),
        steps=tuple(steps),
    )


def apply_shift(value: float, uncertainty: float, shift: Shift) -> tuple[float, float]:
    """Carry one value across one (oriented) shift; see :func:`convert` for the formulas."""
    if shift.kind is ValueKind.RATIO:
        result = value * shift.value
        relative = math.hypot(uncertainty / value, shift.uncertainty / shift.value)
        return result, result * relative
    return (
        delta_scale_change(value, shift.value),
        delta_scale_change_uncertainty(value, uncertainty, shift.value, shift.uncertainty),
    )


def require_kind_value(field: str, kind: ValueKind, value: float) -> None:
    if kind is ValueKind.RATIO:
        require_ratio(field, value)
    else:
        require_delta(field, value)


def required_scale(field: str, scale: str | None) -> str:
    if scale is None or not scale.strip():
        raise InvalidInputError(field, scale, "name the standard this value is expressed against")
    return scale
