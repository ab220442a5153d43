"""The shipped standards library and GeoReM catalogue: complete, cited and usable."""

import json
import re
from importlib.resources import files
from typing import Any

import pytest

from isofind.reference.standards.normalization import ValueKind, to_two_sigma
from isofind.reference.standards.shifts import Shift, convert

DOI = re.compile(r"^10\.\d{4,9}/\S+$")
STANDARD_KEYS = {
    "name",
    "abbreviation",
    "element",
    "kind",
    "quantity",
    "scale",
    "value",
    "uncertainty",
    "uncertainty_type",
    "normalization",
    "note",
    "reference",
}


def load(name: str) -> list[dict[str, Any]]:
    text = files("isofind.reference.standards").joinpath("data", name).read_text(encoding="utf-8")
    return json.loads(text)


STANDARDS = load("standards.json")
CATALOGUE = load("georem_catalogue.json")


def find_standard(abbreviation: str, quantity: str) -> dict[str, Any]:
    (entry,) = [
        s for s in STANDARDS if s["abbreviation"] == abbreviation and s["quantity"] == quantity
    ]
    return entry


def assert_cited(reference: dict[str, Any]) -> None:
    assert set(reference) == {"citation", "doi"}
    assert reference["citation"].strip()
    assert reference["doi"] is None or DOI.match(reference["doi"])


def assert_uncertainty_declared(entry: dict[str, Any]) -> None:
    uncertainty, kind = entry["uncertainty"], entry["uncertainty_type"]
    if kind == "unstated":
        assert uncertainty is None or uncertainty >= 0
    else:
        assert to_two_sigma(uncertainty, kind) >= 0


@pytest.mark.parametrize("entry", STANDARDS, ids=lambda s: f"{s['abbreviation']} {s['quantity']}")
def test_every_standard_value_is_complete_and_cited(entry: dict[str, Any]) -> None:
    assert set(entry) == STANDARD_KEYS
    assert ValueKind(entry["kind"])
    assert_cited(entry["reference"])
    assert_uncertainty_declared(entry)
    if entry["kind"] == "delta":
        assert entry["quantity"].startswith("δ") and entry["scale"]


def test_scale_anchors_are_exact_zeros() -> None:
    anchors = [s for s in STANDARDS if s["kind"] == "delta" and s["abbreviation"] == s["scale"]]

    assert {a["abbreviation"] for a in anchors} == {
        "JMC-Lyon",
        "SRM 976",
        "IRMM-014",
        "VSMOW",
        "VPDB",
        "SRM 981",
        "SRM 987",
    }
    assert all((a["value"], a["uncertainty_type"]) == (0.0, "exact") for a in anchors)


@pytest.mark.parametrize(
    ("abbreviation", "quantity", "scale", "value", "uncertainty", "uncertainty_type"),
    [
        ("AA-ETH", "δ66Zn", "JMC-Lyon", 0.28, 0.02, "unstated"),
        ("SRM 3114", "δ65Cu", "SRM 976", 0.18, 0.04, "2SD"),
        ("SRM 3126a", "δ56Fe", "IRMM-014", 0.363, 0.006, "2SE"),
        ("NBS 19", "δ13C", "VPDB", 1.95, 0.0, "exact"),
        ("LSVEC", "δ13C", "VPDB", -46.6, 0.0, "exact"),
        ("SLAP", "δ2H", "VSMOW", -428.0, 0.0, "exact"),
        ("SLAP", "δ18O", "VSMOW", -55.5, 0.0, "exact"),
    ],
)
def test_seeded_delta_values(
    abbreviation: str,
    quantity: str,
    scale: str,
    value: float,
    uncertainty: float,
    uncertainty_type: str,
) -> None:
    entry = find_standard(abbreviation, quantity)

    assert entry["scale"] == scale
    assert entry["value"] == pytest.approx(value, abs=1e-12)
    assert entry["uncertainty"] == pytest.approx(uncertainty, abs=1e-12)
    assert entry["uncertainty_type"] == uncertainty_type


