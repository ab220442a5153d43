"""Schemas of objects and versions, stored once per distinct schema and read through a cache.

A row of ``object_schemas`` never changes once written and its key is a digest of its
content, so a cache entry can never go stale: a digest names the same schema in every
transaction, even after the table was emptied and refilled. Entries hold what the database
returned (PostgreSQL reorders the keys of a JSONB document), so responses do not depend on
whether the cache was warm.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Insert, Text, cast, select
from sqlalchemy.orm import Session

from isofind.db import conflict_insert
from isofind.objects.json_codec import JSON_OBJECT, decode_json
from isofind.objects.models import ObjectSchema
from isofind.recent import Recent


@dataclass(frozen=True)
class StoredSchema:
    """A schema as read back from the database; shared between requests, so read only."""

    schema: dict[str, Any]
    json: bytes  # its JSON in API responses, serialized once


def schema_digest(schema: Mapping[str, Any]) -> str:
    """The key of ``schema`` in ``object_schemas``.

    The JSON is taken in the schema's own key order: responses show that order, so schemas
    that differ only in it are kept apart.
    """
    text = json.dumps(schema, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def store_schema(db: Session, schema: Mapping[str, Any], digest: str | None = None) -> str:
    """Make sure ``schema`` is stored; its digest (given or computed), for ``schema_digest``
    columns."""
    digest = digest or schema_digest(schema)
    # One statement whether or not it exists; concurrent writers of a new schema both succeed.
    db.execute(_schema_insert(db.get_bind().dialect.name), {"digest": digest, "schema": schema})
    return digest


@lru_cache(maxsize=2)
def _schema_insert(dialect_name: str) -> Insert:
    return conflict_insert(dialect_name, ObjectSchema.__table__).on_conflict_do_nothing(
        index_elements=["digest"])


# Keyed by dialect too: PostgreSQL returns the keys of a JSONB document in its own order.
_read: Recent[tuple[str, str], StoredSchema] = Recent(256)
_valid: Recent[str, bool] = Recent(1024)


def known_valid(digest: str) -> bool:
    """Whether the schema of ``digest`` passed validation before in this process.

    Validating the schema again on every write cost more than validating the data (profile
    of object creation, issue 3); a digest names one schema content, which stays valid.
    """
    return _valid.get(digest) is not None


def note_valid(digest: str) -> None:
    _valid.put(digest, True)


def stored_schemas(db: Session, digests: Iterable[str]) -> dict[str, StoredSchema]:
    """The stored schemas of ``digests`` (each must name a row)."""
    dialect = db.get_bind().dialect.name
    found: dict[str, StoredSchema] = {}
    missing: list[str] = []
    for digest in digests if isinstance(digests, set) else set(digests):
        entry = _read.get((dialect, digest))
        if entry is None:
            missing.append(digest)
        else:
            found[digest] = entry
    if missing:
        rows = db.execute(select(ObjectSchema.digest, cast(ObjectSchema.schema, Text))
                          .where(ObjectSchema.digest.in_(missing)))
        for digest, text in rows:
            schema = decode_json(text)
            entry = StoredSchema(schema, JSON_OBJECT.dump_json(schema))
            _read.put((dialect, digest), entry)
            found[digest] = entry
    return found


def stored_schema(db: Session, digest: str) -> StoredSchema:
    return stored_schemas(db, (digest,))[digest]
