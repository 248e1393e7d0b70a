"""outbox: side effects recorded with the change that causes them (search pushes, webhooks, emails)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 23:50:00
"""

import sqlalchemy as sa
from alembic import op

import service.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", ID, nullable=False),
        sa.Column("topic", sa.String(length=60), nullable=False),
        sa.Column("tenant_id", ID, nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("available_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", ID, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("dead_at", service.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    op.create_index("ix_outbox_messages_pending", "outbox_messages", ["delivered_at", "dead_at", "available_at"])
    op.create_index(op.f("ix_outbox_messages_tenant_id"), "outbox_messages", ["tenant_id"])


def downgrade() -> None:
    op.drop_table("outbox_messages")
