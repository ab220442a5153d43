"""Inserting many plain rows at the driver's speed, for imports.

SQLAlchemy's executemany processes every parameter of every row in Python; for the 500,000
rows of a 100,000-sample import that cost more than the database itself (profile, issue 4).
Here PostgreSQL receives the rows through ``COPY … FROM STDIN`` and SQLite through its
driver's ``executemany``, inside the session's transaction. Only columns whose type needs a
conversion for the driver (dates on SQLite) go through SQLAlchemy's bind processor; JSON
columns take text already encoded.

Rows bound for PostgreSQL may also arrive already in COPY's text format (:func:`copy_text`),
encoded by a worker process: the writing process then only sends bytes, instead of taking
a million dictionaries apart while the GIL is shared with the import's other work.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Dialect, Float, Integer, Table, func, select, text
from sqlalchemy.orm import Session

from isofind.db import defer_checkpoint

Rows = Sequence[Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class CopyText:
    """Rows in PostgreSQL's COPY text format: one line per row, columns in this order."""

    columns: tuple[str, ...]
    data: bytes

    def __len__(self) -> int:
        return self.data.count(b"\n")  # line breaks inside values are escaped


_NULL = "\\N"
_COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))

# Columns are encoded whole, each by one comprehension: a function call per value cost a third
# of building an import's rows (issue 4).


def _text_cells(values: list[Any]) -> list[str]:
    present = [value for value in values if value is not None]
    wrong = next((value for value in present if not isinstance(value, str)), None)
    if wrong is not None:
        raise TypeError(f"text column given {type(wrong).__name__}, not str")
    joined = "".join(present)
    # Rare: a scan of the column per character kind beats always replacing.
    escapes = [(char, escaped) for char, escaped in _COPY_ESCAPES if char in joined]
    if escapes:
        values = [None if value is None else _escaped(value, escapes) for value in values]
    return [_NULL if value is None else value for value in values]


def _escaped(value: str, escapes: list[tuple[str, str]]) -> str:
    for char, escaped in escapes:
        value = value.replace(char, escaped)
    return value


def _integer_cells(values: list[Any]) -> list[str]:
    return [_NULL if value is None else str(int(value)) for value in values]


def _float_cells(values: list[Any]) -> list[str]:
    # repr is exact, and PostgreSQL reads its 'nan', 'inf' and '-inf' as NaN and ±Infinity.
    return [_NULL if value is None else repr(float(value)) for value in values]


def _boolean_cells(values: list[Any]) -> list[str]:
    return [_NULL if value is None else ("t" if value else "f") for value in values]


def _moment_cells(values: list[Any]) -> list[str]:
    # A bulk write has one moment: written out once.
    text = {value: value.isoformat(" ") for value in set(values) if value is not None}
    return [_NULL if value is None else text[value] for value in values]


def _column_encoder(column_type: Any) -> Callable[[list[Any]], list[str]]:
    if isinstance(column_type, Boolean):
        return _boolean_cells
    if isinstance(column_type, Integer):
        return _integer_cells
    if isinstance(column_type, Float):
        return _float_cells
    if isinstance(column_type, (DateTime, Date)):
        return _moment_cells
    return _text_cells  # strings, and JSON given as encoded text


def copy_text(table: Table, rows: Rows) -> CopyText:
    """``rows`` (as for :func:`insert_rows`) encoded for PostgreSQL's ``COPY … FROM STDIN``.

    Pure Python with no connection, so that a worker process can do it.
    """
    columns = tuple(rows[0]) if rows else ()
    cells = [_column_encoder(table.c[name].type)([row[name] for row in rows])
             for name in columns]
    lines = list(map("\t".join, zip(*cells, strict=True)))
    lines.append("")  # each row ends with a line break; no rows, no bytes
    return CopyText(columns, "\n".join(lines).encode())


@dataclass(frozen=True)
class _Connection:
    """The session's own driver connection (its transaction), and its dialect."""

    driver: Any
    dialect: Dialect

    @classmethod
    def of(cls, db: Session) -> _Connection:
        return cls(db.connection().connection.driver_connection, db.get_bind().dialect)


def _date_processors(dialect: Dialect, table: Table,
                     columns: Sequence[str]) -> list[tuple[int, Callable[[Any], Any]]]:
    """Converters of the date columns, the only values the drivers cannot take as they are
    (SQLite stores SQLAlchemy's own text form); memoised, as a bulk write has one timestamp."""
    found = []
    for position, name in enumerate(columns):
        column_type = table.c[name].type
        if not isinstance(column_type, (DateTime, Date)):
            continue
        processor = column_type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            found.append((position, cache(processor)))
    return found


def _driver_rows(dialect: Dialect, table: Table, columns: Sequence[str],
                 rows: Rows) -> Iterable[tuple[Any, ...]]:
    pick = itemgetter(*columns)
    processors = _date_processors(dialect, table, columns)
    if len(columns) == 1:
        return ((pick(row),) for row in rows)
    if not processors:
        return (pick(row) for row in rows)
    return (_processed(pick(row), processors) for row in rows)


def _processed(values: tuple[Any, ...],
               processors: list[tuple[int, Callable[[Any], Any]]]) -> tuple[Any, ...]:
    cells = list(values)
    for position, processor in processors:
        cells[position] = processor(cells[position])
    return tuple(cells)


