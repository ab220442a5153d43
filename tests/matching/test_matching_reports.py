"""Stored analyses (JSON and CSV), statistics, configuration and the activity log."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import ADMIN
from tests.matching.conftest import (
    LAURION,
    SECTORS,
    create_sample,
    import_csv,
    near,
    pb_items,
    sources_csv,
)


def analyze(client: TestClient, **body: Any) -> dict[str, Any]:
    kwargs = {"auth": body.pop("auth")} if "auth" in body else {}
    payload = {"material_type": "galena", "isotope_data": pb_items(near(LAURION)), **body}
    response = client.post("/analyze/manual", json=payload, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_every_analysis_is_stored_as_a_report(client: TestClient) -> None:
    import_csv(client, sources_csv(SECTORS))
    answer = analyze(client, sample_name="Coin 12", algorithm="bayesian", threshold=0.6)

    response = client.get(f"/api/matching/reports/{answer['report_id']}")

    assert response.status_code == 200
    report = response.json()
    assert report["result"] == answer
    assert (report["id"], report["route"], report["sample_id"], report["sample_name"]) == (
        answer["report_id"], "analyze/manual", None, "Coin 12")
    assert (report["algorithm"], report["threshold"], report["engine_version"]) == (
        "bayesian", 0.6, "1.0")
    assert report["index_generation"] == answer["sources"]["index_generation"] > 0
    assert report["inputs"]["temporary"] is True
    assert [v["ratio"] for v in report["inputs"]["isotope_data"]] == [
        "206Pb/204Pb", "207Pb/204Pb", "208Pb/204Pb"]
    assert report["options"]["algorithm"] == "bayesian"
    assert report["options"]["database_sources"] == ["local"]
    assert report["options"]["alpha"] == 0.01
    assert (report["best_group"], report["groups_matched"]) == ("Laurion, Greece", 1)
    assert client.get("/api/matching/reports/9999").status_code == 404


def test_a_report_exports_as_formula_safe_csv(client: TestClient) -> None:
    import_csv(client, sources_csv(SECTORS))
    answer = analyze(client, sample_name='=HYPERLINK("http://evil")', n_nearest=2,
                     material_type="galène")
    report_id = answer["report_id"]

    exported = client.get(f"/api/matching/reports/{report_id}/export.csv")
    as_format = client.get(f"/api/matching/reports/{report_id}", params={"format": "csv"})

    assert exported.status_code == as_format.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert exported.headers["content-disposition"] == (
        f'attachment; filename="isofind-report-{report_id}.csv"')
    assert exported.text == as_format.text
    rows = read_csv(exported.text)
    assert [row["kind"] for row in rows] == ["group"] * 3 + ["source"] * 2
    first = rows[0]
    assert first["sample_name"] == """'=HYPERLINK("http://evil")"""
    assert (first["rank"], first["group"], first["matched"]) == ("1", "Laurion, Greece", "True")
    assert float(first["score"]) == answer["groups"][0]["score"]
    assert float(first["p_value"]) == answer["groups"][0]["p_value"]
    assert float(first["centroid_latitude"]) == answer["groups"][0]["centroid"]["latitude"]
    source = rows[3]
    assert int(source["source_sample_id"]) == answer["matches"][0]["sample_id"]
    assert float(source["distance"]) == answer["matches"][0]["distance"]
    assert source["sector"] == "Laurion, Greece"
    assert float(source["longitude"]) == answer["matches"][0]["longitude"]


def test_warnings_are_exported_too(client: TestClient) -> None:
    import_csv(client, sources_csv(SECTORS))
    answer = analyze(client, material_type="slag")

    rows = read_csv(client.get(f"/api/matching/reports/{answer['report_id']}/export.csv").text)

    assert [(row["kind"], row["message"]) for row in rows] == [
        ("warning", "no source of material 'slag'; materials available: galena")]


def test_a_user_reads_only_their_own_reports(multi_client: TestClient,
                                             add_user: Callable[..., int]) -> None:
    import_csv(multi_client, sources_csv(SECTORS), auth=ADMIN)
    add_user("alice")
    add_user("bob")
    alice, bob = ("alice", "password-123"), ("bob", "password-123")
    report_id = analyze(multi_client, auth=alice)["report_id"]

    assert multi_client.get(f"/api/matching/reports/{report_id}", auth=alice).status_code == 200
    assert multi_client.get(f"/api/matching/reports/{report_id}", auth=bob).status_code == 404
    assert multi_client.get(f"/api/matching/reports/{report_id}/export.csv",
                            auth=bob).status_code == 404
    assert multi_client.get(f"/api/matching/reports/{report_id}", auth=ADMIN).status_code == 200
    listed = multi_client.get("/api/matching/reports", auth=alice).json()
    assert (listed["total"], listed["reports"][0]["id"]) == (1, report_id)
    assert multi_client.get("/api/matching/reports", auth=bob).json()["total"] == 0
    assert multi_client.get("/api/matching/reports", auth=ADMIN).json()["total"] == 1
    assert multi_client.get(f"/api/matching/reports/{report_id}").status_code == 401


