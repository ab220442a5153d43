import pytest

from isofind.reference.standards.normalization import to_two_sigma
from isofind.samples.vocabulary import (
    IsotopeQuantity,
    canonical_delta,
    canonical_material,
    canonical_ratio,
    fold,
    looks_like_isotope_quantity,
    normalise_classification,
    normalise_doi,
    normalise_element,
    normalise_material,
    parse_isotope_quantity,
    parse_uncertainty_type,
)


def test_fold_drops_case_accents_and_extra_spaces() -> None:
    assert fold("  Sédiment   DE  Rivière ") == "sediment de riviere"


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("sédiment", "sediment"),
        ("Sédiments", "sediment"),
        ("SEDIMENT", "sediment"),
        ("minerai", "ore"),
        ("Minerais", "ore"),
        ("eaux", "water"),
        ("eau de mer", "seawater"),
        ("galène", "galena"),
        ("blende", "sphalerite"),
        ("os", "bone"),
        ("cheveux", "hair"),
        ("scories", "slag"),
        ("alliage cuivreux", "copper alloy"),
        ("résidu de tir", "gunshot residue"),
    ],
)
def test_known_materials_become_canonical_english(written: str, canonical: str) -> None:
    assert canonical_material(written) == canonical


def test_unknown_material_is_kept_as_the_lab_wrote_it() -> None:
    assert canonical_material("sulphide ore") is None
    assert normalise_material("  sulphide   ore ") == "sulphide ore"


def test_material_lists_are_normalised_item_by_item() -> None:
    assert normalise_material("galène; blende;  Cu ore") == "galena; sphalerite; Cu ore"


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("fille", "daughter"),
        ("Filles", "daughter"),
        ("daughter", "daughter"),
        ("Source", "source"),
        ("origine", "source"),
        ("mère", "source"),
        ("inconnu", "daughter"),
        ("questioned", "daughter"),
        ("peut-être", None),
    ],
)
def test_classification(written: str, canonical: str | None) -> None:
    assert normalise_classification(written) == canonical


@pytest.mark.parametrize(
    ("written", "symbol"),
    [
        ("lead", "Pb"),
        ("plomb", "Pb"),
        ("pb", "Pb"),
        ("PB", "Pb"),
        (" Pb ", "Pb"),
        ("Étain", "Sn"),
        ("etain", "Sn"),
        ("strontium", "Sr"),
        ("sulphur", "S"),
        ("aluminium", "Al"),
        ("aluminum", "Al"),
        ("or", "Au"),
        ("azote", "N"),
        ("unobtainium", None),
        ("Xx", None),
    ],
)
def test_element_names_and_symbols_in_english_and_french(written: str, symbol: str | None) -> None:
    assert normalise_element(written) == symbol


def test_custom_elements_are_recognised_in_any_case() -> None:
    assert normalise_element("xx", frozenset({"Xx"})) == "Xx"
    assert normalise_element("Xy", frozenset({"Xx"})) is None


@pytest.mark.parametrize(
    "written",
    ["Pb206/Pb204", "206/204Pb", "206Pb/204Pb", "206Pb-204Pb", "206pb/204pb", "Pb-206/Pb-204",
     "206 Pb / 204 Pb", "²⁰⁶Pb/²⁰⁴Pb", "Pb206/204", "206Pb/204"],
)
def test_ratio_spellings_become_canonical(written: str) -> None:
    assert canonical_ratio(written) == "206Pb/204Pb"


def test_ratio_quantity_names_its_element_and_elements() -> None:
    assert parse_isotope_quantity("87Sr/86Sr") == IsotopeQuantity(
        "ratio", "87Sr/86Sr", "Sr", frozenset({"Sr"})
    )
    # Parent/daughter ratios belong to the daughter's system: the denominator's element.
    assert parse_isotope_quantity("87Rb/86Sr") == IsotopeQuantity(
        "ratio", "87Rb/86Sr", "Sr", frozenset({"Rb", "Sr"})
    )


