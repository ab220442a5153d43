"""The .isof exchange format: reading (with verification) through the `isof` package, our
writer, and the round trip between them."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
import math
import os
import random
import re
import warnings
from pathlib import Path
from typing import Any

import isof
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID

import isofind
from isofind.samples.isof import IsofError, read_isof, trust, write_isof
from isofind.samples.isof.fields import ISOTOPE_FIELDS, SAMPLE_FIELDS

EXAMPLE = Path(__file__).parent / "data" / "example.isof"


# --- Building inputs ---------------------------------------------------------------------------

def sample(sample_id: int, name: str, **fields: Any) -> dict[str, Any]:
    """A sample in the writer's input shape: every field present, None unless given."""
    return {"sample_id": sample_id, **dict.fromkeys(SAMPLE_FIELDS), "name": name,
            "isotope_data": [], **fields}


def value(element: str, ratio: str, number: float, uncertainty: float | None,
          **fields: Any) -> dict[str, Any]:
    """An isotope value as IsoFind stores it; declared 2SE/2SD unless said otherwise."""
    delta = ratio.startswith("δ")
    declared = None if uncertainty is None else ("2SD" if delta else "2SE")
    return {**dict.fromkeys(ISOTOPE_FIELDS), "element": element, "ratio": ratio,
            "value": number, "uncertainty": uncertainty, "uncertainty_type_declared": declared,
            "uncertainty_declared": uncertainty, **fields}


def read_sample(source_id: str, name: str, **fields: Any) -> dict[str, Any]:
    """A sample as the reader gives it."""
    item = sample(0, name, **fields)
    del item["sample_id"]
    return {**item, "source_id": source_id}


