import pytest

from isofind.reference.elements.predefined import (
    PREDEFINED_ELEMENTS,
    NaturalIsotope,
    is_known_element,
    predefined_element,
    shadows_predefined,
)


def test_predefined_elements_are_those_with_a_natural_isotopic_composition() -> None:
    symbols = set(PREDEFINED_ELEMENTS)

    assert len(symbols) == 84
    assert {"H", "O", "Sr", "Nd", "Pb", "Bi", "Th", "U"} <= symbols
    # No stable isotope and no natural composition: Tc, Pm, and the radioactive Po…Ac, Np…
    assert symbols.isdisjoint({"Tc", "Pm", "Po", "Rn", "Ra", "Ac", "Np", "Pu"})


def test_lead_has_its_four_isotopes_with_natural_abundances() -> None:
    lead = predefined_element("Pb")

    assert lead is not None
    assert (lead.symbol, lead.atomic_number, lead.name_en, lead.name_fr) == (
        "Pb", 82, "lead", "plomb"
    )
    assert [isotope.mass_number for isotope in lead.isotopes] == [204, 206, 207, 208]
    assert [isotope.abundance for isotope in lead.isotopes] == pytest.approx(
        [1.4, 24.1, 22.1, 52.4]
    )
    assert 210 in lead.known_mass_numbers  # radiogenic 210Pb, no natural abundance


def test_uranium_keeps_its_natural_composition() -> None:
    # periodictable 2.1 leaves U at zero abundance; we read its own CIAAW table instead.
    uranium = predefined_element("U")

    assert uranium is not None
    assert uranium.isotopes == (
        NaturalIsotope(234, pytest.approx(0.0054)),
        NaturalIsotope(235, pytest.approx(0.7204)),
        NaturalIsotope(238, pytest.approx(99.2742)),
    )


@pytest.mark.parametrize("symbol", sorted(PREDEFINED_ELEMENTS))
def test_every_element_has_names_and_abundances_summing_to_100(symbol: str) -> None:
    element = PREDEFINED_ELEMENTS[symbol]

    assert element.name_en and element.name_fr
    assert sum(isotope.abundance for isotope in element.isotopes) == pytest.approx(100)


def test_french_and_english_names() -> None:
    names = {symbol: (PREDEFINED_ELEMENTS[symbol].name_en, PREDEFINED_ELEMENTS[symbol].name_fr)
             for symbol in ("Sn", "Au", "N", "Fe", "Sr")}

    assert names == {
        "Sn": ("tin", "étain"),
        "Au": ("gold", "or"),
        "N": ("nitrogen", "azote"),
        "Fe": ("iron", "fer"),
        "Sr": ("strontium", "strontium"),
    }


def test_unknown_symbol_has_no_predefined_element() -> None:
    assert predefined_element("Xx") is None
    assert predefined_element("pb") is None  # symbols are exact; vocabulary handles case


def test_known_element_checks_predefined_then_custom_symbols() -> None:
    assert is_known_element("Pb")
    assert not is_known_element("Xx")
    assert is_known_element("Xx", frozenset({"Xx"}))
    assert not is_known_element("pb", frozenset({"Xx"}))


@pytest.mark.parametrize(
    ("symbol", "shadows"), [("Pb", True), ("PB", True), (" sr ", True), ("Xx", False)]
)
def test_custom_symbol_may_not_shadow_a_predefined_one(symbol: str, shadows: bool) -> None:
    assert shadows_predefined(symbol) is shadows
