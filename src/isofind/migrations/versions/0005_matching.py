"""matching: reference geographic zones and stored analysis reports

Revision ID: 0005_matching
Revises: 0004_samples
Create Date: 2026-11-22 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0005_matching'
down_revision: str | tuple[str, ...] | None = '0004_samples'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table('zones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('geometry', JSON, nullable=False),
    sa.Column('prior_weight', sa.Float(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_zones_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_zones_updated_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zones')),
    sa.UniqueConstraint('name', name=op.f('uq_zones_name'))
    )
    op.create_table('matching_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('route', sa.String(length=80), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=True),
    sa.Column('sample_name', sa.Text(), nullable=True),
    sa.Column('algorithm', sa.String(length=20), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('engine_version', sa.String(length=20), nullable=False),
    sa.Column('index_generation', sa.Integer(), nullable=False),
    sa.Column('inputs', JSON, nullable=False),
    sa.Column('options', JSON, nullable=False),
    sa.Column('result', JSON, nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_matching_reports_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matching_reports'))
    )
    with op.batch_alter_table('matching_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_matching_reports_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_matching_reports_sample_id'), ['sample_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_matching_reports_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('matching_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_matching_reports_user_id'))
        batch_op.drop_index(batch_op.f('ix_matching_reports_sample_id'))
        batch_op.drop_index(batch_op.f('ix_matching_reports_created_at'))

    op.drop_table('matching_reports')
    op.drop_table('zones')
