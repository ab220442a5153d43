"""The rows of new samples, built in batches: in a second process for large imports.

Building a new sample's rows (its object document as JSON text, its index rows) is pure
Python; writing them is the database's work plus the driver's. In one process the two take
turns on the GIL, so a 100,000-sample import cost their sum (issue 4: 7 s of building, 7.5 s
of writing, measured apart). A worker process builds the next batches while this one writes
(and, on PostgreSQL, while the server stores). Small imports are built here.

The worker only computes: it gets plain values and returns plain rows (on PostgreSQL already
in COPY's text format, which spares this process from taking them apart), never touches the
database, and the import's transaction stays in the caller's process. One worker serves one
import; a worker that dies, or cannot start, leaves the remaining batches to be built here.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import chain, islice
from multiprocessing import forkserver
from typing import Any

from isofind.bulk_insert import CopyText, Rows, copy_text
from isofind.objects import bulk
from isofind.samples.action import object_data_json
from isofind.samples.index import index_table_rows, plain_index_rows
from isofind.samples.rules import identity, with_ids

#: New samples built and written together: large enough for fast bulk writes, small enough
#: that building the next batch overlaps writing this one.
SAMPLES_PER_BATCH = 2000
#: Batches handed to the worker ahead of the one being written: bounds what waits in memory.
AHEAD = 2
#: New samples from which a worker process builds them. Below, handing the batches over and
#: back costs more than it saves (a worker starts in ~15 ms, the fork server behind it once
#: in ~1 s; 100,000 samples: 22 s here, 18.5 s with a worker, SQLite).
WORKER_THRESHOLD = 20_000

# Workers are forked from a server process that only imported this module: they never
# inherit a request thread's locks, connections or caches.
_FORK_SERVER = multiprocessing.get_context("forkserver")
_FORK_SERVER.set_forkserver_preload([__name__])


@dataclass(frozen=True, slots=True)
class Batch:
    """New samples to build: plain fields and values, with their reserved object ids."""

    creation: bulk.Creation
    fields: list[dict[str, Any]]
    isotopes: list[list[dict[str, Any]]]
    keys: list[str]
    ids: list[int]
    archived: bool


@dataclass(frozen=True, slots=True)
class BuiltBatch:
    rows: list[tuple[str, Rows | CopyText]]  # (table name, rows), in writing order
    values: int  # isotope values the samples hold


def _deduplicated(isotopes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[Any, ...]] = set()
    unique = []
    for value in isotopes:
        key = identity(value)
        if key not in seen:
            seen.add(key)
            unique.append(value)
    return unique


def build(batch: Batch, *, for_copy: bool = False) -> BuiltBatch:
    """The rows creating the batch's samples, per table in the order they must be written;
    ``for_copy``: in PostgreSQL's COPY text format."""
    creation = batch.creation
    numbered = [with_ids(_deduplicated(isotopes), [], 1) for isotopes in batch.isotopes]
    documents = [object_data_json(fields, values, archived=batch.archived,
                                  next_isotope_id=next_id)
                 for fields, (values, next_id) in zip(batch.fields, numbered, strict=True)]
    index = [plain_index_rows(object_id, fields, values, archived=batch.archived,
                              created_at=creation.now, creator_id=creation.user_id, key=key)
             for object_id, fields, key, (values, _) in zip(
                 batch.ids, batch.fields, batch.keys, numbered, strict=True)]
    tables = [*bulk.object_rows(creation, batch.ids, documents), *index_table_rows(index)]
    return BuiltBatch([(table.name, copy_text(table, rows) if for_copy else rows)
                       for table, rows in tables],
                      sum(len(values) for values, _ in numbered))


def build_batches(batches: Iterable[Batch], samples: int, *, workers: int,
                  for_copy: bool = False) -> Iterator[tuple[Batch, BuiltBatch]]:
    """Every batch with its rows, in order, each batch taken only when it is next to build:
    by a worker process when ``workers`` is 1 and the batches hold at least
    :data:`WORKER_THRESHOLD` ``samples`` in all, else here. ``for_copy``: the worker encodes the
    rows for PostgreSQL's COPY (here, the driver's C code does it faster)."""
    if workers < 1 or samples < WORKER_THRESHOLD:
        return ((batch, build(batch)) for batch in batches)
    return _built_by_worker(iter(batches), for_copy)


#: Size of an import file from which the worker's fork server is started before parsing.
#: About 20,000 rows (:data:`WORKER_THRESHOLD`) of a file with a few columns.
WARM_UP_BYTES = 1_000_000


def warm_up(file_size: int, workers: int) -> None:
    """Start the worker's fork server (it imports this module, ~1 s on another core) while an
    import file that may need a worker is parsed: started when the first batch was due, it
    held that batch back 1.4-1.9 s (PostgreSQL, issue 4). Not at server start: it holds
    ~90 MB until the server stops, which an instance that never imports much need not pay."""
    if workers >= 1 and file_size >= WARM_UP_BYTES:
        try:
            forkserver.ensure_running()
        except OSError:  # no process to spare: the batches will be built here
            return


def _built_by_worker(batches: Iterator[Batch],
                     for_copy: bool) -> Iterator[tuple[Batch, BuiltBatch]]:
    waiting: deque[Batch] = deque()  # taken from ``batches`` and not yet given out, in order
    futures: deque[Future[BuiltBatch]] = deque()  # the worker's, for the last of ``waiting``
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=_FORK_SERVER) as pool:
            def hand_out(count: int) -> None:
                for batch in islice(batches, count):
                    waiting.append(batch)
                    futures.append(pool.submit(build, batch, for_copy=for_copy))

            first = next(batches, None)
            if first is None:
                return
            waiting.append(first)
            hand_out(AHEAD + 1)
            # The worker starts and builds the next batches while the first is built here.
            rows = build(first)
            yield waiting.popleft(), rows
            while waiting:
                rows = futures.popleft().result()
                hand_out(1)
                yield waiting.popleft(), rows
    # The worker died, or could not start (no process or file descriptor to spare): the rest
    # is built here.
    except (BrokenProcessPool, OSError):
        yield from ((batch, build(batch)) for batch in chain(waiting, batches))
    finally:
        for future in futures:
            future.cancel()