def as_read(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the reader gives back for written samples: the id becomes `source_id`."""
    read = []
    for item in copy.deepcopy(samples):
        item["source_id"] = str(item.pop("sample_id"))
        read.append(item)
    return read


def by_key(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: item["key"])


def isotope_record(**fields: Any) -> dict[str, Any]:
    """A raw ISOF isotope record, every field present as IsoFind's exports write them."""
    names = ("element", "system", "ratio", "ratio_2se", "delta_notation", "delta_value",
             "delta_2sd", "standard", "n_cycles", "session_date", "instrument", "notes")
    return {**dict.fromkeys(names), **fields}


def raw_sample(sample_id: str, name: str, *records: dict[str, Any],
               **fields: Any) -> dict[str, Any]:
    return {"id": sample_id, "name": name, "classification": None, "material_type": None,
            "sector": None, "project": None, "latitude": None, "longitude": None,
            "altitude_m": None, "collection_date": None, "collector": None,
            "description": None, "workflow_stage": None, "isotope_data": list(records),
            **fields}


def document(*samples: dict[str, Any], version: str = "1.1", **blocks: Any) -> dict[str, Any]:
    return {"isof_version": version, "created_at": "2026-04-20T16:54:17+00:00",
            "created_by": {"software": "IsoFind", "software_version": "1.0.0",
                           "operator": "Colin", "organisation": "Labo"},
            "project": None, "samples": list(samples), "methods": {}, "pipelines": {},
            "purification": {}, "assignments": [], **blocks}


def encoded(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


def pb_doc() -> dict[str, Any]:
    return document(raw_sample("1", "Galène", isotope_record(
        element="Pb", system="206Pb/204Pb", ratio=18.368, ratio_2se=0.002,
        standard="NIST SRM 981")))


# The spec's integrity hash: SHA-256 of the signed blocks, in scope order, as compact UTF-8
# JSON (JSON.stringify(payload) on IsoFind's side).
def canonical(doc: dict[str, Any], scope: list[str]) -> bytes:
    payload = {block: doc.get(block) for block in scope}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signed_level1(doc: dict[str, Any],
                  scope: tuple[str, ...] = ("samples", "methods", "purification")) -> dict:
    return {**doc, "signature": {
        "level": 1, "algorithm": "SHA-256", "scope": list(scope),
        "hash": hashlib.sha256(canonical(doc, list(scope))).hexdigest(),
        "signed_at": "2026-04-20T16:54:17.167Z", "signed_by": "Labo Géochimie", "contact": None,
    }}


def rich_input() -> dict[str, Any]:
    """Samples, deltas, missing fields, unicode, methods, pipelines, yields, assignments."""
    samples = [
        sample(101, "Galène Les Malines", material_type="galena", classification="source",
               sector="Cévennes", collection_date="2023-05-14", latitude=43.9167,
               longitude=3.6167, altitude=520.0, collector="C. Martin", project="HER",
               description="Filon principal", collection_location="Les Malines",
               notes="Vu au microscope", reference="Martin 2024", doi="10.1/abc",
               workflow_stage="validated", isotope_data=[
                   value("Pb", "206Pb/204Pb", 18.3681, 0.0012, standard="NIST SRM 981",
                         instrument="MC-ICP-MS Neptune", session_date="2023-06-02",
                         n_cycles=60),
                   value("Pb", "207Pb/204Pb", 15.6702, 0.0011, standard="NIST SRM 981",
                         correlated_ratio="206Pb/204Pb", correlation=0.87,
                         method="chromato-pb"),
                   # Declared at 1σ: stored at 2σ, the declaration kept.
                   value("Pb", "208Pb/204Pb", 38.4503, 0.0062,
                         uncertainty_type_declared="1σ", uncertainty_declared=0.0031),
               ]),
        sample(102, "Sédiment δ-aval é", classification="daughter", isotope_data=[
            value("Cu", "δ65Cu", -0.12, 0.05, reference_scale="NIST SRM 976",
                  standard="NIST SRM 976", notes="répliqué ×3"),
            # The reference scale differs from the bracketing standard.
            value("Zn", "δ66/64Zn", 0.28, 0.04, reference_scale="JMC-Lyon",
                  standard="AA-ETH Zn"),
            value("C", "δ13C", -25.3, None, reference_scale="VPDB"),
            value("O", "δ18O", 4.1, 0.2),  # a delta with no scale and no standard
        ]),
        sample(103, "日本の試料 🪨 \"quoted\" \\ back\nslash"),  # everything else missing
        sample(104, "Sr only", latitude=-90.0, longitude=180.0, isotope_data=[
            value("Sr", "87Sr/86Sr", 0.710245, 1.2e-05, reference_scale="NIST SRM 987"),
            value("Nd", "143Nd/144Nd", 0.512138, None, uncertainty_type_declared="2SD"),
        ]),
    ]
    methods = [
        {"key": "chromato-pb", "name": "Chromatographie AG1-X8 (Pb)", "type": "purification",
         "element": "Pb", "target_matrices": ["sediment", "ore"], "duration": "3h",
         "duration_hours": 3.0, "yield_min_pct": 80.0, "yield_max_pct": 95.0,
         "equipment": {"column": "Poly-Prep", "resin": "AG1-X8", "resin_volume_ml": 0.5,
                       "reagents": "HBr 1M", "temperature": "20°C"},
         "steps": [{"num": 1, "title": "Conditionnement", "detail": "HBr 1M", "final": False},
                   {"num": 2, "title": "Élution", "detail": None, "final": True}],
         "reference": {"doi": "10.1016/x", "citation": "Exemple 2010"}, "notes": "n"},
        {"key": "digestion-mw", "name": "Digestion micro-ondes", "type": "digestion",
         "element": None, "target_matrices": [], "duration": None, "duration_hours": None,
         "yield_min_pct": None, "yield_max_pct": None, "equipment": None, "steps": [],
         "reference": None, "notes": None},
    ]
    pipelines = [{"key": "pb", "name": "Plomb", "element": "Pb", "description": None,
                  "stages": [{"order": 1, "method_key": "digestion-mw", "label": "Digestion"},
                             {"order": 2, "method_key": "chromato-pb", "label": None}]}]
    yields = [{"sample_id": 101, "element": "Pb", "yield_percent": 92.5, "date": "2023-08-12",
               "operator": "C. Martin", "method_key": "chromato-pb", "notes": None},
              {"sample_id": 104, "element": "Sr", "yield_percent": 107.25, "date": None,
               "operator": None, "method_key": None, "notes": "suspect"}]
    assignments = [{"sample_id": 102, "method_key": None, "pipeline_key": "pb",
                    "assigned_at": "2023-08-01T09:00:00Z", "assigned_by": "C. Martin"},
                   {"sample_id": 101, "method_key": "chromato-pb", "pipeline_key": None,
                    "assigned_at": None, "assigned_by": None}]
    return {"samples": samples, "methods": methods, "pipelines": pipelines, "yields": yields,
            "assignments": assignments}


def with_source_id(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**{k: v for k, v in item.items() if k != "sample_id"},
             "source_id": str(item["sample_id"])} for item in items]


# --- Round trip --------------------------------------------------------------------------------

def test_round_trip_gives_back_everything_written() -> None:
    given = rich_input()
    content = write_isof(given["samples"], methods=given["methods"],
                         pipelines=given["pipelines"], yields=given["yields"],
                         assignments=given["assignments"], project="Hérault",
                         created_by={"operator": "C. Martin", "organisation": "Labo δ"},
                         created_at="2026-01-02T03:04:05+00:00")

    read = read_isof(content)

    assert read.samples == as_read(given["samples"])
    assert by_key(read.methods) == by_key(given["methods"])
    assert read.pipelines == given["pipelines"]
    assert sorted(read.yields, key=lambda y: y["source_id"]) == with_source_id(given["yields"])
    assert read.assignments == with_source_id(given["assignments"])
    assert read.skipped == {}
    assert read.document == {
        "format_version": "1.2",
        "created_at": "2026-01-02T03:04:05+00:00",
        "created_by": {"software": "IsoFind", "software_version": isofind.__version__,
                       "operator": "C. Martin", "organisation": "Labo δ"},
        "project": {"name": "Hérault", "reference": None, "client": None,
                    "classification": None, "notes": None},
        "signature": {"status": "unsigned", "level": 0, "signed_by": None, "signed_at": None,
                      "scope": [], "unverified_blocks": ["samples", "methods", "pipelines",
                                                         "purification", "assignments"]},
        "encrypted": False,
    }


_TEXTS = ("Galène", "é", "δ sample", "日本語", "quote \" and \\ backslash", "line\nbreak",
          "🪨", "", "  spaced  ")
_QUANTITIES = (("Pb", "206Pb/204Pb"), ("Pb", "207Pb/206Pb"), ("Sr", "87Sr/86Sr"),
               ("Nd", "143Nd/144Nd"), ("Cu", "δ65Cu"), ("C", "δ13C"), ("Zn", "δ66/64Zn"),
               ("H", "δ2H"), ("O", "δ18O"))
_LABELS = ("1σ", "2σ", "1SD", "2SD", "1SE", "2SE")


def _maybe(rng: random.Random, make: Any) -> Any:
    return None if rng.random() < 0.35 else make()


def _float(rng: random.Random) -> float:
    return rng.choice((
        lambda: rng.uniform(-50, 50), lambda: rng.random() * 10 ** rng.randint(-12, 12),
        lambda: 5e-324, lambda: 1.7976931348623157e308, lambda: -0.0, lambda: 0.1 + 0.2,
    ))()


def _random_value(rng: random.Random) -> dict[str, Any]:
    element, quantity = rng.choice(_QUANTITIES)
    uncertainty = _maybe(rng, lambda: abs(_float(rng)))
    fields: dict[str, Any] = {
        "standard": _maybe(rng, lambda: rng.choice(("NIST SRM 981", "NBS 987", "Å-std"))),
        "reference_scale": _maybe(rng, lambda: rng.choice(("VPDB", "NIST SRM 976", "é"))),
        "instrument": _maybe(rng, lambda: rng.choice(_TEXTS)),
        "session_date": _maybe(rng, lambda: f"20{rng.randint(10, 30)}-0{rng.randint(1, 9)}-1"
                                            f"{rng.randint(0, 9)}"),
        "notes": _maybe(rng, lambda: rng.choice(_TEXTS)),
        "n_cycles": _maybe(rng, lambda: rng.randint(0, 10**6)),
        "method": _maybe(rng, lambda: rng.choice(_TEXTS)),
        "correlated_ratio": _maybe(rng, lambda: "208Pb/204Pb"),
        "correlation": _maybe(rng, lambda: rng.uniform(-1, 1)),
    }
    if rng.random() < 0.4:
        fields["uncertainty_type_declared"] = rng.choice(_LABELS)
        fields["uncertainty_declared"] = _maybe(rng, lambda: abs(_float(rng)))
    number = _float(rng)
    if not quantity.startswith("δ"):  # a ratio is positive: the smallest one stands for 0
        number = abs(number) or 5e-324
    return value(element, quantity, number, uncertainty, **fields)


def _random_sample(rng: random.Random, sample_id: int) -> dict[str, Any]:
    def text() -> str | None:
        return _maybe(rng, lambda: rng.choice(_TEXTS))

    return sample(
        sample_id, rng.choice(("Galène é", "δ-sample", "Eau 水", "S-1")) + f" {sample_id}",
        material_type=_maybe(rng, lambda: rng.choice(("galena", "sediment", "sulphide ore"))),
        classification=_maybe(rng, lambda: rng.choice(("source", "daughter"))),
        sector=text(), collection_location=text(), description=text(), project=text(),
        collector=text(), notes=text(), reference=text(), doi=text(), workflow_stage=text(),
        collection_date=_maybe(rng, lambda: f"19{rng.randint(10, 99)}-12-3{rng.randint(0, 1)}"),
        latitude=_maybe(rng, lambda: rng.uniform(-90, 90)),
        longitude=_maybe(rng, lambda: rng.choice((rng.uniform(-180, 180), -180.0, 180.0))),
        altitude=_maybe(rng, lambda: _float(rng)),
        isotope_data=[_random_value(rng) for _ in range(rng.randint(0, 6))],
    )


@pytest.mark.parametrize("seed", range(30))
def test_round_trip_of_random_samples_is_exact(seed: int) -> None:
    rng = random.Random(seed)
    samples = [_random_sample(rng, sample_id) for sample_id in rng.sample(range(1, 10**6), 5)]
    yields = [{"sample_id": item["sample_id"], "element": "Pb",
               "yield_percent": abs(_float(rng)),
               "date": None, "operator": rng.choice(_TEXTS), "method_key": None, "notes": None}
              for item in samples if rng.random() < 0.5]

    read = read_isof(write_isof(samples, yields=yields))

    assert read.samples == as_read(samples)
    for got, given in zip(read.samples, samples, strict=True):
        for got_value, given_value in zip(got["isotope_data"], given["isotope_data"],
                                          strict=True):
            # Exact floats, sign of zero included.
            assert math.copysign(1, got_value["value"]) == math.copysign(1, given_value["value"])
    assert sorted(read.yields, key=lambda y: y["source_id"]) == sorted(
        with_source_id(yields), key=lambda y: y["source_id"])


# --- Writer ------------------------------------------------------------------------------------

def test_written_file_loads_and_reads_in_the_isof_package_without_warnings() -> None:
    given = rich_input()
    content = write_isof(given["samples"], methods=given["methods"], yields=given["yields"])

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = isof.loads(content.decode("utf-8"))
        result = loaded.verify()

    assert loaded.version == "1.2"
    assert loaded.signature is None and result.level == 0
    assert not loaded.is_encrypted
    assert [item.id for item in loaded.samples] == ["101", "102", "103", "104"]
    assert loaded.samples[0].isotope_data[0].system == "206Pb/204Pb"
    assert loaded.samples[1].isotope_data[0].delta_notation == "δ65Cu"
    assert loaded.samples[1].isotope_data[0].standard == "NIST SRM 976"
    assert loaded.yields_for_sample("101")[0].value_pct == 92.5


def test_writer_output_is_deterministic_with_sorted_keys() -> None:
    given = rich_input()
    first = write_isof(given["samples"], methods=given["methods"], project="P")
    second = write_isof(copy.deepcopy(given["samples"]), methods=given["methods"], project="P")

    assert first == second
    parsed = json.loads(first)
    assert first.decode() == json.dumps(parsed, ensure_ascii=False, sort_keys=True,
                                        indent=2) + "\n"
    assert "signature" not in parsed and "encryption" not in parsed
    assert parsed["created_at"] is None


def test_plain_values_are_written_as_plain_isof() -> None:
    content = write_isof([sample(7, "Galène", latitude=43.5, isotope_data=[
        value("Pb", "206Pb/204Pb", 18.368, 0.002, standard="NIST SRM 981"),
        value("Cu", "δ65Cu", 0.1, 0.02, reference_scale="NIST SRM 976",
              standard="NIST SRM 976")])],
        created_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC))

    written = json.loads(content)
    ratio, delta = written["samples"][0]["isotope_data"]
    assert "x_isofind" not in written["samples"][0]
    assert "x_isofind" not in ratio and "x_isofind" not in delta
    assert (ratio["system"], ratio["ratio"], ratio["ratio_2se"]) == ("206Pb/204Pb", 18.368, 0.002)
    assert (delta["delta_notation"], delta["delta_value"], delta["delta_2sd"]) == (
        "δ65Cu", 0.1, 0.02)
    assert written["samples"][0]["id"] == "7"
    assert written["created_at"] == "2026-01-02T00:00:00+00:00"


