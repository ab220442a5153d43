"""POST /api/import-csv with real files: one transaction, merged by name, idempotent."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from isofind.objects.models import ObjectRecord
from isofind.samples import importing
from isofind.samples.index import index_rows
from isofind.samples.models import IsotopeValue, SampleIndex
from tests.conftest import ADMIN

DATA = Path(__file__).parent / "data"
GLOBALID = Path(__file__).parents[2].parent / "shared" / "data" / "globalid" / "GlobaLID.csv"


def upload(client: TestClient, path: Path | None = None, *, content: bytes | None = None,
           **form: Any) -> Any:
    raw = content if content is not None else path.read_bytes()  # type: ignore[union-attr]
    name = path.name if path else "upload.csv"
    return client.post("/api/import-csv", files={"file": (name, raw, "text/csv")},
                       data={k: v if isinstance(v, str) else json.dumps(v)
                             for k, v in form.items()})


def by_name(client: TestClient) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in client.get("/api/samples?include_archived=true").json()}


def values(sample: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(v["ratio"], v["value"], v["uncertainty"], v["standard"])
            for v in sample["isotope_data"]]


def test_latin1_french_file_imports_with_merged_rows(client: TestClient) -> None:
    response = upload(client, DATA / "french_latin1.csv")

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["samples_created"], report["samples_updated"], report["values_added"]) == (
        2, 0, 3)
    assert (report["encoding"], report["delimiter"]) == ("cp1252", ";")
    assert report["recognised_columns"]["Lattitude"] == "latitude"
    samples = by_name(client)
    loire = samples["Sédiment Loire 1"]
    assert (loire["material_type"], loire["classification"], loire["collection_date"]) == (
        "sediment", "daughter", "2023-03-14")
    assert (loire["latitude"], loire["longitude"]) == (47.3941, 0.6848)
    assert values(loire) == [("206Pb/204Pb", 18.412, 0.0011, "NIST SRM 981"),
                             ("207Pb/204Pb", 15.648, 0.0012, "NIST SRM 981")]
    assert (loire["isotope_data"][1]["uncertainty_type_declared"],
            loire["isotope_data"][1]["uncertainty_declared"]) == ("1SD", 0.0006)
    assert values(samples["Minerai Pontpéan"]) == [("206Pb/204Pb", 18.291, None, "NIST SRM 981")]


def test_importing_the_same_file_twice_changes_nothing(client: TestClient) -> None:
    upload(client, DATA / "french_latin1.csv")
    before = by_name(client)

    again = upload(client, DATA / "french_latin1.csv").json()

    assert (again["samples_created"], again["samples_updated"], again["samples_unchanged"],
            again["values_added"]) == (0, 0, 2, 0)
    assert by_name(client) == before


def test_rows_merge_with_a_stored_sample_of_the_same_name(client: TestClient) -> None:
    stored = client.post("/api/samples", json={"name": "ORE-17", "project": "old", "isotope_data": [
        {"element": "Pb", "ratio": "206Pb/204Pb", "value": 18.3012, "uncertainty": 0.0009,
         "standard": "NIST SRM 981"}]}).json()

    report = upload(client, DATA / "ratio_columns.csv").json()

    assert (report["samples_created"], report["samples_updated"], report["values_added"]) == (
        1, 1, 5)
    ore17 = client.get(f"/api/samples/{stored['id']}").json()
    assert ore17["name"] == "ORE-17" and ore17["project"] == "old" and ore17["version_id"] == 1
    assert [(v["isotope_id"], v["ratio"], v["value"]) for v in ore17["isotope_data"]] == [
        (1, "206Pb/204Pb", 18.3012), (2, "207Pb/204Pb", 15.6611), (3, "208Pb/204Pb", 38.441)]
    assert ore17["isotope_data"][1]["uncertainty"] == 0.0008  # 1SD column, stored at 2σ


def test_utf8_bom_file_with_ratio_and_delta_columns(client: TestClient) -> None:
    report = upload(client, DATA / "bom_utf8.csv").json()

    assert report["encoding"] == "utf-8-sig" and report["samples_created"] == 2
    samples = by_name(client)
    assert values(samples["Wine Bordeaux 12"]) == [("87Sr/86Sr", 0.708912, 0.000012, None)]
    axe = samples["Bronze axe 7"]["isotope_data"][0]
    assert (axe["ratio"], axe["value"], axe["uncertainty"], axe["reference_scale"]) == (
        "δ65Cu", 0.21, 0.05, "NIST SRM 976")


def test_wide_file(client: TestClient) -> None:
    upload(client, DATA / "wide.csv")
    samples = by_name(client)
    galena = samples["Galena A1"]
    assert [(v["element"], v["ratio"], v["value"], v["instrument"], v["session_date"],
             v["uncertainty_type_declared"]) for v in galena["isotope_data"]] == [
        ("Pb", "206Pb/204Pb", 18.368, "Neptune Plus", "2024-02-15", "2SE"),
        ("Sr", "87Sr/86Sr", 0.71025, "Neptune Plus", "2024-02-15", "2SE")]
    assert samples["Soil S4"]["isotope_data"][0]["uncertainty"] == 0.008  # 1SD → 2σ


def test_one_bad_row_imports_nothing_and_names_line_and_column(client: TestClient) -> None:
    response = upload(client, DATA / "one_bad_row.csv")

    assert response.status_code == 422
    problems = response.json()["detail"]
    assert [(p["line"], p["column"], p["value"]) for p in problems] == [
        (3, "latitude", "123,0"), (3, "collection_date", "31/02/2023")]
    assert client.get("/api/samples").json() == []
    assert client.get("/api/samples/stats").json()["total_samples"] == 0


def test_mapping_and_bad_mapping(client: TestClient) -> None:
    content = "Code;Mine;Pays;206Pb/204Pb\nA;Laurion;Grèce;18,85\n".encode()
    report = upload(client, content=content, mapping={
        "name": "Code", "sector": ["Mine", "Pays"], "classification": {"value": "source"}})
    assert report.status_code == 200, report.text
    sample = by_name(client)["A"]
    assert (sample["sector"], sample["classification"]) == ("Laurion, Grèce", "source")

    bad = upload(client, content=content, mapping={"colour": "Code"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["column"] == "mapping"
    assert "colour" in bad.json()["detail"][0]["message"]


def test_archive_mode_keeps_samples_out_of_lists(client: TestClient) -> None:
    report = upload(client, DATA / "wide.csv", archive_mode="true").json()

    assert report["archive_mode"] is True and report["samples_created"] == 2
    assert client.get("/api/samples").json() == []
    assert client.get("/api/samples/stats").json()["total_samples"] == 0
    archived = client.get("/api/samples?include_archived=true").json()
    assert [s["archived"] for s in archived] == [True, True]


def test_globalid_imports_as_4623_source_samples(client: TestClient) -> None:
    response = upload(client, GLOBALID, profile="globalid")

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["samples_created"], report["samples_updated"]) == (4623, 0)
    stats = client.get("/api/samples/stats").json()
    assert stats["total_samples"] == 4623
    assert stats["by_classification"] == {"source": 4623}
    assert stats["elements"] == ["Pb"]
    first = client.get("/api/samples?sort=asc&limit=1").json()[0]
    assert first["classification"] == "source" and first["reference"]
    assert {v["ratio"] for v in first["isotope_data"]} >= {"206Pb/204Pb", "207Pb/206Pb"}


def test_bulk_index_rows_equal_those_derived_from_the_versions(client: TestClient,
                                                              app: Any) -> None:
    """The import writes index rows from plain values; rebuilding them from each stored
    version (what every other write does) must give the same rows."""
    upload(client, DATA / "french_latin1.csv")
    upload(client, DATA / "wide.csv")
    with app.state.database.session(write=False) as db:
        for record in db.scalars(select(ObjectRecord).where(ObjectRecord.action_id == -1)):
            sample, values = index_rows(record.id, record.data, created_at=record.created_at,
                                        creator_id=record.creator_id)
            stored = db.get(SampleIndex, record.id)
            assert {k: getattr(stored, k) for k in sample} == sample
            rows = db.scalars(select(IsotopeValue).where(IsotopeValue.sample_id == record.id)
                              .order_by(IsotopeValue.isotope_id)).all()
            assert [{k: getattr(row, k) for k in values[0]} for row in rows] == values


def test_a_read_only_user_is_refused_before_the_file_is_read(
        multi_client: TestClient, add_user: Callable[..., int]) -> None:
    add_user("ro", "user", is_readonly=True)
    unreadable = b"name,latitude\nS1,123\n"  # an import would answer 422 for the latitude

    for route, name in (("/api/import-csv", "s.csv"), ("/api/import-isof", "s.isof")):
        response = multi_client.post(route, files={"file": (name, unreadable)},
                                     auth=("ro", "password-123"))
        assert (route, response.status_code, response.json()) == (
            route, 403, {"detail": "read-only users cannot import samples"})
    assert multi_client.get("/api/samples", auth=ADMIN).json() == []


@pytest.fixture
def batches_of_5(monkeypatch: pytest.MonkeyPatch) -> None:
    """Samples are written in batches as rows are parsed: small batches make a short file
    write several before its last row is read."""
    monkeypatch.setattr(importing, "SAMPLES_PER_BATCH", 5)


def galena_rows(numbers: range) -> list[str]:
    return [f"G-{n},galena,Laurion,{18 + n / 1000:.3f}" for n in numbers]


@pytest.mark.usefixtures("batches_of_5")
def test_a_bad_row_after_written_batches_still_imports_nothing(client: TestClient) -> None:
    rows = [*galena_rows(range(1, 27)), "G-27,galena,Laurion,eighteen",
            *galena_rows(range(28, 31))]
    content = ("name,material_type,sector,206Pb/204Pb\n" + "\n".join(rows) + "\n").encode()

    response = upload(client, content=content)

    assert response.status_code == 422
    assert [(p["line"], p["column"], p["value"]) for p in response.json()["detail"]] == [
        (28, "206Pb/204Pb", "eighteen")]
    assert client.get("/api/samples?include_archived=true").json() == []
    assert upload(client, content=content.replace(b"eighteen", b"18.027")).json()[
        "samples_created"] == 30


@pytest.mark.usefixtures("batches_of_5")
def test_a_sample_named_again_further_down_is_one_sample(client: TestClient) -> None:
    rows = ["Galène-1,galena,Laurion,18.001", *galena_rows(range(2, 20)),
            "GALENE-1,,Thorikos,18.101", *galena_rows(range(21, 25)),
            "Galène-1,,,18.201"]
    content = ("name,material_type,sector,206Pb/204Pb\n" + "\n".join(rows) + "\n").encode()

    report = upload(client, content=content).json()

    assert (report["samples_created"], report["values_added"]) == (23, 25)
    samples = client.get("/api/samples?sort=asc&limit=100").json()
    # Ids follow the order the file first names its samples, whenever each was complete.
    assert [s["name"] for s in samples] == ["Galène-1", *(f"G-{n}" for n in range(2, 20)),
                                            *(f"G-{n}" for n in range(21, 25))]
    merged = samples[0]
    # The rows of each spelling merge first, then the spellings in the order the file has them.
    assert (merged["material_type"], merged["sector"]) == ("galena", "Thorikos")
    assert [v["value"] for v in merged["isotope_data"]] == [18.001, 18.201, 18.101]
