"""Routing: the editable rules (topic x place x channel -> agency) and assignments as facts.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "routing_rules",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(100), nullable=True),
        sa.Column("province", sa.String(16), nullable=True),
        sa.Column("commune", sa.String(16), nullable=True),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("agency", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_routing_rules_position", "routing_rules", ["position"])
    op.create_table(
        "routing_facts",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("submission_id", Id, nullable=False),
        sa.Column("agency", sa.String(100), nullable=False),
        sa.Column("previous", sa.String(100), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_routing_facts_submission_id", "routing_facts", ["submission_id"])


def downgrade() -> None:
    op.drop_index("ix_routing_facts_submission_id", "routing_facts")
    op.drop_table("routing_facts")
    op.drop_index("ix_routing_rules_position", "routing_rules")
    op.drop_table("routing_rules")
