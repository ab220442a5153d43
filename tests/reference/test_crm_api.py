"""CRM routes: list, detail, add, edit, concentrations and isotope values, statistics, GeoReM."""

from __future__ import annotations

import json
import socket
import statistics
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.reference.standards_support import add_crm

BASALT = {
    "name": "House basalt", "material": "Basalt", "producer": "Our lab",
    "concentrations": [
        {"element": "Sr", "value": 389.0, "uncertainty": 23.0, "unit": "µg/g",
         "citation": "House certificate 2024"},
        {"element": "iron", "value": 8.63, "uncertainty": 0.14, "uncertainty_type": "2SD",
         "unit": "wt%"},
    ],
    "isotopes": [
        {"ratio": "Pb206/Pb204", "value": 18.8029, "uncertainty": 0.0010, "technique": "TIMS",
         "scale": "SRM 981", "citation": "Jweda et al. (2016)"},
        {"ratio": "d65Cu", "value": 0.18, "uncertainty": 0.04, "scale": "SRM 976",
         "doi": "doi:10.1039/c4ja00488d"},
    ],
}


def _isotope(ratio: str, value: float, **fields: Any) -> dict[str, Any]:
    return {
        "element": fields.pop("element"), "ratio": ratio, "kind": fields.pop("kind", "ratio"),
        "value": value, "uncertainty": None, "uncertainty_type": "2SD", "uncertainty_2s": None,
        "technique": None, "scale": None, "reference": {"citation": None, "doi": None},
        "note": None, "measured_value": None, "measured_uncertainty": None,
        "measured_uncertainty_type": None, "measured_standard": None, **fields,
    }


# --- adding and reading ---------------------------------------------------------------------


def test_adds_a_crm_with_its_values_in_canonical_form(client: TestClient) -> None:
    created = add_crm(client, **{k: v for k, v in BASALT.items() if k != "name"})
    fetched = client.get(f"/api/crm/{created['id']}").json()

    assert created == fetched
    assert {k: created[k] for k in ("id", "name", "material", "producer", "description",
                                    "georem_id", "version", "updated_by")} == {
        "id": 1, "name": "House basalt", "material": "Basalt", "producer": "Our lab",
        "description": None, "georem_id": None, "version": 1, "updated_by": 1}
    assert created["concentrations"] == [
        {"element": "Fe", "value": 8.63, "uncertainty": 0.14, "uncertainty_type": "2SD",
         "unit": "wt%", "reference": {"citation": None, "doi": None}},
        {"element": "Sr", "value": 389.0, "uncertainty": 23.0, "uncertainty_type": "2SD",
         "unit": "µg/g", "reference": {"citation": "House certificate 2024", "doi": None}},
    ]
    assert created["isotopes"] == [
        _isotope("δ65Cu", 0.18, element="Cu", kind="delta", uncertainty=0.04,
                 uncertainty_2s=0.04, scale="SRM 976",
                 reference={"citation": None, "doi": "10.1039/c4ja00488d"}),
        _isotope("206Pb/204Pb", 18.8029, element="Pb", uncertainty=0.001,
                 uncertainty_2s=0.001, technique="TIMS", scale="SRM 981",
                 reference={"citation": "Jweda et al. (2016)", "doi": None}),
    ]
    assert [(v["version"], v["change"], v["user_id"]) for v in created["versions"]] == [
        (1, "created", 1)]


def test_fixed_crm_paths_are_not_taken_for_an_id(client: TestClient) -> None:
    add_crm(client)

    listed = client.get("/api/crm/list")
    stats = client.get("/api/crm/statistics")
    search = client.get("/api/crm/georem/search")

    assert (listed.status_code, [c["name"] for c in listed.json()]) == (200, ["House basalt"])
    assert (stats.status_code, stats.json()["crm_count"]) == (200, 1)
    assert (search.status_code, len(search.json()["results"])) == (200, 6)


def test_lists_crms_by_words_and_element(client: TestClient) -> None:
    add_crm(client, **{k: v for k, v in BASALT.items() if k != "name"})
    add_crm(client, "Granite G-X", material="Granite", producer="Survey",
            concentrations=[{"element": "Rb", "value": 170.0, "unit": "ppm"}])

    everything = client.get("/api/crm/list").json()
    granite = client.get("/api/crm/list", params={"search": "survey gran"}).json()
    copper = client.get("/api/crm/list", params={"element": "copper"}).json()

    assert everything == [
        {"id": 2, "name": "Granite G-X", "material": "Granite", "producer": "Survey",
         "georem_id": None, "version": 1, "elements": ["Rb"], "concentration_count": 1,
         "isotope_count": 0},
        {"id": 1, "name": "House basalt", "material": "Basalt", "producer": "Our lab",
         "georem_id": None, "version": 1, "elements": ["Cu", "Fe", "Pb", "Sr"],
         "concentration_count": 2, "isotope_count": 2},
    ]
    assert [c["id"] for c in granite] == [2]
    assert [c["id"] for c in copper] == [1]


