"""The matching engine on constructed sources with known answers."""

import warnings

import numpy as np
import pytest
from scipy import stats

from isofind.matching.basis import parse_quantities
from isofind.matching.engine import (
    ALGORITHMS,
    IsotopeValue,
    MatchOptions,
    MatchResult,
    evaluate,
    match,
    match_batch,
    reproducibility_covariance,
)
from isofind.matching.errors import (
    InvalidOptionsError,
    InvalidQuantityError,
    InvalidSampleError,
    InvalidSourcesError,
)
from isofind.matching.sources import PreparedSources, prepare_sources

PB = ("206Pb/204Pb", "207Pb/204Pb", "208Pb/204Pb")
CENTRES = {
    "Laurion": (18.80, 15.69, 38.90),
    "Rio Tinto": (18.20, 15.63, 38.30),
    "Sardinia": (17.80, 15.60, 37.90),
}
# Without inter-laboratory terms the tests check the bare statistics.
BARE = {"interlab_relative_2s": 0.0, "fractionation_2s_per_amu": {}}


def correlated_values(rng: np.random.Generator, centre: tuple[float, ...], n: int) -> np.ndarray:
    """Pb ratios spread along a common growth direction (strong 206–207–208 correlation)."""
    along = rng.normal(size=(n, 1)) * 0.04
    noise = rng.normal(size=(n, 3)) * [0.004, 0.002, 0.008]
    return np.array(centre) + along * [1.0, 0.12, 1.1] + noise


def build_sources(extra: dict[str, np.ndarray] | None = None) -> PreparedSources:
    rng = np.random.default_rng(42)
    blocks = {name: correlated_values(rng, centre, 25) for name, centre in CENTRES.items()}
    blocks.update(extra or {})
    values = np.vstack(list(blocks.values()))
    groups = [name for name, block in blocks.items() for _ in range(len(block))]
    n = len(groups)
    return prepare_sources(
        PB,
        values,
        np.full((n, 3), 0.002),
        groups,
        source_ids=[f"S{i}" for i in range(n)],
        latitudes=np.linspace(36.0, 41.0, n),
        longitudes=np.linspace(-7.0, 24.0, n),
        materials=["galena"] * (n - 1) + ["slag"],
    )


def sample(values: tuple[float, ...], two_sigma: float = 0.003) -> list[IsotopeValue]:
    return [IsotopeValue(name, v, two_sigma) for name, v in zip(PB, values, strict=True)]


@pytest.fixture(scope="module")
def sources() -> PreparedSources:
    return build_sources()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_sample_drawn_from_a_group_ranks_it_first(sources: PreparedSources, algorithm: str) -> None:
    drawn = correlated_values(np.random.default_rng(7), CENTRES["Rio Tinto"], 1)[0]
    result = match(sample(tuple(drawn)), sources, MatchOptions(algorithm=algorithm))
    assert result.groups[0].group == "Rio Tinto"
    assert len(result.groups) == 3
    assert all(0.0 <= g.score <= 1.0 for g in result.groups)
    assert result.ratios_used == PB
    assert result.groups[0].n_sources == 25


def test_hybrid_reports_posterior_and_p_value(sources: PreparedSources) -> None:
    result = match(sample(CENTRES["Laurion"]), sources)
    best = result.groups[0]
    assert best.group == "Laurion"
    assert best.score == pytest.approx(1.0, abs=1e-9)
    assert best.posterior == pytest.approx(1.0, abs=1e-9)
    assert best.p_value > 0.5
    assert best.matched and best.compatible
    assert all(g.score == 0.0 and not g.compatible for g in result.groups[1:])
    assert sum(g.posterior for g in result.groups) == pytest.approx(1.0)
    assert result.matches[0].group == "Laurion"


@pytest.mark.parametrize("algorithm", ["hybrid", "mahalanobis"])
def test_sample_far_from_every_group_matches_none(sources: PreparedSources, algorithm: str) -> None:
    result = match(sample((21.0, 15.9, 40.5)), sources, MatchOptions(algorithm=algorithm))
    assert not any(g.matched for g in result.groups)
    assert all(g.p_value < 1e-6 for g in result.groups)
    assert any("compatible with no group" in w for w in result.warnings)
    if algorithm == "hybrid":
        assert all(g.score == 0.0 for g in result.groups)