def _write(connection: _Connection, table: Table, rows: Rows | CopyText) -> None:
    if not rows:
        return
    postgresql = connection.dialect.name == "postgresql"
    if postgresql and connection.driver.autocommit:  # a read session: each COPY would commit
        raise RuntimeError("bulk inserts need a write session's transaction")
    if isinstance(rows, CopyText):
        if not postgresql:
            raise ValueError(f"COPY text given for {connection.dialect.name}")
        with _copy(connection, table, rows.columns) as copy:
            copy.write(rows.data)
        return
    columns = list(rows[0])
    tuples = _driver_rows(connection.dialect, table, columns, rows)
    if postgresql:
        with _copy(connection, table, columns) as copy:
            for values in tuples:
                copy.write_row(values)
        return
    marks = ", ".join("?" for _ in columns)
    connection.driver.executemany(
        f'INSERT INTO "{table.name}" ({_column_list(columns)}) VALUES ({marks})', tuples)


def _column_list(columns: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in columns)


@contextmanager
def _copy(connection: _Connection, table: Table, columns: Sequence[str]) -> Iterator[Any]:
    with connection.driver.cursor() as cursor, cursor.copy(
            f'COPY "{table.name}" ({_column_list(columns)}) FROM STDIN') as copy:
        yield copy


def insert_rows(db: Session, table: Table, rows: Rows | CopyText) -> None:
    """Insert ``rows`` (dictionaries with the same keys: column names) into ``table``.

    Values are what the driver takes, and JSON columns take text already encoded with
    :func:`isofind.db.encode_json`. Column defaults do not apply; give every column that
    needs a value. On PostgreSQL the rows may come as :func:`copy_text`.
    """
    _write(_Connection.of(db), table, rows)


class BackgroundInserts:
    """:func:`insert_rows` on a thread of its own, in order, while the caller builds the next
    rows: the drivers let go of the GIL while the database works (SQLite's engine, the round
    trips to PostgreSQL), so on two cores building and storing overlap.

    Until the block ends the caller must not use the session: the thread is using its
    connection. The first error raised by a write is raised again when the block ends. On
    SQLite, the transaction's pages are copied from the WAL into the database file after its
    commit, on another thread (:func:`isofind.db.defer_checkpoint`).
    """

    def __init__(self, db: Session, depth: int = 2) -> None:
        defer_checkpoint(db)
        self._connection = _Connection.of(db)
        self._batches: queue.Queue[tuple[Table, Rows | CopyText] | None] = queue.Queue(
            maxsize=depth)
        self._error: BaseException | None = None
        self._abandoned = False  # the caller failed: its transaction is lost, stop writing
        self._thread = threading.Thread(target=self._run, name="bulk-inserts", daemon=True)

    def _run(self) -> None:
        while (batch := self._batches.get()) is not None:
            if self._error is None and not self._abandoned:
                try:
                    _write(self._connection, *batch)
                except BaseException as error:  # handed over to the caller's thread
                    self._error = error

    def insert(self, table: Table, rows: Rows | CopyText) -> None:
        if self._error is not None:
            raise self._error
        self._batches.put((table, rows))

    def __enter__(self) -> BackgroundInserts:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self._abandoned = kind is not None
        self._batches.put(None)
        self._thread.join()
        if self._error is not None and kind is None:
            raise self._error


def reserve_ids(db: Session, table: Table, count: int) -> list[int]:
    """``count`` new values of ``table``'s integer primary key ``id``, for :func:`insert_rows`.

    PostgreSQL draws them from the column's sequence. SQLite continues after the highest id,
    as it would itself: the write transaction holds the database lock, so nobody else can
    take them meanwhile.
    """
    if count <= 0:
        return []
    if db.get_bind().dialect.name == "postgresql":
        # The sequence's name looked up once (per value it cost 0.3 s per 100,000), and the
        # values returned as one array (as rows they cost 0.1 s more).
        sequence = db.scalar(select(func.pg_get_serial_sequence(table.name, "id")))
        return list(db.scalar(select(func.array_agg(func.nextval(sequence)))
                              .select_from(func.generate_series(1, count))))
    highest = db.scalar(select(func.max(table.c.id))) or 0
    return list(range(highest + 1, highest + count + 1))


STATISTICS_AFTER = 1000
"""Rows added by one bulk write from which PostgreSQL's planner statistics are refreshed."""


def refresh_statistics(db: Session, tables: Iterable[Table], added: int) -> None:
    """Refresh PostgreSQL's statistics of ``tables`` after a bulk write of ``added`` rows.

    Autovacuum may be off, or a minute away: until then the planner takes a table that grew
    from nothing to 100,000 rows for empty, and a statement that psycopg has prepared keeps a
    generic plan made for the empty table. One such plan made a re-import of 100,000 samples
    take 285 s instead of 2 s to find the stored names. ANALYZE in the import's transaction
    counts its own rows, and a change of statistics makes PostgreSQL plan cached statements
    again. SQLite keeps no statistics unless asked, and plans these queries by their indexes.

    ANALYZE's lock stops only another ANALYZE or a VACUUM: a second large import reaching this
    point waits for the first to commit, and reads and writes go on.
    """
    if added < STATISTICS_AFTER or db.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        db.execute(text(f'ANALYZE "{table.name}"'))
