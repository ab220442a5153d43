"""permission generation: a counter bumped by the database on every change to who may read what

Revision ID: 0008_permission_generation
Revises: 0007_import_speed
Create Date: 2026-12-06 07:00:00.000000

Matching narrows its cached sources to what the viewer may read with one query over every
source (66-120 ms over 100,000 sources, most of an ``/analyze/manual``; issue 6). Its answer
can be kept as long as neither the sources (the index generation) nor any permission changed.
Triggers, not application code, bump this counter: a permission change made through a path
that forgot to bump it would leave a viewer reading what they may no longer read.

The tables are those :func:`isofind.permissions.service.holds` reads: the entries, the
memberships of groups and projects, the scientists of instruments and the actions that tie
objects to instruments (deleting a group or project cascades to its members, which fires
their triggers). PostgreSQL bumps once per statement, SQLite (which has no statement
triggers) once per row: 0.2-0.3 s more for the 100,000 entries of a 100,000-sample import.

On PostgreSQL the counter's row stays locked until the writing transaction ends, like the
index generation's. A transaction that moves both takes this one first (a new sample's
creator entry is written before its index rows); keep that order, or two such transactions
could wait for each other.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_permission_generation"
down_revision: str | tuple[str, ...] | None = "0007_import_speed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("object_permissions", "group_members", "project_members", "project_group_members",
          "instrument_scientists", "actions")
OPERATIONS = ("INSERT", "UPDATE", "DELETE")
BUMP = "UPDATE permission_generation SET generation = generation + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "permission_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permission_generation")),
    )
    op.execute("INSERT INTO permission_generation (id, generation) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION bump_permission_generation() RETURNS trigger "
                   f"LANGUAGE plpgsql AS $$ BEGIN {BUMP}; RETURN NULL; END $$")
        for table in TABLES:
            op.execute(f"CREATE TRIGGER bump_permission_generation AFTER INSERT OR UPDATE OR "
                       f"DELETE OR TRUNCATE ON {table} FOR EACH STATEMENT "
                       "EXECUTE FUNCTION bump_permission_generation()")
        return
    for table in TABLES:
        for operation in OPERATIONS:
            op.execute(f"CREATE TRIGGER bump_permission_generation_{table}_{operation.lower()} "
                       f"AFTER {operation} ON {table} BEGIN {BUMP}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER bump_permission_generation ON {table}")
        op.execute("DROP FUNCTION bump_permission_generation()")
    else:
        for table in TABLES:
            for operation in OPERATIONS:
                op.execute(
                    f"DROP TRIGGER bump_permission_generation_{table}_{operation.lower()}")
    op.drop_table("permission_generation")
