"""Names that are unique case aside: users, groups, projects, zones, CRMs.

Compared in Python: SQL ``lower()`` folds ASCII letters only on SQLite, so ``Élise`` and
``élise`` (or ``Équipe`` twice) got past a check in SQL and then failed on the unique
constraint, a 500.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session


def caseless(name: str) -> str:
    """What two names share when they are the same name: case, Unicode composition and
    surrounding spaces aside."""
    return unicodedata.normalize("NFC", name.strip()).casefold()


def same_name(db: Session, id_column: InstrumentedAttribute[int],
              name_column: InstrumentedAttribute[str], name: str) -> tuple[int, str] | None:
    """The id and name of the row already named ``name``, case aside, or None. Reads every
    name of the table: tables named this way hold tens of rows, and are read on creation and
    renaming only."""
    wanted = caseless(name)
    for row_id, existing in db.execute(select(id_column, name_column)):
        if caseless(existing) == wanted:
            return row_id, existing
    return None
