"""near_duplicates: one MinHash signature and near-duplicate group per analysed submission

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "near_duplicates",
        sa.Column("submission_id", _ID, nullable=False),
        sa.Column("scheme", sa.String(length=32), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("group_id", _ID, nullable=False),
        sa.Column("duplicate_of", _ID, nullable=True),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("linked_groups", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("submission_id"),
    )
    with op.batch_alter_table("near_duplicates") as batch:
        batch.create_index("ix_near_duplicates_group_id", ["group_id"])
        batch.create_index("ix_near_duplicates_scheme_created", ["scheme", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("near_duplicates") as batch:
        batch.drop_index("ix_near_duplicates_scheme_created")
        batch.drop_index("ix_near_duplicates_group_id")
    op.drop_table("near_duplicates")