def test_hotelling_p_value_equals_scipy_for_a_single_group() -> None:
    values = np.array(
        [[18.01, 15.61], [18.05, 15.62], [17.98, 15.60], [18.03, 15.63], [18.00, 15.58]]
    )
    prepared = prepare_sources(PB[:2], values, np.full((5, 2), 0.001), ["A"] * 5)
    x, two_sigma = np.array([18.06, 15.57]), 0.004
    evidence = evaluate(
        prepared, PB[:2], x[None, :], np.full((1, 2), two_sigma), MatchOptions(**BARE)
    )
    n, k = 5, 2
    centred = values - values.mean(axis=0)
    covariance = centred.T @ centred / (n - 1)
    prediction = covariance * (n + 1) / n + np.eye(k) * (two_sigma / 2) ** 2
    residual = x - values.mean(axis=0)
    t_squared = residual @ np.linalg.solve(prediction, residual)
    expected = stats.f.sf((n - k) / (k * (n - 1)) * t_squared, k, n - k)
    assert evidence.p_value[0, 0] == pytest.approx(expected, rel=1e-9)


def test_single_source_group_is_compared_with_the_pooled_covariance() -> None:
    lonely = np.array([[18.50, 15.66, 38.60]])
    prepared = build_sources({"Lonely": lonely})
    for algorithm in ALGORITHMS:
        result = match(sample((18.50, 15.66, 38.60)), prepared, MatchOptions(algorithm=algorithm))
        best = result.groups[0]
        assert best.group == "Lonely", algorithm
        assert best.n_sources == 1
        assert 0.0 < best.p_value <= 1.0
    euclidean = match(sample((18.50, 15.66, 38.60)), prepared, MatchOptions(algorithm="euclidean"))
    assert euclidean.groups[0].score == pytest.approx(1.0)
    assert euclidean.groups[0].distance == pytest.approx(0.0)


def test_group_lacking_a_ratio_is_compared_on_the_others() -> None:
    rng = np.random.default_rng(5)
    partial = correlated_values(rng, (18.5, 15.66, 38.6), 20)
    partial[:, 2] = np.nan
    prepared = build_sources({"No 208": partial})
    result = match(sample((18.5, 15.66, 38.6)), prepared)
    by_name = {g.group: g for g in result.groups}
    assert by_name["No 208"].ratios == PB[:2]
    assert by_name["Laurion"].ratios == PB
    assert result.ratios_used == PB
    assert result.groups[0].group == "No 208"


def test_sources_with_missing_values_are_left_out_of_their_group_statistics() -> None:
    rng = np.random.default_rng(6)
    block = correlated_values(rng, (18.5, 15.66, 38.6), 12)
    block[:4, 1] = np.nan
    prepared = build_sources({"Patchy": block})
    result = match(sample((18.5, 15.66, 38.6)), prepared)
    assert result.groups[0].group == "Patchy"
    assert result.groups[0].n_sources == 8
    assert result.groups[0].ratios == PB


def test_sample_with_two_ratios_uses_two(sources: PreparedSources) -> None:
    two = [IsotopeValue("206Pb/204Pb", 18.2, 0.003), IsotopeValue("207Pb/204Pb", 15.63, 0.003)]
    result = match(two, sources)
    assert result.ratios_used == PB[:2]
    assert result.groups[0].group == "Rio Tinto"
    assert not result.warnings


def test_single_shared_ratio_gives_a_warning(sources: PreparedSources) -> None:
    result = match([IsotopeValue("206Pb/204Pb", 17.80, 0.003)], sources)
    assert result.ratios_used == ("206Pb/204Pb",)
    assert any("single ratio" in w and "206Pb/204Pb" in w for w in result.warnings)
    assert result.groups[0].group == "Sardinia"