@pytest.mark.parametrize(
    ("samples", "kwargs", "message"),
    [
        ([{"name": "no id"}], {}, "samples[0]: no sample_id"),
        ([sample(1, "a"), sample(1, "b")], {}, "two samples have the id '1'"),
        ([sample(1, "a", isotope_data=[value("Pb", "206Pb/204Pb", math.nan, None)])], {},
         "samples[0].isotope_data[0].value: nan is not a finite number"),
        ([sample(1, "a")], {"methods": [{"key": "m"}, {"key": "m"}]},
         "two entries for method 'm'"),
        ([sample(1, "a")], {"yields": [{"sample_id": 1, "element": "Pb"}]},
         "yields[0]: no yield_percent"),
        ([sample(1, "a")], {"project": {"title": "x"}}, "project: unknown fields title"),
    ],
)
def test_writer_refuses_what_the_format_cannot_carry(
    samples: list[dict[str, Any]], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(IsofError, match=re.escape(message)):
        write_isof(samples, **kwargs)


# --- Reading ratios and deltas ----------------------------------------------------------------

def test_ratio_and_delta_records_are_canonicalised() -> None:
    doc = document(raw_sample(
        "S1", "Mix",
        isotope_record(element="plomb", system="Pb206/Pb204", ratio=18.5, ratio_2se=0.003,
                       standard="NIST SRM 981", n_cycles=40, session_date="2026-03-01"),
        isotope_record(element="C", delta_notation="δ¹³C", delta_value=-25.31, delta_2sd=0.1,
                       standard="VPDB"),
        isotope_record(element="CU", delta_notation="δ65Cu", delta_value="0.42",
                       delta_2sd=None),
        isotope_record(element=None, system="²⁰⁸Pb/²⁰⁴Pb", ratio=38.4, ratio_2se=None),
    ))

    values = read_isof(encoded(doc)).samples[0]["isotope_data"]

    assert values == [
        value("Pb", "206Pb/204Pb", 18.5, 0.003, standard="NIST SRM 981", n_cycles=40,
              session_date="2026-03-01"),
        value("C", "δ13C", -25.31, 0.1, uncertainty_type_declared="2SD",
              reference_scale="VPDB", standard="VPDB"),
        value("Cu", "δ65Cu", 0.42, None),
        value("Pb", "208Pb/204Pb", 38.4, None),
    ]


def test_a_record_with_both_a_ratio_and_a_delta_gives_two_values() -> None:
    doc = document(raw_sample("S1", "Both", isotope_record(
        element="Sr", system="87Sr/86Sr", ratio=0.7102, ratio_2se=1e-05,
        delta_notation="δ88Sr", delta_value=0.3, delta_2sd=0.02, standard="NIST SRM 987")))

    values = read_isof(encoded(doc)).samples[0]["isotope_data"]

    assert [(v["ratio"], v["value"], v["uncertainty_type_declared"], v["reference_scale"])
            for v in values] == [("87Sr/86Sr", 0.7102, "2SE", None),
                                 ("δ88Sr", 0.3, "2SD", "NIST SRM 987")]


def test_records_without_a_value_are_skipped_and_counted() -> None:
    # IsoFind's own exports hold placeholder records such as this Cu one.
    doc = document(raw_sample("20", "Chateau", isotope_record(element="Cu"),
                              isotope_record(element="Pb", system="206Pb/204Pb",
                                             ratio_2se=0.01)))

    read = read_isof(encoded(doc))

    assert read.samples[0]["isotope_data"] == []
    assert read.skipped == {"isotope_data_without_value": 2}


def test_custom_elements_are_accepted_when_declared() -> None:
    doc = document(raw_sample("1", "X", isotope_record(element="Xx", system="101Xx/100Xx",
                                                       ratio=1.5)))
    with pytest.raises(IsofError, match="unknown element 'Xx'"):
        read_isof(encoded(doc))

    values = read_isof(encoded(doc), custom_symbols={"Xx"}).samples[0]["isotope_data"]
    assert (values[0]["element"], values[0]["ratio"]) == ("Xx", "101Xx/100Xx")


def test_v12_families_are_counted_in_skipped() -> None:
    first = raw_sample("1", "Eau", geochem_data=[{"element": "As", "value_normalized": 0.01},
                                                 {"element": "Sb", "value_normalized": 0.4}],
                       physico_data=[{"parameter": "pH", "value": 4.5}],
                       molecules_data=[{"nom": "PFBA", "detecte": True}])
    second = raw_sample("2", "Eau 2", geochem_data=[{"element": "Fe", "value_normalized": 14}],
                        physico_data=[], molecules_data=[])

    read = read_isof(encoded(document(first, second, version="1.2")))

    assert read.skipped == {"geochem_data": 3, "molecules_data": 1, "physico_data": 1}
    assert [item["name"] for item in read.samples] == ["Eau", "Eau 2"]


# --- Problems in the content ------------------------------------------------------------------

def test_every_bad_value_is_reported_with_its_path() -> None:
    doc = document(
        raw_sample("1", "Bad", isotope_record(element="Sr", system="206Pb/204Pb", ratio=18.0),
                   isotope_record(system="foo", ratio=1.0),
                   isotope_record(element="Pb", ratio=2.0),
                   isotope_record(element="Pb", system="206Pb/204Pb", ratio=-18.0),
                   latitude="north", longitude=200, classification="témoin",
                   collection_date="yesterday"),
        raw_sample("1", " "),
        purification={"9_Pb": {"value_pct": 90}, "1_Pb": {"date": "x"}},
        assignments=[{"sample_id": "1"}],
    )

    with pytest.raises(IsofError) as caught:
        read_isof(encoded(doc))

    problems = {problem["path"]: problem["message"] for problem in caught.value.problems}
    assert problems == {
        "samples[0].isotope_data[0].element": "206Pb/204Pb is not a quantity of Sr",
        "samples[0].isotope_data[1].system": "'foo' is not an isotope ratio (206Pb/204Pb)",
        "samples[0].isotope_data[2].system": "a ratio value needs its system",
        "samples[0].isotope_data[3].ratio": "an isotope ratio must be positive",
        "samples[0].latitude": "must be a finite number",
        "samples[0].longitude": "must be between -180 and 180",
        "samples[0].classification": "must be source or daughter (fille)",
        "samples[0].collection_date": "not a date (YYYY-MM-DD)",
        "samples[1].name": "a sample needs a name",
        "samples[1].id": "two samples have this id",
        "purification.9_Pb": "no sample with id '9' in the file",
        "purification.1_Pb.value_pct": "a purification yield needs its value_pct",
        "assignments[0]": "an assignment needs a method_key or a pipeline_key",
    }
    assert str(caught.value).startswith("13 problems in the ISOF file: "
                                        "samples[0].latitude: must be a finite number; ")


# --- Malformed files and versions ---------------------------------------------------------------

@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\xff\xfe{}", "not UTF-8 text"),
        (b'{"isof_version": "1.2", "samples": [', "not a JSON document"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"samples": []}', "'isof_version' field is missing"),
        (b'{"isof_version": "1.2", "samples": {}}', "'samples' must be an array"),
        (b'{"isof_version": "1.2", "samples": ["x"]}', r"samples\[0\] must be an object"),
        (b'{"isof_version": "1.2", "samples": [{"name": "a"}]}', r"samples\[0\] has no 'id'"),
        (b'{"isof_version": "1.2", "samples": [{"id": 1, "isotope_data": "206Pb/204Pb"}]}',
         r"samples\[0\].isotope_data must be an array"),
        (b'{"isof_version": "1.2", "samples": [], "methods": {"m": {"target_matrices": "Eau"}}}',
         "methods.m.target_matrices must be an array of text"),
        (b'{"isof_version": "1.2", "samples": [], "purification": {"1_Pb": 90}}',
         "purification.1_Pb must be an object"),
        (b'{"isof_version": "1.2", "samples": [], "purification": {"1_Pb": {"value_pct": "x"}}}',
         "purification.1_Pb.value_pct must be a number"),
        (b"[" * 100_000, "nested too deeply"),
        (b'{"isof_version": "1.2", "samples": [], "project": "Etude"}',
         "'project' must be an object"),
        (b'{"isof_version": "1.2", "samples": [], "signature": {"level": "high"}}',
         "signature.level must be 1 or 2"),
    ],
)
def test_malformed_files_are_refused_with_what_is_wrong(content: bytes, message: str) -> None:
    with pytest.raises(IsofError, match=message):
        read_isof(content)