@pytest.mark.parametrize(
    ("abbreviation", "quantity", "value"),
    [
        ("VSMOW", "2H/1H", 155.76e-6),
        ("VSMOW", "18O/16O", 2005.2e-6),
        ("VPDB", "13C/12C", 0.0111105),
        ("JNdi-1", "143Nd/144Nd", 0.512115),
        ("Rennes", "143Nd/144Nd", 0.511961),
        ("SRM 3114", "65Cu/63Cu", 0.4471),
    ],
)
def test_seeded_ratio_values(abbreviation: str, quantity: str, value: float) -> None:
    assert find_standard(abbreviation, quantity)["value"] == pytest.approx(value, abs=1e-15)


def test_chosen_vpdb_ratio_carries_its_expanded_uncertainty_and_doi() -> None:
    vpdb = find_standard("VPDB", "13C/12C")

    assert (vpdb["uncertainty"], vpdb["uncertainty_type"]) == (4.2e-06, "k=2")
    assert vpdb["reference"]["doi"] == "10.1002/rcm.9773"


def test_seeded_delta_offsets_drive_a_conversion() -> None:
    shifts = [
        Shift(
            s["element"],
            s["quantity"],
            ValueKind.DELTA,
            s["abbreviation"],
            s["scale"],
            s["value"],
            to_two_sigma(s["uncertainty"], s["uncertainty_type"]),
        )
        for s in STANDARDS
        if s["kind"] == "delta"
        and s["abbreviation"] != s["scale"]
        and s["uncertainty_type"] != "unstated"
    ]

    result = convert(
        0.50,
        "SRM 3114",
        "SRM 976",
        shifts,
        element="Cu",
        quantity="δ65Cu",
        uncertainty=0.05,
    )

    assert result.value == pytest.approx(0.68009, abs=1e-12)


def test_catalogue_has_the_requested_reference_materials_with_stable_ids() -> None:
    ids = [rm["georem_id"] for rm in CATALOGUE]

    assert len(ids) == len(set(ids)) and all(isinstance(i, int) for i in ids)
    assert {rm["name"] for rm in CATALOGUE} == {
        "BCR-2",
        "BHVO-2",
        "AGV-2",
        "G-2",
        "NIST SRM 610",
        "NIST SRM 612",
    }


@pytest.mark.parametrize("rm", CATALOGUE, ids=lambda rm: rm["name"])
def test_every_catalogue_value_is_complete_and_cited(rm: dict[str, Any]) -> None:
    assert rm["material"].strip() and rm["producer"].strip()
    assert rm["isotopes"]
    for isotope in rm["isotopes"]:
        assert {"ratio", "value", "uncertainty", "uncertainty_type", "technique"} <= set(isotope)
        assert_cited(isotope["reference"])
        assert_uncertainty_declared(isotope)
        if isotope["ratio"].startswith("δ"):
            assert isotope["scale"]
    for concentration in rm["concentrations"]:
        assert {"element", "value", "uncertainty", "unit"} <= set(concentration)
        assert concentration["value"] > 0 and concentration["unit"] in {"µg/g", "wt%"}
        assert_cited(concentration["reference"])


@pytest.mark.parametrize(
    ("name", "ratio", "value", "uncertainty"),
    [
        ("BHVO-2", "176Hf/177Hf", 0.283105, 0.000011),
        ("BCR-2", "δ65Cu", 0.18, 0.04),
        ("BCR-2", "206Pb/204Pb", 18.8029, 0.0010),
        ("AGV-2", "δ88/86Sr", 0.28, 0.01),
        ("G-2", "176Hf/177Hf", 0.282523, 0.000006),
        ("NIST SRM 612", "176Hf/177Hf", 0.282111, 0.000009),
    ],
)
def test_catalogue_isotope_values(name: str, ratio: str, value: float, uncertainty: float) -> None:
    (rm,) = [rm for rm in CATALOGUE if rm["name"] == name]
    (isotope,) = [i for i in rm["isotopes"] if i["ratio"] == ratio]

    assert isotope["value"] == pytest.approx(value, abs=1e-12)
    assert isotope["uncertainty"] == pytest.approx(uncertainty, abs=1e-12)


def test_catalogue_concentration_of_bhvo2_strontium() -> None:
    (bhvo2,) = [rm for rm in CATALOGUE if rm["name"] == "BHVO-2"]
    (sr,) = [c for c in bhvo2["concentrations"] if c["element"] == "Sr"]

    assert (sr["value"], sr["uncertainty"], sr["unit"]) == (389.0, 23.0, "µg/g")
