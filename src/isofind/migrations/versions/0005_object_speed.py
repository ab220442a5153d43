"""object speed: schemas stored once in object_schemas, referenced by digest

Revision ID: 0005_object_speed
Revises: 0004_samples
Create Date: 2026-11-22 00:30:00.000000

Every row of ``objects`` and ``object_versions`` carried its schema (3.5 kB for an isotope
sample); they now carry the digest of a row of ``object_schemas``. Existing schemas move
over with the JSON text they had, so reads answer exactly what they answered before.

On SQLite ``objects`` is altered in place, never rebuilt: dropping the old table during a
rebuild would delete every row referencing it (foreign keys are on, and cannot be turned
off inside the migration's transaction). Its new column therefore stays nullable.
"""

import hashlib
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_object_speed"
down_revision: str | tuple[str, ...] | None = "0004_samples"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _digest(schema: object) -> str:
    # isofind.objects.schema_store.schema_digest as of this revision. A later change there only
    # stores a second copy of a schema under its new digest: digests are keys, not meaning.
    text = json.dumps(schema, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _move_schemas_out(bind: sa.engine.Connection, postgres: bool) -> None:
    """Store each distinct schema once and point the rows of both tables at it."""
    as_json = "CAST(:schema AS JSONB)" if postgres else ":schema"
    texts = bind.execute(sa.text(
        "SELECT CAST(schema AS TEXT) FROM objects UNION "
        "SELECT CAST(schema AS TEXT) FROM object_versions")).scalars().all()
    stored: set[str] = set()
    for text in texts:
        digest = _digest(json.loads(text))
        if digest not in stored:
            # The text as it was stored, so the schema reads back unchanged.
            bind.execute(sa.text(
                f"INSERT INTO object_schemas (digest, schema) VALUES (:digest, {as_json})"),
                {"digest": digest, "schema": text})
            stored.add(digest)
        for table in ("objects", "object_versions"):
            bind.execute(sa.text(
                f"UPDATE {table} SET schema_digest = :digest WHERE schema = {as_json}"),
                {"digest": digest, "schema": text})


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    # A downgrade on SQLite leaves the table and the objects column behind (see there).
    left_behind = sa.inspect(bind).has_table("object_schemas")
    if not left_behind:
        op.create_table(
            "object_schemas",
            sa.Column("digest", sa.String(length=64), nullable=False),
            sa.Column("schema", _json(), nullable=False),
            sa.PrimaryKeyConstraint("digest", name=op.f("pk_object_schemas")),
        )
    if postgres:
        op.add_column("objects", sa.Column("schema_digest", sa.String(length=64), nullable=True))
    elif not left_behind:
        # A column with REFERENCES may be added in place as long as it defaults to NULL.
        op.execute(
            "ALTER TABLE objects ADD COLUMN schema_digest VARCHAR(64) "
            "CONSTRAINT fk_objects_schema_digest_object_schemas "
            "REFERENCES object_schemas (digest)")
    with op.batch_alter_table("object_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("schema_digest", sa.String(length=64), nullable=True))

    _move_schemas_out(bind, postgres)

    if postgres:
        op.create_foreign_key(op.f("fk_objects_schema_digest_object_schemas"), "objects",
                              "object_schemas", ["schema_digest"], ["digest"])
        op.drop_column("objects", "schema")
    else:
        op.execute("ALTER TABLE objects DROP COLUMN schema")  # in place (SQLite 3.35+)
    # Nothing references object_versions, so SQLite may rebuild it.
    with op.batch_alter_table("object_versions", schema=None) as batch_op:
        batch_op.alter_column("schema_digest", existing_type=sa.String(length=64),
                              nullable=False)
        batch_op.create_foreign_key(batch_op.f("fk_object_versions_schema_digest_object_schemas"),
                                    "object_schemas", ["schema_digest"], ["digest"])
        batch_op.drop_column("schema")


def _move_schemas_back(bind: sa.engine.Connection) -> None:
    for table in ("objects", "object_versions"):
        bind.execute(sa.text(
            f"UPDATE {table} SET schema = (SELECT object_schemas.schema FROM object_schemas "
            f"WHERE object_schemas.digest = {table}.schema_digest)"))


def downgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        op.add_column("objects", sa.Column("schema", _json(), nullable=True))
    else:
        op.execute("ALTER TABLE objects ADD COLUMN schema JSON NOT NULL DEFAULT '{}'")
    with op.batch_alter_table("object_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("schema", _json(), nullable=True))
    _move_schemas_back(bind)
    with op.batch_alter_table("object_versions", schema=None) as batch_op:
        batch_op.alter_column("schema", existing_type=_json(), nullable=False)
        batch_op.drop_constraint(batch_op.f("fk_object_versions_schema_digest_object_schemas"),
                                 type_="foreignkey")
        batch_op.drop_column("schema_digest")
    if postgres:
        op.alter_column("objects", "schema", existing_type=_json(), nullable=False)
        op.drop_constraint(op.f("fk_objects_schema_digest_object_schemas"), "objects",
                           type_="foreignkey")
        op.drop_column("objects", "schema_digest")
        op.drop_table("object_schemas")
    else:
        # SQLite cannot drop a column that has a foreign key without rebuilding ``objects``
        # (see above): the column and its (emptied) table stay, unused, until an upgrade.
        op.execute("UPDATE objects SET schema_digest = NULL")
        op.execute("DELETE FROM object_schemas")