@pytest.mark.parametrize(("body", "detail"), [
    ({"isotopes": [{"ratio": "δ65Cu", "value": 0.1}]},
     "scale: a delta value names the standard whose scale δ65Cu is on"),
    ({"isotopes": [{"ratio": "lead", "value": 0.1}]},
     "ratio 'lead' is not an isotope ratio or delta (e.g. 206Pb/204Pb, δ65Cu)"),
    ({"isotopes": [{"ratio": "206Pb/204Pb", "value": 18.8}, {"ratio": "Pb206/Pb204",
                                                           "value": 18.9}]},
     "isotope value 206Pb/204Pb is given twice"),
    ({"concentrations": [{"element": "Xx", "value": 1.0, "unit": "µg/g"}]},
     "element 'Xx' is not a known element"),
    ({"concentrations": [{"element": "Sr", "value": 1.0, "unit": "furlongs"}]},
     "unit 'furlongs' is not one of g/kg, mg/g, mg/kg, ng/g, pg/g, wt%, µg/g, µg/kg"),
    ({"isotopes": [{"ratio": "87Sr/86Sr", "value": 0.705, "measured_value": -0.1}]},
     "measured_value=-0.1: an isotope ratio must be > 0"),
])
def test_refuses_an_inconsistent_crm_and_creates_nothing(
    client: TestClient, body: dict[str, Any], detail: str
) -> None:
    response = client.post("/api/crm/add", json={"name": "Broken", **body})

    assert (response.status_code, response.json()) == (422, {"detail": detail})
    assert client.get("/api/crm/list").json() == []


def test_refuses_a_second_crm_of_the_same_name(client: TestClient) -> None:
    add_crm(client)

    response = client.post("/api/crm/add", json={"name": "HOUSE BASALT"})

    assert (response.status_code, response.json()) == (409, {
        "detail": "a CRM named 'House basalt' already exists (id 1)"})


def test_unknown_crm_answers_404(client: TestClient) -> None:
    missing = client.get("/api/crm/42")
    too_large = client.get("/api/crm/99999999999")

    assert (missing.status_code, missing.json()) == (404, {"detail": "CRM 42 does not exist"})
    assert (too_large.status_code, too_large.json()["detail"][0]["loc"]) == (
        422, ["path", "crm_id"])


# --- editing and versions -------------------------------------------------------------------


def test_an_edit_makes_a_version_and_the_old_one_stays_readable(client: TestClient) -> None:
    add_crm(client, material="Basalt")

    edited = client.put("/api/crm/1/edit", json={"name": "House basalt 2", "producer": "Lab"})
    unchanged = client.put("/api/crm/1/edit", json={"producer": "Lab"})
    first = client.get("/api/crm/1", params={"version": 1}).json()
    absent = client.get("/api/crm/1", params={"version": 5})

    assert edited.status_code == 200
    assert (edited.json()["name"], edited.json()["producer"], edited.json()["version"]) == (
        "House basalt 2", "Lab", 2)
    assert unchanged.json()["version"] == 2
    assert [(v["version"], v["change"]) for v in edited.json()["versions"]] == [
        (1, "created"), (2, "edited: name, producer")]
    assert (first["name"], first["producer"], first["version"]) == ("House basalt", None, 1)
    assert (absent.status_code, absent.json()) == (404, {"detail": "CRM 1 has no version 5"})


def test_adds_replaces_and_deletes_a_concentration(client: TestClient) -> None:
    add_crm(client)
    body = {"element": "Sr", "value": 389.0, "uncertainty": 23.0, "unit": "ppm"}

    added = client.post("/api/crm/1/concentration", json=body)
    same = client.post("/api/crm/1/concentration", json=body)
    replaced = client.post("/api/crm/1/concentration", json={**body, "value": 396.0})
    deleted = client.delete("/api/crm/1/concentration/strontium")
    missing = client.delete("/api/crm/1/concentration/Sr")

    assert (added.status_code, added.json()["concentrations"][0]["unit"]) == (201, "µg/g")
    assert (same.status_code, same.json()["version"]) == (200, 2)
    assert (replaced.status_code, replaced.json()["version"]) == (200, 3)
    assert replaced.json()["concentrations"][0]["value"] == 396.0
    assert (deleted.status_code, deleted.json()["concentrations"], deleted.json()["version"]) == (
        200, [], 4)
    assert (missing.status_code, missing.json()) == (404, {
        "detail": "CRM 1 (House basalt) has no concentration of Sr"})
    version_2 = client.get("/api/crm/1", params={"version": 2}).json()
    assert version_2["concentrations"][0]["value"] == 389.0
    assert [v["change"] for v in deleted.json()["versions"]] == [
        "created", "concentration Sr added", "concentration Sr replaced",
        "concentration Sr deleted"]


