"""New samples' rows built by a worker process are those built in this one, in order."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from itertools import islice
from multiprocessing.forkserver import ForkServer
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from isofind.bulk_insert import copy_text
from isofind.config import Settings
from isofind.db import Base
from isofind.objects import bulk
from isofind.samples import batch_building
from isofind.samples.batch_building import Batch, build, build_batches
from isofind.samples.index import name_key


class KillsTheWorker(str):
    """A name that reads as itself here and ends the process that unpickles it."""

    def __reduce__(self) -> tuple[Any, ...]:
        return os._exit, (3,)


def batches(count: int, size: int, name: type[str] = str) -> list[Batch]:
    creation = bulk.Creation(user_id=1, action_id=-1, schema_digest="d", may_reference=False,
                             now=datetime(2026, 12, 6, 7, 0))
    made = []
    for number in range(count):
        ids = list(range(1 + number * size, 1 + (number + 1) * size))
        names = [name(f"Sample {sample_id}") for sample_id in ids]
        made.append(Batch(
            creation,
            [{"name": text, "sector": "Laurion", "latitude": 37.7} for text in names],
            [[{"element": "Pb", "ratio": "206Pb/204Pb", "value": 18.0 + sample_id / 1e4,
               "uncertainty": 0.002}] * 2 for sample_id in ids],  # a repeated value: one kept
            [name_key(text) for text in names], ids, False))
    return made


def built(given: list[Batch], *, workers: int = 1,
          for_copy: bool = False) -> list[batch_building.BuiltBatch]:
    pairs = list(build_batches(given, sum(len(batch.ids) for batch in given), workers=workers,
                               for_copy=for_copy))
    assert [batch for batch, _ in pairs] == given
    return [rows for _, rows in pairs]


@pytest.fixture
def worker_for_any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_building, "WORKER_THRESHOLD", 1)


@pytest.mark.usefixtures("worker_for_any_size")
def test_a_worker_builds_what_this_process_builds_in_the_same_order() -> None:
    given = batches(count=5, size=3)

    by_worker = built(given)

    assert by_worker == [build(batch) for batch in given]
    first = dict(by_worker[0].rows)
    assert [row["sample_id"] for row in first["sample_index"]] == [1, 2, 3]
    assert [(row["sample_id"], row["isotope_id"], row["value"])
            for row in first["isotope_values"]] == [(1, 1, 18.0001), (2, 1, 18.0002),
                                                     (3, 1, 18.0003)]
    assert by_worker[4].values == 3
    assert [name for name, _ in by_worker[0].rows] == [
        "objects", "object_permissions", "object_log_entries", "sample_index",
        "isotope_values"]


@pytest.mark.usefixtures("worker_for_any_size")
def test_for_copy_the_worker_encodes_the_rows_it_builds() -> None:
    given = batches(count=3, size=2)

    by_worker = built(given, for_copy=True)

    # The first batch is built here while the worker starts: rows, which the driver encodes.
    assert by_worker[0] == build(given[0])
    tables = Base.metadata.tables
    for there, batch in zip(by_worker[1:], given[1:], strict=True):
        here = build(batch)
        assert there.values == here.values == 2
        assert there.rows == [(name, copy_text(tables[name], rows)) for name, rows in here.rows]
    encoded = dict(by_worker[2].rows)["isotope_values"]
    assert encoded.columns[:5] == ("sample_id", "isotope_id", "element", "quantity", "value")
    assert encoded.data.startswith(b"5\t1\tPb\t206Pb/204Pb\t18.0005\t0.002\t")


@pytest.mark.usefixtures("worker_for_any_size")
def test_batches_a_dead_worker_left_are_built_here() -> None:
    poisoned = batches(count=3, size=2, name=KillsTheWorker)

    assert built(poisoned) == [build(batch) for batch in batches(count=3, size=2)]


def test_small_imports_and_workers_0_are_built_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_worker(*_: object) -> None:
        raise AssertionError("a worker was started")

    monkeypatch.setattr(batch_building, "_built_by_worker", no_worker)
    given = batches(count=2, size=2)
    assert batch_building.WORKER_THRESHOLD > 4
    assert built(given, workers=0) == built(given, workers=1) == [build(b) for b in given]


@pytest.mark.usefixtures("worker_for_any_size")
def test_batches_are_taken_as_they_are_needed() -> None:
    """The batches of an import are made while the file is parsed: the worker is handed a few
    ahead of the one being written, not all of them at once."""
    given = batches(count=8, size=2)
    taken: list[Batch] = []

    def as_parsed() -> Iterator[Batch]:
        for batch in given:
            taken.append(batch)
            yield batch

    pairs = build_batches(as_parsed(), 16, workers=1)
    first, _ = next(pairs)
    assert first is given[0]
    assert len(taken) == 1 + batch_building.AHEAD + 1
    assert [batch for batch, _ in pairs] == given[1:]
    assert taken == given


@pytest.mark.usefixtures("worker_for_any_size")
def test_a_failure_while_making_the_batches_reaches_the_caller() -> None:
    given = batches(count=6, size=2)

    def failing() -> Iterator[Batch]:
        yield from given[:5]
        raise ValueError("line 12: not a number")

    pairs = build_batches(failing(), 12, workers=1)
    assert [batch for batch, _ in islice(pairs, 2)] == given[:2]
    with pytest.raises(ValueError, match="line 12"):
        next(pairs)


@pytest.mark.usefixtures("worker_for_any_size")
def test_an_import_built_by_a_worker_stores_every_sample(
        make_app: Callable[..., FastAPI]) -> None:
    client = TestClient(make_app(import_workers=1))
    rows = [f"W-{n},galena,source,Laurion,{18 + n / 1000:.3f},0.002" for n in range(4500)]
    csv = "name,material_type,classification,sector,206Pb/204Pb,2s_206Pb/204Pb\n"
    raw = (csv + "\n".join(rows) + "\n").encode()

    response = client.post("/api/import-csv", files={"file": ("w.csv", raw, "text/csv")})

    assert response.status_code == 200, response.text
    assert (response.json()["samples_created"], response.json()["values_added"]) == (4500, 4500)
    listed = client.get("/api/samples", params={"limit": 3}).json()
    assert [(s["name"], s["isotope_data"][0]["value"]) for s in listed] == [
        ("W-4499", 22.499), ("W-4498", 22.498), ("W-4497", 22.497)]
    stats = client.get("/api/samples/stats").json()
    assert stats["total_samples"] == 4500


@pytest.mark.parametrize(("size", "workers", "started"), [
    (batch_building.WARM_UP_BYTES, 1, 1),
    (batch_building.WARM_UP_BYTES - 1, 1, 0),  # too small for a worker: nothing to warm up
    (batch_building.WARM_UP_BYTES, 0, 0),
])
def test_the_fork_server_starts_while_a_large_file_is_parsed(
        monkeypatch: pytest.MonkeyPatch, size: int, workers: int, started: int) -> None:
    starts: list[None] = []
    monkeypatch.setattr(batch_building.forkserver, "ensure_running", lambda: starts.append(None))

    batch_building.warm_up(size, workers)

    assert len(starts) == started


@pytest.mark.parametrize(("url", "cores", "setting", "expected"), [
    ("sqlite:///x.db", 2, None, 1),
    ("sqlite:///x.db", 1, None, 0),
    ("postgresql+psycopg://db/x", 2, None, 1),
    ("postgresql+psycopg://db/x", 1, None, 0),
    ("postgresql+psycopg://db/x", 2, 0, 0),
    ("sqlite:///x.db", 8, 0, 0),
])
def test_a_worker_is_used_where_it_was_measured_to_help(
        monkeypatch: pytest.MonkeyPatch, url: str, cores: int, setting: int | None,
        expected: int) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    settings = Settings(database_url=url, import_workers=setting)
    assert settings.import_worker_count == expected


@pytest.mark.usefixtures("worker_for_any_size")
def test_a_worker_that_cannot_start_leaves_every_batch_to_be_built_here(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_process_to_spare(*_: object) -> None:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(batch_building.forkserver, "ensure_running", no_process_to_spare)
    monkeypatch.setattr(ForkServer, "connect_to_new_process", no_process_to_spare)
    given = batches(count=4, size=2)

    batch_building.warm_up(batch_building.WARM_UP_BYTES, 1)  # does not fail either
    assert built(given) == [build(batch) for batch in given]


@pytest.mark.parametrize("failing", [
    batch_building.AHEAD + 1,  # while the first batch is built here
    batch_building.AHEAD + 2,  # once batches come back from the worker
])
@pytest.mark.usefixtures("worker_for_any_size")
def test_batches_are_built_here_from_the_one_the_worker_could_not_take(
        monkeypatch: pytest.MonkeyPatch, failing: int) -> None:
    submit = ProcessPoolExecutor.submit
    handed: list[object] = []

    def fails_from_then_on(pool: ProcessPoolExecutor, *args: Any,
                           **kwargs: Any) -> Future[Any]:
        handed.append(args[1])
        if len(handed) >= failing:
            raise OSError(errno.EAGAIN, "Resource temporarily unavailable")
        return submit(pool, *args, **kwargs)

    monkeypatch.setattr(ProcessPoolExecutor, "submit", fails_from_then_on)
    given = batches(count=6, size=2)

    assert built(given) == [build(batch) for batch in given]
    assert handed == given[1:failing + 1]