def test_reports_listed_per_sample_newest_first(client: TestClient) -> None:
    import_csv(client, sources_csv(SECTORS))
    daughter = create_sample(client, {"name": "Ingot", "classification": "daughter",
                                      "material_type": "galena",
                                      "isotope_data": pb_items(near(LAURION))})
    first = client.post("/analyze", json={"sample_id": daughter}).json()["report_id"]
    second = client.post(f"/api/matching/find/{daughter}").json()["report_id"]
    analyze(client)

    listed = client.get("/api/matching/reports", params={"sample_id": daughter}).json()

    assert [r["id"] for r in listed["reports"]] == [second, first]
    assert [r["route"] for r in listed["reports"]] == ["matching/find", "analyze"]
    assert client.get("/api/matching/reports", params={"limit": 1}).json()["total"] == 3


def test_statistics_count_samples_elements_zones_and_matches(client: TestClient) -> None:
    import_csv(client, sources_csv(SECTORS))
    create_sample(client, {"name": "Shell", "classification": "daughter", "isotope_data": [
        {"element": "Sr", "ratio": "87Sr/86Sr", "value": 0.70918, "uncertainty": 1e-5}]})
    client.post("/api/zones", json={"name": "Attica", "geometry": {
        "type": "Polygon",
        "coordinates": [[[23.5, 37.5], [24.5, 37.5], [24.5, 38.2], [23.5, 37.5]]]}})
    analyze(client)
    analyze(client, algorithm="euclidean")
    client.post("/api/matching/batch", json=[1, 2, 9999])

    stats = client.get("/api/stats").json()

    assert stats["samples"] == 25 and stats["samples_with_gps"] == 24
    assert (stats["elements"], stats["element_list"]) == (2, ["Pb", "Sr"])
    assert stats["isotope_values"] == 24 * 3 + 1
    assert stats["by_classification"] == {"daughter": 1, "source": 24}
    assert stats["zones"] == 1
    assert stats["matches_calculated"] == 4  # two manual analyses, two batch samples


def test_config_shows_the_defaults_and_alpha(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(match_alpha=0.05, match_max_groups=2)) as client:
        config = client.get("/api/matching/config").json()
        assert config["alpha"] == 0.05 and config["alpha_setting"] == "ISOFIND_MATCH_ALPHA"
        assert config["default_algorithm"] == "hybrid"
        assert config["algorithms"] == ["hybrid", "mahalanobis", "bayesian", "euclidean"]
        assert config["thresholds"] == {"analyze": 0.85, "manual": 0.75}
        assert config["database_sources"]["default"] == ["local"]
        assert config["database_sources"]["unavailable"] == ["community"]
        assert config["engine_version"] == "1.0"
        assert config["max_groups"] == 2
        import_csv(client, sources_csv(SECTORS))
        answer = analyze(client)
        assert answer["alpha"] == 0.05 and len(answer["groups"]) == 2 and answer["n_groups"] == 3


def test_alpha_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                          make_app: Callable[..., FastAPI]) -> None:
    monkeypatch.setenv("ISOFIND_MATCH_ALPHA", "0.2")
    with TestClient(make_app()) as client:
        assert client.get("/api/matching/config").json()["alpha"] == 0.2


def test_analyses_are_in_the_activity_log(client: TestClient) -> None:
    import_csv(client, sources_csv(SECTORS))
    answer = analyze(client)
    client.post("/api/matching/batch", json=[1, 9999])
    client.get(f"/api/matching/reports/{answer['report_id']}/export.csv")

    entries = client.get("/api/logs/activity", params={"action": "matching."}).json()["entries"]

    by_action = {entry["action"]: entry for entry in entries}
    assert set(by_action) == {"matching.analyzed", "matching.batch",
                              "matching.report_exported"}
    analyzed = by_action["matching.analyzed"]
    assert (analyzed["target_type"], analyzed["target_id"]) == (
        "matching_report", str(answer["report_id"]))
    assert analyzed["details"]["route"] == "analyze/manual"
    assert analyzed["details"]["groups_matched"] == 1
    assert by_action["matching.batch"]["details"]["samples"] == 2
    assert by_action["matching.batch"]["details"]["errors"] == 1