@pytest.mark.parametrize("version", ["1.3", "2.0", "0.9"])
def test_unknown_versions_are_refused(version: str) -> None:
    with pytest.raises(IsofError, match=rf"unsupported ISOF version '{version}': this reader "
                                        r"accepts 1\.0, 1\.1, 1\.2"):
        read_isof(encoded(document(version=version)))


# --- Signatures ---------------------------------------------------------------------------------

def test_a_file_signed_at_the_integrity_level_is_verified() -> None:
    doc = pb_doc()
    doc["assignments"] = [{"sample_id": "1", "method_key": "m", "pipeline_key": None}]

    read = read_isof(encoded(signed_level1(doc)))

    assert read.document["signature"] == {
        "status": "sha256-verified", "level": 1, "signed_by": "Labo Géochimie",
        "signed_at": "2026-04-20T16:54:17.167Z",
        "scope": ["samples", "methods", "purification"],
        # IsoFind signs samples, methods and purification only.
        "unverified_blocks": ["assignments"],
    }
    assert read.samples[0]["isotope_data"][0]["value"] == 18.368


def test_written_files_verify_once_signed_as_the_spec_says() -> None:
    given = rich_input()
    written = json.loads(write_isof(given["samples"], methods=given["methods"]))

    read = read_isof(encoded(signed_level1(written)))

    assert read.document["signature"]["status"] == "sha256-verified"
    assert read.samples == as_read(given["samples"])


