"""Migrations build exactly the schema the tables declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import civicpulse.store.feeds
import civicpulse.store.neardup
import civicpulse.store.themes
import civicpulse.store.vectors  # noqa: F401 - registers its table on the metadata
from civicpulse.store.db import Database, alembic_config
from civicpulse.store.tables import Base


def test_upgraded_schema_matches_the_tables(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_downgrade_to_base_and_up_again(db: Database) -> None:
    config = alembic_config(db)
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    db.upgrade()  # safe to run again
