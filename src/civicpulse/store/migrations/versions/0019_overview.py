"""Indexes the counts hook and the overview's warnings rely on at scale.

``ix_near_duplicates_linked`` holds only the near-duplicate rows that name linked groups (the
dedup stage stores "none" as JSON ``null``), so that campaign checks read the few links instead of
every row; ``trend_facts`` by topic and by province, then day, so that a warning's explanation
reads the facts of its own series only.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

HAS_LINKS = sa.text("linked_groups IS NOT NULL AND CAST(linked_groups AS VARCHAR) != 'null'")


def upgrade() -> None:
    op.create_index(
        "ix_near_duplicates_linked",
        "near_duplicates",
        ["group_id"],
        sqlite_where=HAS_LINKS,
        postgresql_where=HAS_LINKS,
    )
    op.create_index("ix_trend_facts_topic_day", "trend_facts", ["topic", "day"])
    op.create_index("ix_trend_facts_province_day", "trend_facts", ["province", "day"])


def downgrade() -> None:
    op.drop_index("ix_trend_facts_province_day", table_name="trend_facts")
    op.drop_index("ix_trend_facts_topic_day", table_name="trend_facts")
    op.drop_index("ix_near_duplicates_linked", table_name="near_duplicates")