def test_a_tampered_file_is_refused_naming_the_failed_verification() -> None:
    signed = signed_level1(pb_doc())
    signed["samples"][0]["isotope_data"][0]["ratio"] = 18.369

    with pytest.raises(IsofError, match=r"integrity check failed \(level 1\): the SHA-256 hash "
                                        r"of the signed blocks \(samples, methods, purification\)"
                                        " does not match"):
        read_isof(encoded(signed))


def test_a_signature_that_covers_no_sample_does_not_vouch_for_them() -> None:
    read = read_isof(encoded(signed_level1(pb_doc(), scope=("created_by",))))

    assert read.document["signature"]["status"] == "sha256-verified"
    assert read.document["signature"]["unverified_blocks"] == ["samples"]


def _certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: str,
                 issuer_key: ec.EllipticCurvePrivateKey, *, ca: bool) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(issuer_key, hashes.SHA256()))


@pytest.fixture(scope="module")
def test_pki() -> dict[str, Any]:
    """A throw-away Root CA → Issuing CA → laboratory certificate chain."""
    root_key, issuing_key, lab_key = (ec.generate_private_key(ec.SECP256R1())
                                      for _ in range(3))
    root = _certificate("Test Root CA", root_key, "Test Root CA", root_key, ca=True)
    issuing = _certificate("Test Issuing CA", issuing_key, "Test Root CA", root_key, ca=True)
    lab = _certificate("Labo Géochimie Test", lab_key, "Test Issuing CA", issuing_key, ca=False)
    return {"root": root, "issuing": issuing, "lab": lab, "lab_key": lab_key}


