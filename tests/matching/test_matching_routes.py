"""The analysis routes over HTTP, on constructed source databases with known answers."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN
from tests.matching.conftest import (
    CORNWALL,
    LAURION,
    PB,
    RIO_TINTO,
    Sector,
    create_sample,
    group_names,
    import_csv,
    near,
    pb_items,
    sources_csv,
)

Lab = Callable[..., dict[str, int]]
FAR = [17.0, 15.2, 36.8]  # common lead far below every sector
LONE = Sector("Lone Mine", (17.90, 15.55, 37.95), 45.0, 5.0, n=1)


def manual(client: TestClient, values: list[float] | None = None, *, route: str = "/analyze/manual",
           expect: int = 200, **body: Any) -> dict[str, Any]:
    payload = {"material_type": "galena", **body}
    if "isotope_data" not in body:
        payload["isotope_data"] = pb_items(values or near(LAURION))
    response = client.post(route, json=payload)
    assert response.status_code == expect, response.text
    return response.json()


@pytest.mark.parametrize("algorithm", ["hybrid", "bayesian", "mahalanobis", "euclidean"])
def test_a_sample_drawn_from_a_group_ranks_it_first(client: TestClient, lab: Lab,
                                                   algorithm: str) -> None:
    lab()
    answer = manual(client, near(RIO_TINTO), algorithm=algorithm)

    assert answer["algorithm"] == algorithm
    assert answer["ratios_used"] == list(PB)
    assert group_names(answer)[0] == "Rio Tinto, Spain"
    assert set(group_names(answer)) == {"Laurion, Greece", "Rio Tinto, Spain", "Cornwall, UK"}
    best = answer["groups"][0]
    assert best["n_sources"] == 8 and best["p_value"] > 0.5 and best["posterior"] > 0.999
    assert best["centroid"]["latitude"] == pytest.approx(37.70 + 0.035, abs=1e-3)
    expected_score = {
        "hybrid": best["posterior"], "bayesian": best["posterior"],
        "mahalanobis": best["p_value"], "euclidean": math.exp(-best["distance"] ** 2 / 2),
    }[algorithm]
    assert best["score"] == pytest.approx(expected_score)
    for group in answer["groups"]:
        assert group["matched"] == (group["score"] >= 0.75)
        assert 0.0 <= group["score"] <= 1.0
    # the nearest individual sources are Rio Tinto's, with their coordinates
    assert [m["sector"] for m in answer["matches"][:8]] == ["Rio Tinto, Spain"] * 8
    first = answer["matches"][0]
    assert first["latitude"] is not None and first["longitude"] is not None
    assert first["score"] == pytest.approx(math.exp(-first["distance"] ** 2 / 2))


@pytest.mark.parametrize("algorithm", ["hybrid", "mahalanobis", "euclidean"])
def test_a_sample_far_from_every_group_matches_none(client: TestClient, lab: Lab,
                                                    algorithm: str) -> None:
    lab()
    answer = manual(client, FAR, algorithm=algorithm, threshold=0.05)

    assert answer["groups_matched"] == 0
    assert all(not group["matched"] for group in answer["groups"])
    assert max(group["score"] for group in answer["groups"]) < 1e-6
    if algorithm != "euclidean":
        assert any("compatible with no group" in w for w in answer["warnings"])


def test_bayesian_posteriors_always_sum_to_one_so_hybrid_excludes_first(
        client: TestClient, lab: Lab) -> None:
    lab()
    bayesian = manual(client, FAR, algorithm="bayesian")
    hybrid = manual(client, FAR, algorithm="hybrid")

    assert sum(g["posterior"] for g in bayesian["groups"]) == pytest.approx(1.0)
    assert bayesian["groups"][0]["matched"] is True  # the least bad group takes it all
    assert [g["score"] for g in hybrid["groups"]] == [0.0, 0.0, 0.0]


def test_a_single_source_group(client: TestClient, lab: Lab) -> None:
    ids = lab(LONE)
    lone = client.get(f"/api/samples/{ids['Lone Mine 1']}").json()
    values = [item["value"] for item in lone["isotope_data"]]

    euclidean = manual(client, values, algorithm="euclidean")
    hybrid = manual(client, values, algorithm="hybrid")

    for answer in (euclidean, hybrid):
        best = answer["groups"][0]
        assert (best["group"], best["n_sources"]) == ("Lone Mine", 1)
        assert best["distance"] == pytest.approx(0.0, abs=1e-9)
        assert answer["matches"][0]["sample_id"] == ids["Lone Mine 1"]
    assert euclidean["groups"][0]["score"] == pytest.approx(1.0)
    assert hybrid["groups"][0]["p_value"] > 0.9 and hybrid["groups"][0]["matched"]


def test_missing_ratios_compare_on_the_shared_ones(client: TestClient, lab: Lab) -> None:
    lab()
    two = manual(client, isotope_data=pb_items(
        near(CORNWALL)[:2], ratios=PB[:2], uncertainties=(0.002, 0.002)))
    assert two["ratios_used"] == ["206Pb/204Pb", "207Pb/204Pb"]
    assert group_names(two)[0] == "Cornwall, UK"
    assert two["groups"][0]["ratios"] == ["206Pb/204Pb", "207Pb/204Pb"]

    strontium = manual(client, isotope_data=[
        *pb_items(near(CORNWALL)[:1], ratios=PB[:1], uncertainties=(0.002,)),
        {"element": "Sr", "ratio": "87Sr/86Sr", "value": 0.7092, "uncertainty": 1e-5}])
    assert strontium["ratios_used"] == ["206Pb/204Pb"]
    assert "no source has 87Sr/86Sr; it was not used" in strontium["warnings"]
    assert any("single ratio" in w for w in strontium["warnings"])


def test_sources_missing_a_ratio_are_compared_on_what_they_have(client: TestClient,
                                                                lab: Lab) -> None:
    lab()
    raw = (b"name,material_type,classification,sector,206Pb/204Pb,207Pb/204Pb\n"
           b"P1,galena,source,Partial Mine,19.40,15.75\nP2,galena,source,Partial Mine,19.41,"
           b"15.752\nP3,galena,source,Partial Mine,19.39,15.748\n")
    import_csv(client, raw)
    answer = manual(client, [19.401, 15.7505, 39.5])

    best = answer["groups"][0]
    assert (best["group"], best["ratios"]) == ("Partial Mine", ["206Pb/204Pb", "207Pb/204Pb"])
    assert {g["group"]: g["ratios"] for g in answer["groups"]}["Laurion, Greece"] == list(PB)


def test_zero_uncertainties_fall_back_to_the_default(client: TestClient, lab: Lab) -> None:
    lab()
    answer = manual(client, isotope_data=pb_items(near(LAURION), uncertainties=(0, 0, None)))

    assert group_names(answer)[0] == "Laurion, Greece" and answer["groups"][0]["matched"]
    # 0.05 % 2σ relative, the engine's default for an unreported uncertainty
    assert [v["uncertainty"] for v in answer["values"]] == pytest.approx(
        [v * 5e-4 for v in near(LAURION)])


def test_same_material_keeps_the_material_and_names_those_available(client: TestClient,
                                                                    lab: Lab) -> None:
    lab()
    slag = manual(client, material_type="scorie")  # French for slag, normalised

    assert slag["sample"]["material_type"] == "slag"
    assert slag["groups"] == [] and slag["matches"] == []
    assert "no source of material 'slag'; materials available: galena" in slag["warnings"]

    anything = manual(client, material_type="slag", same_material=False)
    assert group_names(anything)[0] == "Laurion, Greece"

    unknown = manual(client, material_type=None)
    assert any("has no material type" in w for w in unknown["warnings"])
    assert group_names(unknown)[0] == "Laurion, Greece"


def test_community_database_answers_503(client: TestClient, lab: Lab) -> None:
    lab()
    response = client.post("/analyze/manual", json={
        "isotope_data": pb_items(near(LAURION)), "database_sources": ["local", "community"]})

    assert response.status_code == 503
    assert "community database is not available" in response.json()["detail"]


def test_analyze_defaults_follow_the_spec(client: TestClient, lab: Lab) -> None:
    lab()
    daughter = create_sample(client, {
        "name": "Ingot 7", "classification": "daughter", "material_type": "galena",
        "isotope_data": pb_items(near(LAURION))})

    answer = client.post("/analyze", json={"sample_id": daughter}).json()
    assert (answer["algorithm"], answer["threshold"], answer["alpha"]) == ("hybrid", 0.85, 0.01)
    assert answer["sources"]["database_sources"] == ["local"]
    assert answer["sources"]["classification_filter"] == "sources"
    assert answer["sample"]["sample_id"] == daughter and answer["sample"]["name"] == "Ingot 7"
    assert isinstance(answer["report_id"], int)
    assert group_names(answer)[0] == "Laurion, Greece"
    # the daughter itself is not a source: it never appears among the matches
    assert daughter not in [m["sample_id"] for m in answer["matches"]]

    assert manual(client)["threshold"] == 0.75
    assert client.post("/api/matching/manual", json={
        "isotope_data": pb_items(near(LAURION))}).json()["threshold"] == 0.75
    found = client.post(f"/api/matching/find/{daughter}").json()
    assert (found["threshold"], found["algorithm"]) == (0.85, "hybrid")
    assert client.post(f"/api/matching/find/{daughter}?threshold=0.5").json()["threshold"] == 0.5


def test_analyze_with_isotope_data_given_uses_them(client: TestClient, lab: Lab) -> None:
    lab()
    daughter = create_sample(client, {"name": "Coin 3", "classification": "daughter",
                                      "material_type": "galena",
                                      "isotope_data": pb_items(near(LAURION))})

    answer = client.post("/analyze", json={"sample_id": daughter,
                                           "isotope_data": pb_items(near(CORNWALL))}).json()

    assert group_names(answer)[0] == "Cornwall, UK"
    assert answer["sample"]["isotope_data"][0]["value"] == near(CORNWALL)[0]


def test_a_source_sample_does_not_match_itself(client: TestClient, lab: Lab) -> None:
    ids = lab()
    laurion_1 = ids["Laurion 1"]

    answer = client.post(f"/api/matching/find/{laurion_1}").json()

    assert laurion_1 not in [m["sample_id"] for m in answer["matches"]]
    assert answer["groups"][0]["group"] == "Laurion, Greece"
    assert answer["groups"][0]["n_sources"] == 7
    assert f"sample {laurion_1} is itself one of the sources" in " ".join(answer["warnings"])


def test_unknown_sample_is_404(client: TestClient, lab: Lab) -> None:
    lab()
    assert client.post("/analyze", json={"sample_id": 9999}).status_code == 404
    assert client.post("/api/matching/find/9999").status_code == 404
    assert client.post("/api/matching/advanced/9999", json={}).status_code == 404


def test_batch_isolates_each_sample_error(client: TestClient, lab: Lab) -> None:
    ids = lab()
    good = create_sample(client, {"name": "Ingot 1", "classification": "daughter",
                                  "material_type": "galena",
                                  "isotope_data": pb_items(near(RIO_TINTO))})
    empty = create_sample(client, {"name": "No data", "classification": "daughter"})
    other = create_sample(client, {"name": "Ingot 2", "classification": "daughter",
                                   "material_type": "galena",
                                   "isotope_data": pb_items(near(CORNWALL))})

    response = client.post("/api/matching/batch", json=[good, 9999, empty, other,
                                                        ids["Laurion 2"]])
    assert response.status_code == 200, response.text
    results = response.json()

    assert list(results) == [str(good), "9999", str(empty), str(other), str(ids["Laurion 2"])]
    assert group_names(results[str(good)])[0] == "Rio Tinto, Spain"
    assert group_names(results[str(other)])[0] == "Cornwall, UK"
    assert group_names(results[str(ids["Laurion 2"])])[0] == "Laurion, Greece"
    assert results["9999"] == {"error": "sample 9999 not found", "status_code": 404}
    assert results[str(empty)]["status_code"] == 422
    assert "no isotope values" in results[str(empty)]["error"]
    report_ids = {results[str(i)]["report_id"] for i in (good, other, ids["Laurion 2"])}
    assert len(report_ids) == 3
    assert results[str(good)]["threshold"] == 0.85

    with_options = client.post("/api/matching/batch?threshold=0.3", json={
        "sample_ids": [good], "algorithm": "mahalanobis", "threshold": 0.9}).json()
    assert (with_options[str(good)]["threshold"],
            with_options[str(good)]["algorithm"]) == (0.3, "mahalanobis")
    assert client.post("/api/matching/batch", json=[]).status_code == 422


def test_matching_manual_chooses_elements_and_ratios(client: TestClient, lab: Lab) -> None:
    lab()
    values = [*pb_items(near(RIO_TINTO)),
              {"element": "strontium", "ratio": "Sr87/Sr86", "value": 0.7101, "uncertainty": 2e-5}]

    answer = manual(client, route="/api/matching/manual", isotope_data=values,
                    elements=["plomb"], ratios=["Pb206/Pb204", "207/204Pb"])

    assert answer["ratios_used"] == ["206Pb/204Pb", "207Pb/204Pb"]
    assert [v["ratio"] for v in answer["sample"]["isotope_data"]] == ["206Pb/204Pb",
                                                                      "207Pb/204Pb"]
    assert group_names(answer)[0] == "Rio Tinto, Spain"
    refused = client.post("/api/matching/manual", json={
        "isotope_data": values, "ratios": ["206Pb/204Pb", "banana"]})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "ratios", 1]
    nothing = client.post("/api/matching/manual", json={"isotope_data": values,
                                                         "elements": ["Cu"]})
    assert nothing.status_code == 422
    assert "no isotope value of the sample can be matched" in nothing.json()["detail"]


def test_isotope_spellings_are_normalised_and_bad_items_named(client: TestClient,
                                                              lab: Lab) -> None:
    lab()
    spelled = manual(client, isotope_data=[
        {"element": "lead", "ratio": "Pb206/Pb204", "value": near(LAURION)[0]},
        {"element": "PB", "ratio": "207/204Pb", "value": near(LAURION)[1]},
        {"element": "plomb", "ratio": "208Pb-204Pb", "value": near(LAURION)[2]}])
    assert spelled["ratios_used"] == list(PB)
    assert [v["element"] for v in spelled["sample"]["isotope_data"]] == ["Pb", "Pb", "Pb"]

    bad = client.post("/analyze/manual", json={"isotope_data": [
        {"element": "Pb", "ratio": "206Pb/204Pb", "value": 18.8},
        {"element": "Unobtainium", "ratio": "206Pb/204Pb", "value": 18.8},
        {"element": "Pb", "ratio": "banana", "value": 18.8},
        {"element": "Pb", "ratio": "87Sr/86Sr", "value": 0.71},
        {"element": "Pb", "ratio": "206/204Pb", "value": 18.9},
        {"element": "Pb", "ratio": "207Pb/204Pb", "value": -15.6}]})
    assert bad.status_code == 422
    problems = [(item["loc"], item["msg"]) for item in bad.json()["detail"]]
    assert problems == [
        (["body", "isotope_data", 1, "element"], "unknown element 'Unobtainium'"),
        (["body", "isotope_data", 2, "ratio"],
         "'banana' is not an isotope ratio (206Pb/204Pb) or delta (δ65Cu)"),
        (["body", "isotope_data", 3, "ratio"], "87Sr/86Sr is not a quantity of Pb"),
        (["body", "isotope_data", 4, "ratio"], "206Pb/204Pb is given twice (items 0 and 4)"),
        (["body", "isotope_data", 5, "value"], "a ratio must be positive, got -15.6"),
    ]
    missing = client.post("/analyze/manual", json={"isotope_data": []})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == [
        "body", "isotope_data"]
    unknown_field = client.post("/analyze/manual", json={
        "isotope_data": pb_items(near(LAURION)), "treshold": 0.5})
    assert unknown_field.status_code == 422


def test_archive_and_local_databases(client: TestClient, lab: Lab) -> None:
    lab()
    old = Sector("Old Mine", (18.60, 15.66, 38.70), 48.0, 2.0)
    import_csv(client, sources_csv([old], prefix="Archived "), form={"archive_mode": True})
    query = near(old)

    local = manual(client, query)
    archive = manual(client, query, database_sources=["archive"])
    both = manual(client, query, database_sources=["local", "archive"])

    assert "Old Mine" not in group_names(local)
    assert group_names(archive) == ["Old Mine"]
    assert group_names(both)[0] == "Old Mine" and len(both["groups"]) == 4
    assert archive["sources"]["database_sources"] == ["archive"]


def test_classification_filter(client: TestClient, lab: Lab) -> None:
    lab()
    create_sample(client, {"name": "Slag 1", "classification": "daughter",
                           "material_type": "galena", "sector": "Workshop",
                           "isotope_data": pb_items(near(LAURION, (0.002, 0.001, 0.003)))})

    sources = manual(client)
    daughters = manual(client, classification_filter="daughters")
    everything = manual(client, classification_filter="all")

    assert "Workshop" not in group_names(sources)
    assert group_names(daughters) == ["Workshop"]
    assert set(group_names(everything)) == {"Workshop", *group_names(sources)}


def test_advanced_filters(client: TestClient, lab: Lab) -> None:
    ids = lab()
    daughter = create_sample(client, {"name": "Ingot 9", "classification": "daughter",
                                      "material_type": "galena",
                                      "isotope_data": pb_items(near(CORNWALL))})

    def advanced(**body: Any) -> dict[str, Any]:
        response = client.post(f"/api/matching/advanced/{daughter}", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    # a box around the Aegean and Iberia leaves Cornwall (50°N) out
    boxed = advanced(bbox={"min_latitude": 30, "max_latitude": 45, "min_longitude": -10,
                           "max_longitude": 30})
    assert set(group_names(boxed)) == {"Laurion, Greece", "Rio Tinto, Spain"}
    # min_longitude > max_longitude: the box crosses 180° (east of 20°E, west of 6°W)
    crossing = advanced(bbox={"min_latitude": -90, "max_latitude": 90, "min_longitude": 20,
                              "max_longitude": -6})
    assert set(group_names(crossing)) == {"Laurion, Greece", "Rio Tinto, Spain"}
    assert set(group_names(advanced(projects=["Iberia", "Atlantic"]))) == {
        "Rio Tinto, Spain", "Cornwall, UK"}
    assert group_names(advanced(date_from="2016-01-01", date_to="2020-01-01")) == [
        "Rio Tinto, Spain"]
    assert advanced(material_types=["blende"])["groups"] == []
    by_project = advanced(group_by="project")
    assert group_names(by_project)[0] == "Atlantic"
    assert by_project["groups"][0]["n_sources"] == 8
    chosen = advanced(ratios=["206Pb/204Pb", "208Pb/204Pb"], algorithm="mahalanobis")
    assert chosen["ratios_used"] == ["206Pb/204Pb", "208Pb/204Pb"]
    as_slag = advanced(material_type="slag")
    assert as_slag["groups"] == [] and "materials available: galena" in as_slag["warnings"][0]
    refused = client.post(f"/api/matching/advanced/{daughter}", json={
        "bbox": {"min_latitude": 50, "max_latitude": 40, "min_longitude": 0,
                 "max_longitude": 1}})
    assert refused.status_code == 422
    assert ids["Cornwall 1"] in [m["sample_id"] for m in advanced()["matches"]]


def test_normalized_values_are_used_and_reported(client: TestClient, lab: Lab) -> None:
    ids = lab()
    # A Laurion source measured 1 % high, with its normalized value back on Laurion.
    shifted = [v * 1.01 for v in LAURION.centre]
    source = create_sample(client, {"name": "Laurion normalized", "classification": "source",
                                    "sector": "Laurion, Greece", "material_type": "galena",
                                    "isotope_data": pb_items(shifted)})
    version = client.get(f"/api/v1/objects/{source}/versions/0", auth=ADMIN).json()
    data = version["data"]
    for item, value in zip(data["isotope_data"], LAURION.centre, strict=True):
        item["normalized_value"] = {"_type": "quantity", "magnitude": value, "units": "1"}
    written = client.post(f"/api/v1/objects/{source}/versions/", auth=ADMIN, json={"data": data})
    assert written.status_code == 201, written.text

    answer = manual(client, isotope_data=[
        {**item, "value": item["value"] * 1.01, "normalized_value": item["value"]}
        for item in pb_items(LAURION.centre)])

    assert answer["normalized"] == list(PB)
    assert all(v["normalized"] for v in answer["values"])
    assert [v["value"] for v in answer["values"]] == pytest.approx(list(LAURION.centre))
    assert answer["sources"]["normalized_values"] == 3
    assert any("3 source value(s) normalized" in w for w in answer["warnings"])
    assert answer["matches"][0]["sample_id"] == source
    assert answer["matches"][0]["distance"] == pytest.approx(0.0, abs=1e-9)
    assert group_names(answer)[0] == "Laurion, Greece"
    assert ids  # the reference sectors are there too

    # a stored sample's normalized values are used too (here the source itself)
    stored = client.post(f"/api/matching/find/{source}").json()
    assert stored["normalized"] == list(PB)
    assert [v["value"] for v in stored["values"]] == pytest.approx(list(LAURION.centre))
    assert stored["sample"]["isotope_data"][0]["value"] == pytest.approx(shifted[0])


def test_a_ratio_measured_twice_uses_the_latest_measurement(client: TestClient,
                                                            lab: Lab) -> None:
    lab()
    first, *rest = pb_items(near(RIO_TINTO))
    sample = create_sample(client, {"name": "Twice", "classification": "daughter",
                                    "material_type": "galena", "isotope_data": [
                                        {**first, "value": 18.0}, *rest, first]})

    answer = client.post(f"/api/matching/find/{sample}").json()

    assert answer["values"][0]["value"] == near(RIO_TINTO)[0]
    assert group_names(answer)[0] == "Rio Tinto, Spain"
    assert (f"206Pb/204Pb is measured more than once in sample {sample}: the latest "
            "measurement (isotope value 4) was used") in answer["warnings"]


def test_groups_listed_and_nearest_sources_can_be_limited(client: TestClient,
                                                         lab: Lab) -> None:
    lab()
    answer = manual(client, max_groups=1, n_nearest=3)

    assert group_names(answer) == ["Laurion, Greece"] and answer["n_groups"] == 3
    assert len(answer["matches"]) == 3


def test_gaussian_likelihood_and_proportional_priors(client: TestClient, lab: Lab) -> None:
    lab(Sector("Small Laurion", (18.86, 15.681, 38.91), 37.9, 24.2, n=3))
    uniform = manual(client, algorithm="bayesian", likelihood="gaussian")
    proportional = manual(client, algorithm="bayesian", likelihood="gaussian",
                          priors="proportional")

    def ratio(answer: dict[str, Any]) -> float:
        posterior = {g["group"]: g["posterior"] for g in answer["groups"]}
        return posterior["Laurion, Greece"] / posterior["Small Laurion"]

    assert uniform["likelihood"] == "gaussian"
    # π ∝ group size multiplies the odds Laurion (8) : Small Laurion (3) by 8/3
    assert ratio(proportional) / ratio(uniform) == pytest.approx(8 / 3, rel=1e-6)