@pytest.mark.parametrize("path", [
    "/api/crm/1/isotope/206Pb/204Pb",
    "/api/crm/1/isotope/206Pb%2F204Pb",
    "/api/crm/1/isotope/Pb206%2FPb204",
])
def test_deletes_an_isotope_value_by_raw_or_encoded_ratio(client: TestClient, path: str) -> None:
    add_crm(client, isotopes=[{"ratio": "206Pb/204Pb", "value": 18.8029, "uncertainty": 0.001},
                              {"ratio": "δ65Cu", "value": 0.18, "scale": "SRM 976"}])

    response = client.delete(path)

    assert response.status_code == 200
    assert [i["ratio"] for i in response.json()["isotopes"]] == ["δ65Cu"]
    assert response.json()["versions"][-1]["change"] == "isotope 206Pb/204Pb deleted"


def test_adds_and_deletes_a_delta_value_by_encoded_path(client: TestClient) -> None:
    add_crm(client)

    added = client.post("/api/crm/1/isotope", json={
        "ratio": "delta65Cu", "value": 0.18, "uncertainty": 0.04, "scale": "SRM 976",
        "measured_value": 0.21, "measured_uncertainty": 0.01, "measured_standard": "SRM 976"})
    deleted = client.delete("/api/crm/1/isotope/%CE%B465Cu")
    missing = client.delete("/api/crm/1/isotope/δ65Cu")

    assert added.status_code == 201
    assert added.json()["isotopes"] == [_isotope(
        "δ65Cu", 0.18, element="Cu", kind="delta", uncertainty=0.04, uncertainty_2s=0.04,
        scale="SRM 976", measured_value=0.21, measured_uncertainty=0.01,
        measured_uncertainty_type="2SD", measured_standard="SRM 976")]
    assert (deleted.status_code, deleted.json()["isotopes"]) == (200, [])
    assert (missing.status_code, missing.json()) == (404, {
        "detail": "CRM 1 (House basalt) has no isotope value δ65Cu"})


# --- statistics -----------------------------------------------------------------------------


def test_statistics_per_element_with_spread(client: TestClient) -> None:
    add_crm(client, "A", producer="USGS",
            concentrations=[{"element": "Sr", "value": 389.0, "unit": "µg/g"},
                            {"element": "Fe", "value": 8.63, "unit": "wt%"}],
            isotopes=[{"ratio": "87Sr/86Sr", "value": 0.705000, "uncertainty": 0.000011}])
    add_crm(client, "B", producer="USGS",
            concentrations=[{"element": "Sr", "value": 400.0, "unit": "ppm"}],
            isotopes=[{"ratio": "87Sr/86Sr", "value": 0.703500}])
    add_crm(client, "C")

    stats = client.get("/api/crm/statistics").json()

    assert {k: v for k, v in stats.items() if k != "elements"} == {
        "crm_count": 3, "concentration_count": 3, "isotope_count": 2, "imported_from_georem": 0,
        "producers": [{"producer": "USGS", "crm_count": 2}, {"producer": None, "crm_count": 1}],
    }
    assert stats["elements"] == [
        {"element": "Fe", "crm_count": 1, "isotopes": [], "concentrations": [
            {"unit": "wt%", "count": 1, "min": 8.63, "max": 8.63, "mean": 8.63, "sd": None}]},
        {"element": "Sr", "crm_count": 2,
         "concentrations": [{"unit": "µg/g", "count": 2, "min": 389.0, "max": 400.0,
                             "mean": 394.5, "sd": pytest.approx(statistics.stdev([389, 400]),
                                                                abs=1e-12)}],
         "isotopes": [{"ratio": "87Sr/86Sr", "count": 2, "min": 0.7035, "max": 0.705,
                       "mean": pytest.approx(0.70425, abs=1e-15),
                       "sd": pytest.approx(statistics.stdev([0.705, 0.7035]), abs=1e-15)}]},
    ]


