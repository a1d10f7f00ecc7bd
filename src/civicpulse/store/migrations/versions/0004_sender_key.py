"""A keyed hash of the sender's e-mail or phone, to count distinct senders without identities.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("sender_key", sa.String(64), nullable=True))
        batch.create_index("ix_submissions_sender_key", ["sender_key"])


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_index("ix_submissions_sender_key")
        batch.drop_column("sender_key")
