"""Cases: the agencies directory, cases with their workflow state and SLA clock, the submissions
each case handles, and internal notes.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name_vi", sa.String(500), nullable=False),
        sa.Column("name_en", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("parent", sa.String(64), nullable=True),
        sa.Column("provinces", sa.JSON(), nullable=False),
        sa.Column("communes", sa.JSON(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("days_off", sa.JSON(), nullable=False),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "cases",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("case_type", sa.String(16), nullable=False),
        sa.Column("complex", sa.Boolean(), nullable=False),
        sa.Column("topic", sa.String(100), nullable=True),
        sa.Column("agency", sa.String(100), nullable=True),
        sa.Column("handler", sa.String(100), nullable=True),
        sa.Column("clock_start", Moment, nullable=False),
        sa.Column("due_at", Moment, nullable=True),
        sa.Column("warn_at", Moment, nullable=True),
        sa.Column("accept_due_at", Moment, nullable=True),
        sa.Column("answer_due_at", Moment, nullable=True),
        sa.Column("accepted_at", Moment, nullable=True),
        sa.Column("answered_at", Moment, nullable=True),
        sa.Column("closed_at", Moment, nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("escalated_to", sa.String(100), nullable=True),
        sa.Column("escalated_at", Moment, nullable=True),
        sa.Column("merged_into", Id, nullable=True),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
        sa.ForeignKeyConstraint(["merged_into"], ["cases.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_cases_state", "cases", ["state"])
    op.create_index("ix_cases_agency", "cases", ["agency"])
    op.create_index("ix_cases_handler", "cases", ["handler"])
    op.create_index("ix_cases_escalated_to", "cases", ["escalated_to"])
    op.create_index("ix_cases_open_due", "cases", ["state", "due_at"])
    op.create_table(
        "case_members",
        sa.Column("submission_id", Id, nullable=False),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("added_at", Moment, nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("submission_id"),
    )
    op.create_index("ix_case_members_case_id", "case_members", ["case_id"])
    op.create_table(
        "case_notes",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("author", sa.String(254), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_notes_case_id", "case_notes", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_case_notes_case_id", "case_notes")
    op.drop_table("case_notes")
    op.drop_index("ix_case_members_case_id", "case_members")
    op.drop_table("case_members")
    for name in (
        "ix_cases_open_due",
        "ix_cases_escalated_to",
        "ix_cases_handler",
        "ix_cases_agency",
        "ix_cases_state",
    ):
        op.drop_index(name, "cases")
    op.drop_table("cases")
    op.drop_table("agencies")
