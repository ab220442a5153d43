"""Shift routes: calculate, calculate-all, convert through chains of standards, history."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from isofind.reference.standards.service import Library, normalize_values
from tests.reference.standards_support import AA_ETH, SRM3114_D65, add_crm, create_standard

AA_ETH_NO_LEVEL = ("AA-ETH δ66Zn: the source states no uncertainty level; its uncertainty is "
                   "not propagated")


def _pb_crm(client: TestClient, name: str = "House basalt", certified: float = 18.8029,
            measured: float = 18.7900, standard: str = "NBS 981", auth: Any = None) -> None:
    add_crm(client, name, auth=auth, isotopes=[{
        "ratio": "206Pb/204Pb", "value": certified, "uncertainty": 0.0010, "scale": "SRM 981",
        "measured_value": measured, "measured_uncertainty": 0.0020,
        "measured_standard": standard}])


def _calculate(client: TestClient, crm_id: int, element: str, ratio: str,
               **params: Any) -> Any:
    return client.post(f"/api/shifts/calculate/{crm_id}",
                       params={"element": element, "isotope_ratio": ratio, **params})


# --- calculate ------------------------------------------------------------------------------


def test_calculates_the_shift_of_a_measured_ratio(client: TestClient) -> None:
    _pb_crm(client)

    response = _calculate(client, 1, "Pb", "Pb206/Pb204")

    factor = 18.8029 / 18.7900
    uncertainty = factor * math.hypot(0.0020 / 18.7900, 0.0010 / 18.8029)
    body = response.json()
    assert response.status_code == 201
    assert {k: v for k, v in body.items()
            if k not in {"value", "uncertainty", "offset_permil", "offset_uncertainty",
                         "utc_datetime"}} == {
        "id": 1, "crm_id": 1, "crm_name": "House basalt", "crm_version": 1, "element": "Pb",
        "isotope_ratio": "206Pb/204Pb", "kind": "ratio", "from_standard": "NBS 981",
        "to_standard": "SRM 981", "measured_value": 18.79, "measured_uncertainty": 0.002,
        "certified_value": 18.8029, "certified_uncertainty": 0.001, "warnings": [],
        "user_id": 1}
    assert body["value"] == pytest.approx(factor, abs=1e-12)
    assert body["uncertainty"] == pytest.approx(uncertainty, abs=1e-15)
    assert body["offset_permil"] == pytest.approx((factor - 1) * 1000, abs=1e-9)
    assert body["offset_uncertainty"] == pytest.approx(uncertainty * 1000, abs=1e-12)
    assert client.get("/api/shifts/history").json() == {"total": 1, "items": [body]}


def test_calculates_the_shift_of_a_delta_between_two_standards(client: TestClient) -> None:
    add_crm(client, isotopes=[{
        "ratio": "δ65Cu", "value": 0.13, "uncertainty": 0.04, "scale": "SRM 976",
        "measured_value": 0.40, "measured_uncertainty": 0.01, "measured_uncertainty_type": "1SD",
        "measured_standard": "Lab Cu"}])

    body = _calculate(client, 1, "copper", "d65Cu").json()

    measured_factor = 1 + 0.40 / 1000
    offset = (0.13 - 0.40) / measured_factor
    uncertainty = math.hypot(0.04 / measured_factor,
                             0.02 * (1 + 0.13 / 1000) / measured_factor**2)
    assert (body["from_standard"], body["to_standard"], body["kind"]) == (
        "Lab Cu", "SRM 976", "delta")
    assert body["measured_uncertainty"] == 0.02  # 1SD declared, 2σ used
    assert body["value"] == pytest.approx(offset, abs=1e-12)
    assert body["uncertainty"] == pytest.approx(uncertainty, abs=1e-12)
    assert (body["offset_permil"], body["offset_uncertainty"]) == (
        body["value"], body["uncertainty"])


def test_a_calculation_can_take_the_measured_value_as_parameters(client: TestClient) -> None:
    add_crm(client, isotopes=[{"ratio": "206Pb/204Pb", "value": 18.8029, "uncertainty": 0.001,
                               "uncertainty_type": "unstated"}])

    body = _calculate(client, 1, "Pb", "206Pb/204Pb", measured_value=18.8000,
                      measured_standard="SRM 981").json()

    assert (body["measured_value"], body["measured_uncertainty"], body["to_standard"]) == (
        18.8, 0.0, "SRM 981")
    assert body["value"] == pytest.approx(18.8029 / 18.8000, abs=1e-12)
    assert body["uncertainty"] == 0.0
    assert body["warnings"] == [
        "CRM 1 (House basalt) 206Pb/204Pb: the certificate states no uncertainty level; its "
        "uncertainty is not propagated"]


def test_refuses_a_shift_it_cannot_calculate_naming_why(client: TestClient) -> None:
    add_crm(client, isotopes=[
        {"ratio": "87Sr/86Sr", "value": 0.705, "uncertainty": 0.000011},
        {"ratio": "143Nd/144Nd", "value": 0.512637, "measured_value": 0.51264},
    ])

    answers = [
        _calculate(client, 9, "Sr", "87Sr/86Sr"),
        _calculate(client, 1, "Pb", "207Pb/204Pb"),
        _calculate(client, 1, "Sr", "87Sr/86Sr"),
        _calculate(client, 1, "Nd", "143Nd/144Nd"),
        _calculate(client, 1, "Sr", "lead"),
        _calculate(client, 1, "Pb", "87Sr/86Sr"),
    ]
    missing = client.post("/api/shifts/calculate/1", params={"isotope_ratio": "87Sr/86Sr"})

    assert [(a.status_code, a.json()) for a in answers] == [
        (404, {"detail": "CRM 9 does not exist"}),
        (404, {"detail": "CRM 1 (House basalt) has no certified value for 207Pb/204Pb"}),
        (422, {"detail": "CRM 1 (House basalt) 87Sr/86Sr has no measured value: add "
                         "measured_value to the CRM's isotope value or pass measured_value"}),
        (422, {"detail": "CRM 1 (House basalt) 143Nd/144Nd names no measured_standard: the "
                         "standard the lab measured it against"}),
        (422, {"detail": "isotope_ratio 'lead' is not an isotope ratio or delta (e.g. "
                         "206Pb/204Pb, δ65Cu)"}),
        (422, {"detail": "element 'Pb' is not an element of 87Sr/86Sr"}),
    ]
    assert (missing.status_code, missing.json()["detail"][0]["loc"]) == (
        422, ["query", "element"])
    assert client.get("/api/shifts/history").json() == {"total": 0, "items": []}


def test_calculate_all_lists_what_it_skipped(client: TestClient) -> None:
    add_crm(client, "A", isotopes=[
        {"ratio": "206Pb/204Pb", "value": 18.8029, "uncertainty": 0.001, "scale": "SRM 981",
         "measured_value": 18.79, "measured_uncertainty": 0.002, "measured_standard": "SRM 981"},
        {"ratio": "87Sr/86Sr", "value": 0.705},
    ])
    add_crm(client, "B", isotopes=[{"ratio": "143Nd/144Nd", "value": 0.512637,
                                    "measured_value": 0.51264}])

    body = client.post("/api/shifts/calculate-all").json()

    assert (body["calculated"], body["skipped"]) == (1, 2)
    assert [(s["crm_name"], s["isotope_ratio"], s["id"]) for s in body["shifts"]] == [
        ("A", "206Pb/204Pb", 1)]
    assert body["skipped_values"] == [
        {"crm_id": 1, "crm_name": "A", "isotope_ratio": "87Sr/86Sr",
         "reason": "no measured value"},
        {"crm_id": 2, "crm_name": "B", "isotope_ratio": "143Nd/144Nd",
         "reason": "CRM 2 (B) 143Nd/144Nd names no measured_standard: the standard the lab "
                   "measured it against"},
    ]
    assert client.get("/api/shifts/history").json()["total"] == 1


# --- convert --------------------------------------------------------------------------------


def test_converts_a_delta_with_a_seeded_relation_both_ways(client: TestClient) -> None:
    forward = client.post("/api/shifts/convert", json={
        "value": 0.50, "uncertainty": 0.05, "element": "Zn", "isotope_ratio": "δ66Zn",
        "from_standard": "AA-ETH", "to_standard": "JMC Lyon"}).json()
    backward = client.post("/api/shifts/convert", json={
        "value": 0.78, "element": "zinc", "isotope_ratio": "d66Zn",
        "from_standard": "jmc-lyon", "to_standard": "aa-eth"}).json()

    assert forward["value"] == pytest.approx(0.50 + 0.28 + 0.50 * 0.28 / 1000, abs=1e-12)
    assert forward["uncertainty"] == pytest.approx((1 + 0.28 / 1000) * 0.05, abs=1e-12)
    assert (forward["path"], forward["warnings"]) == (["AA-ETH", "JMC-Lyon"], [AA_ETH_NO_LEVEL])
    (step,) = forward["steps"]
    assert (step["source"]["type"], step["source"]["standard_id"], step["source"]["version"],
            step["source"]["doi"], step["reversed"]) == (
        "standard", AA_ETH, 1, "10.1039/c6ja00282j", False)
    reverse_offset = -0.28 / (1 + 0.28 / 1000)
    assert backward["value"] == pytest.approx(
        0.78 + reverse_offset + 0.78 * reverse_offset / 1000, abs=1e-12)
    assert (backward["path"], backward["steps"][0]["reversed"]) == (["JMC-Lyon", "AA-ETH"], True)


def test_converts_a_ratio_through_a_two_step_chain(client: TestClient) -> None:
    _pb_crm(client, "A", certified=18.8029, measured=18.7900, standard="LabPb")
    add_crm(client, "B", isotopes=[{
        "ratio": "206Pb/204Pb", "value": 19.0000, "uncertainty": 0.0010, "scale": "SRM 981",
        "measured_value": 19.0100, "measured_uncertainty": 0.0010, "measured_standard": "OtherPb"}])
    _calculate(client, 1, "Pb", "206Pb/204Pb")
    _calculate(client, 2, "Pb", "206Pb/204Pb")

    body = client.post("/api/shifts/convert", json={
        "value": 18.5000, "uncertainty": 0.0020, "element": "Pb",
        "isotope_ratio": "206Pb/204Pb", "from_standard": "LabPb",
        "to_standard": "OtherPb"}).json()

    f1 = 18.8029 / 18.7900
    u1 = f1 * math.hypot(0.0020 / 18.7900, 0.0010 / 18.8029)
    f2 = 19.0000 / 19.0100
    u2 = f2 * math.hypot(0.0010 / 19.0100, 0.0010 / 19.0000)
    expected = 18.5000 * f1 / f2
    # Relative uncertainties add in quadrature; the reversed step has u(1/f) / (1/f) = u_f / f.
    relative = math.hypot(0.0020 / 18.5000, u1 / f1, u2 / f2)
    assert body["value"] == pytest.approx(expected, abs=1e-9)
    assert body["uncertainty"] == pytest.approx(expected * relative, abs=1e-12)
    assert body["path"] == ["LabPb", "SRM 981", "OtherPb"]
    assert [(s["from_standard"], s["to_standard"], s["reversed"], s["source"]["shift_id"],
             s["source"]["crm"]) for s in body["steps"]] == [
        ("LabPb", "SRM 981", False, 1, "A"), ("SRM 981", "OtherPb", True, 2, "B")]
    assert body["steps"][1]["shift_value"] == pytest.approx(1 / f2, abs=1e-12)


def test_converts_a_delta_through_a_calculated_and_a_seeded_shift(client: TestClient) -> None:
    add_crm(client, isotopes=[{
        "ratio": "δ65Cu", "value": 0.13, "uncertainty": 0.04, "scale": "SRM 976",
        "measured_value": 0.40, "measured_uncertainty": 0.02, "measured_standard": "Lab Cu"}])
    shift = _calculate(client, 1, "Cu", "δ65Cu").json()

    body = client.post("/api/shifts/convert", json={
        "value": 0.25, "uncertainty": 0.03, "element": "Cu", "isotope_ratio": "δ65Cu",
        "from_standard": "Lab Cu", "to_standard": "SRM 3114"}).json()

    d1 = 0.25 + shift["value"] + 0.25 * shift["value"] / 1000
    u1 = math.hypot((1 + shift["value"] / 1000) * 0.03, (1 + 0.25 / 1000) * shift["uncertainty"])
    back = -0.18 / (1 + 0.18 / 1000)
    back_u = 0.04 / (1 + 0.18 / 1000) ** 2
    d2 = d1 + back + d1 * back / 1000
    u2 = math.hypot((1 + back / 1000) * u1, (1 + d1 / 1000) * back_u)
    assert body["path"] == ["Lab Cu", "SRM 976", "SRM 3114"]
    assert body["value"] == pytest.approx(d2, abs=1e-12)
    assert body["uncertainty"] == pytest.approx(u2, abs=1e-12)
    assert [s["source"]["type"] for s in body["steps"]] == ["calculated_shift", "standard"]
    assert body["steps"][1]["source"]["standard_id"] == SRM3114_D65


def test_refuses_a_conversion_without_a_chain_naming_the_missing_link(
    client: TestClient
) -> None:
    create_standard(client, name="Field iron", abbreviation="Fe lab", element="Fe",
                    quantity="δ56Fe", scale="Fe other", value=0.1, uncertainty=0.02)

    def convert(**fields: Any) -> Any:
        return client.post("/api/shifts/convert", json={"value": 0.3, **fields})

    unknown = convert(element="Zn", isotope_ratio="δ66Zn", from_standard="AA-ETH",
                      to_standard="Lab Zn")
    no_shift = convert(element="Sr", isotope_ratio="87Sr/86Sr", from_standard="A",
                       to_standard="B")
    apart = convert(element="Fe", isotope_ratio="δ56Fe", from_standard="SRM 3126a",
                    to_standard="Fe lab")
    same = convert(element="Fe", isotope_ratio="δ56Fe", from_standard="Fe lab",
                   to_standard="fe-lab", uncertainty=0.01)
    malformed = convert(element="Fe", isotope_ratio="δ56Fe", from_standard="A",
                        to_standard="B", via="C")

    assert [(r.status_code, r.json()) for r in (unknown, no_shift, apart)] == [
        (422, {"detail": "no conversion of δ66Zn from 'AA-ETH' to 'Lab Zn': no known shift "
                         "involves 'Lab Zn'"}),
        (422, {"detail": "no conversion of 87Sr/86Sr from 'A' to 'B': no known shift for Sr "
                         "87Sr/86Sr"}),
        (422, {"detail": "no conversion of δ56Fe from 'SRM 3126a' to 'Fe lab': the standards "
                         "are not linked by any chain"}),
    ]
    assert {k: same.json()[k] for k in ("value", "uncertainty", "path", "steps")} == {
        "value": 0.3, "uncertainty": 0.01, "path": ["Fe lab"], "steps": []}
    assert (malformed.status_code, malformed.json()["detail"][0]["loc"]) == (
        422, ["body", "via"])


# --- history --------------------------------------------------------------------------------


def test_history_filters_newest_first_and_keeps_the_crm_version(client: TestClient) -> None:
    _pb_crm(client, "A")
    add_crm(client, "B", isotopes=[{"ratio": "87Sr/86Sr", "value": 0.705, "uncertainty": 1e-5,
                                    "measured_value": 0.70502, "measured_standard": "SRM 987"}])
    _calculate(client, 1, "Pb", "206Pb/204Pb")
    _calculate(client, 2, "Sr", "87Sr/86Sr")
    client.post("/api/crm/1/isotope", json={
        "ratio": "206Pb/204Pb", "value": 18.8029, "uncertainty": 0.0010, "scale": "SRM 981",
        "measured_value": 18.7950, "measured_uncertainty": 0.0020, "measured_standard": "NBS 981"})
    _calculate(client, 1, "Pb", "206Pb/204Pb")

    everything = client.get("/api/shifts/history").json()
    lead = client.get("/api/shifts/history", params={"crm_id": 1}).json()
    strontium = client.get("/api/shifts/history",
                           params={"element": "Sr", "isotope_ratio": "Sr87/Sr86"}).json()
    page = client.get("/api/shifts/history", params={"limit": 1, "offset": 1}).json()

    assert [(s["id"], s["crm_name"], s["crm_version"], s["measured_value"])
            for s in everything["items"]] == [
        (3, "A", 2, 18.795), (2, "B", 1, 0.70502), (1, "A", 1, 18.79)]
    assert (lead["total"], [s["id"] for s in lead["items"]]) == (2, [3, 1])
    assert (strontium["total"], [s["id"] for s in strontium["items"]]) == (1, [2])
    assert (page["total"], [s["id"] for s in page["items"]]) == (3, [2])


# --- normalization with calculated shifts ---------------------------------------------------


def test_normalizes_with_the_latest_calculated_shift_when_no_mean_is_entered(
    client: TestClient, app: FastAPI
) -> None:
    _pb_crm(client, certified=18.8029, measured=18.7900, standard="SRM 981")
    first = _calculate(client, 1, "Pb", "206Pb/204Pb").json()
    client.post("/api/crm/1/isotope", json={
        "ratio": "206Pb/204Pb", "value": 18.8029, "uncertainty": 0.0010, "scale": "SRM 981",
        "measured_value": 18.7950, "measured_uncertainty": 0.0020, "measured_standard": "SRM 981"})
    latest = _calculate(client, 1, "Pb", "206Pb/204Pb").json()

    with app.state.database.session(write=False) as db:
        (result,) = normalize_values(Library.load(db), [
            {"element": "Pb", "ratio": "206Pb/204Pb", "value": 18.0, "uncertainty": 0.002,
             "standard": "SRM 981"}], "SRM 981")

    factor = 18.8029 / 18.7950
    assert first["id"] != latest["id"]
    assert result["normalized_value"] == pytest.approx(18.0 * factor, abs=1e-9)
    assert result["normalized_uncertainty"] == pytest.approx(
        18.0 * factor * math.hypot(0.002 / 18.0, latest["uncertainty"] / factor), abs=1e-12)
    assert [(u["type"], u["shift_id"], u["crm_version"]) for u in result["used"]] == [
        ("calculated_shift", latest["id"], 2)]
    assert result["path"] == ["SRM 981"]


def test_normalizes_a_ratio_measured_against_a_house_standard(
    client: TestClient, app: FastAPI
) -> None:
    _pb_crm(client, standard="LabPb")
    shift = _calculate(client, 1, "Pb", "206Pb/204Pb").json()

    with app.state.database.session(write=False) as db:
        (result,) = normalize_values(Library.load(db), [
            {"element": "Pb", "ratio": "206Pb/204Pb", "value": 18.0, "uncertainty": 0.002,
             "standard": "LabPb"}], "SRM 981")

    assert result["normalized_value"] == pytest.approx(18.0 * 18.8029 / 18.79, abs=1e-9)
    assert result["path"] == ["LabPb", "SRM 981"]
    assert result["method"] == f"calculated shift LabPb → SRM 981 (× {shift['value']})"


# --- roles ----------------------------------------------------------------------------------


def test_calculating_needs_an_analyst_and_reading_a_user(
    multi_client: TestClient, add_user: Callable[..., int]
) -> None:
    add_user("ulla", "user")
    add_user("ana", "analyst")
    ulla, ana = ("ulla", "password-123"), ("ana", "password-123")
    _pb_crm(multi_client, auth=("admin", "admin-password"))

    by_user = multi_client.post("/api/shifts/calculate/1", auth=ulla,
                                params={"element": "Pb", "isotope_ratio": "206Pb/204Pb"})
    all_by_user = multi_client.post("/api/shifts/calculate-all", auth=ulla)
    by_analyst = multi_client.post("/api/shifts/calculate/1", auth=ana,
                                   params={"element": "Pb", "isotope_ratio": "206Pb/204Pb"})
    history = multi_client.get("/api/shifts/history", auth=ulla)
    converted = multi_client.post("/api/shifts/convert", auth=ulla, json={
        "value": 0.5, "element": "Zn", "isotope_ratio": "δ66Zn", "from_standard": "AA-ETH",
        "to_standard": "JMC-Lyon"})

    analyst_only = {"detail": "This action requires the analyst role"}
    assert [(r.status_code, r.json()) for r in (by_user, all_by_user)] == [
        (403, analyst_only)] * 2
    assert (by_analyst.status_code, by_analyst.json()["user_id"]) == (201, 3)
    assert (history.status_code, history.json()["total"]) == (200, 1)
    assert converted.status_code == 200
