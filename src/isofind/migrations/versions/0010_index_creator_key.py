"""index creator key: sample_index.creator_id without its foreign key to users

Revision ID: 0010_index_creator_key
Revises: 0009_username_key
Create Date: 2026-12-06 12:00:00.000000

``sample_index`` is derived from ``objects`` (``isofind.samples.index``), and its
``creator_id`` is a copy of ``objects.creator_id``, whose foreign key already holds. Checking
the copy again cost PostgreSQL one lookup per sample: 100,000 of the 900,000 key checks of a
100,000-sample import, which took a quarter of the server's time (perf, issue 4).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_index_creator_key"
down_revision: str | tuple[str, ...] | None = "0009_username_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = "fk_sample_index_creator_id_users"


def upgrade() -> None:
    # Rebuilding sample_index on SQLite is safe: no table refers to it.
    with op.batch_alter_table("sample_index") as batch_op:
        batch_op.drop_constraint(_KEY, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("sample_index") as batch_op:
        batch_op.create_foreign_key(_KEY, "users", ["creator_id"], ["id"])
