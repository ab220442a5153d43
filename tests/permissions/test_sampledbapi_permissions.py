"""The real client's permission calls, unmodified, against a live server on loopback:
bare bodies without a Content-Type, paths without their trailing slash."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import sampledbapi as sdb
import uvicorn

from isofind.identity import service
from isofind.identity.models import User
from tests.permissions.conftest import Lab


@pytest.fixture
def live_lab(lab: Lab) -> Iterator[Lab]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(lab.app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(250):
        if server.started:
            break
        time.sleep(0.02)
    with lab.session() as db:
        owner = db.get(User, lab.owner_id)
        assert owner is not None
        _, token = service.create_api_token(db, owner, "permissions client test")
    sdb.authenticate(f"http://127.0.0.1:{port}", token)
    yield lab
    server.should_exit = True
    thread.join(timeout=10)


def test_client_permission_calls(live_lab: Lab) -> None:
    lab = live_lab
    stored = sdb.objects.get(lab.object_id)
    group_id, project_id = lab.add_group(), lab.add_project()

    stored.set_public(True)
    assert stored.get_public() is True
    stored.set_public(False)
    assert stored.get_public() is False

    stored.set_user_permissions(lab.other_id, "grant")
    assert stored.get_user_permissions(lab.other_id) == "grant"
    stored.set_group_permissions(group_id, "write")
    assert stored.get_group_permissions(group_id) == "write"
    assert stored.get_all_group_permissions() == {str(group_id): "write"}
    stored.set_project_group_permissions(project_id, "read")
    assert stored.get_project_group_permissions(project_id) == "read"
    assert stored.get_all_project_group_permissions() == {str(project_id): "read"}

    stored.set_user_permissions(lab.other_id, "none")
    assert stored.get_all_user_permissions() == {str(lab.owner_id): "grant"}
    with pytest.raises(Exception, match="400"):
        stored.set_group_permissions(group_id, "owner")
