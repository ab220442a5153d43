"""The real SampleDB client (sampledbapi, unmodified) against a live server on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sampledbapi as sdb
import uvicorn
from fastapi import FastAPI

from isofind.identity import service
from isofind.identity.models import User
from isofind.instruments.models import Instrument, InstrumentScientist
from isofind.locations.models import DEFAULT_LOCATION_TYPE_ID, Location
from isofind.objects.models import Action
from tests.objects.conftest import SIMPLE_SCHEMA


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live(make_app, add_user) -> Iterator[tuple[str, FastAPI]]:
    app = make_app(mode="multi_user")
    add_user("colleague")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=_free_port(),
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.02)
    yield f"http://127.0.0.1:{server.config.port}", app
    server.should_exit = True
    thread.join(timeout=10)


def _seed(app: FastAPI) -> str:
    """An API token for the admin, an instrument with a log, and a location."""
    with app.state.database.session(write=True) as db:
        _, token = service.create_api_token(db, db.get(User, 1), "client test")
        db.add(Location(name="Clean lab", description="ISO 5", type_id=DEFAULT_LOCATION_TYPE_ID))
        instrument = Instrument(name="Neptune MC-ICP-MS", description="multicollector")
        db.add(instrument)
        db.flush()
        db.add(InstrumentScientist(instrument_id=instrument.id, user_id=1))
    return token


def test_sampledbapi_works_unmodified(live: tuple[str, FastAPI], tmp_path: Path) -> None:
    url, app = live
    sdb.authenticate(url, _seed(app))
    assert sdb.users.get_current().name == "Administrator"

    with app.state.database.session(write=True) as db:
        new = Action(type_id=-99, name="Galena", description="", is_hidden=False,
                     schema=SIMPLE_SCHEMA, is_locked=False)
        db.add(new)
        db.flush()
        action_id = new.id
    assert [a.name for a in sdb.actions.get_list()] == ["Isotope sample", "Galena"]

    object_id = sdb.objects.create(action_id, {"name": {"_type": "text", "text": "Laurion 1"}})
    stored = sdb.objects.get(object_id)
    assert (stored.object_id, stored.version_id) == (object_id, 0)
    assert stored.data["name"]["text"] == "Laurion 1"
    assert stored.version_editor.name == "Administrator"

    stored.update({"name": {"_type": "text", "text": "Laurion 1b"}})
    assert sdb.objects.get(object_id).version_id == 1
    assert stored.get_version(0).data["name"]["text"] == "Laurion 1"
    listed = sdb.objects.get_list(q='"Laurion" in name')
    assert [o.object_id for o in listed] == [object_id]

    assert stored.get_public() is False
    stored.set_public(True)
    assert stored.get_public() is True
    stored.set_user_permissions(2, "write")
    assert stored.get_user_permissions(2) == "write"
    assert stored.get_all_user_permissions() == {"1": "grant", "2": "write"}

    stored.post_comment("measured twice")
    comments = stored.get_comment_list()
    assert [c.content for c in comments] == ["measured twice"]
    assert stored.get_comment(0).user_id == 1

    upload = tmp_path / "spectrum.csv"
    upload.write_text("mass,intensity\n206,1.0\n")
    file_id = stored.upload_file(str(upload), name="spectrum.csv")
    assert file_id == 0
    assert [f.original_file_name for f in stored.get_file_list()] == ["spectrum.csv"]

    assert [loc.name for loc in sdb.locations.get_list()] == ["Clean lab"]
    instruments = sdb.instruments.get_list()
    assert [i.name for i in instruments] == ["Neptune MC-ICP-MS"]
    assert instruments[0].get_log_entry_list() == []
    log = sdb.object_log.get_object_log_entries()
    assert [entry.type for entry in log][:2] == ["CREATE_OBJECT", "EDIT_OBJECT"]