# --- roles ----------------------------------------------------------------------------------


def test_crm_writes_need_a_manager(multi_client: TestClient,
                                   add_user: Callable[..., int]) -> None:
    add_user("ana", "analyst")
    add_user("max", "manager")
    ana, max_ = ("ana", "password-123"), ("max", "password-123")

    refused = [
        multi_client.post("/api/crm/add", json={"name": "X"}, auth=ana),
        multi_client.post("/api/crm/georem/import/1/full", auth=ana),
        multi_client.put("/api/crm/1/edit", json={"name": "Y"}, auth=ana),
        multi_client.post("/api/crm/1/concentration",
                          json={"element": "Sr", "value": 1.0, "unit": "µg/g"}, auth=ana),
        multi_client.delete("/api/crm/1/isotope/87Sr/86Sr", auth=ana),
    ]
    created = multi_client.post("/api/crm/add", json={"name": "X"}, auth=max_)
    read = multi_client.get("/api/crm/1", auth=ana)

    assert {(r.status_code, r.json()["detail"]) for r in refused} == {
        (403, "This action requires the manager role")}
    assert (created.status_code, read.status_code, read.json()["updated_by"]) == (201, 200, 3)
    assert multi_client.get("/api/crm/list").status_code == 401


# --- GeoReM ---------------------------------------------------------------------------------


def test_searches_the_shipped_catalogue(client: TestClient) -> None:
    basalts = client.get("/api/crm/georem/search", params={"q": "basalt"}).json()
    nist = client.get("/api/crm/georem/search", params={"q": "nist srm", "limit": 1}).json()

    assert (basalts["online"], basalts["warnings"]) == (False, [])
    assert [(hit["georem_id"], hit["name"], hit["source"]) for hit in basalts["results"]] == [
        (1, "BCR-2", "catalogue"), (2, "BHVO-2", "catalogue")]
    assert basalts["results"][1] == {
        "georem_id": 2, "name": "BHVO-2", "material": "Basalt, Hawaiian Volcanic Observatory",
        "producer": "U.S. Geological Survey",
        "elements": ["Ba", "Cu", "Fe", "Hf", "Nd", "Rb", "Sr", "Zn"],
        "ratios": ["176Hf/177Hf", "δ88/86Sr", "δ65Cu", "δ56Fe"], "concentration_count": 8,
        "isotope_count": 4, "source": "catalogue", "imported_as": None}
    assert [hit["name"] for hit in nist["results"]] == ["NIST SRM 610"]


def test_imports_a_reference_material_fully_and_only_once(client: TestClient) -> None:
    imported = client.post("/api/crm/georem/import/2/full")
    again = client.post("/api/crm/georem/import/2/full")
    unknown = client.post("/api/crm/georem/import/999/full")
    search = client.get("/api/crm/georem/search", params={"q": "BHVO-2"}).json()

    assert imported.status_code == 201
    body = imported.json()
    crm = body["crm"]
    assert (body["source"], crm["name"], crm["georem_id"], crm["version"]) == (
        "catalogue", "BHVO-2", 2, 1)
    assert crm["description"] == "Imported from GeoReM reference material 2 (catalogue)."
    assert len(crm["concentrations"]) == 8 and len(crm["isotopes"]) == 4
    (strontium,) = [c for c in crm["concentrations"] if c["element"] == "Sr"]
    assert (strontium["value"], strontium["uncertainty"], strontium["uncertainty_type"],
            strontium["unit"]) == (389.0, 23.0, "unstated", "µg/g")
    (hafnium,) = [i for i in crm["isotopes"] if i["ratio"] == "176Hf/177Hf"]
    assert (hafnium["value"], hafnium["uncertainty_2s"], hafnium["reference"]["doi"]) == (
        0.283105, 0.000011, "10.1029/2006GC001473")
    assert all(i["reference"]["citation"] for i in crm["isotopes"])
    assert crm["versions"][0]["change"] == "imported from GeoReM 2 (catalogue)"
    assert (again.status_code, again.json()) == (409, {
        "detail": "GeoReM reference material 2 is already imported as CRM 1 (BHVO-2)"})
    assert (unknown.status_code, unknown.json()) == (404, {"detail": (
        "GeoReM reference material 999 is not in the shipped catalogue (no online source is "
        "configured or air-gap mode is on)")})
    assert search["results"][0]["imported_as"] == 1


