"""Stored spike detections and overview snapshots, so that the overview reads what was last found.

``spike_detection_runs``: one detection over every series per window (its last day);
``spike_detections``: the warnings of each series in it, with the count of changes the counts
hook noted on the series' days and the count the warnings were computed after;
``overview_snapshots``: the overview's figures per week and province, kept the same way.
On PostgreSQL, statistics on the near-duplicates' links as text, without which the planner takes
nearly every row for one with links and scans the table instead of ``ix_near_duplicates_linked``
(at every batch the counts hook analyses).

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

LINK_STATISTICS = (
    "CREATE STATISTICS IF NOT EXISTS st_near_duplicates_links ON (CAST(linked_groups AS VARCHAR)) "
    "FROM near_duplicates"
)


def upgrade() -> None:
    op.create_table(
        "spike_detection_runs",
        sa.Column("last_day", sa.String(10), nullable=False),
        sa.Column("first_day", sa.String(10), nullable=False),
        sa.Column("reads_from", sa.String(10), nullable=False),
        sa.Column("basis", sa.String(200), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("last_day"),
    )
    op.create_table(
        "spike_detections",
        sa.Column("last_day", sa.String(10), nullable=False),
        sa.Column("topic", sa.String(100), nullable=False),
        sa.Column("province", sa.String(100), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("seen", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("last_day", "topic", "province"),
    )
    op.create_table(
        "overview_snapshots",
        sa.Column("last_day", sa.String(10), nullable=False),
        sa.Column("province", sa.String(100), nullable=False),
        sa.Column("reads_from", sa.String(10), nullable=False),
        sa.Column("basis", sa.String(200), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("seen", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("last_day", "province"),
    )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(LINK_STATISTICS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS IF EXISTS st_near_duplicates_links")
    op.drop_table("overview_snapshots")
    op.drop_table("spike_detections")
    op.drop_table("spike_detection_runs")