def test_zero_uncertainties_do_not_divide_by_zero() -> None:
    rng = np.random.default_rng(9)
    values = np.vstack([correlated_values(rng, c, 10) for c in CENTRES.values()])
    groups = [name for name in CENTRES for _ in range(10)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prepared = prepare_sources(PB, values, np.zeros_like(values), groups)
        exact = [IsotopeValue(name, float(v), 0.0) for name, v in zip(PB, values[0], strict=True)]
        for algorithm in ALGORITHMS:
            result = match(exact, prepared, MatchOptions(algorithm=algorithm))
            assert result.groups[0].group == "Laurion"
            scores = [g.score for g in result.groups]
            assert all(np.isfinite(scores)) and all(0.0 <= s <= 1.0 for s in scores)
    assert result.matches[0].distance == pytest.approx(0.0)


def test_sample_without_204_is_matched_in_the_206_basis(sources: PreparedSources) -> None:
    r64, r74, r84 = CENTRES["Sardinia"]
    without_204 = [
        IsotopeValue("207Pb/206Pb", r74 / r64, 0.0002),
        IsotopeValue("208Pb/206Pb", r84 / r64, 0.0005),
    ]
    result = match(without_204, sources)
    assert result.ratios_used == ("207Pb/206Pb", "208Pb/206Pb")
    assert result.groups[0].group == "Sardinia"


def test_converted_values_are_echoed_with_their_normalization_flag(
    sources: PreparedSources,
) -> None:
    r64, r74, r84 = CENTRES["Laurion"]
    given = [
        IsotopeValue("204Pb/206Pb", 1 / r64, 0.00001, normalized=True),
        IsotopeValue("207Pb/206Pb", r74 / r64, 0.0001, normalized=True),
        IsotopeValue("208Pb/206Pb", r84 / r64, 0.0002, normalized=False),
    ]
    result = match(given, sources)
    echoed = {v.quantity: v for v in result.values}
    assert echoed["206Pb/204Pb"].value == pytest.approx(r64)
    assert echoed["206Pb/204Pb"].derived_from == ("204Pb/206Pb",)
    assert echoed["207Pb/204Pb"].normalized is True
    assert echoed["208Pb/204Pb"].normalized is False
    assert result.groups[0].group == "Laurion"


def test_redundant_ratio_is_reported_unused(sources: PreparedSources) -> None:
    r64, r74, r84 = CENTRES["Laurion"]
    result = match(sample((r64, r74, r84)) + [IsotopeValue("207Pb/206Pb", r74 / r64)], sources)
    assert any(w.startswith("207Pb/206Pb not used") for w in result.warnings)
    assert result.ratios_used == PB


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.999, 1.0])
def test_matched_means_score_at_least_threshold(sources: PreparedSources, threshold: float) -> None:
    between = tuple(
        (a + b) / 2 for a, b in zip(CENTRES["Laurion"], CENTRES["Rio Tinto"], strict=True)
    )
    for algorithm in ALGORITHMS:
        options = MatchOptions(algorithm=algorithm, threshold=threshold)
        result = match(sample(between, 0.2), sources, options)
        assert result.threshold == threshold
        assert [g.matched for g in result.groups] == [g.score >= threshold for g in result.groups]
    assert (
        match(sample(CENTRES["Laurion"]), sources, MatchOptions(threshold=0.0)).groups[-1].matched
    )


def test_priors_shift_the_posterior(sources: PreparedSources) -> None:
    between = tuple(
        (a + b) / 2 for a, b in zip(CENTRES["Laurion"], CENTRES["Rio Tinto"], strict=True)
    )
    options = {"algorithm": "bayesian", **BARE}
    uniform = match(sample(between, 0.3), sources, MatchOptions(**options))
    favour = match(
        sample(between, 0.3), sources, MatchOptions(priors={"Rio Tinto": 100.0}, **options)
    )
    posterior = {g.group: g.posterior for g in uniform.groups}
    favoured = {g.group: g.posterior for g in favour.groups}
    assert favoured["Rio Tinto"] > posterior["Rio Tinto"]
    odds = favoured["Rio Tinto"] / favoured["Laurion"]
    assert odds == pytest.approx(100.0 * posterior["Rio Tinto"] / posterior["Laurion"], rel=1e-6)
    unknown = match(sample(between), sources, MatchOptions(priors={"Atlantis": 2.0}))
    assert any("Atlantis" in w for w in unknown.warnings)


def test_nearest_sources_are_sorted_with_coordinates(sources: PreparedSources) -> None:
    result = match(sample(CENTRES["Sardinia"]), sources, MatchOptions(n_nearest=5))
    distances = [m.distance for m in result.matches]
    assert len(result.matches) == 5
    assert distances == sorted(distances)
    assert all(m.group == "Sardinia" and m.n_ratios == 3 for m in result.matches)
    assert all(m.score == pytest.approx(np.exp(-0.5 * m.distance**2)) for m in result.matches)
    assert all(36.0 <= m.latitude <= 41.0 for m in result.matches)
    assert result.groups[0].centroid is not None


def test_material_filter_and_its_warning(sources: PreparedSources) -> None:
    kept = match(sample(CENTRES["Sardinia"]), sources, MatchOptions(material="slag"))
    assert kept.n_sources == 1
    assert [g.group for g in kept.groups] == ["Sardinia"]
    none = match(sample(CENTRES["Sardinia"]), sources, MatchOptions(material="glass"))
    assert none.groups == ()
    assert none.warnings == ("no source of material 'glass'; materials available: galena, slag",)


def test_max_groups_truncates_the_ranking(sources: PreparedSources) -> None:
    result = match(sample(CENTRES["Laurion"]), sources, MatchOptions(max_groups=2))
    assert [g.group for g in result.groups] == ["Laurion", result.groups[1].group]
    assert len(result.groups) == 2


