"""reference library: custom elements, methods, pipelines, sample links and progress, publications

Revision ID: 0005_library
Revises: 0004_samples
Create Date: 2026-11-23 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_library"
down_revision: str | tuple[str, ...] | None = "0004_samples"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _created_by(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"],
                                name=op.f(f"fk_{table}_created_by_users")),
    ]


def upgrade() -> None:
    op.create_table(
        "custom_elements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=3), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_fr", sa.String(length=200), nullable=True),
        sa.Column("atomic_number", sa.Integer(), nullable=True),
        sa.Column("isotopes", _json(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        *_created_by("custom_elements"),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_elements")),
        sa.UniqueConstraint("symbol", name=op.f("uq_custom_elements_symbol")),
    )

    op.create_table(
        "methods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=True),
        sa.Column("element", sa.String(length=20), nullable=True),
        sa.Column("target_matrices", _json(), nullable=False),
        sa.Column("duration", sa.String(length=200), nullable=True),
        sa.Column("duration_hours", sa.Float(), nullable=True),
        sa.Column("yield_min_pct", sa.Float(), nullable=True),
        sa.Column("yield_max_pct", sa.Float(), nullable=True),
        sa.Column("equipment", _json(), nullable=True),
        sa.Column("steps", _json(), nullable=False),
        sa.Column("reference_doi", sa.String(length=300), nullable=True),
        sa.Column("reference_citation", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        *_created_by("methods"),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_methods")),
        sa.UniqueConstraint("key", name=op.f("uq_methods_key")),
    )
    with op.batch_alter_table("methods", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_methods_element"), ["element"], unique=False)
        batch_op.create_index(batch_op.f("ix_methods_type"), ["type"], unique=False)

    op.create_table(
        "pipelines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("element", sa.String(length=20), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        *_created_by("pipelines"),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipelines")),
        sa.UniqueConstraint("key", name=op.f("uq_pipelines_key")),
    )
    with op.batch_alter_table("pipelines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pipelines_element"), ["element"], unique=False)

    op.create_table(
        "pipeline_stages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("method_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["method_id"], ["methods.id"],
                                name=op.f("fk_pipeline_stages_method_id_methods")),
        sa.ForeignKeyConstraint(["pipeline_id"], ["pipelines.id"],
                                name=op.f("fk_pipeline_stages_pipeline_id_pipelines"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_stages")),
        sa.UniqueConstraint("pipeline_id", "position",
                            name=op.f("uq_pipeline_stages_pipeline_id")),
    )
    with op.batch_alter_table("pipeline_stages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pipeline_stages_method_id"), ["method_id"],
                              unique=False)

    op.create_table(
        "sample_methods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("method_id", sa.Integer(), nullable=True),
        sa.Column("pipeline_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("assigned_by", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("method_id IS NOT NULL OR pipeline_id IS NOT NULL",
                           name=op.f("ck_sample_methods_method_or_pipeline")),
        sa.ForeignKeyConstraint(["assigned_by"], ["users.id"],
                                name=op.f("fk_sample_methods_assigned_by_users")),
        sa.ForeignKeyConstraint(["method_id"], ["methods.id"],
                                name=op.f("fk_sample_methods_method_id_methods")),
        sa.ForeignKeyConstraint(["pipeline_id"], ["pipelines.id"],
                                name=op.f("fk_sample_methods_pipeline_id_pipelines")),
        sa.ForeignKeyConstraint(["sample_id"], ["objects.id"],
                                name=op.f("fk_sample_methods_sample_id_objects"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample_methods")),
    )
    with op.batch_alter_table("sample_methods", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sample_methods_method_id"), ["method_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_sample_methods_pipeline_id"), ["pipeline_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_sample_methods_sample_id"), ["sample_id"],
                              unique=False)

    op.create_table(
        "sample_pipelines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("assigned_by", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["assigned_by"], ["users.id"],
                                name=op.f("fk_sample_pipelines_assigned_by_users")),
        sa.ForeignKeyConstraint(["link_id"], ["sample_methods.id"],
                                name=op.f("fk_sample_pipelines_link_id_sample_methods"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["pipeline_id"], ["pipelines.id"],
                                name=op.f("fk_sample_pipelines_pipeline_id_pipelines")),
        sa.ForeignKeyConstraint(["sample_id"], ["objects.id"],
                                name=op.f("fk_sample_pipelines_sample_id_objects"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample_pipelines")),
        sa.UniqueConstraint("link_id", name=op.f("uq_sample_pipelines_link_id")),
        sa.UniqueConstraint("sample_id", name=op.f("uq_sample_pipelines_sample_id")),
    )
    with op.batch_alter_table("sample_pipelines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sample_pipelines_pipeline_id"), ["pipeline_id"],
                              unique=False)

    op.create_table(
        "sample_pipeline_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_pipeline_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("operator", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sample_pipeline_id"], ["sample_pipelines.id"],
            name=op.f("fk_sample_pipeline_progress_sample_pipeline_id_sample_pipelines"),
            ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"],
                                name=op.f("fk_sample_pipeline_progress_updated_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample_pipeline_progress")),
        sa.UniqueConstraint("sample_pipeline_id", "position",
                            name=op.f("uq_sample_pipeline_progress_sample_pipeline_id")),
    )

    op.create_table(
        "publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doi", sa.String(length=300), nullable=True),
        sa.Column("doi_key", sa.String(length=300), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("authors", _json(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("journal", sa.String(length=500), nullable=True),
        sa.Column("citation", sa.Text(), nullable=True),
        *_created_by("publications"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publications")),
        sa.UniqueConstraint("doi_key", name=op.f("uq_publications_doi_key")),
    )


def downgrade() -> None:
    op.drop_table("publications")
    op.drop_table("sample_pipeline_progress")
    with op.batch_alter_table("sample_pipelines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sample_pipelines_pipeline_id"))
    op.drop_table("sample_pipelines")
    with op.batch_alter_table("sample_methods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sample_methods_sample_id"))
        batch_op.drop_index(batch_op.f("ix_sample_methods_pipeline_id"))
        batch_op.drop_index(batch_op.f("ix_sample_methods_method_id"))
    op.drop_table("sample_methods")
    with op.batch_alter_table("pipeline_stages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pipeline_stages_method_id"))
    op.drop_table("pipeline_stages")
    with op.batch_alter_table("pipelines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pipelines_element"))
    op.drop_table("pipelines")
    with op.batch_alter_table("methods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_methods_type"))
        batch_op.drop_index(batch_op.f("ix_methods_element"))
    op.drop_table("methods")
    op.drop_table("custom_elements")