def signed_level2(doc: dict[str, Any], pki: dict[str, Any]) -> dict[str, Any]:
    scope = ["samples", "methods", "purification"]
    signature = pki["lab_key"].sign(canonical(doc, scope), ec.ECDSA(hashes.SHA256()))
    chain = [base64.b64encode(pki[name].public_bytes(serialization.Encoding.PEM)).decode()
             for name in ("lab", "issuing")]
    return {**doc, "signature": {
        "level": 2, "algorithm": "ECDSA-P256", "signed_scope": scope,
        "signature_b64": base64.b64encode(signature).decode(), "certificate_chain": chain,
        "signed_at": "2026-04-20T17:00:00Z", "signed_by": "Someone", "contact": None}}


def test_level2_signature_chaining_to_a_trusted_root_is_verified(
    test_pki: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trust, "trusted_roots", lambda: (test_pki["root"],))

    read = read_isof(encoded(signed_level2(pb_doc(), test_pki)))

    assert read.document["signature"] | {"signed_at": None} == {
        "status": "signed", "level": 2, "signed_by": "Labo Géochimie Test", "signed_at": None,
        "scope": ["samples", "methods", "purification"], "unverified_blocks": []}


def test_level2_signature_with_a_self_made_issuing_ca_is_refused(
    test_pki: dict[str, Any]
) -> None:
    content = encoded(signed_level2(pb_doc(), test_pki))
    # The `isof` package alone trusts the Issuing CA the file brings with it.
    assert isof.loads(content.decode()).verify().valid

    with pytest.raises(IsofError, match="not issued by the IsoFind Root CA"):
        read_isof(content)