def test_batch_equals_single_matches_and_isolates_errors(sources: PreparedSources) -> None:
    samples = [
        sample(CENTRES["Laurion"]),
        [IsotopeValue("206Pb/204Pb", -1.0)],
        [IsotopeValue("207Pb/206Pb", 0.84), IsotopeValue("208Pb/206Pb", 2.07)],
        sample(CENTRES["Sardinia"]),
    ]
    outcomes = match_batch(samples, sources)
    assert isinstance(outcomes[1], InvalidSampleError)
    assert "positive" in str(outcomes[1])
    for position in (0, 2, 3):
        single = match(samples[position], sources)
        batched = outcomes[position]
        assert isinstance(batched, MatchResult)
        assert [g.group for g in batched.groups] == [g.group for g in single.groups]
        np.testing.assert_allclose(
            [(g.score, g.p_value, g.posterior) for g in batched.groups],
            [(g.score, g.p_value, g.posterior) for g in single.groups],
            rtol=1e-9,
            atol=1e-300,
        )
        assert batched.ratios_used == single.ratios_used


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ([], InvalidSampleError),
        ([IsotopeValue("206Pb/204Pb", float("nan"))], InvalidSampleError),
        ([IsotopeValue("206Pb/204Pb", 18.0, -0.1)], InvalidSampleError),
        ([IsotopeValue("206Pb/204Sr", 18.0)], InvalidQuantityError),
        (
            [IsotopeValue("206Pb/204Pb", 18.0), IsotopeValue("206Pb/204Pb", 18.1)],
            InvalidQuantityError,
        ),
    ],
)
def test_bad_sample_raises_a_specific_error(
    sources: PreparedSources, values: list[IsotopeValue], error: type[Exception]
) -> None:
    with pytest.raises(error):
        match(values, sources)


@pytest.mark.parametrize(
    "options",
    [
        {"algorithm": "cosine"},
        {"threshold": 1.5},
        {"alpha": -0.1},
        {"likelihood": "histogram"},
        {"priors": "jeffreys"},
        {"priors": {"Laurion": -1.0}},
        {"n_nearest": -1},
        {"max_groups": 0},
        {"interlab_relative_2s": float("nan")},
        {"default_relative_2s": 0.0},
    ],
)
def test_bad_options_raise(options: dict) -> None:
    with pytest.raises(InvalidOptionsError):
        MatchOptions(**options)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"values": np.ones((2, 2))}, "columns"),
        ({"groups": ["A"]}, "labels"),
        ({"values": np.array([[18.0, 15.6, 38.0], [-1.0, 15.6, 38.0]])}, "positive"),
        ({"latitudes": [10.0, 100.0]}, "latitudes"),
        ({"groups": ["A", 3]}, "not a string"),
    ],
)
def test_bad_sources_raise(kwargs: dict, message: str) -> None:
    arguments = {
        "quantities": PB,
        "values": np.array([[18.0, 15.6, 38.0], [18.1, 15.6, 38.1]]),
        "two_sigma": None,
        "groups": ["A", "B"],
    }
    arguments.update(kwargs)
    with pytest.raises(InvalidSourcesError, match=message):
        prepare_sources(**arguments)


def test_reproducibility_covariance_by_hand() -> None:
    quantities = parse_quantities([*PB, "δ65Cu"])
    x = np.array([[18.0, 15.6, 38.0, 0.4]])
    fractionation = reproducibility_covariance(quantities, x, {"Pb": 1e-3}, 0.0)[0]
    # linear law: δR = Δm·ε·R, ε with 1σ = 0.05 %/amu shared by the three ratios
    w = np.array([2 * 18.0, 3 * 15.6, 4 * 38.0]) * 5e-4
    np.testing.assert_allclose(fractionation[:3, :3], np.outer(w, w))
    assert not fractionation[3].any()
    isotropic = reproducibility_covariance(quantities, x, {}, 2e-3)[0]
    np.testing.assert_allclose(isotropic, np.diag([0.018**2, 0.0156**2, 0.038**2, 0.0]))


def test_interlab_term_widens_compatibility(sources: PreparedSources) -> None:
    shifted = tuple(v * 1.002 for v in CENTRES["Rio Tinto"])
    tight = match(sample(shifted), sources, MatchOptions(**BARE))
    loose = match(sample(shifted), sources, MatchOptions(interlab_relative_2s=5e-3))
    p_tight = {g.group: g.p_value for g in tight.groups}["Rio Tinto"]
    p_loose = {g.group: g.p_value for g in loose.groups}["Rio Tinto"]
    assert p_tight < 0.01 < p_loose


def test_evaluate_returns_samples_by_groups_arrays(sources: PreparedSources) -> None:
    values = np.array([CENTRES["Laurion"], CENTRES["Sardinia"]])
    evidence = evaluate(sources, PB, values, np.full_like(values, 0.003))
    assert evidence.group_names == ("Laurion", "Rio Tinto", "Sardinia")
    assert evidence.t_squared.shape == (2, 3)
    np.testing.assert_array_equal(evidence.ranking("hybrid", 0.01)[:, 0], [0, 2])
    scores = evidence.scores("bayesian", 0.01)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0)
    np.testing.assert_array_equal(evidence.compatible(0.01), evidence.p_value >= 0.01)
