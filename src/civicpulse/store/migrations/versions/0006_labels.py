"""Analysts' corrections of model outputs, stored as facts.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "labels",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("submission_id", Id, nullable=False),
        sa.Column("task", sa.String(32), nullable=False),
        sa.Column("value", sa.String(100), nullable=False),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_labels_submission_id", "labels", ["submission_id"])
    op.create_index("ix_labels_task", "labels", ["task"])


def downgrade() -> None:
    op.drop_index("ix_labels_task", "labels")
    op.drop_index("ix_labels_submission_id", "labels")
    op.drop_table("labels")
