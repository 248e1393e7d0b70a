"""search: the generic search index (FTS5 on SQLite, tsvector + pg_trgm on PostgreSQL)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 22:45:00
"""

import sqlite3

import sqlalchemy as sa
from alembic import op

import service.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# SQLite: FTS5 tables with the index's own rows as external content, kept in sync by triggers.
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(title_folded, body_folded, content='search_entries', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
]
SQLITE_TRIGRAM = [
    "CREATE VIRTUAL TABLE search_trgm USING fts5(title_folded, squashed, content='search_entries', "
    "content_rowid='id', tokenize='trigram')",
]


def _triggers(fts: str, columns: str) -> list[str]:
    new = ", ".join(f"new.{c.strip()}" for c in columns.split(","))
    old = ", ".join(f"old.{c.strip()}" for c in columns.split(","))
    return [
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON search_entries BEGIN "
        f"INSERT INTO {fts}(rowid, {columns}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON search_entries BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {columns}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE ON search_entries BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {columns}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {fts}(rowid, {columns}) VALUES (new.id, {new}); END",
    ]


POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER TABLE search_entries ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', title_folded), 'A') || "
    "setweight(to_tsvector('simple', coalesce(body_folded, '')), 'B')) STORED",
    "CREATE INDEX ix_search_entries_search_vector ON search_entries USING gin (search_vector)",
    "CREATE INDEX ix_search_entries_title_trgm ON search_entries USING gin (title_folded gin_trgm_ops)",
    "CREATE INDEX ix_search_entries_squashed_trgm ON search_entries USING gin (squashed gin_trgm_ops)",
]


def _has_trigram_tokenizer() -> bool:
    return sqlite3.sqlite_version_info >= (3, 34, 0)


def upgrade() -> None:
    op.create_table(
        "search_entries",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("object_id", ID, nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("title_folded", sa.String(length=300), nullable=False),
        sa.Column("body_folded", sa.Text(), nullable=False),
        sa.Column("squashed", sa.String(length=300), nullable=False),
        sa.Column("category_slug", sa.String(length=80), nullable=True),
        sa.Column("category_name", sa.String(length=120), nullable=True),
        sa.Column("ocop_stars", ID, nullable=True),
        sa.Column("price", ID, nullable=True),
        sa.Column("seller_slug", sa.String(length=80), nullable=True),
        sa.Column("seller_name", sa.String(length=160), nullable=True),
        sa.Column("commune_slug", sa.String(length=63), nullable=False),
        sa.Column("commune_name", sa.String(length=120), nullable=False),
        sa.Column("published_at", service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("image_key", sa.String(length=255), nullable=True),
        sa.Column("indexed_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", ID, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_search_entries_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_entries")),
        sa.UniqueConstraint("tenant_id", "kind", "object_id", name=op.f("uq_search_entries_tenant_id_kind_object_id")),
    )
    with op.batch_alter_table("search_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_entries_tenant_id"), ["tenant_id"], unique=False)

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_FTS + _triggers("search_fts", "title_folded, body_folded"):
            op.execute(statement)
        if _has_trigram_tokenizer():
            for statement in SQLITE_TRIGRAM + _triggers("search_trgm", "title_folded, squashed"):
                op.execute(statement)
    elif dialect == "postgresql":
        for statement in POSTGRES:
            op.execute(statement)
        for statement in service.db.rls_statements("search_entries"):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for fts in ("search_fts", "search_trgm"):
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
    with op.batch_alter_table("search_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_entries_tenant_id"))
    op.drop_table("search_entries")  # PostgreSQL: its indexes and policy go with it; pg_trgm stays