def test_a_tampered_level2_file_is_refused(
    test_pki: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trust, "trusted_roots", lambda: (test_pki["root"],))
    signed = signed_level2(pb_doc(), test_pki)
    signed["samples"][0]["name"] = "Galène falsifiée"

    with pytest.raises(IsofError, match=r"signature verification failed \(level 2, ECDSA "
                                        r"P-256\): the signature does not match"):
        read_isof(encoded(signed))


# --- Encryption -------------------------------------------------------------------------------

def encrypted(doc: dict[str, Any], recipient: X25519PrivateKey) -> dict[str, Any]:
    """The v1.2 envelope: X25519 + HKDF-SHA256 key wrap, ChaCha20-Poly1305 payload."""
    blocks = ("samples", "methods", "pipelines", "purification", "assignments")
    session_key, nonce = os.urandom(32), os.urandom(12)
    ephemeral = X25519PrivateKey.generate()
    wrap = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"ISOF-v1.2-key-wrap").derive(ephemeral.exchange(recipient.public_key()))
    wrapped = bytes(a ^ b for a, b in zip(session_key, wrap, strict=True))
    payload = json.dumps({block: doc[block] for block in blocks}).encode()
    raw_public = ephemeral.public_key().public_bytes(serialization.Encoding.Raw,
                                                     serialization.PublicFormat.Raw)
    return {**doc, **dict.fromkeys(blocks), "isof_version": "1.2", "encryption": {
        "active": True, "algorithm": "X25519+ChaCha20-Poly1305", "recipient_id": "labo-b",
        "encrypted_key": base64.b64encode(raw_public + wrapped).decode(),
        "encrypted_payload": base64.b64encode(
            ChaCha20Poly1305(session_key).encrypt(nonce, payload, None)).decode(),
        "nonce": base64.b64encode(nonce).decode()}}


def test_an_encrypted_file_needs_its_key() -> None:
    recipient = X25519PrivateKey.generate()
    content = encoded(encrypted(pb_doc(), recipient))
    private_pem = recipient.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())

    with pytest.raises(IsofError, match="the file is encrypted for recipient 'labo-b'"):
        read_isof(content)
    with pytest.raises(IsofError, match="the file cannot be decrypted"):
        read_isof(content, decryption_key=X25519PrivateKey.generate().private_bytes_raw())

    read = read_isof(content, decryption_key=private_pem)
    assert read.document["encrypted"] is True
    assert read.samples[0]["name"] == "Galène"
    assert read.samples[0]["isotope_data"][0]["value"] == 18.368


# --- The example file ---------------------------------------------------------------------------

