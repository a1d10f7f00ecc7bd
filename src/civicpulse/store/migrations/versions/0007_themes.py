"""Themes: runs, themes with stable ids, members, and analysts' decisions.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "theme_runs",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("slice_key", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("unassigned", sa.Integer(), nullable=False),
        sa.Column("unassigned_share", sa.Float(), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("space", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_theme_runs_slice_key", "theme_runs", ["slice_key"])
    op.create_table(
        "themes",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("run_id", Id, nullable=False),
        sa.Column("theme_id", Id, nullable=False),
        sa.Column("is_new", sa.Boolean(), nullable=False),
        sa.Column("label", sa.String(300), nullable=False),
        sa.Column("senders", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["theme_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_themes_run_theme", "themes", ["run_id", "theme_id"], unique=True)
    op.create_index("ix_themes_theme_id", "themes", ["theme_id"])
    op.create_table(
        "theme_members",
        sa.Column("run_id", Id, nullable=False),
        sa.Column("submission_id", Id, nullable=False),
        sa.Column("theme_id", Id, nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["theme_runs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "submission_id"),
    )
    op.create_index("ix_theme_members_submission_id", "theme_members", ["submission_id"])
    op.create_table(
        "theme_decisions",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("theme_id", Id, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("target_id", Id, nullable=True),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_theme_decisions_theme_id", "theme_decisions", ["theme_id"])


def downgrade() -> None:
    op.drop_index("ix_theme_decisions_theme_id", "theme_decisions")
    op.drop_table("theme_decisions")
    op.drop_index("ix_theme_members_submission_id", "theme_members")
    op.drop_table("theme_members")
    op.drop_index("ix_themes_theme_id", "themes")
    op.drop_index("ix_themes_run_theme", "themes")
    op.drop_table("themes")
    op.drop_index("ix_theme_runs_slice_key", "theme_runs")
    op.drop_table("theme_runs")
