"""Who matches against what, and the per-generation cache of prepared sources."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from isofind.identity.models import Group, GroupMember, User
from isofind.identity.service import local_owner
from isofind.matching.repository import Readable, SourceFilter, readable
from isofind.matching.router import runtime_of
from isofind.objects.models import ObjectRecord
from isofind.permissions import service as permissions
from isofind.permissions.models import Level, SubjectType
from isofind.permissions.service import Viewer
from isofind.samples.index import reindex_sample
from tests.conftest import ADMIN
from tests.matching.conftest import (
    LAURION,
    SECTORS,
    Sector,
    create_sample,
    group_names,
    import_csv,
    near,
    pb_items,
    sample_ids,
    sources_csv,
)

READER = ("reader", "password-123")
# A source exactly where the reader's query is: the best match, but the reader cannot see it.
SECRET = Sector("Secret Mine", (18.70, 15.67, 38.75), 41.0, 21.0, n=3)


def analyze(client: TestClient, values: list[float], **kwargs: Any) -> dict[str, Any]:
    response = client.post("/analyze/manual", json={
        "material_type": "galena", "isotope_data": pb_items(values)}, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_source_the_viewer_cannot_read_never_appears(
        multi_client: TestClient, multi_app: FastAPI, add_user: Callable[..., int],
        grant: Callable[[int, int, Level], None]) -> None:
    import_csv(multi_client, sources_csv((*SECTORS, SECRET)), auth=ADMIN)
    ids = sample_ids(multi_client, auth=ADMIN)
    reader = add_user("reader")
    visible = {sid for name, sid in ids.items() if not name.startswith(("Secret", "Cornwall"))}
    for sample_id in visible:
        grant(sample_id, reader, Level.READ)
    query = list(SECRET.centre)

    seen_by_admin = analyze(multi_client, query, auth=ADMIN)
    seen_by_reader = analyze(multi_client, query, auth=READER)

    assert group_names(seen_by_admin)[0] == "Secret Mine"
    assert set(group_names(seen_by_reader)) == {"Laurion, Greece", "Rio Tinto, Spain"}
    assert {m["sample_id"] for m in seen_by_reader["matches"]} <= visible
    assert seen_by_reader["n_sources"] == 16
    # counts speak of readable samples only
    assert seen_by_reader["sources"]["samples_selected"] == 16
    assert seen_by_admin["sources"]["samples_selected"] == 27
    secret_ids = {sid for name, sid in ids.items() if name.startswith("Secret")}
    hidden = multi_client.post("/analyze", auth=READER,
                               json={"sample_id": next(iter(secret_ids))})
    assert hidden.status_code == 404
    batch = multi_client.post("/api/matching/batch", auth=READER,
                              json=sorted(secret_ids)[:1] + [ids["Laurion 1"]]).json()
    assert batch[str(sorted(secret_ids)[0])]["status_code"] == 404
    assert group_names(batch[str(ids["Laurion 1"])])[0] == "Laurion, Greece"

    # Granting Cornwall widens the reader's sources without reloading the database.
    loads = runtime_of(multi_app).sources.loads
    for name, sid in ids.items():
        if name.startswith("Cornwall"):
            grant(sid, reader, Level.READ)
    wider = analyze(multi_client, query, auth=READER)
    assert "Cornwall, UK" in group_names(wider) and "Secret Mine" not in group_names(wider)
    assert runtime_of(multi_app).sources.loads == loads


def test_sources_read_through_a_group_or_all_signed_in_users_count(
        multi_client: TestClient, multi_app: FastAPI, add_user: Callable[..., int]) -> None:
    import_csv(multi_client, sources_csv((*SECTORS, SECRET)), auth=ADMIN)
    ids = sample_ids(multi_client, auth=ADMIN)
    reader = add_user("reader")
    with multi_app.state.database.session(write=True) as db:
        group = Group(name="Laurion team", description="")
        db.add(group)
        db.flush()
        db.add(GroupMember(group_id=group.id, user_id=reader))
        for name, sample_id in ids.items():
            if name.startswith("Laurion"):
                permissions.set_level(db, sample_id, SubjectType.GROUP, group.id, Level.READ)
            elif name.startswith("Rio"):
                permissions.set_level(db, sample_id, SubjectType.AUTHENTICATED, 0, Level.READ)

    seen = analyze(multi_client, list(SECRET.centre), auth=READER)

    assert set(group_names(seen)) == {"Laurion, Greece", "Rio Tinto, Spain"}
    assert seen["sources"]["samples_selected"] == 16


def test_multi_user_mode_needs_a_signed_in_user(multi_client: TestClient) -> None:
    body = {"isotope_data": pb_items(near(LAURION))}
    assert multi_client.post("/analyze/manual", json=body).status_code == 401
    assert multi_client.get("/api/matching/config").status_code == 401
    assert multi_client.get("/api/zones").status_code == 401
    assert multi_client.get("/api/stats").status_code == 401
    assert multi_client.post("/analyze/manual", json=body, auth=ADMIN).status_code == 200


def test_prepared_sources_are_reused_until_the_index_changes(client: TestClient,
                                                            app: FastAPI) -> None:
    import_csv(client, sources_csv(SECTORS))
    runtime = runtime_of(app)
    assert runtime.sources.loads == 0

    first = analyze(client, near(LAURION))
    for algorithm in ("bayesian", "mahalanobis", "euclidean"):
        client.post("/analyze/manual", json={"material_type": "galena", "algorithm": algorithm,
                                             "isotope_data": pb_items(near(LAURION))})
    again = analyze(client, near(LAURION))
    assert runtime.sources.loads == 1
    assert again["groups"] == first["groups"]
    assert again["sources"]["index_generation"] == first["sources"]["index_generation"]

    # another filter is another entry; the first stays cached
    analyze_all = client.post("/analyze/manual", json={
        "classification_filter": "all", "isotope_data": pb_items(near(LAURION))})
    assert analyze_all.status_code == 200 and runtime.sources.loads == 2
    analyze(client, near(LAURION))
    assert runtime.sources.loads == 2

    # a write to the index bumps the generation: the next match reloads, and sees it
    create_sample(client, {"name": "New Laurion", "classification": "source",
                           "sector": "Laurion, Greece", "material_type": "galena",
                           "isotope_data": pb_items(LAURION.centre)})
    after = analyze(client, near(LAURION))
    assert runtime.sources.loads == 3
    assert after["sources"]["index_generation"] > first["sources"]["index_generation"]
    assert after["groups"][0]["n_sources"] == 9
    analyze(client, near(LAURION))
    assert runtime.sources.loads == 3


def test_the_cache_is_bounded(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(match_cache_size=2)
    with TestClient(app) as client:
        import_csv(client, sources_csv(SECTORS))
        for classification in ("sources", "daughters", "all", "sources"):
            client.post("/analyze/manual", json={"classification_filter": classification,
                                                 "isotope_data": pb_items(near(LAURION))})
        runtime = runtime_of(app)
        assert len(runtime.sources) == 2
        assert runtime.sources.loads == 4  # "sources" was evicted by the third filter


def test_admin_permissions_read_every_source_without_a_query(
        multi_client: TestClient, multi_app: FastAPI, add_user: Callable[..., int]) -> None:
    add_user("reader")
    import_csv(multi_client, sources_csv((SECRET,)), auth=READER)  # the reader's own
    import_csv(multi_client, sources_csv((LAURION,)), auth=ADMIN)
    query = list(SECRET.centre)

    assert group_names(analyze(multi_client, query, auth=ADMIN)) == ["Laurion, Greece"]
    with multi_app.state.database.session(write=True) as db:
        admin = db.scalar(select(User).where(User.username == "admin"))
        admin.admin_permissions_enabled = True
        runtime = runtime_of(multi_app)
        source_set = runtime.sources.get(db, SourceFilter(elements=("Pb",)), None)
        assert readable(db, Viewer(admin), source_set) == Readable()
    assert group_names(analyze(multi_client, query, auth=ADMIN))[0] == "Secret Mine"


def test_the_deny_list_falls_back_to_an_allow_list_when_the_index_moved(
        client: TestClient, app: FastAPI) -> None:
    import_csv(client, sources_csv(SECTORS))
    analyze(client, near(LAURION))
    runtime = runtime_of(app)
    with app.state.database.session(write=False) as db:
        viewer = Viewer(local_owner(db))
        cached = runtime.sources.get(db, SourceFilter(elements=("Pb",)), None)
        current = readable(db, viewer, cached)
    assert current.allowed is None and current.hidden is not None and current.hidden.size == 0

    new = create_sample(client, {"name": "New", "classification": "source", "sector": "X",
                                 "isotope_data": pb_items(LAURION.centre)})
    with app.state.database.session(write=False) as db:
        # the cached set is now one generation behind what the database holds
        stale = readable(db, viewer, cached)
    assert stale.hidden is None and stale.allowed is not None
    assert new in stale.allowed.tolist() and len(stale.allowed) == 25
    assert stale.mask(cached.row_ids).all()


def test_the_readable_part_is_asked_once_until_someone_s_permissions_change(
        multi_client: TestClient, multi_app: FastAPI, add_user: Callable[..., int]) -> None:
    """Every route that changes who reads a source is seen by the next match of a viewer
    whose readable part was memoised (the database bumps the permission generation)."""
    import_csv(multi_client, sources_csv((*SECTORS, SECRET)), auth=ADMIN)
    ids = sample_ids(multi_client, auth=ADMIN)
    reader = add_user("reader")

    def v1(method: str, path: str, body: object = None) -> None:
        response = multi_client.request(method, f"/api/v1/{path}", json=body, auth=ADMIN)
        assert response.status_code in (200, 201), (path, response.text)

    def share(prefix: str, subject: str) -> None:
        for name, sample_id in ids.items():
            if name.startswith(prefix):
                v1("PUT", f"objects/{sample_id}/permissions/{subject}", "read")

    def seen() -> set[str]:
        return set(group_names(analyze(multi_client, list(SECRET.centre), auth=READER)))

    def memo() -> Any:
        with multi_app.state.database.session(write=False) as db:
            return runtime_of(multi_app).sources.get(
                db, SourceFilter(elements=("Pb",)), None).readable_memo

    group = multi_client.post("/api/v1/groups/", json={"name": "Laurion team"},
                              auth=ADMIN).json()["group_id"]
    project = multi_client.post("/api/v1/projects/", json={"name": "Rio Tinto study"},
                                auth=ADMIN).json()["project_id"]
    share("Laurion", f"groups/{group}")
    share("Rio", f"projects/{project}")
    assert seen() == set()
    assert seen() == set() and len(memo()) == 1  # the second match asked nothing

    v1("POST", f"groups/{group}/member_users/", {"user_id": reader})
    assert seen() == {"Laurion, Greece"}
    v1("POST", f"projects/{project}/member_users/", {"user_id": reader, "permissions": "read"})
    assert seen() == {"Laurion, Greece", "Rio Tinto, Spain"}
    share("Cornwall", "authenticated_users")
    assert seen() == {"Laurion, Greece", "Rio Tinto, Spain", "Cornwall, UK"}
    share("Secret", f"users/{reader}")
    assert "Secret Mine" in seen()
    for name, sample_id in ids.items():
        if name.startswith("Secret"):
            v1("PUT", f"objects/{sample_id}/permissions/users/{reader}", "none")
    v1("DELETE", f"projects/{project}/member_users/{reader}")
    v1("DELETE", f"groups/{group}/member_users/{reader}")
    assert seen() == {"Cornwall, UK"}
    assert seen() == {"Cornwall, UK"}
    assert runtime_of(multi_app).sources.loads == 1


def test_a_bad_source_value_stored_before_the_sample_rules_does_not_break_matching(
        client: TestClient, app: FastAPI) -> None:
    import_csv(client, sources_csv(SECTORS))
    source = create_sample(client, {"name": "Odd", "classification": "source",
                                    "sector": "Laurion, Greece", "material_type": "galena",
                                    "latitude": 37.7, "longitude": 24.0,
                                    "isotope_data": pb_items(LAURION.centre)})
    data = client.get(f"/api/v1/objects/{source}/versions/0", auth=ADMIN).json()["data"]
    data["isotope_data"][0]["value"] = {"_type": "quantity", "magnitude": -18.8, "units": "1"}
    data["latitude"] = {"_type": "quantity", "magnitude": 123.0, "units": "1"}
    refused = client.post(f"/api/v1/objects/{source}/versions/", auth=ADMIN,
                          json={"data": data})
    assert refused.status_code == 400, refused.text  # the sample rules hold on /api/v1 now
    # Data /api/v1 stored before they did may still hold such values.
    with app.state.database.session(write=True) as db:
        record = db.get(ObjectRecord, source)
        assert record is not None
        record.data = data
        db.flush()
        reindex_sample(db, record)

    answer = analyze(client, near(LAURION))

    assert group_names(answer)[0] == "Laurion, Greece"
    assert ("1 source value(s) were not usable (non-positive ratio or non-finite value) and "
            "were left out") in answer["warnings"]
    odd = next(m for m in answer["matches"] if m["sample_id"] == source)
    assert odd["latitude"] is None and odd["n_ratios"] == 2
