"""Accent- and case-folded search text, and the users' saved inbox views.

``search_texts`` keeps, per submission, ``textkit.folding.fold`` of its raw text and of its redacted
text; existing rows are folded here, in batches, with the same Python function the store uses
afterwards, so a search is one plain ``LIKE`` over stored strings on either database.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

from civicpulse.textkit.folding import fold

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BATCH = 2_000


def upgrade() -> None:
    op.create_table(
        "search_texts",
        sa.Column("submission_id", Id, nullable=False),
        sa.Column("text_folded", sa.Text(), nullable=False),
        sa.Column("redacted_folded", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("submission_id"),
    )
    op.create_table(
        "saved_views",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("query", sa.String(2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "name"),
    )
    op.create_index("ix_saved_views_user_id", "saved_views", ["user_id"])
    _fold_existing()


def _fold_existing() -> None:
    """Fold every stored submission's raw text and its ``pii`` stage's redacted text."""
    bind = op.get_bind()
    submissions = sa.table("submissions", sa.column("id", Id), sa.column("text", sa.Text()))
    annotations = sa.table(
        "annotations",
        sa.column("submission_id", Id),
        sa.column("stage", sa.String()),
        sa.column("data", sa.JSON()),
    )
    search = sa.table(
        "search_texts",
        sa.column("submission_id", Id),
        sa.column("text_folded", sa.Text()),
        sa.column("redacted_folded", sa.Text()),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(submissions.c.id, submissions.c.text, annotations.c.data)
            .select_from(
                submissions.outerjoin(
                    annotations,
                    sa.and_(annotations.c.submission_id == submissions.c.id, annotations.c.stage == "pii"),
                )
            )
            .where(submissions.c.id > last)
            .order_by(submissions.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        values = [
            {"submission_id": row.id, "text_folded": fold(row.text), "redacted_folded": _redacted(row.data)}
            for row in rows
        ]
        bind.execute(search.insert(), values)
        last = rows[-1].id


def _redacted(data: object) -> str | None:
    text = data.get("redacted_text") if isinstance(data, dict) else None
    return fold(text) if isinstance(text, str) else None


def downgrade() -> None:
    op.drop_index("ix_saved_views_user_id", table_name="saved_views")
    op.drop_table("saved_views")
    op.drop_table("search_texts")