@pytest.mark.parametrize(
    "written",
    ["206Pb/240Pb", "206Pb/206Pb", "206Xx/204Xx", "Pb/Zn", "206/204", "lead206/lead204", ""],
)
def test_not_a_ratio(written: str) -> None:
    assert canonical_ratio(written) is None


def test_ratio_of_a_custom_element_takes_any_mass_number() -> None:
    assert canonical_ratio("206xx/204xx", frozenset({"Xx"})) == "206Xx/204Xx"


def test_radiogenic_isotopes_without_natural_abundance_are_valid() -> None:
    assert canonical_ratio("210Pb/206Pb") == "210Pb/206Pb"
    assert canonical_ratio("230Th/232Th") == "230Th/232Th"


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("d65Cu", "δ65Cu"),
        ("δ65Cu", "δ65Cu"),
        ("delta65Cu", "δ65Cu"),
        ("Delta 65 Cu", "δ65Cu"),
        ("δ⁶⁵Cu", "δ65Cu"),
        ("δCu65", "δ65Cu"),
        ("d18o", "δ18O"),
        ("δ66/64Zn", "δ66/64Zn"),
        ("δD", "δ2H"),
        ("Δ17O", None),  # capital delta: a mass-independent anomaly, not a delta value
        ("δ99Cu", None),
        ("dose1", None),
    ],
)
def test_delta_spellings(written: str, canonical: str | None) -> None:
    assert canonical_delta(written) == canonical


def test_delta_quantity() -> None:
    assert parse_isotope_quantity("d65Cu") == IsotopeQuantity(
        "delta", "δ65Cu", "Cu", frozenset({"Cu"})
    )


@pytest.mark.parametrize(
    ("header", "looks_like"),
    [("206Xx/204Xx", True), ("δ65Qq", True), ("206Pb/240Pb", True), ("CO2/N2", False),
     ("12h-24h", False), ("1st-2nd", False), ("Sample", False)],
)
def test_what_looks_like_a_ratio_of_unknown_symbols(header: str, looks_like: bool) -> None:
    assert looks_like_isotope_quantity(header) is looks_like


@pytest.mark.parametrize(
    ("written", "label"),
    [
        ("1s", "1σ"),
        ("1σ", "1σ"),
        ("1 sigma", "1σ"),
        ("1SD", "1SD"),
        ("1 s.d.", "1SD"),
        ("1se", "1SE"),
        ("2σ", "2σ"),
        ("±2s", "2σ"),
        ("2SD", "2SD"),
        ("2 SE", "2SE"),
        ("3s", None),
        ("SE", None),
    ],
)
def test_uncertainty_type_labels(written: str, label: str | None) -> None:
    assert parse_uncertainty_type(written) == label


@pytest.mark.parametrize(
    ("declared", "two_sigma"),
    [("1s", 0.0024), ("1 s.d.", 0.0024), ("1se", 0.0024), ("2 sigma", 0.0012),
     ("2SD", 0.0012), ("±2se", 0.0012)],
)
def test_every_declared_label_converts_to_two_sigma(declared: str, two_sigma: float) -> None:
    # a sample's labels are converted by the one conversion the standards use as well
    label = parse_uncertainty_type(declared)
    assert label is not None
    assert to_two_sigma(0.0012, label) == two_sigma


@pytest.mark.parametrize(
    ("written", "doi"),
    [
        ("https://doi.org/10.1/x", "10.1/x"),
        ("doi:10.1/x", "10.1/x"),
        ("DOI: 10.2113/gsecongeo.83.4.843", "10.2113/gsecongeo.83.4.843"),
        ("http://dx.doi.org/10.1016/j.lithos.2020.105559", "10.1016/j.lithos.2020.105559"),
        (" 10.5880/fidgeo.2025.080 ", "10.5880/fidgeo.2025.080"),
        ("see the paper", None),
        ("10.1/", None),
    ],
)
def test_doi_normalisation(written: str, doi: str | None) -> None:
    assert normalise_doi(written) == doi
