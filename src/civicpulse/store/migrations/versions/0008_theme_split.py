"""Theme decisions: a split names the ids of the themes it makes.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("theme_decisions") as batch:
        batch.add_column(sa.Column("children", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("theme_decisions") as batch:
        batch.drop_column("children")