MIRROR_ENTRY = {
    "georem_id": 900, "name": "JB-2", "material": "Basalt", "producer": "GSJ",
    "concentrations": [],
    "isotopes": [{"ratio": "87Sr/86Sr", "value": 0.703700, "uncertainty": 0.000020,
                  "uncertainty_type": "2SD", "technique": "TIMS", "scale": None,
                  "reference": {"citation": "Test mirror entry", "doi": None}}],
}


class _Mirror(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/search":
            query = parse_qs(url.query).get("q", [""])[0].lower()
            body: Any = [MIRROR_ENTRY] if query in ("", "basalt", "jb-2") else []
        elif url.path == "/reference-materials/900":
            body = MIRROR_ENTRY
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def mirror() -> Iterator[str]:
    """A GeoReM-compatible JSON service on the loopback interface."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Mirror)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def refused_connections(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Make every Python socket connection fail, and record the attempts."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network access refused by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def test_air_gap_mode_opens_no_socket_and_answers_from_the_catalogue(
    make_app: Callable[..., Any], mirror: str, refused_connections: list[object]
) -> None:
    app = make_app(air_gap=True, georem_url=mirror)
    with TestClient(app) as client:
        search = client.get("/api/crm/georem/search", params={"q": "basalt"})
        imported = client.post("/api/crm/georem/import/1/full")
        online_only = client.post("/api/crm/georem/import/900/full")

    assert refused_connections == []
    assert (search.status_code, search.json()["online"], search.json()["warnings"]) == (
        200, False, [])
    assert [hit["name"] for hit in search.json()["results"]] == ["BCR-2", "BHVO-2"]
    assert (imported.status_code, imported.json()["source"]) == (201, "catalogue")
    assert len(imported.json()["crm"]["isotopes"]) == 8
    assert online_only.status_code == 404
    # The same configuration without air gap does try to connect: the trap is live.
    with TestClient(make_app(georem_url=mirror)) as connected:
        tried = connected.get("/api/crm/georem/search", params={"q": "basalt"}).json()
    assert len(refused_connections) == 1
    assert tried["warnings"] == [
        f"GeoReM source {mirror} unreachable: <urlopen error network access refused by the "
        "test>; answered from the shipped catalogue"]


def test_without_a_configured_source_no_socket_is_opened(
    client: TestClient, refused_connections: list[object]
) -> None:
    search = client.get("/api/crm/georem/search", params={"q": "granite"})

    assert refused_connections == []
    assert [hit["name"] for hit in search.json()["results"]] == ["G-2"]


def test_online_source_adds_its_materials_when_allowed(
    make_app: Callable[..., Any], mirror: str
) -> None:
    app = make_app(georem_url=mirror + "/")
    with TestClient(app) as client:
        search = client.get("/api/crm/georem/search", params={"q": "basalt"}).json()
        imported = client.post("/api/crm/georem/import/900/full")
        missing = client.post("/api/crm/georem/import/901/full")

    assert search["online"] is True
    assert [(hit["name"], hit["source"]) for hit in search["results"]] == [
        ("BCR-2", "catalogue"), ("BHVO-2", "catalogue"), ("JB-2", "online")]
    assert (imported.status_code, imported.json()["source"]) == (201, "online")
    crm = imported.json()["crm"]
    assert (crm["name"], crm["georem_id"], crm["isotopes"][0]["value"],
            crm["isotopes"][0]["reference"]["citation"]) == (
        "JB-2", 900, 0.7037, "Test mirror entry")
    assert (missing.status_code, missing.json()) == (404, {
        "detail": "GeoReM reference material 901 does not exist"})


# An address with "404" in it once made an unreachable source answer 404 (seen in CI, on a
# port number with those digits): only the source's own 404 means "no such material".
@pytest.mark.parametrize("path", ["", "/404"])
def test_an_unreachable_online_source_falls_back_to_the_catalogue(
    make_app: Callable[..., Any], path: str
) -> None:
    # Bound but not listening for the whole test: connections to it are refused, and no other
    # server can take the port meanwhile.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}{path}"
        app = make_app(georem_url=closed)
        with TestClient(app) as client:
            search = client.get("/api/crm/georem/search", params={"q": "andesite"}).json()
            imported = client.post("/api/crm/georem/import/900/full")

    assert [hit["name"] for hit in search["results"]] == ["AGV-2"]
    (warning,) = search["warnings"]
    assert warning.startswith(f"GeoReM source {closed} unreachable: ")
    assert warning.endswith("; answered from the shipped catalogue")
    assert imported.status_code == 503
    assert imported.json()["detail"].startswith(f"GeoReM source {closed} unreachable: ")
