"""The Alembic migrations and the models describe the same schema, on this backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from isofind.models import Base


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_every_model_table_exists_after_migration(database_url: str) -> None:
    engine = create_engine(database_url)
    present = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= present
    assert "alembic_version" in present
