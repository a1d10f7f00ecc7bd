"""Claim base (fact-checks, official statements), rumour signals, sourced responses.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("claim_reviewed", sa.Text(), nullable=False),
        sa.Column("rating", sa.String(200), nullable=False),
        sa.Column("url", sa.String(2000), nullable=True),
        sa.Column("author", sa.String(500), nullable=False),
        sa.Column("date_published", sa.String(40), nullable=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("appearances", sa.JSON(), nullable=False),
        sa.Column("first_appearance", sa.String(2000), nullable=True),
        sa.Column("jsonld", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fingerprint"),
    )
    op.create_table(
        "claim_passages",
        sa.Column("claim_id", Id, nullable=False),
        sa.Column("passage_id", Id, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("claim_id", "passage_id"),
    )
    op.create_table(
        "rumour_signals",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("submission_id", Id, nullable=False),
        sa.Column("claim_id", Id, nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(80), nullable=False),
        sa.Column("province", sa.String(100), nullable=False),
        sa.Column("received_at", Moment, nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_id", "claim_id"),
    )
    op.create_index("ix_rumour_signals_claim_id", "rumour_signals", ["claim_id"])
    op.create_index("ix_rumour_signals_received_at", "rumour_signals", ["received_at"])
    op.create_table(
        "claim_responses",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("claim_id", Id, nullable=False),
        sa.Column("submission_id", Id, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("quotes", sa.JSON(), nullable=False),
        sa.Column("office", sa.String(200), nullable=False),
        sa.Column("author", sa.String(254), nullable=False),
        sa.Column("approver", sa.String(254), nullable=True),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
        sa.Column("approved_at", Moment, nullable=True),
        sa.Column("published_at", Moment, nullable=True),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_claim_responses_claim_id", "claim_responses", ["claim_id"])
    op.create_index("ix_claim_responses_submission_id", "claim_responses", ["submission_id"])
    op.create_index("ix_claim_responses_status", "claim_responses", ["status"])


def downgrade() -> None:
    op.drop_table("claim_responses")
    op.drop_index("ix_rumour_signals_received_at", table_name="rumour_signals")
    op.drop_index("ix_rumour_signals_claim_id", table_name="rumour_signals")
    op.drop_table("rumour_signals")
    op.drop_table("claim_passages")
    op.drop_table("claims")
