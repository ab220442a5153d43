"""the built-in location type, -99 "Locations", as upstream SampleDB seeds it

Revision ID: 0003_locations
Revises: 0002
Create Date: 2026-11-22 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_locations"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_LOCATION_TYPE_ID = -99

location_types = sa.table(
    "location_types",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("location_name_singular", sa.String),
    sa.column("location_name_plural", sa.String),
    sa.column("admin_only", sa.Boolean),
    sa.column("enable_parent_location", sa.Boolean),
    sa.column("enable_sub_locations", sa.Boolean),
    sa.column("enable_object_assignments", sa.Boolean),
    sa.column("enable_responsible_users", sa.Boolean),
    sa.column("show_location_log", sa.Boolean),
)


def upgrade() -> None:
    op.bulk_insert(
        location_types,
        [
            {
                "id": DEFAULT_LOCATION_TYPE_ID,
                "name": "Locations",
                "location_name_singular": "Location",
                "location_name_plural": "Locations",
                "admin_only": False,
                "enable_parent_location": True,
                "enable_sub_locations": True,
                "enable_object_assignments": True,
                "enable_responsible_users": False,
                "show_location_log": False,
            }
        ],
    )


def downgrade() -> None:
    # Refused by the foreign key while locations of this type exist: nothing is lost silently.
    op.execute(location_types.delete().where(location_types.c.id == DEFAULT_LOCATION_TYPE_ID))
