"""Alerts: rules per user, fired alerts, deliveries.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("owner_id", Id, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(100), nullable=True),
        sa.Column("province", sa.String(100), nullable=True),
        sa.Column("theme", Id, nullable=True),
        sa.Column("query", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("level", sa.Float(), nullable=True),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("webhook_url", sa.String(2000), nullable=True),
        sa.Column("webhook_secret", sa.String(500), nullable=True),  # Fernet ciphertext
        sa.Column("digest", sa.String(8), nullable=False),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
        sa.Column("digest_at", Moment, nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alert_rules_owner_id", "alert_rules", ["owner_id"])
    op.create_table(
        "alerts",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("rule_id", Id, nullable=False),
        sa.Column("owner_id", Id, nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("fired_at", Moment, nullable=False),
        sa.Column("series", sa.JSON(), nullable=False),
        sa.Column("start", sa.String(13), nullable=False),
        sa.Column("end", sa.String(13), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("digested_at", Moment, nullable=True),
        sa.Column("acked_at", Moment, nullable=True),
        sa.Column("acked_by", sa.String(254), nullable=True),
        sa.ForeignKeyConstraint(["rule_id"], ["alert_rules.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rule_id", "key"),
    )
    op.create_index("ix_alerts_owner_fired", "alerts", ["owner_id", "fired_at"])
    op.create_table(
        "alert_deliveries",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("rule_id", Id, nullable=False),
        sa.Column("alert_ids", sa.JSON(), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("response_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("next_at", Moment, nullable=False),
        sa.Column("tried_at", Moment, nullable=True),
        sa.ForeignKeyConstraint(["rule_id"], ["alert_rules.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alert_deliveries_rule_id", "alert_deliveries", ["rule_id"])
    op.create_index("ix_alert_deliveries_due", "alert_deliveries", ["status", "next_at"])


def downgrade() -> None:
    op.drop_index("ix_alert_deliveries_due", "alert_deliveries")
    op.drop_index("ix_alert_deliveries_rule_id", "alert_deliveries")
    op.drop_table("alert_deliveries")
    op.drop_index("ix_alerts_owner_fired", "alerts")
    op.drop_table("alerts")
    op.drop_index("ix_alert_rules_owner_id", "alert_rules")
    op.drop_table("alert_rules")
