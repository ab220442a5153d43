"""The matching engine: which source groups could a sample come from?

Pure numpy/scipy. The caller prepares the sources once (``prepare_sources``) and then calls
``match`` for one sample, ``match_batch`` for many, or ``evaluate`` for the raw (samples ×
groups) evidence arrays. Per group the engine computes, on the ratios the sample and the
group share (after conversion to one basis per element, see ``basis``):

* the compatibility p-value of the Hotelling prediction test (``statistics``);
* the likelihood L_g(x), a kernel density of the group's analyses or a Gaussian, both
  including the sample's measurement error (``density``);
* the uncertainty-weighted distance to the group's nearest analysis.

Algorithms and their score (all in [0, 1]):

* ``mahalanobis``: the p-value (ranking by it favours broad groups: use for exclusion);
* ``euclidean``: exp(−d²/2), d the distance to the nearest analysis (tiny groups, single
  reference samples);
* ``bayesian``: the posterior P(g|x) = π_g L_g(x) / Σ_h π_h L_h(x);
* ``hybrid`` (default): groups with p < α are excluded (score 0); the others are ranked by
  posterior, renormalised among them. Both p-value and posterior are reported.

The sample's covariance S_x is its analytical covariance plus, optionally, two
inter-laboratory terms: instrumental mass fractionation, a shared bias ε per amu so that
δR = (m_num − m_den)·ε·R (linear law; Russell, Papanastassiou & Tombrello 1978, *GCA*
42:1075), used by the kernel and the test; and an isotropic relative reproducibility used by
the compatibility test and the Gaussian likelihood only, because a group's own scatter often
comes from one laboratory. Groups lacking some of the sample's ratios are compared on the
rest; to keep likelihoods of different dimension comparable, each missing ratio contributes
the density of the whole source population for that ratio (it tells nothing about the group).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from isofind.matching.basis import (
    DEFAULT_DELTA_2S,
    DEFAULT_RELATIVE_2S,
    BasisConversion,
    Quantity,
    Ratio,
    choose_references,
    parse_quantities,
    to_basis,
)
from isofind.matching.density import (
    LOG_2PI,
    gaussian_log_likelihood,
    gaussian_quadratic_and_logdet,
    kernel_log_likelihood,
    nearest_member_distance2,
    sample_chunks,
    weighted_distance2,
)
from isofind.matching.errors import InvalidOptionsError, InvalidSampleError, MatchingInputError
from isofind.matching.linalg import entries_first
from isofind.matching.sources import Coordinates, PreparedSources, SourceView, Subset, bitmasks
from isofind.matching.statistics import critical_t_squared, prediction_p_values

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

ENGINE_VERSION = "1.0"
ALGORITHMS = ("hybrid", "mahalanobis", "bayesian", "euclidean")
LIKELIHOODS = ("kernel", "gaussian")
PRIOR_MODES = ("uniform", "proportional")

#: Default inter-laboratory terms (relative 2σ), as calibrated by bench/matching_accuracy.py
#: on GlobaLID with inner cross-validation: 0.05 %/amu Pb mass fractionation (chosen in 9 of
#: 10 training folds) and 0.5 % isotropic for the compatibility test (median of the values
#: keeping the true group compatible in ≥ 90 % of new publications' analyses, 0.3–1 %).
DEFAULT_INTERLAB_RELATIVE_2S = 5e-3
DEFAULT_FRACTIONATION_2S_PER_AMU: Mapping[str, float] = MappingProxyType({"Pb": 5e-4})


@dataclass(frozen=True)
class IsotopeValue:
    """One measured quantity of a sample; ``normalized`` is echoed in the result."""

    quantity: str
    value: float
    two_sigma: float | None = None
    normalized: bool = False


@dataclass(frozen=True)
class MatchOptions:
    """How to match. ``priors``: "uniform", "proportional" (to group size) or relative
    weights per group name (groups not named weigh 1)."""

    algorithm: str = "hybrid"
    threshold: float = 0.85
    alpha: float = 0.01
    likelihood: str = "kernel"
    priors: str | Mapping[str, float] = "uniform"
    material: str | None = None
    n_nearest: int = 10
    max_groups: int | None = None
    interlab_relative_2s: float = DEFAULT_INTERLAB_RELATIVE_2S
    fractionation_2s_per_amu: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_FRACTIONATION_2S_PER_AMU)
    )
    default_relative_2s: float = DEFAULT_RELATIVE_2S
    default_delta_2s: float = DEFAULT_DELTA_2S

    def __post_init__(self) -> None:
        _check_choice("algorithm", self.algorithm, ALGORITHMS)
        _check_choice("likelihood", self.likelihood, LIKELIHOODS)
        _check_unit_interval("threshold", self.threshold)
        _check_unit_interval("alpha", self.alpha)
        if isinstance(self.priors, str):
            _check_choice("priors", self.priors, PRIOR_MODES)
        else:
            _check_prior_weights(self.priors)
        if self.n_nearest < 0:
            raise InvalidOptionsError(f"n_nearest must be ≥ 0, got {self.n_nearest}")
        if self.max_groups is not None and self.max_groups < 1:
            raise InvalidOptionsError(f"max_groups must be ≥ 1, got {self.max_groups}")
        terms = {
            "interlab_relative_2s": self.interlab_relative_2s,
            **{
                f"fractionation_2s_per_amu[{k}]": v
                for k, v in self.fractionation_2s_per_amu.items()
            },
        }
        for name, value in terms.items():
            if not (math.isfinite(value) and value >= 0):
                raise InvalidOptionsError(f"{name} must be a finite number ≥ 0, got {value}")
        for name, value in (
            ("default_relative_2s", self.default_relative_2s),
            ("default_delta_2s", self.default_delta_2s),
        ):
            if not (math.isfinite(value) and value > 0):
                raise InvalidOptionsError(f"{name} must be a finite number > 0, got {value}")


def _check_choice(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise InvalidOptionsError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _check_unit_interval(name: str, value: float) -> None:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InvalidOptionsError(f"{name} must be between 0 and 1, got {value}")


def _check_prior_weights(weights: Mapping[str, float]) -> None:
    for group, weight in weights.items():
        if not (math.isfinite(weight) and weight >= 0):
            raise InvalidOptionsError(f"prior of group {group!r} must be ≥ 0, got {weight}")


class GroupMatch(NamedTuple):
    """One group of the answer (a named tuple: results hold thousands of them)."""

    group: str
    score: float
    p_value: float
    posterior: float
    n_sources: int
    centroid: Coordinates | None
    matched: bool
    compatible: bool
    distance: float
    ratios: tuple[str, ...]


class SourceMatch(NamedTuple):
    """One of the nearest individual sources, by uncertainty-weighted distance."""

    source_id: Hashable
    group: str
    score: float
    distance: float
    latitude: float | None
    longitude: float | None
    material: str | None
    n_ratios: int


@dataclass(frozen=True)
class UsedValue:
    """A basis value the match used; ``derived_from`` is empty when it was given as is."""

    quantity: str
    value: float
    two_sigma: float
    normalized: bool
    derived_from: tuple[str, ...]


@dataclass(frozen=True)
class MatchResult:
    algorithm: str
    threshold: float
    alpha: float
    likelihood: str
    ratios_used: tuple[str, ...]
    values: tuple[UsedValue, ...]
    groups: tuple[GroupMatch, ...]
    matches: tuple[SourceMatch, ...]
    warnings: tuple[str, ...]
    n_sources: int


@dataclass(frozen=True)
class Evidence:
    """Samples × groups arrays; a group is comparable with a sample when ``shared`` ≠ 0.

    The test is kept as T² and ν: p-values cost an incomplete beta function each, so they
    are computed on demand (``p_value``, ``p_value_at``) and compatibility at level α is
    decided by comparing T² with the critical value of each distinct (k, ν).
    """

    group_names: tuple[str, ...]
    columns: tuple[str, ...]
    t_squared: FloatArray
    dof: FloatArray
    log_likelihood: FloatArray
    nearest_distance2: FloatArray
    n_members: IntArray
    shared: IntArray
    log_prior: FloatArray
    samples: FloatArray
    sample_covariance: FloatArray
    conversion: BasisConversion
    view: SourceView
    unmatched_quantities: tuple[str, ...]
    _compatible: dict[float, NDArray[np.bool_]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @cached_property
    def comparable(self) -> NDArray[np.bool_]:
        return self.shared != 0

    @cached_property
    def n_shared(self) -> IntArray:
        return np.bitwise_count(self.shared).astype(np.int64)

    @cached_property
    def p_value(self) -> FloatArray:
        """Compatibility p-values (m, G); NaN where the group is not comparable."""
        rows, columns = np.nonzero(self.comparable)
        result = np.full(self.shared.shape, np.nan)
        result[rows, columns] = self.p_value_at(rows, columns)
        return result

    def p_value_at(self, rows: IntArray, columns: IntArray) -> FloatArray:
        """p-values of the (row, column) pairs given, all comparable."""
        return prediction_p_values(
            self.t_squared[rows, columns], self.n_shared[rows, columns], self.dof[rows, columns]
        )

    def compatible(self, alpha: float) -> NDArray[np.bool_]:
        """p ≥ α, i.e. T² at most the critical value (memoised per α)."""
        found = self._compatible.get(alpha)
        if found is None:
            found = self._compatible[alpha] = self._compatible_at(alpha)
        return found

    def _compatible_at(self, alpha: float) -> NDArray[np.bool_]:
        comparable = self.comparable
        rows, columns = np.nonzero(comparable)
        critical = critical_t_squared(alpha, self.n_shared[rows, columns], self.dof[rows, columns])
        result = np.zeros(comparable.shape, dtype=bool)
        result[rows, columns] = self.t_squared[rows, columns] <= critical
        return result

    def log_posterior(self, among: NDArray[np.bool_] | None = None) -> FloatArray:
        """ln P(g|x), normalised over comparable groups (or over ``among``)."""
        return self._log_posterior_all if among is None else self._normalised(among)

    @cached_property
    def _log_posterior_all(self) -> FloatArray:
        return self._normalised(self.comparable)

    def _normalised(self, allowed: NDArray[np.bool_]) -> FloatArray:
        joint = np.where(allowed, self.log_likelihood + self.log_prior[None, :], -np.inf)
        normaliser = _row_logsumexp(joint)[:, None]
        with np.errstate(invalid="ignore"):
            return np.where(np.isfinite(normaliser), joint - normaliser, -np.inf)

    def scores(self, algorithm: str, alpha: float) -> FloatArray:
        _check_choice("algorithm", algorithm, ALGORITHMS)
        if algorithm == "mahalanobis":
            return np.where(self.comparable, np.nan_to_num(self.p_value, nan=0.0), 0.0)
        if algorithm == "euclidean":
            return np.exp(-0.5 * self.nearest_distance2)
        among = self.compatible(alpha) if algorithm == "hybrid" else None
        return np.exp(self.log_posterior(among))

    def ranking(self, algorithm: str, alpha: float) -> IntArray:
        """Group indices per sample, best first (not comparable groups last)."""
        _check_choice("algorithm", algorithm, ALGORITHMS)
        log_posterior = self.log_posterior()
        if algorithm == "mahalanobis":
            primary, secondary = self._ranked_p_values(), log_posterior
        elif algorithm == "euclidean":
            primary, secondary = -self.nearest_distance2, log_posterior
        elif algorithm == "bayesian":
            primary, secondary = log_posterior, -self.nearest_distance2
        else:
            primary, secondary = self.compatible(alpha).astype(float), log_posterior
        return np.lexsort((-secondary, -primary, ~self.comparable), axis=1).astype(np.int64)

    def _ranked_p_values(self) -> FloatArray:
        return np.where(self.comparable, np.nan_to_num(self.p_value, nan=0.0), -1.0)


def _row_logsumexp(values: FloatArray) -> FloatArray:
    peaks = values.max(axis=1)
    finite = np.isfinite(peaks)
    safe = np.where(finite, peaks, 0.0)
    with np.errstate(divide="ignore"):
        total = np.log(np.exp(values - safe[:, None]).sum(axis=1))
    return np.where(finite, safe + total, -np.inf)


def evaluate(
    prepared: PreparedSources,
    quantities: Sequence[str],
    values: FloatArray,
    two_sigma: FloatArray | None = None,
    options: MatchOptions | None = None,
) -> Evidence:
    """Vectorised evidence for m samples (rows of ``values``, NaN = not measured)."""
    options = options or MatchOptions()
    names = tuple(quantities)
    parsed = parse_quantities(names)
    values = np.atleast_2d(np.asarray(values, dtype=float))
    two_sigma = (
        np.full_like(values, np.nan)
        if two_sigma is None
        else np.atleast_2d(np.asarray(two_sigma, dtype=float))
    )
    references = choose_references(parsed)
    conversion = to_basis(
        names,
        values,
        two_sigma,
        references=references,
        default_relative_2s=options.default_relative_2s,
        default_delta_2s=options.default_delta_2s,
    )
    view = prepared.view(references)
    samples, covariance, unmatched = _in_view_columns(conversion, view)
    kernel_extra = reproducibility_covariance(
        view.quantities, samples, options.fractionation_2s_per_amu, 0.0
    )
    test_extra = kernel_extra + reproducibility_covariance(
        view.quantities, samples, {}, options.interlab_relative_2s
    )
    m, n_groups = samples.shape[0], len(prepared.group_names)
    arrays = _EvidenceArrays.empty(m, n_groups)
    sample_masks = bitmasks(np.isfinite(samples))
    for mask in np.unique(sample_masks).tolist():
        if mask == 0:
            continue
        rows = np.flatnonzero(sample_masks == mask)
        shared = view.shared_masks(int(mask))
        used = int(np.bitwise_or.reduce(shared)) if shared.size else 0
        arrays.shared[np.ix_(rows, np.arange(n_groups))] = shared
        for subset_mask in np.unique(shared).tolist():
            if subset_mask == 0:
                continue
            group_ids = np.flatnonzero(shared == subset_mask)
            inputs = _SubsetInputs(
                rows, samples, covariance, kernel_extra, test_extra, used & ~subset_mask
            )
            _fill_subset(view, view.subset(int(subset_mask)), group_ids, inputs, options, arrays)
    return Evidence(
        group_names=prepared.group_names,
        columns=view.names,
        t_squared=arrays.t_squared,
        dof=arrays.dof,
        log_likelihood=arrays.log_likelihood,
        nearest_distance2=arrays.nearest_distance2,
        n_members=arrays.n_members,
        shared=arrays.shared,
        log_prior=log_priors(prepared, options.priors),
        samples=samples,
        sample_covariance=covariance,
        conversion=conversion,
        view=view,
        unmatched_quantities=unmatched,
    )


def _in_view_columns(
    conversion: BasisConversion, view: SourceView
) -> tuple[FloatArray, FloatArray, tuple[str, ...]]:
    column_of = {quantity: c for c, quantity in enumerate(view.quantities)}
    pairs = [(i, column_of[q]) for i, q in enumerate(conversion.quantities) if q in column_of]
    unmatched = tuple(q.name for q in conversion.quantities if q not in column_of)
    m, k = conversion.values.shape[0], len(view.quantities)
    samples = np.full((m, k), np.nan)
    covariance = np.zeros((m, k, k))
    if pairs:
        source, target = (np.array(index) for index in zip(*pairs, strict=True))
        samples[:, target] = conversion.values[:, source]
        block = conversion.covariance[np.ix_(np.arange(m), source, source)]
        covariance[np.ix_(np.arange(m), target, target)] = np.nan_to_num(block, nan=0.0)
    return samples, covariance, unmatched


def reproducibility_covariance(
    quantities: Sequence[Quantity],
    samples: FloatArray,
    fractionation_2s_per_amu: Mapping[str, float],
    relative_2s: float,
) -> FloatArray:
    """Inter-laboratory covariance of each sample (m, k, k), 1σ² units.

    Fractionation: (φ_E/2)² w wᵀ per element E with w_r = Δm_r · R_r; isotropic:
    diag((τ/2 · R_r)²). Deltas get neither (they are measured against a bracketing standard).
    """
    m, k = samples.shape
    known = np.nan_to_num(samples, nan=0.0)
    result = np.zeros((m, k, k))
    for element, per_amu in fractionation_2s_per_amu.items():
        columns = [
            c for c, q in enumerate(quantities) if isinstance(q, Ratio) and q.element == element
        ]
        if not columns or per_amu == 0:
            continue
        shifts = np.array([quantities[c].mass_difference for c in columns], dtype=float)
        w = known[:, columns] * shifts * (per_amu / 2)
        result[np.ix_(np.arange(m), columns, columns)] += w[:, :, None] * w[:, None, :]
    if relative_2s > 0:
        ratio_columns = [c for c, q in enumerate(quantities) if isinstance(q, Ratio)]
        spread = (known[:, ratio_columns] * (relative_2s / 2)) ** 2
        result[:, ratio_columns, ratio_columns] += spread
    return result


def log_priors(prepared: PreparedSources, priors: str | Mapping[str, float]) -> FloatArray:
    """ln π_g up to a constant."""
    if priors == "uniform":
        return np.zeros(len(prepared.group_names))
    if priors == "proportional":
        return np.log(prepared.group_sizes.astype(float))
    if isinstance(priors, str):
        raise InvalidOptionsError(f"priors must be one of {', '.join(PRIOR_MODES)} or a mapping")
    weights = np.array([float(priors.get(name, 1.0)) for name in prepared.group_names])
    with np.errstate(divide="ignore"):
        return np.log(weights)


@dataclass
class _EvidenceArrays:
    t_squared: FloatArray
    dof: FloatArray
    log_likelihood: FloatArray
    nearest_distance2: FloatArray
    n_members: IntArray
    shared: IntArray

    @classmethod
    def empty(cls, m: int, n_groups: int) -> _EvidenceArrays:
        return cls(
            t_squared=np.full((m, n_groups), np.nan),
            dof=np.full((m, n_groups), np.nan),
            log_likelihood=np.full((m, n_groups), -np.inf),
            nearest_distance2=np.full((m, n_groups), np.inf),
            n_members=np.zeros((m, n_groups), dtype=np.int64),
            shared=np.zeros((m, n_groups), dtype=np.int64),
        )


@dataclass(frozen=True)
class _SubsetInputs:
    rows: IntArray
    samples: FloatArray
    covariance: FloatArray
    kernel_extra: FloatArray
    test_extra: FloatArray
    missing_mask: int


def _fill_subset(
    view: SourceView,
    subset: Subset,
    group_ids: IntArray,
    inputs: _SubsetInputs,
    options: MatchOptions,
    arrays: _EvidenceArrays,
) -> None:
    rows, columns = inputs.rows, subset.columns
    positions = np.array([subset.position[int(g)] for g in group_ids], dtype=np.int64)
    k = columns.size
    x = np.ascontiguousarray(inputs.samples[np.ix_(rows, columns)].T)
    own = inputs.covariance[np.ix_(rows, columns, columns)]
    test_covariance = entries_first(own + inputs.test_extra[np.ix_(rows, columns, columns)])
    quadratic, logdet = gaussian_quadratic_and_logdet(
        x,
        test_covariance,
        subset.predictive_means[:, positions],
        subset.predictive_covariance[:, :, positions],
    )
    members, member_covariance, member_variance, starts = subset.members_of(positions)
    if options.likelihood == "gaussian":
        log_likelihood = gaussian_log_likelihood(quadratic, logdet, k)
    else:
        kernel_covariance = entries_first(own + inputs.kernel_extra[np.ix_(rows, columns, columns)])
        log_likelihood = kernel_log_likelihood(
            x, kernel_covariance, members, member_covariance, starts
        )
    log_likelihood = log_likelihood + _background_log_density(view, inputs)[:, None]
    own_variance = np.ascontiguousarray(np.diagonal(own, axis1=1, axis2=2).T)
    distance2 = nearest_member_distance2(x, own_variance, members, member_variance, starts)
    block = np.ix_(rows, group_ids)
    arrays.t_squared[block] = quadratic
    arrays.dof[block] = subset.statistics.dof[positions][None, :]
    arrays.log_likelihood[block] = log_likelihood
    arrays.nearest_distance2[block] = distance2
    arrays.n_members[block] = subset.statistics.counts[positions][None, :]


def _background_log_density(view: SourceView, inputs: _SubsetInputs) -> FloatArray:
    """Σ over ratios the group lacks of ln N(x_r; population mean, population var + σ²_x)."""
    total = np.zeros(inputs.rows.size)
    for column in range(len(view.quantities)):
        if not inputs.missing_mask >> column & 1:
            continue
        sample_variance = (
            inputs.covariance[inputs.rows, column, column]
            + inputs.test_extra[inputs.rows, column, column]
        )
        variance = np.nan_to_num(view.background_variance[column], nan=0.0) + sample_variance
        residual = inputs.samples[inputs.rows, column] - view.background_mean[column]
        total += -0.5 * (residual**2 / variance + np.log(variance) + LOG_2PI)
    return total


def nearest_sources(evidence: Evidence, count: int) -> tuple[IntArray, FloatArray, IntArray]:
    """The ``count`` sources nearest to each sample by uncertainty-weighted distance over
    the ratios they share: (source rows, d², shared ratio counts), each (m, ≤ count)."""
    view = evidence.view
    m, n = evidence.samples.shape[0], view.values.shape[0]
    count = min(count, n)
    x = np.ascontiguousarray(evidence.samples.T)
    variance = np.ascontiguousarray(np.diagonal(evidence.sample_covariance, axis1=1, axis2=2).T)
    present = np.isfinite(evidence.samples).astype(float)
    available = view.available.astype(float)
    indices = np.zeros((m, count), dtype=np.int64)
    distances = np.full((m, count), np.inf)
    shared_counts = np.zeros((m, count), dtype=np.int64)
    if count == 0:
        return indices, distances, shared_counts
    for rows in sample_chunks(m, n):
        distance2 = weighted_distance2(
            x[:, rows], variance[:, rows], view.values_by_column, view.variance
        )
        shared = (present[rows] @ available.T).astype(np.int64)
        distance2[shared == 0] = np.inf
        nearest = np.argpartition(distance2, count - 1, axis=1)[:, :count]
        order = np.argsort(np.take_along_axis(distance2, nearest, axis=1), axis=1)
        nearest = np.take_along_axis(nearest, order, axis=1)
        indices[rows] = nearest
        distances[rows] = np.take_along_axis(distance2, nearest, axis=1)
        shared_counts[rows] = np.take_along_axis(shared, nearest, axis=1)
    return indices, distances, shared_counts


@dataclass(frozen=True)
class _SampleInput:
    names: tuple[str, ...]
    values: FloatArray
    two_sigma: FloatArray
    normalized: dict[str, bool]


def _sample_input(sample: Sequence[IsotopeValue]) -> _SampleInput:
    if not sample:
        raise InvalidSampleError("the sample has no isotope values to match")
    names = tuple(item.quantity for item in sample)
    quantities = parse_quantities(names)
    for quantity, item in zip(quantities, sample, strict=True):
        _check_sample_value(quantity, item)
    return _SampleInput(
        names=names,
        values=np.array([item.value for item in sample], dtype=float),
        two_sigma=np.array(
            [np.nan if item.two_sigma is None else item.two_sigma for item in sample], dtype=float
        ),
        normalized={item.quantity: item.normalized for item in sample},
    )


def _check_sample_value(quantity: Quantity, item: IsotopeValue) -> None:
    if not math.isfinite(item.value):
        raise InvalidSampleError(
            f"{item.quantity}: value must be a finite number, got {item.value}"
        )
    if isinstance(quantity, Ratio) and item.value <= 0:
        raise InvalidSampleError(f"{item.quantity}: a ratio must be positive, got {item.value}")
    uncertainty = item.two_sigma
    if uncertainty is not None and not (math.isfinite(uncertainty) and uncertainty >= 0):
        raise InvalidSampleError(
            f"{item.quantity}: 2σ must be a finite number ≥ 0, got {uncertainty}"
        )


def match(
    sample: Sequence[IsotopeValue], prepared: PreparedSources, options: MatchOptions | None = None
) -> MatchResult:
    """Match one sample; raises a MatchingInputError subclass on bad input."""
    outcome = match_batch([sample], prepared, options)[0]
    if isinstance(outcome, MatchingInputError):
        raise outcome
    return outcome


def match_batch(
    samples: Sequence[Sequence[IsotopeValue]],
    prepared: PreparedSources,
    options: MatchOptions | None = None,
) -> list[MatchResult | MatchingInputError]:
    """Match many samples, vectorised over samples that report the same quantities.

    A sample's bad input is returned in its place as the exception, isolated from others.
    """
    options = options or MatchOptions()
    errors: dict[int, MatchingInputError] = {}
    results: dict[int, MatchResult] = {}
    batches: dict[tuple[str, ...], list[tuple[int, _SampleInput]]] = {}
    for index, sample in enumerate(samples):
        try:
            parsed = _sample_input(sample)
        except MatchingInputError as error:
            errors[index] = error
            continue
        batches.setdefault(parsed.names, []).append((index, parsed))
    sources = prepared if options.material is None else prepared.for_material(options.material)
    for names, items in batches.items():
        if sources is None:
            results.update((index, _no_material_result(options, prepared)) for index, _ in items)
            continue
        evidence = evaluate(
            sources,
            names,
            np.stack([item.values for _, item in items]),
            np.stack([item.two_sigma for _, item in items]),
            options,
        )
        built = _ResultBuilder(sources, evidence, options).build([item for _, item in items])
        results.update(zip((index for index, _ in items), built, strict=True))
    return [errors[i] if i in errors else results[i] for i in range(len(samples))]


def _no_material_result(options: MatchOptions, prepared: PreparedSources) -> MatchResult:
    available = ", ".join(prepared.materials_available) or "none recorded"
    return MatchResult(
        algorithm=options.algorithm,
        threshold=options.threshold,
        alpha=options.alpha,
        likelihood=options.likelihood,
        ratios_used=(),
        values=(),
        groups=(),
        matches=(),
        warnings=(f"no source of material {options.material!r}; materials available: {available}",),
        n_sources=0,
    )


class _ResultBuilder:
    """Turns evidence rows into MatchResult objects (vectorised scoring, then per row)."""

    def __init__(self, prepared: PreparedSources, evidence: Evidence, options: MatchOptions):
        self.prepared = prepared
        self.evidence = evidence
        self.options = options
        algorithm, alpha = options.algorithm, options.alpha
        self.scores = evidence.scores(algorithm, alpha)
        self.posterior = np.exp(evidence.log_posterior())
        self.order = evidence.ranking(algorithm, alpha)
        self.compatible = evidence.compatible(alpha)
        self.shown = self._shown_groups()
        self.shown_p_values = self._p_values_of(self.shown)
        self.nearest = nearest_sources(evidence, options.n_nearest)
        self.group_warnings = _prior_warnings(prepared, options.priors)
        self._names_by_mask: dict[int, tuple[str, ...]] = {}

    def _shown_groups(self) -> list[IntArray]:
        """Per sample, the comparable groups in ranking order, cut at ``max_groups``."""
        counts = self.evidence.comparable.sum(axis=1)
        if self.options.max_groups is not None:
            counts = np.minimum(counts, self.options.max_groups)
        return [self.order[row, :count] for row, count in enumerate(counts.tolist())]

    def _p_values_of(self, shown: list[IntArray]) -> list[list[float]]:
        """p-values of every shown (sample, group) pair, computed in one vectorised call."""
        lengths = [columns.size for columns in shown]
        if not sum(lengths):
            return [[] for _ in shown]
        rows = np.repeat(np.arange(len(shown)), lengths)
        p_values = self.evidence.p_value_at(rows, np.concatenate(shown))
        return [part.tolist() for part in np.split(p_values, np.cumsum(lengths)[:-1])]

    def build(self, items: Sequence[_SampleInput]) -> list[MatchResult]:
        return [self._result(row, item) for row, item in enumerate(items)]

    def _result(self, row: int, item: _SampleInput) -> MatchResult:
        evidence, options = self.evidence, self.options
        comparable = evidence.comparable[row]
        used_mask = int(np.bitwise_or.reduce(evidence.shared[row])) if comparable.any() else 0
        groups = self._groups(row, self.shown[row])
        return MatchResult(
            algorithm=options.algorithm,
            threshold=options.threshold,
            alpha=options.alpha,
            likelihood=options.likelihood,
            ratios_used=self._mask_names(used_mask),
            values=self._used_values(row, item, used_mask),
            groups=groups,
            matches=self._sources(row),
            warnings=tuple(self._warnings(row, item)),
            n_sources=self.prepared.n_sources,
        )

    def _groups(self, row: int, order: IntArray) -> tuple[GroupMatch, ...]:
        evidence, threshold = self.evidence, self.options.threshold
        names = evidence.group_names
        centroids = self.prepared.centroids
        scores = self.scores[row, order].tolist()
        posteriors = self.posterior[row, order].tolist()
        p_values = self.shown_p_values[row]
        counts = evidence.n_members[row, order].tolist()
        compatible = self.compatible[row, order].tolist()
        distances = np.sqrt(evidence.nearest_distance2[row, order]).tolist()
        shared = evidence.shared[row, order].tolist()
        return tuple(
            GroupMatch(
                group=names[g],
                score=score,
                p_value=p,
                posterior=posterior,
                n_sources=count,
                centroid=centroids[g],
                matched=score >= threshold,
                compatible=ok,
                distance=distance,
                ratios=self._mask_names(mask),
            )
            for g, score, p, posterior, count, ok, distance, mask in zip(
                order.tolist(),
                scores,
                p_values,
                posteriors,
                counts,
                compatible,
                distances,
                shared,
                strict=True,
            )
        )

    def _mask_names(self, mask: int) -> tuple[str, ...]:
        names = self._names_by_mask.get(mask)
        if names is None:
            columns = self.evidence.columns
            names = self._names_by_mask[mask] = tuple(
                c for i, c in enumerate(columns) if mask >> i & 1
            )
        return names

    def _sources(self, row: int) -> tuple[SourceMatch, ...]:
        indices, distances, shared = (array[row] for array in self.nearest)
        prepared = self.prepared
        matches = []
        for index, distance2, count in zip(
            indices.tolist(), distances.tolist(), shared.tolist(), strict=True
        ):
            if not math.isfinite(distance2):
                break
            latitude = float(prepared.latitudes[index])
            longitude = float(prepared.longitudes[index])
            matches.append(
                SourceMatch(
                    source_id=prepared.source_ids[index],
                    group=prepared.group_names[int(prepared.group_index[index])],
                    score=math.exp(-0.5 * distance2),
                    distance=math.sqrt(distance2),
                    latitude=latitude if math.isfinite(latitude) else None,
                    longitude=longitude if math.isfinite(longitude) else None,
                    material=prepared.materials[index],
                    n_ratios=count,
                )
            )
        return tuple(matches)

    def _used_values(self, row: int, item: _SampleInput, used_mask: int) -> tuple[UsedValue, ...]:
        evidence = self.evidence
        conversion = evidence.conversion
        parents = conversion.parents(row)
        values = []
        for column, name in enumerate(evidence.columns):
            if not used_mask >> column & 1:
                continue
            sources = parents[name]
            derived = sources != (name,)
            values.append(
                UsedValue(
                    quantity=name,
                    value=float(evidence.samples[row, column]),
                    two_sigma=2 * math.sqrt(evidence.sample_covariance[row, column, column]),
                    normalized=all(item.normalized.get(s, False) for s in sources),
                    derived_from=sources if derived else (),
                )
            )
        return tuple(values)

    def _warnings(self, row: int, item: _SampleInput) -> list[str]:
        evidence, options = self.evidence, self.options
        warnings = list(self.group_warnings)
        warnings += [
            f"no source has {name}; it was not used" for name in evidence.unmatched_quantities
        ]
        unused = evidence.conversion.unused(row)
        if unused:
            warnings.append(
                f"{', '.join(unused)} not used: redundant with the other ratios of the element"
            )
        shared = evidence.shared[row]
        comparable = shared != 0
        if not comparable.any():
            warnings.append("no source group shares a ratio with the sample")
            return warnings
        lacking = int((~comparable).sum())
        if lacking:
            warnings.append(f"{lacking} group(s) share no ratio with the sample and are not listed")
        single = comparable & (evidence.n_shared[row] == 1)
        if single.any():
            names = sorted({self._mask_names(int(mask))[0] for mask in shared[single].tolist()})
            warnings.append(
                f"{int(single.sum())} group(s) share a single ratio with the sample "
                f"({', '.join(names)}): their scores rest on one ratio only"
            )
        if options.algorithm in ("hybrid", "mahalanobis") and not self.compatible[row].any():
            columns = np.flatnonzero(comparable)
            best = float(evidence.p_value_at(np.full(columns.size, row), columns).max())
            warnings.append(
                f"the sample is compatible with no group at α = {options.alpha:g} "
                f"(largest p-value {best:.3g})"
            )
        return warnings


def _prior_warnings(prepared: PreparedSources, priors: str | Mapping[str, float]) -> list[str]:
    if isinstance(priors, str):
        return []
    unknown = sorted(set(priors) - set(prepared.group_names))
    return [f"priors given for unknown groups: {', '.join(unknown)}"] if unknown else []
