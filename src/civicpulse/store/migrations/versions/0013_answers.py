"""Answers to citizens: answer templates, answers (drafts, approvals, publication), the public
updates Open311 lists, citizens' feedback (satisfaction) and the e-mails of published answers.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "answer_templates",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("agency", sa.String(100), nullable=True),
        sa.Column("topic", sa.String(100), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index("ix_answer_templates_agency", "answer_templates", ["agency"])
    op.create_table(
        "case_answers",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("template_id", Id, nullable=True),
        sa.Column("batch", sa.String(36), nullable=True),
        sa.Column("author", sa.String(254), nullable=False),
        sa.Column("reviewer", sa.String(254), nullable=True),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("agency", sa.String(100), nullable=True),
        sa.Column("agency_name", sa.String(500), nullable=True),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("reviewed_at", Moment, nullable=True),
        sa.Column("published_at", Moment, nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_answers_case_id", "case_answers", ["case_id"])
    op.create_index("ix_case_answers_state", "case_answers", ["state"])
    op.create_table(
        "case_updates",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("agency_name", sa.String(500), nullable=True),
        sa.Column("answer_id", Id, nullable=True),
        sa.Column("created_at", Moment, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["answer_id"], ["case_answers.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_updates_case_id", "case_updates", ["case_id"])
    op.create_index("ix_case_updates_created_at", "case_updates", ["created_at"])
    op.create_table(
        "case_feedback",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("answer_id", Id, nullable=False),
        sa.Column("submission_id", Id, nullable=False),
        sa.Column("agency", sa.String(100), nullable=True),
        sa.Column("solved", sa.Boolean(), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["answer_id"], ["case_answers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("answer_id", "submission_id"),
    )
    op.create_index("ix_case_feedback_case_id", "case_feedback", ["case_id"])
    op.create_index("ix_case_feedback_agency", "case_feedback", ["agency"])
    op.create_table(
        "answer_mail",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("answer_id", Id, nullable=False),
        sa.Column("submission_id", Id, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", Moment, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", Moment, nullable=True),
        sa.ForeignKeyConstraint(["answer_id"], ["case_answers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("answer_id", "submission_id"),
    )
    op.create_index("ix_answer_mail_state", "answer_mail", ["state", "next_at"])


def downgrade() -> None:
    op.drop_index("ix_answer_mail_state", "answer_mail")
    op.drop_table("answer_mail")
    op.drop_index("ix_case_feedback_agency", "case_feedback")
    op.drop_index("ix_case_feedback_case_id", "case_feedback")
    op.drop_table("case_feedback")
    op.drop_index("ix_case_updates_created_at", "case_updates")
    op.drop_index("ix_case_updates_case_id", "case_updates")
    op.drop_table("case_updates")
    op.drop_index("ix_case_answers_state", "case_answers")
    op.drop_index("ix_case_answers_case_id", "case_answers")
    op.drop_table("case_answers")
    op.drop_index("ix_answer_templates_agency", "answer_templates")
    op.drop_table("answer_templates")
