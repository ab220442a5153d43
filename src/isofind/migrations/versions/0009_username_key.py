"""username key: usernames compared by a key computed in Python, not by SQL lower()

Revision ID: 0009_username_key
Revises: 0008_permission_generation
Create Date: 2026-12-06 08:00:00.000000

Sign-in and uniqueness compared ``lower(username)`` in SQL with the name lowered in Python.
SQLite's ``lower()`` folds ASCII letters only: ``Élise`` could not sign in as ``élise``, and
creating ``Élise`` twice got past the check and failed on the unique constraint (a 500, found
by schemathesis). ``username_key`` holds :func:`isofind.names.caseless` of each
username, under a unique index. Two existing names with the same key (possible on SQLite for
non-ASCII names) keep their accounts: the later one's key gets its id appended.
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_username_key"
down_revision: str | tuple[str, ...] | None = "0008_permission_generation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _name_key(name: str) -> str:
    # isofind.names.caseless as of this revision (a migration keeps its own rules)
    return unicodedata.normalize("NFC", name.strip()).casefold()


def upgrade() -> None:
    with op.batch_alter_table("users", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("username_key", sa.String(length=600), nullable=True))
    bind = op.get_bind()
    taken: set[str] = set()
    for user_id, username in bind.execute(sa.text(
            "SELECT id, username FROM users ORDER BY id")).all():
        key = _name_key(username)
        if key in taken:
            key = f"{key}#{user_id}"
        taken.add(key)
        bind.execute(sa.text("UPDATE users SET username_key = :key WHERE id = :id"),
                     {"key": key, "id": user_id})
    op.create_index(op.f("ix_users_username_key"), "users", ["username_key"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_users_username_key"), table_name="users")
    with op.batch_alter_table("users", recreate="never") as batch_op:
        batch_op.drop_column("username_key")
