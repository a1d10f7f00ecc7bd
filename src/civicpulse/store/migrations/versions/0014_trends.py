"""Trends: per-submission facts, counts per period and cell, distinct senders per period and cell.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KEYS = ("unit", "period", "topic", "province", "channel", "sentiment")


def _keys() -> list[sa.Column]:
    return [
        sa.Column("unit", sa.String(4), nullable=False),
        sa.Column("period", sa.String(13), nullable=False),
        sa.Column("topic", sa.String(100), nullable=False),
        sa.Column("province", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("sentiment", sa.String(16), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "trend_facts",
        sa.Column("submission_id", Id, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("hour", sa.String(13), nullable=False),
        sa.Column("topic", sa.String(100), nullable=False),
        sa.Column("province", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("sentiment", sa.String(16), nullable=False),
        sa.Column("sender", sa.String(80), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("campaign", Id, nullable=True),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("submission_id"),
    )
    op.create_index("ix_trend_facts_day", "trend_facts", ["day"])
    op.create_index("ix_trend_facts_campaign", "trend_facts", ["campaign"])
    op.create_table(
        "trend_counts",
        *_keys(),
        sa.Column("submissions", sa.Integer(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEYS),
    )
    op.create_table(
        "trend_senders",
        *_keys(),
        sa.Column("sender", sa.String(80), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEYS, "sender"),
    )


def downgrade() -> None:
    op.drop_table("trend_senders")
    op.drop_table("trend_counts")
    op.drop_index("ix_trend_facts_campaign", table_name="trend_facts")
    op.drop_index("ix_trend_facts_day", table_name="trend_facts")
    op.drop_table("trend_facts")
