"""media: uploaded image assets and their attachments to products (later stays, places, reports)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 00:30:00
"""

import sqlalchemy as sa
from alembic import op

import service.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TENANT_FK = dict(ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "media_assets",
        sa.Column("id", ID, nullable=False),
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Enum("processing", "ready", "failed", name="assetstatus", native_enum=False,
                                    length=12), nullable=False),
        sa.Column("original_format", sa.String(length=8), nullable=False),
        sa.Column("original_name", sa.String(length=200), nullable=False),
        sa.Column("bytes", ID, nullable=False),
        sa.Column("width", ID, nullable=True),
        sa.Column("height", ID, nullable=True),
        sa.Column("variants", sa.JSON(), nullable=False),
        sa.Column("alt_vi", sa.String(length=300), nullable=False),
        sa.Column("alt_en", sa.String(length=300), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=False),
        sa.Column("uploaded_by_user_id", ID, nullable=True),
        sa.Column("created_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_media_assets_tenant_id_tenants"),
                                **TENANT_FK),
        sa.ForeignKeyConstraint(["uploaded_by_user_id"], ["users.id"],
                                name=op.f("fk_media_assets_uploaded_by_user_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_assets")),
        sa.UniqueConstraint("tenant_id", "content_hash", name=op.f("uq_media_assets_tenant_id_content_hash")),
    )
    op.create_index(op.f("ix_media_assets_tenant_id"), "media_assets", ["tenant_id"])
    op.create_table(
        "media_attachments",
        sa.Column("id", ID, nullable=False),
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("owner_type", sa.String(length=20), nullable=False),
        sa.Column("owner_id", ID, nullable=False),
        sa.Column("asset_id", ID, nullable=False),
        sa.Column("position", ID, nullable=False),
        sa.Column("created_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_media_attachments_tenant_id_tenants"),
                                **TENANT_FK),
        sa.ForeignKeyConstraint(["asset_id"], ["media_assets.id"],
                                name=op.f("fk_media_attachments_asset_id_media_assets"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_attachments")),
        sa.UniqueConstraint("owner_type", "owner_id", "asset_id",
                            name=op.f("uq_media_attachments_owner_type_owner_id_asset_id")),
    )
    op.create_index(op.f("ix_media_attachments_tenant_id"), "media_attachments", ["tenant_id"])
    op.create_index(op.f("ix_media_attachments_asset_id"), "media_attachments", ["asset_id"])
    op.create_index("ix_media_attachments_owner", "media_attachments",
                    ["tenant_id", "owner_type", "owner_id", "position"])
    if op.get_bind().dialect.name == "postgresql":
        for table in ("media_assets", "media_attachments"):
            for statement in service.db.rls_statements(table):
                op.execute(statement)


def downgrade() -> None:
    op.drop_table("media_attachments")
    op.drop_table("media_assets")
