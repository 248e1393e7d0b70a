"""feeds: marketplace fields of products, a commune's feed settings

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 03:10:00
"""

from alembic import op
import sqlalchemy as sa
import service.db


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TENANT_TABLES = ["feed_settings"]


def upgrade() -> None:
    op.create_table('feed_settings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('access', sa.Enum('public', 'token', name='feedaccess', native_enum=False, length=10), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('token_prefix', sa.String(length=12), nullable=False),
    sa.Column('csv_preset', sa.String(length=40), nullable=False),
    sa.Column('csv_columns', sa.JSON(), nullable=False),
    sa.Column('updated_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_feed_settings_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_settings')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_feed_settings_tenant_id'))
    )
    with op.batch_alter_table('feed_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feed_settings_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('brand', sa.String(length=70), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('gtin', sa.String(length=14), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('weight_grams', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_check_constraint('weight_positive', 'weight_grams IS NULL OR weight_grams > 0')
    if op.get_bind().dialect.name == "postgresql":
        for table in TENANT_TABLES:
            for statement in service.db.rls_statements(table):
                op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_constraint('weight_positive', type_='check')
        batch_op.drop_column('weight_grams')
        batch_op.drop_column('gtin')
        batch_op.drop_column('brand')
    with op.batch_alter_table('feed_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feed_settings_tenant_id'))
    op.drop_table('feed_settings')
