"""The fifteen permission routes: who may call them, the values they take, what they report."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from isofind.activity.models import ActivityEntry
from isofind.identity.models import User
from isofind.permissions import service
from isofind.permissions.models import Level
from isofind.permissions.service import UserSources, Viewer
from tests.permissions.conftest import ADMIN, HOLDER, OTHER, OWNER, Lab

UNKNOWN = 999_999


def _routes(lab: Lab, group_id: int, project_id: int) -> list[tuple[str, str, object]]:
    return [
        ("GET", "public", None), ("PUT", "public", True),
        ("GET", "authenticated_users", None), ("PUT", "authenticated_users", "read"),
        ("GET", "anonymous_users", None), ("PUT", "anonymous_users", "read"),
        ("GET", "users/", None),
        ("GET", f"users/{lab.other_id}", None), ("PUT", f"users/{lab.other_id}", "read"),
        ("GET", "groups/", None),
        ("GET", f"groups/{group_id}", None), ("PUT", f"groups/{group_id}", "read"),
        ("GET", "projects/", None),
        ("GET", f"projects/{project_id}", None), ("PUT", f"projects/{project_id}", "read"),
    ]


def _status(lab: Lab, method: str, url: str, body: object,
            auth: tuple[str, str] | None) -> int:
    return lab.client.request(method, url, json=body, auth=auth).status_code


def test_who_may_call_each_route(lab: Lab) -> None:
    """Unknown object 404, no credentials 401, no read 403; a reader reads but never sets."""
    lab.share(f"users/{lab.holder_id}", "read")
    group_id, project_id = lab.add_group(), lab.add_project()
    observed, wanted = {}, {}
    for method, suffix, body in _routes(lab, group_id, project_id):
        observed[f"{method} {suffix}"] = (
            _status(lab, method, f"/api/v1/objects/{UNKNOWN}/permissions/{suffix}", body, OWNER),
            _status(lab, method, lab.url(f"/permissions/{suffix}"), body, None),
            _status(lab, method, lab.url(f"/permissions/{suffix}"), body, OTHER),
            _status(lab, method, lab.url(f"/permissions/{suffix}"), body, HOLDER),
        )
        # Anonymous users are disabled here, which a reader learns as 400.
        reader = 403 if method == "PUT" else 400 if suffix == "anonymous_users" else 200
        wanted[f"{method} {suffix}"] = (404, 401, 403, reader)
    assert observed == wanted
    unknown = lab.client.get(f"/api/v1/objects/{UNKNOWN}/permissions/public", auth=OWNER)
    assert unknown.json() == {"message": f"object {UNKNOWN} does not exist"}


def test_public_takes_a_bare_boolean(lab: Lab) -> None:
    put = lab.client.put(lab.url("/permissions/public"), content=b"true", auth=OWNER)
    assert (put.status_code, put.json()) == (200, True)
    assert lab.client.get(lab.url("/permissions/public"), auth=HOLDER).json() is True
    assert lab.client.get(lab.url("/permissions/authenticated_users"), auth=OWNER).json() == "read"
    assert lab.client.put(lab.url("/permissions/public"), content=b"false",
                          auth=OWNER).json() is False
    assert lab.client.get(lab.url("/permissions/authenticated_users"), auth=OWNER).json() == "none"
    for body in (b'"true"', b"1", b""):
        refused = lab.client.put(lab.url("/permissions/public"), content=body, auth=OWNER)
        assert (refused.status_code, refused.json()) == (
            400, {"message": "JSON boolean body required: true or false"})


@pytest.mark.parametrize(("body", "message"), [
    ("owner", "invalid permission 'owner': expected read, write, grant or none"),
    ("", "invalid permission '': expected read, write, grant or none"),
    (2, 'JSON string body required: "none", "read", "write" or "grant"'),
    (None, 'JSON string body required: "none", "read", "write" or "grant"'),
    ({"permissions": "read"}, 'JSON string body required: "none", "read", "write" or "grant"'),
])
def test_other_values_are_refused_and_change_nothing(lab: Lab, body: object,
                                                      message: str) -> None:
    for suffix in (f"users/{lab.other_id}", f"groups/{lab.add_group()}",
                   f"projects/{lab.add_project()}", "authenticated_users"):
        refused = lab.client.put(lab.url(f"/permissions/{suffix}"), json=body, auth=OWNER)
        assert (suffix, refused.status_code, refused.json()) == (suffix, 400, {"message": message})
        assert lab.client.get(lab.url(f"/permissions/{suffix}"), auth=OWNER).json() == "none"


@pytest.mark.parametrize("level", ["write", "grant"])
def test_everyone_entries_stop_at_read(lab_for: Callable[..., Lab], level: str) -> None:
    lab = lab_for(anonymous_access=True)
    for subject in ("authenticated users", "anonymous users"):
        suffix = subject.replace(" ", "_")
        refused = lab.client.put(lab.url(f"/permissions/{suffix}"), json=level, auth=OWNER)
        assert refused.json() == {
            "message": f"invalid permission '{level}' for {subject}: expected \"none\" or \"read\""}
        assert refused.status_code == 400


@pytest.mark.parametrize(("method", "body"), [("GET", None), ("PUT", "read")])
def test_anonymous_users_are_disabled(lab: Lab, method: str, body: object) -> None:
    answer = lab.client.request(method, lab.url("/permissions/anonymous_users"), json=body,
                                auth=OWNER)
    assert (answer.status_code, answer.json()) == (
        400, {"message": "anonymous users are disabled"})


def test_anonymous_users_entry_when_enabled(lab_for: Callable[..., Lab]) -> None:
    enabled = lab_for(anonymous_access=True)
    url = enabled.url("/permissions/anonymous_users")
    assert enabled.client.get(url, auth=OWNER).json() == "none"
    assert enabled.client.get(enabled.url("/versions/0")).status_code == 403
    assert enabled.client.put(url, json="read", auth=OWNER).json() == "read"
    assert enabled.client.get(url, auth=OWNER).json() == "read"
    assert enabled.client.get(enabled.url("/versions/0")).status_code == 200


def test_entries_round_trip(lab: Lab) -> None:
    group_id, project_id = lab.add_group(), lab.add_project()
    owner, other = str(lab.owner_id), str(lab.other_id)
    for suffix, level in ((f"users/{other}", "write"), (f"groups/{group_id}", "read"),
                          (f"projects/{project_id}", "grant")):
        put = lab.client.put(lab.url(f"/permissions/{suffix}"), json=level, auth=OWNER)
        assert (put.status_code, put.json()) == (200, level)
        assert lab.client.get(lab.url(f"/permissions/{suffix}"), auth=OWNER).json() == level
    listings = {kind: lab.client.get(lab.url(f"/permissions/{kind}"), auth=OWNER).json()
                for kind in ("users", "groups/", "projects")}
    assert listings == {"users": {owner: "grant", other: "write"},
                        "groups/": {str(group_id): "read"},
                        "projects": {str(project_id): "grant"}}
    lab.share(f"users/{other}", "none")
    assert lab.client.get(lab.url("/permissions/users/"), auth=OWNER).json() == {owner: "grant"}
    assert lab.client.get(lab.url(f"/permissions/users/{other}"), auth=OWNER).json() == "none"


@pytest.mark.parametrize("kind", ["users", "groups", "projects"])
def test_unknown_subjects_are_404(lab: Lab, kind: str) -> None:
    singular = kind.removesuffix("s")
    url = lab.url(f"/permissions/{kind}/{UNKNOWN}")
    for method, body in (("GET", None), ("PUT", "read")):
        answer = lab.client.request(method, url, json=body, auth=OWNER)
        assert (answer.status_code, answer.json()) == (
            404, {"message": f"{singular} {UNKNOWN} does not exist"})


@pytest.mark.parametrize("suffix", [f"{2**40}/permissions/public",
                                    f"1/permissions/users/{2**40}"])
def test_ids_beyond_the_columns_are_bad_input(lab: Lab, suffix: str) -> None:
    answer = lab.client.put(f"/api/v1/objects/{suffix}", json="read", auth=OWNER)
    assert answer.status_code == 400
    assert "less than or equal to 2147483647" in answer.json()["message"]


def test_deleted_users_cannot_be_granted(lab: Lab) -> None:
    with lab.session() as db:
        user = db.get(User, lab.other_id)
        assert user is not None
        user.is_deleted = True
    answer = lab.client.put(lab.url(f"/permissions/users/{lab.other_id}"), json="read",
                            auth=OWNER)
    assert (answer.status_code, answer.json()) == (
        404, {"message": f"user {lab.other_id} does not exist"})


def _arrange_every_source(lab: Lab) -> dict[str, int]:
    """other: basic group read; holder: project write (grant on object); scientist: grant;
    admin: admin permissions on; a read-only user with a grant entry."""
    ids = {"owner": lab.owner_id, "holder": lab.holder_id, "other": lab.other_id, "admin": 1}
    lab.share(f"groups/{lab.add_group(lab.other_id)}", "read")
    lab.share(f"projects/{lab.add_project(users={lab.holder_id: Level.WRITE})}", "grant")
    with lab.session() as db:
        for name, readonly in (("scientist", False), ("readonly", True)):
            user = User(username=name, password_hash="-", role=1, is_readonly=readonly,
                        is_active=True, is_deleted=False, admin_permissions_enabled=False,
                        credentials_stamp=0)
            db.add(user)
            db.flush()
            ids[name] = user.id
        admin = db.get(User, 1)
        assert admin is not None
        admin.admin_permissions_enabled = True
    lab.add_instrument(ids["scientist"])
    lab.share(f"users/{ids['readonly']}", "grant")
    return ids


def test_user_listing_sources(lab: Lab) -> None:
    ids = _arrange_every_source(lab)

    def listing(query: str) -> dict[str, str]:
        answer = lab.client.get(lab.url(f"/permissions/users/{query}"), auth=OWNER)
        assert answer.status_code == 200
        return answer.json()

    def named(**levels: str) -> dict[str, str]:
        return {str(ids[name]): level for name, level in levels.items()}

    base = {"owner": "grant", "readonly": "read"}
    assert listing("") == named(**base)
    assert listing("?include_groups") == named(**base, other="read")
    assert listing("?include_projects=1") == named(**base, holder="write")
    assert listing("?include_instrument_responsible_users") == named(**base, scientist="grant")
    assert listing("?include_admins") == named(**base, admin="grant")
    assert listing("?include_admins=false&include_groups=no") == named(**base)
    holder_url = lab.url(f"/permissions/users/{lab.holder_id}")
    assert lab.client.get(holder_url, auth=OWNER).json() == "none"
    assert lab.client.get(holder_url + "?include_projects", auth=OWNER).json() == "write"


def test_group_listing_includes_projects_on_request(lab: Lab) -> None:
    direct, in_project = lab.add_group(), lab.add_group()
    lab.share(f"groups/{direct}", "write")
    lab.share(f"projects/{lab.add_project(groups={in_project: Level.READ})}", "grant")
    url = lab.url("/permissions/groups/")
    assert lab.client.get(url, auth=OWNER).json() == {str(direct): "write"}
    assert lab.client.get(url + "?include_projects", auth=OWNER).json() == {
        str(direct): "write", str(in_project): "read"}
    one = lab.url(f"/permissions/groups/{in_project}")
    assert lab.client.get(one, auth=OWNER).json() == "none"
    assert lab.client.get(one + "?include_projects", auth=OWNER).json() == "read"


def test_full_listing_agrees_with_the_sql_condition(lab: Lab) -> None:
    """Every source included, the listing is what ``holds`` decides for each user."""
    _arrange_every_source(lab)
    with lab.session() as db:
        listed = service.user_levels(db, lab.object_id, UserSources(True, True, True, True))
        effective = {user.id: service.effective_level(db, Viewer(user), lab.object_id)
                     for user in db.scalars(select(User))}
    assert listed == {uid: level for uid, level in effective.items() if level > Level.NONE}


def test_changes_are_recorded(lab: Lab) -> None:
    lab.client.put(lab.url(f"/permissions/users/{lab.other_id}"), json="write", auth=OWNER)
    lab.client.put(lab.url("/permissions/public"), json=True, auth=OWNER)
    lab.client.put(lab.url("/permissions/public"), json=True, auth=ADMIN)  # 403: not recorded
    with lab.session() as db:
        entries = db.scalars(select(ActivityEntry).where(
            ActivityEntry.action == "permission.changed").order_by(ActivityEntry.id)).all()
        recorded = [(e.user_id, e.target_id, e.details) for e in entries]
    assert recorded == [
        (lab.owner_id, str(lab.object_id),
         {"subject_type": "user", "subject_id": lab.other_id, "level": "write"}),
        (lab.owner_id, str(lab.object_id),
         {"subject_type": "authenticated", "subject_id": 0, "level": "read"}),
    ]
