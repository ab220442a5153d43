"""merge the library, matching, object speed and standards branches

Revision ID: 0006_merge
Revises: 0005_library, 0005_matching, 0005_object_speed, 0005_standards
Create Date: 2026-11-22 00:50:00.000000
"""

from collections.abc import Sequence

revision: str = "0006_merge"
down_revision: str | tuple[str, ...] | None = (
    "0005_library", "0005_matching", "0005_object_speed", "0005_standards")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
