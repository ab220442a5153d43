"""Bytes → text → rows: encoding, delimiter and physical line numbers."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

DELIMITERS = (",", ";", "\t")
_SNIFF_CHARS = 64_000
_SNIFF_ROWS = 50


@dataclass(frozen=True, slots=True)
class DecodedText:
    text: str
    encoding: str


def decode(raw: bytes) -> DecodedText:
    """Decode in a fixed order: a BOM, then UTF-8, then cp1252, then Latin-1.

    No statistical detector: they read French Latin-1 `è` as Czech `č`. Valid UTF-8 is almost
    never accidental in Latin-1 text, and cp1252 is what French Excel writes; Latin-1 only
    catches the five bytes cp1252 leaves undefined.
    """
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return DecodedText(raw[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig")
        except UnicodeDecodeError:
            raw = raw[len(codecs.BOM_UTF8):]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export; UTF-16 without its BOM is not guessed.
        try:
            return DecodedText(raw.decode("utf-16"), "utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8", "cp1252"):
        try:
            return DecodedText(raw.decode(encoding), encoding)
        except UnicodeDecodeError:
            continue
    return DecodedText(raw.decode("latin-1"), "latin-1")


def _complete_lines(text: str) -> str:
    head = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in head:
        head = head[: head.rindex("\n")]
    return head


def _delimiter_score(sample: str, delimiter: str) -> tuple[int, int]:
    rows = [row for row in _limited_rows(sample, delimiter) if any(cell.strip() for cell in row)]
    if not rows or len(rows[0]) < 2:
        return (0, 0)
    width = len(rows[0])
    consistent = sum(1 for row in rows if len(row) == width)
    return (consistent, width)


def _limited_rows(sample: str, delimiter: str) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    try:
        for index, row in enumerate(reader):
            if index >= _SNIFF_ROWS:
                return
            yield row
    except csv.Error:
        return


def sniff_delimiter(text: str) -> str:
    """The delimiter among `,` `;` tab that splits the first rows into the most consistent
    number of columns (then the most columns); `,` for a one-column file.

    Counting characters alone fails on French files, where `;` separates `45,2` decimals.
    """
    sample = _complete_lines(text)
    scores = {delimiter: _delimiter_score(sample, delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: scores[delimiter])
    return best if scores[best] > (0, 0) else ","


@dataclass(frozen=True, slots=True)
class Row:
    line: int  # first physical line of the record, header = 1
    cells: list[str]


class UnreadableRow(Exception):
    """The csv module gave up at `line` (a NUL byte, a stray quote in strict places)."""

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}")


def read_rows(text: str, delimiter: str) -> Iterator[Row]:
    """Records of the file with the line each starts on; quoted cells may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next_line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise UnreadableRow(next_line, str(error)) from error
        yield Row(next_line, cells)
        next_line = reader.line_num + 1
