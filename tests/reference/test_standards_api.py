"""Standards routes (list, custom create, update, delete), their versions, and normalize_values."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from isofind.activity.models import ActivityEntry
from isofind.reference.standards.models import StandardVersion
from isofind.reference.standards.service import Library, normalize_values
from tests.conftest import ADMIN
from tests.reference.standards_support import (
    AA_ETH,
    BUILT_IN,
    SEED,
    SRM981_206,
    SRM3114_D65,
    add_crm,
    create_standard,
    insert_sample_value,
)

NO_LEVEL = ("SRM 981 206Pb/204Pb: the source states no uncertainty level; its uncertainty is "
            "not propagated")


def _without_time(standard: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in standard.items() if key != "updated_at"}


def _normalize(app: FastAPI, values: list[dict[str, Any]],
               target: str | None) -> list[dict[str, Any]]:
    with app.state.database.session(write=False) as db:
        return normalize_values(Library.load(db), values, target)


# --- listing --------------------------------------------------------------------------------


def test_lists_every_seeded_standard_with_its_citation(client: TestClient) -> None:
    listed = client.get("/api/standards").json()
    by_id = {standard["id"]: standard for standard in listed}

    assert len(listed) == len(SEED) == len(BUILT_IN)
    assert all(s["reference"]["citation"] and not s["is_custom"] for s in listed)
    assert _without_time(by_id[SRM981_206]) == {
        "id": SRM981_206, "is_custom": False, "version": 1,
        "name": "NIST SRM 981 common lead", "abbreviation": "SRM 981", "element": "Pb",
        "kind": "ratio", "quantity": "206Pb/204Pb", "scale": None, "value": 16.9405,
        "uncertainty": None, "uncertainty_type": "unstated", "uncertainty_2s": None,
        "normalization": "triple spike",
        "note": "Triple-spike value used by many labs to normalize Pb data by standard "
                "bracketing; the uncertainty could not be confirmed against the abstract and "
                "is left unset.",
        "reference": {
            "citation": "Galer S.J.G., Abouchami W. (1998) Practical application of lead "
                        "triple spiking for correction of instrumental mass discrimination. "
                        "Mineral. Mag. 62A, 491–492 (Goldschmidt Conference abstract).",
            "doi": None},
        "is_reference": False, "measured_value": None, "measured_uncertainty": None,
        "measured_uncertainty_type": None, "lab_shift": None, "updated_by": None,
        "versions": None,
    }
    aa_eth = by_id[AA_ETH]
    assert (aa_eth["scale"], aa_eth["value"], aa_eth["reference"]["doi"]) == (
        "JMC-Lyon", 0.28, "10.1039/c6ja00282j")
    srm3114 = by_id[SRM3114_D65]
    assert (srm3114["value"], srm3114["uncertainty_2s"], srm3114["scale"]) == (
        0.18, 0.04, "SRM 976")


def test_lists_one_element_and_one_quantity(client: TestClient) -> None:
    copper = client.get("/api/standards", params={"element": "Cu"}).json()
    lead = client.get("/api/standards", params={"quantity": "207Pb/206Pb"}).json()

    assert sorted((s["abbreviation"], s["quantity"]) for s in copper) == [
        ("SRM 3114", "65Cu/63Cu"), ("SRM 3114", "δ65Cu"), ("SRM 976", "δ65Cu")]
    assert [(s["abbreviation"], s["value"]) for s in lead] == [("SRM 981", 0.914683)]


# --- creating -------------------------------------------------------------------------------


def test_creates_a_custom_standard_in_canonical_form(client: TestClient, app: FastAPI) -> None:
    created = create_standard(client, quantity="Pb206/Pb204", citation="House value, 2025",
                              doi="https://doi.org/10.1000/xyz123")

    assert _without_time(created) == {
        "id": 1, "is_custom": True, "version": 1, "name": "Lab lead", "abbreviation": "LabPb",
        "element": "Pb", "kind": "ratio", "quantity": "206Pb/204Pb", "scale": None,
        "value": 16.935, "uncertainty": 0.002, "uncertainty_type": "2SD",
        "uncertainty_2s": 0.002, "normalization": None, "note": None,
        "reference": {"citation": "House value, 2025", "doi": "10.1000/xyz123"},
        "is_reference": False, "measured_value": None, "measured_uncertainty": None,
        "measured_uncertainty_type": None, "lab_shift": None, "updated_by": 1,
        "versions": None,
    }
    with app.state.database.session(write=False) as db:
        entry = db.scalars(select(ActivityEntry).where(
            ActivityEntry.action == "standard.created")).one()
        assert (entry.user_id, entry.target_type, entry.target_id, entry.details) == (
            1, "standard", "1", {"abbreviation": "LabPb", "quantity": "206Pb/204Pb"})


@pytest.mark.parametrize(("change", "detail"), [
    ({"quantity": "lead"},
     "quantity 'lead' is not an isotope ratio or delta (e.g. 206Pb/204Pb, δ65Cu)"),
    ({"element": "Cu"}, "element 'Cu' is not an element of 206Pb/204Pb"),
    ({"element": "Cu", "quantity": "δ65Cu", "value": 0.1},
     "scale: a delta standard names the standard whose scale δ65Cu is on"),
    ({"value": -1.0}, "value=-1.0: an isotope ratio must be > 0"),
    ({"element": "Cu", "quantity": "d65Cu", "scale": "SRM 976", "value": -1000.0},
     "value=-1000.0: a delta value must be > −1000 ‰"),
    ({"uncertainty_type": "3SD"},
     "uncertainty_type='3SD': unknown; use 1σ/1SD/1SE, 2σ/2SD/2SE, 95% CL, k=2 or exact"),
    ({"uncertainty_type": "exact"}, "uncertainty=0.002: an exact value has none"),
    ({"doi": "not-a-doi"}, "doi 'not-a-doi' is not a DOI (10.xxxx/…)"),
    ({"measured_value": 16.93, "measured_uncertainty_type": "unstated"},
     "measured_uncertainty_type: the lab's own uncertainty needs a level (e.g. 2SD)"),
])
def test_refuses_an_inconsistent_standard_naming_the_field(
    client: TestClient, change: dict[str, Any], detail: str
) -> None:
    body = {"name": "Lab lead", "abbreviation": "LabPb", "element": "Pb",
            "quantity": "206Pb/204Pb", "value": 16.935, "uncertainty": 0.002, **change}

    response = client.post("/api/standards/custom", json=body)

    assert (response.status_code, response.json()) == (422, {"detail": detail})
    assert client.get("/api/standards").json().__len__() == len(SEED)


@pytest.mark.parametrize(("change", "location", "kind"), [
    ({"colour": "red"}, ["body", "colour"], "extra_forbidden"),
    ({"value": "16.9"}, ["body", "value"], "float_type"),
    ({"uncertainty": -0.1}, ["body", "uncertainty"], "greater_than_equal"),
    ({"name": ""}, ["body", "name"], "string_too_short"),
])
def test_refuses_a_malformed_body_naming_the_field(
    client: TestClient, change: dict[str, Any], location: list[str], kind: str
) -> None:
    body = {"name": "Lab lead", "abbreviation": "LabPb", "element": "Pb",
            "quantity": "206Pb/204Pb", "value": 16.935, **change}

    response = client.post("/api/standards/custom", json=body)

    assert response.status_code == 422
    assert [(e["loc"], e["type"]) for e in response.json()["detail"]] == [(location, kind)]


def test_refuses_a_second_standard_with_the_same_name_and_quantity(client: TestClient) -> None:
    create_standard(client)

    again = client.post("/api/standards/custom", json={
        "name": "Other", "abbreviation": "labpb", "element": "Pb", "quantity": "206Pb/204Pb",
        "value": 16.9})
    nbs = client.post("/api/standards/custom", json={
        "name": "Our SRM 981", "abbreviation": "NBS 981", "element": "Pb",
        "quantity": "206Pb/204Pb", "value": 16.9})

    assert (again.status_code, again.json()) == (409, {
        "detail": "standard 1 already holds LabPb 206Pb/204Pb: update it instead"})
    assert (nbs.status_code, nbs.json()) == (409, {
        "detail": f"standard {SRM981_206} already holds SRM 981 206Pb/204Pb: update it instead"})
    other_quantity = create_standard(client, quantity="207Pb/204Pb", value=15.49)
    assert other_quantity["id"] == 2


# --- updating and versions ------------------------------------------------------------------


def test_an_update_keeps_the_previous_values_as_a_version(client: TestClient) -> None:
    standard_id = create_standard(client)["id"]

    updated = client.put(f"/api/standards/{standard_id}",
                         json={"value": 16.9360, "citation": "Corrected certificate"})
    unchanged = client.put(f"/api/standards/{standard_id}", json={"value": 16.9360})
    listed = client.get("/api/standards", params={"element": "Pb", "history": True}).json()

    assert updated.status_code == 200
    assert (updated.json()["version"], updated.json()["value"]) == (2, 16.936)
    assert unchanged.json()["version"] == 2
    (mine,) = [s for s in listed if s["id"] == standard_id]
    assert [(v["version"], v["change"], v["value"], v["reference"]["citation"], v["user_id"])
            for v in mine["versions"]] == [
        (1, "created", 16.935, None, 1), (2, "updated", 16.936, "Corrected certificate", 1)]
    assert mine["versions"][0]["utc_datetime"] <= mine["versions"][1]["utc_datetime"]


def test_an_update_is_checked_like_a_creation(client: TestClient) -> None:
    standard_id = create_standard(client)["id"]

    null_name = client.put(f"/api/standards/{standard_id}", json={"name": None})
    bad_quantity = client.put(f"/api/standards/{standard_id}", json={"quantity": "87Sr/86Sr"})
    missing = client.put("/api/standards/999", json={"value": 1.0})

    assert (null_name.status_code, null_name.json()) == (422, {"detail": "name cannot be null"})
    assert (bad_quantity.status_code, bad_quantity.json()) == (
        422, {"detail": "element 'Pb' is not an element of 87Sr/86Sr"})
    assert (missing.status_code, missing.json()) == (404, {"detail": "standard 999 does not exist"})


def test_a_built_in_standard_keeps_its_certified_values(client: TestClient) -> None:
    response = client.put(f"/api/standards/{SRM981_206}", json={"value": 16.9416})

    assert (response.status_code, response.json()) == (409, {"detail": (
        f"standard {SRM981_206} (SRM 981 206Pb/204Pb) is built in: its certified values come "
        "from the cited source and cannot be changed (value); create a custom standard for "
        "other values. A built-in standard takes: is_reference, measured_uncertainty, "
        "measured_uncertainty_type, measured_value")})


def test_the_lab_measured_mean_of_a_built_in_gives_its_shift(client: TestClient) -> None:
    response = client.put(f"/api/standards/{SRM981_206}",
                          json={"measured_value": 16.9300, "measured_uncertainty": 0.0010})

    body = response.json()
    factor = 16.9405 / 16.9300
    assert (response.status_code, body["version"], body["measured_uncertainty_type"]) == (
        200, 2, "2SD")
    # The certified value states no uncertainty level: only the lab's 2SD enters.
    assert body["lab_shift"]["value"] == pytest.approx(factor, abs=1e-12)
    assert body["lab_shift"]["uncertainty"] == pytest.approx(factor * 0.0010 / 16.9300,
                                                             abs=1e-15)
    assert body["lab_shift"]["offset_permil"] == pytest.approx((factor - 1) * 1000, abs=1e-9)


def test_built_ins_start_every_test_unchanged(client: TestClient) -> None:
    (srm981,) = [s for s in client.get("/api/standards").json() if s["id"] == SRM981_206]

    assert (srm981["version"], srm981["measured_value"], srm981["is_reference"]) == (
        1, None, False)


def test_one_reference_standard_per_element_and_quantity(client: TestClient) -> None:
    lab_id = create_standard(client, is_reference=True)["id"]

    chosen = client.put(f"/api/standards/{SRM981_206}", json={"is_reference": True})
    listed = client.get("/api/standards", params={"quantity": "206Pb/204Pb"}).json()

    assert chosen.status_code == 200
    assert sorted((s["id"], s["is_reference"], s["version"]) for s in listed) == sorted([
        (SRM981_206, True, 2), (lab_id, False, 2)])


# --- deleting -------------------------------------------------------------------------------


def test_a_built_in_standard_cannot_be_deleted(client: TestClient) -> None:
    response = client.delete(f"/api/standards/{AA_ETH}")

    assert (response.status_code, response.json()) == (409, {
        "detail": f"standard {AA_ETH} (AA-ETH δ66Zn) is built in and cannot be deleted"})


def test_deleting_a_custom_standard_keeps_its_versions(client: TestClient, app: FastAPI) -> None:
    standard_id = create_standard(client)["id"]

    deleted = client.delete(f"/api/standards/{standard_id}")
    again = client.delete(f"/api/standards/{standard_id}")

    assert (deleted.status_code, deleted.json()) == (200, {
        "success": True, "message": "standard 1 (LabPb 206Pb/204Pb) deleted"})
    assert (again.status_code, again.json()) == (404, {"detail": "standard 1 does not exist"})
    assert standard_id not in {s["id"] for s in client.get("/api/standards").json()}
    with app.state.database.session(write=False) as db:
        versions = db.scalars(select(StandardVersion).where(
            StandardVersion.standard_id == standard_id).order_by(StandardVersion.version)).all()
        assert [(v.version, v.change, v.value) for v in versions] == [
            (1, "created", 16.935), (2, "deleted", 16.935)]
    recreated = create_standard(client)
    assert recreated["id"] == 2


def test_a_standard_used_by_sample_values_cannot_be_deleted(
    client: TestClient, app: FastAPI, object_id: int
) -> None:
    standard_id = create_standard(client)["id"]
    insert_sample_value(app, object_id, "206Pb/204Pb", "lab-pb")

    response = client.delete(f"/api/standards/{standard_id}")

    assert (response.status_code, response.json()) == (409, {"detail": (
        "standard 1 (LabPb 206Pb/204Pb) is in use and cannot be deleted: 206Pb/204Pb values of "
        f"samples {object_id} (Galena)")})


def test_a_standard_used_by_a_crm_or_as_a_scale_cannot_be_deleted(client: TestClient) -> None:
    lab_pb = create_standard(client)["id"]
    add_crm(client, isotopes=[{"ratio": "206Pb/204Pb", "value": 18.8, "uncertainty": 0.001,
                               "measured_value": 18.79, "measured_standard": "LabPb"}])
    house_zn = create_standard(client, name="House zinc", abbreviation="HouseZn", element="Zn",
                               quantity="δ66Zn", scale="JMC-Lyon", value=0.1)["id"]
    create_standard(client, name="Second zinc", abbreviation="HouseZn2", element="Zn",
                    quantity="δ66Zn", scale="HouseZn", value=0.2)

    by_crm = client.delete(f"/api/standards/{lab_pb}")
    by_scale = client.delete(f"/api/standards/{house_zn}")

    assert (by_crm.status_code, by_crm.json()) == (409, {"detail": (
        "standard 1 (LabPb 206Pb/204Pb) is in use and cannot be deleted: 206Pb/204Pb values of "
        "CRMs 1")})
    assert (by_scale.status_code, by_scale.json()) == (409, {"detail": (
        f"standard {house_zn} (HouseZn δ66Zn) is in use and cannot be deleted: standards "
        "expressed on its scale: HouseZn2")})


# --- roles ----------------------------------------------------------------------------------


def test_reading_needs_a_user_and_writing_a_manager(
    multi_client: TestClient, add_user: Callable[..., int]
) -> None:
    add_user("ulla", "user")
    add_user("ana", "analyst")
    add_user("max", "manager")
    add_user("rita", "manager", is_readonly=True)
    body = {"name": "Lab lead", "abbreviation": "LabPb", "element": "Pb",
            "quantity": "206Pb/204Pb", "value": 16.935}

    anonymous = multi_client.get("/api/standards")
    read = multi_client.get("/api/standards", auth=("ulla", "password-123"))
    by_user = multi_client.post("/api/standards/custom", json=body, auth=("ulla", "password-123"))
    by_analyst = multi_client.post("/api/standards/custom", json=body,
                                   auth=("ana", "password-123"))
    by_readonly = multi_client.post("/api/standards/custom", json=body,
                                    auth=("rita", "password-123"))
    by_manager = multi_client.post("/api/standards/custom", json=body,
                                   auth=("max", "password-123"))
    put = multi_client.put("/api/standards/1", json={"value": 1.0}, auth=("ana", "password-123"))
    delete = multi_client.delete("/api/standards/1", auth=("ana", "password-123"))

    assert (anonymous.status_code, anonymous.json()) == (401, {
        "detail": "Authentication required"})
    assert (read.status_code, len(read.json())) == (200, len(SEED))
    manager_only = {"detail": "This action requires the manager role"}
    assert [(r.status_code, r.json()) for r in (by_user, by_analyst, put, delete)] == [
        (403, manager_only)] * 4
    assert (by_readonly.status_code, by_readonly.json()) == (403, {
        "detail": "read-only accounts cannot change standards"})
    assert (by_manager.status_code, by_manager.json()["updated_by"]) == (201, 4)
    assert multi_client.delete("/api/standards/1", auth=ADMIN).status_code == 200


# --- normalize_values -----------------------------------------------------------------------


def test_normalizes_a_ratio_by_standard_bracketing(client: TestClient, app: FastAPI) -> None:
    client.put(f"/api/standards/{SRM981_206}",
               json={"measured_value": 16.9300, "measured_uncertainty": 0.0010})

    (result,) = _normalize(app, [{"element": "Pb", "ratio": "206Pb/204Pb", "value": 18.0000,
                                  "uncertainty": 0.0020, "standard": "NBS 981",
                                  "isotope_id": 7}], "SRM 981")

    expected = 18.0000 * 16.9405 / 16.9300
    assert result["normalized"] is True
    assert result["normalized_value"] == pytest.approx(expected, abs=1e-9)
    # (u/R)² = (0.0020/18)² + (0.0010/16.93)²; SRM 981's certified value states no level.
    assert result["normalized_uncertainty"] == pytest.approx(
        expected * math.hypot(0.0020 / 18.0, 0.0010 / 16.9300), abs=1e-12)
    assert (result["isotope_id"], result["value"], result["standard"]) == (7, 18.0, "NBS 981")
    assert (result["normalized_to"], result["path"]) == ("SRM 981", ["SRM 981"])
    assert result["method"] == "standard bracketing with SRM 981 (R_meas × 16.9405 / 16.93)"
    assert [(u["type"], u["standard_id"], u["version"], u["value"]) for u in result["used"]] == [
        ("certified", SRM981_206, 2, 16.9405), ("measured", SRM981_206, 2, 16.93)]
    assert result["warnings"] == [NO_LEVEL]


def test_normalizes_a_delta_across_three_scales(client: TestClient, app: FastAPI) -> None:
    house = create_standard(client, name="House copper", abbreviation="Lab Cu", element="Cu",
                            quantity="δ65Cu", scale="SRM 3114", value=-0.10, uncertainty=0.02)

    (result,) = _normalize(app, [{"element": "Cu", "ratio": "δ65Cu", "value": 0.50,
                                  "uncertainty": 0.05, "standard": "lab cu"}], "NIST SRM 976")

    d1 = 0.50 + -0.10 + 0.50 * -0.10 / 1000
    u1 = math.hypot((1 + -0.10 / 1000) * 0.05, (1 + 0.50 / 1000) * 0.02)
    d2 = d1 + 0.18 + d1 * 0.18 / 1000
    u2 = math.hypot((1 + 0.18 / 1000) * u1, (1 + d1 / 1000) * 0.04)
    assert result["normalized_value"] == pytest.approx(d2, abs=1e-12)
    assert result["normalized_uncertainty"] == pytest.approx(u2, abs=1e-12)
    assert result["path"] == ["Lab Cu", "SRM 3114", "SRM 976"]
    assert [(u["type"], u["standard_id"], u["version"]) for u in result["used"]] == [
        ("standard", house["id"], 1), ("standard", SRM3114_D65, 1)]
    assert (result["normalized_to"], result["warnings"]) == ("SRM 976", [])


def test_a_value_already_on_the_target_scale_keeps_its_value(app: FastAPI) -> None:
    (result,) = _normalize(app, [{"element": "Cu", "ratio": "δ65Cu", "value": 0.31,
                                  "uncertainty": None, "standard": "SRM 976"}], "SRM 976")

    assert {key: result[key] for key in ("normalized", "normalized_value",
                                         "normalized_uncertainty", "method", "path")} == {
        "normalized": True, "normalized_value": 0.31, "normalized_uncertainty": None,
        "method": "already on SRM 976", "path": ["SRM 976"]}


def test_says_why_a_value_cannot_be_normalized(client: TestClient, app: FastAPI) -> None:
    pb = {"element": "Pb", "ratio": "206Pb/204Pb", "value": 18.0, "uncertainty": 0.002}
    results = _normalize(app, [
        {**pb, "standard": None},
        {**pb, "standard": "SRM 981"},
        {"element": "Zn", "ratio": "δ66Zn", "value": 0.4, "uncertainty": 0.03,
         "standard": "Lab Zn"},
        {**pb, "value": "n.d.", "standard": "SRM 981"},
    ], "SRM 981")
    other_target = _normalize(app, [{**pb, "standard": "SRM 981"}], "JNdi-1")
    zinc = _normalize(app, [{"element": "Zn", "ratio": "δ66Zn", "value": 0.4,
                             "uncertainty": 0.03, "standard": "Lab Zn"}], "JMC-Lyon")
    no_reference = _normalize(app, [{**pb, "standard": "SRM 981"}], None)

    assert [(r["normalized"], r["reason"]) for r in results] == [
        (False, "the value names no standard it was measured against"),
        (False, "no lab-measured value of SRM 981 for 206Pb/204Pb and no calculated shift from "
                "SRM 981: enter the standard's measured mean or calculate a shift on a CRM"),
        (False, "no conversion of δ66Zn from 'Lab Zn' to 'SRM 981': no known shift involves "
                "'Lab Zn'"),
        (False, "the value is not a number"),
    ]
    assert other_target[0]["reason"] == "standard 'JNdi-1' has no certified value for 206Pb/204Pb"
    assert zinc[0]["reason"] == ("no conversion of δ66Zn from 'Lab Zn' to 'JMC-Lyon': no known "
                                 "shift involves 'Lab Zn'")
    assert no_reference[0]["reason"] == "no reference standard is set for Pb 206Pb/204Pb: name one"


def test_without_a_target_normalizes_to_the_reference_standard(
    client: TestClient, app: FastAPI
) -> None:
    client.put(f"/api/standards/{SRM981_206}", json={
        "is_reference": True, "measured_value": 16.9300, "measured_uncertainty": 0.0010})

    (result,) = _normalize(app, [{"element": "Pb", "ratio": "206Pb/204Pb", "value": 18.0,
                                  "uncertainty": None, "standard": "SRM 981"}], None)

    assert (result["normalized_to"], result["normalized_uncertainty"]) == ("SRM 981", None)
    assert result["normalized_value"] == pytest.approx(18.0 * 16.9405 / 16.93, abs=1e-9)


def test_a_used_standard_keeps_its_name(client: TestClient, app: FastAPI, object_id: int) -> None:
    standard_id = create_standard(client)["id"]
    insert_sample_value(app, object_id, "206Pb/204Pb", "LabPb")

    renamed = client.put(f"/api/standards/{standard_id}", json={"abbreviation": "HousePb"})
    respelled = client.put(f"/api/standards/{standard_id}", json={"abbreviation": "Lab-Pb"})

    assert (renamed.status_code, renamed.json()) == (409, {"detail": (
        "standard 1 (LabPb 206Pb/204Pb) is in use and keeps its name and quantity: "
        f"206Pb/204Pb values of samples {object_id} (Galena)")})
    assert (respelled.status_code, respelled.json()["abbreviation"]) == (200, "Lab-Pb")


def test_a_delta_starts_from_its_reference_scale_and_inputs_are_read_leniently(
    app: FastAPI,
) -> None:
    (result,) = _normalize(app, [{"element": "zinc", "ratio": "d66Zn", "value": 0.50,
                                  "uncertainty": 0.05, "standard": "IRMM-3702",
                                  "reference_scale": "AA ETH"}], "JMC-Lyon")

    assert (result["path"], result["ratio"]) == (["AA-ETH", "JMC-Lyon"], "d66Zn")
    assert result["normalized_value"] == pytest.approx(0.50 + 0.28 + 0.50 * 0.28 / 1000,
                                                       abs=1e-12)
    assert result["warnings"] == [("AA-ETH δ66Zn: the source states no uncertainty level; its "
                                   "uncertainty is not propagated")]