def test_example_file_reads_with_exact_values() -> None:
    read = read_isof(EXAMPLE.read_bytes())

    assert read.document == {
        "format_version": "1.2", "created_at": "2025-03-10T14:32:00Z",
        "created_by": {"software": "IsoFind", "software_version": "1.0.0",
                       "operator": "Claire Martin",
                       "organisation": "Laboratoire Géosciences Montpellier"},
        "project": {"name": "Plomb et strontium de l'Hérault", "reference": "HER-2025",
                    "client": None, "classification": None,
                    "notes": "Exemple écrit à la main"},
        "signature": {"status": "unsigned", "level": 0, "signed_by": None, "signed_at": None,
                      "scope": [], "unverified_blocks": ["samples", "methods", "pipelines",
                                                         "purification", "assignments"]},
        "encrypted": False,
    }
    neptune = {"instrument": "MC-ICP-MS Neptune"}
    lead = {"standard": "NIST SRM 981", "session_date": "2023-06-02", "n_cycles": 60, **neptune}
    triton = {"standard": "NIST SRM 987", "session_date": "2023-09-04", "n_cycles": 200,
              "instrument": "TIMS Triton"}
    assert read.samples == [
        read_sample("LM-01", "Galène Les Malines", material_type="galena", classification="source",
                  sector="Les Malines, France", project="HER-2025", latitude=43.9167,
                  longitude=3.6167, altitude=520.0, collection_date="2023-05-14",
                  collector="C. Martin", description="Filon principal",
                  workflow_stage="validated", isotope_data=[
                      value("Pb", "206Pb/204Pb", 18.3681, 0.0012, **lead),
                      value("Pb", "207Pb/204Pb", 15.6702, 0.0011, **lead),
                      value("Pb", "208Pb/204Pb", 38.4503, 0.0031, **lead)]),
        read_sample("HE-07", "Sédiment Hérault amont", material_type="sediment",
                  classification="daughter", sector="Hérault", project="HER-2025",
                  latitude=43.7105, longitude=3.5712, collection_date="2023-07-21",
                  collector="C. Martin", workflow_stage="analysis", isotope_data=[
                      value("Pb", "206Pb/204Pb", 18.5102, 0.0015, standard="NIST SRM 981",
                            session_date="2023-08-30", notes="Duplicata moyen", **neptune),
                      value("Sr", "87Sr/86Sr", 0.710245, 0.000012, **triton)]),
        read_sample("HE-12", "Eau de la Vis", material_type="water", classification="daughter",
                  sector="Hérault", project="HER-2025", latitude=43.8961, longitude=3.6005,
                  altitude=190.5, collection_date="2023-07-22",
                  description="Prélèvement en crue", isotope_data=[
                      value("Sr", "87Sr/86Sr", 0.708921, 0.000009, **triton),
                      value("Sr", "δ88Sr", 0.31, 0.03, standard="NIST SRM 987",
                            reference_scale="NIST SRM 987", session_date="2023-09-05",
                            **neptune)]),
    ]
    assert read.methods == [{
        "key": "digestion-mw", "name": "Digestion micro-ondes HNO3-HCl", "type": "digestion",
        "element": None, "target_matrices": ["sédiment"], "duration": "2h",
        "duration_hours": 2.0, "yield_min_pct": None, "yield_max_pct": None,
        "equipment": None, "steps": [], "reference": None, "notes": None,
    }, {
        "key": "chromato-pb", "name": "Chromatographie AG1-X8 (Pb)", "type": "purification",
        "element": "Pb", "target_matrices": ["sédiment", "minerai"], "duration": "3h",
        "duration_hours": 3.0, "yield_min_pct": 80.0, "yield_max_pct": 95.0,
        "equipment": {"column": "Bio-Rad Poly-Prep", "resin": "AG1-X8",
                      "resin_volume_ml": 0.5, "reagents": "HBr 1M, HCl 6M",
                      "temperature": "20°C"},
        "steps": [
            {"num": 1, "title": "Conditionnement", "detail": "HBr 1M", "final": False},
            {"num": 2, "title": "Chargement", "detail": "Échantillon en HBr 1M",
             "final": False},
            {"num": 3, "title": "Élution Pb", "detail": "HCl 6M", "final": True}],
        "reference": {"doi": None,
                      "citation": "Protocole interne du laboratoire (exemple)"},
        "notes": None,
    }]
    assert read.pipelines == [{
        "key": "pb", "name": "Plomb (Pb) - sédiments", "element": "Pb",
        "description": "Digestion, purification, MC-ICP-MS",
        "stages": [{"order": 1, "method_key": "digestion-mw", "label": "Digestion"},
                   {"order": 2, "method_key": "chromato-pb", "label": "Purification Pb"}],
    }]
    assert read.yields == [{"source_id": "HE-07", "element": "Pb", "yield_percent": 92.5,
                            "date": "2023-08-12", "operator": "C. Martin",
                            "method_key": "chromato-pb", "notes": None}]
    assert read.assignments == [{"source_id": "HE-07", "method_key": None, "pipeline_key": "pb",
                                 "assigned_at": "2023-08-01T09:00:00Z",
                                 "assigned_by": "C. Martin"}]
    assert read.skipped == {}
