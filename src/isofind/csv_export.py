"""CSV exports that a spreadsheet opens safely, streamed in blocks."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_BLOCK = 64_000


def csv_safe(value: object) -> str:
    """Neutralise spreadsheet formulas: a leading quote makes the cell plain text.

    Numbers are written as they are: ``-2.5`` is a longitude, not a formula.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value)
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def stream_csv(columns: Iterable[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The header and the rows as CSV text, in blocks of about 64 kB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(columns)
    for row in rows:
        writer.writerow(csv_safe(value) for value in row)
        if buffer.tell() > _BLOCK:
            yield flush()
    yield flush()
