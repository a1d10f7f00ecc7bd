"""Official documents and their passages.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("issuer", sa.String(300), nullable=True),
        sa.Column("number", sa.String(100), nullable=True),
        sa.Column("doc_type", sa.String(32), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("url", sa.String(2000), nullable=True),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("source_format", sa.String(8), nullable=False),
        sa.Column("filename", sa.String(300), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("supersedes", Id, nullable=True),
        sa.Column("superseded_by", Id, nullable=True),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["supersedes"], ["documents.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["superseded_by"], ["documents.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256"),
    )
    op.create_index("ix_documents_number", "documents", ["number"])
    op.create_table(
        "passages",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("document_id", Id, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_passages_document_id", "passages", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_passages_document_id", table_name="passages")
    op.drop_table("passages")
    op.drop_index("ix_documents_number", table_name="documents")
    op.drop_table("documents")
