"""import speed: the current version stored once, lz4 documents, no foreign key on isotope_values

Revision ID: 0007_import_speed
Revises: 0006_merge
Create Date: 2026-11-22 02:00:00.000000

``objects`` holds each object's current version and ``object_versions`` held every version,
the current one included: each object's data was written twice, which made half of a
100,000-sample import (issue 4). As in SampleDB (``objects_current`` and
``objects_previous``), ``object_versions`` now keeps the versions an object had before its
current one; a new version moves the current one there first.

On PostgreSQL the JSONB documents of both tables are compressed with lz4 where the server
has it: pglz took a third of the time PostgreSQL spent storing a document (COPY of 20,000
isotope samples: 8.0 s with pglz, 5.2 s with lz4). Documents stored earlier keep their
compression until rewritten; both read back the same.

``isotope_values`` loses its foreign key to ``sample_index``. Both are derived from the
current version and written and dropped together (``isofind.samples.index``); PostgreSQL
checked the key with one query per value, which cost more than storing the value (COPY of
120,000 values: 4.3 s with the key, 1.7 s without).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_import_speed"
down_revision: str | tuple[str, ...] | None = "0006_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DOCUMENT_COLUMNS = (("objects", "data"), ("object_versions", "data"))
_VALUE_KEY = "fk_isotope_values_sample_id_sample_index"


def _has_lz4(bind: sa.engine.Connection) -> bool:
    return bool(bind.execute(sa.text(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
        "WHERE name = 'default_toast_compression'")).scalar())


def _set_compression(method: str) -> None:
    for table, column in _DOCUMENT_COLUMNS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}")


def upgrade() -> None:
    op.execute(
        "DELETE FROM object_versions WHERE EXISTS (SELECT 1 FROM objects "
        "WHERE objects.id = object_versions.object_id "
        "AND objects.version_id = object_versions.version_id)")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and _has_lz4(bind):
        _set_compression("lz4")
    # Rebuilding isotope_values on SQLite is safe: no table refers to it.
    with op.batch_alter_table("isotope_values") as batch_op:
        batch_op.drop_constraint(_VALUE_KEY, type_="foreignkey")


def downgrade() -> None:
    op.execute("DELETE FROM isotope_values WHERE sample_id NOT IN "
               "(SELECT sample_id FROM sample_index)")
    with op.batch_alter_table("isotope_values") as batch_op:
        batch_op.create_foreign_key(_VALUE_KEY, "sample_index", ["sample_id"], ["sample_id"],
                                    ondelete="CASCADE")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _set_compression("pglz")
    op.execute(
        "INSERT INTO object_versions (object_id, version_id, action_id, schema_digest, data, "
        "user_id, utc_datetime) SELECT id, version_id, action_id, schema_digest, data, user_id, "
        "utc_datetime FROM objects")
