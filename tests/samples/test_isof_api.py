"""Importing and exporting .isof documents through the API: a file we export imports back
identically, a tampered signed file imports nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from isofind.samples.isof import read_isof

EXAMPLE = Path(__file__).parent / "data" / "example.isof"


def upload(client: TestClient, content: bytes) -> Any:
    return client.post("/api/import-isof",
                       files={"file": ("lab.isof", content, "application/json")})


def by_name(client: TestClient) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in client.get("/api/samples").json()}


def test_example_imports_samples_library_yields_and_assignments(client: TestClient) -> None:
    response = upload(client, EXAMPLE.read_bytes())

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["samples_created"], report["yields_recorded"],
            report["assignments_added"]) == (3, 1, 1)
    assert (report["methods_created"], report["pipelines_created"]) == (2, 1)
    assert report["document"]["signature"]["status"] == "unsigned"
    samples = by_name(client)
    galena = samples["Galène Les Malines"]
    assert (galena["material_type"], galena["altitude"], galena["classification"]) == (
        "galena", 520.0, "source")
    assert [(v["ratio"], v["value"], v["uncertainty"], v["uncertainty_type_declared"],
             v["n_cycles"]) for v in galena["isotope_data"]] == [
        ("206Pb/204Pb", 18.3681, 0.0012, "2SE", 60),
        ("207Pb/204Pb", 15.6702, 0.0011, "2SE", 60),
        ("208Pb/204Pb", 38.4503, 0.0031, "2SE", 60)]
    sediment = samples["Sédiment Hérault amont"]
    assert sediment["classification"] == "daughter"
    yields = client.get(f"/api/samples/{sediment['id']}/purification-yields").json()
    assert [(y["element"], y["yield_percent"], y["method_key"], y["flagged"]) for y in yields] == [
        ("Pb", 92.5, "chromato-pb", False)]
    pipeline = client.get(f"/api/v2/samples/{sediment['id']}/pipeline").json()
    assert pipeline["pipeline"]["key"] == "pb"

    again = upload(client, EXAMPLE.read_bytes()).json()
    assert (again["samples_created"], again["samples_updated"], again["samples_unchanged"],
            again["assignments_added"]) == (0, 0, 3, 0)


def test_an_exported_document_imports_back_identically(client: TestClient) -> None:
    upload(client, EXAMPLE.read_bytes())
    before = client.get("/api/samples?sort=asc").json()

    exported = client.post("/api/v2/samples/export-isof")
    assert exported.status_code == 200
    assert "isofind-samples.isof" in exported.headers["content-disposition"]
    document = read_isof(exported.content)
    assert [s["name"] for s in document.samples] == [s["name"] for s in before]
    assert [s["source_id"] for s in document.samples] == [str(s["id"]) for s in before]
    assert [m["key"] for m in document.methods] == ["chromato-pb", "digestion-mw"]
    assert [p["key"] for p in document.pipelines] == ["pb"]
    for stored, read in zip(before, document.samples, strict=True):
        assert {k: v for k, v in read.items() if k not in ("source_id", "isotope_data")} == {
            k: stored[k] for k in read if k not in ("source_id", "isotope_data")}
        assert [(v["ratio"], v["value"], v["uncertainty"], v["standard"])
                for v in read["isotope_data"]] == [
            (v["ratio"], v["value"], v["uncertainty"], v["standard"])
            for v in stored["isotope_data"]]

    again = upload(client, exported.content).json()
    assert (again["samples_created"], again["samples_updated"], again["samples_unchanged"]) == (
        0, 0, 3)
    assert client.get("/api/samples?sort=asc").json() == before


def test_export_of_chosen_samples_and_unknown_ids(client: TestClient) -> None:
    upload(client, EXAMPLE.read_bytes())
    first = client.get("/api/samples?sort=asc&limit=1").json()[0]
    exported = client.post("/api/v2/samples/export-isof", json=[first["id"]])
    assert [s["name"] for s in read_isof(exported.content).samples] == [first["name"]]
    missing = client.post("/api/v2/samples/export-isof", json=[987654])
    assert (missing.status_code, missing.json()) == (404, {"detail": "sample 987654 not found"})


def test_a_tampered_signed_file_imports_nothing(client: TestClient) -> None:
    document = json.loads(EXAMPLE.read_bytes())
    scope = ["samples", "methods", "purification"]
    payload = json.dumps({block: document.get(block) for block in scope}, ensure_ascii=False,
                         separators=(",", ":")).encode()
    document["signature"] = {"level": 1, "algorithm": "SHA-256", "scope": scope,
                             "hash": hashlib.sha256(payload).hexdigest(),
                             "signed_at": "2026-04-20T16:54:17Z", "signed_by": "Labo",
                             "contact": None}
    signed = json.dumps(document, ensure_ascii=False).encode()
    assert upload(client, signed).json()["document"]["signature"]["status"] == "sha256-verified"
    client.delete(f"/api/samples/{by_name(client)['Galène Les Malines']['id']}")

    document["samples"][0]["isotope_data"][0]["ratio"] = 18.9999
    response = upload(client, json.dumps(document, ensure_ascii=False).encode())

    assert response.status_code == 422
    assert "hash" in json.dumps(response.json()["detail"]).lower() or \
        "signature" in json.dumps(response.json()["detail"]).lower()
    assert "Galène Les Malines" not in by_name(client)


def test_a_malformed_file_answers_422(client: TestClient) -> None:
    response = upload(client, b"{not json")
    assert response.status_code == 422
    assert client.get("/api/samples").json() == []
