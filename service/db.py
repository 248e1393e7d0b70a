"""SQLAlchemy engine and sessions, the declarative Base, and tenant scoping.

Tenant isolation lives here and nowhere else. Every session carries a scope:
``tenant(id)`` for a commune, ``PLATFORM`` for the province level (portal, CLI), or
none at all. The ORM then

* adds ``tenant_id = :current`` to every SELECT/UPDATE/DELETE touching a tenant-owned
  model (``do_orm_execute`` + ``with_loader_criteria``), including relationship loads;
* stamps ``tenant_id`` on every new tenant-owned row, and refuses rows of another tenant;
* refuses any query on tenant-owned models from a session that has no scope (fail closed).

On PostgreSQL the scope is also written to ``app.tenant_id`` at the start of each
transaction, which the row-level security policies read: the second wall.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g
from sqlalchemy import BigInteger, DateTime, Enum, ForeignKey, Integer, MetaData, Table, create_engine, event, text
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)
from sqlalchemy.sql import visitors
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware, on every dialect."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store times in UTC with tzinfo")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # BIGINT everywhere (money in đồng outgrows INTEGER), INTEGER on SQLite so that
    # primary keys keep SQLite's rowid autoincrement.
    type_annotation_map = {datetime: UTCDateTime(), int: BigInteger().with_variant(Integer(), "sqlite")}


def str_enum(enum_cls: type[enum.Enum], length: int = 20) -> Enum:
    """A Python enum stored as its values in a VARCHAR (portable, and new values need no ALTER TYPE)."""
    return Enum(enum_cls, native_enum=False, length=length, values_callable=lambda cls: [m.value for m in cls])


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TenantOwned:
    """Mixin for rows that belong to one commune. The data layer scopes them."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:  # noqa: N805
        return mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False)


# ---------------------------------------------------------------------------
# Scopes


@dataclass(frozen=True)
class Scope:
    tenant_id: int | None  # None means the platform (all communes)

    @property
    def is_platform(self) -> bool:
        return self.tenant_id is None


PLATFORM = Scope(None)
_SCOPE_KEY = "xaso_scope"
SEARCH_BACKEND_INFO = "xaso_search_backend"


class TenantScopeError(RuntimeError):
    """A tenant-owned model was touched without a scope, or across tenants."""


def set_scope(session: Session, scope: Scope) -> None:
    if session.new or session.dirty:
        session.flush()  # pending rows belong to the scope they were made in
    session.info[_SCOPE_KEY] = scope
    if not scope.is_platform:
        # session.get() answers from the identity map without a query, so objects of other
        # communes loaded under an earlier scope must leave the session.
        for obj in list(session.identity_map.values()):
            # ``in session``: expunging a parent cascades to its children, already gone by their turn
            if isinstance(obj, TenantOwned) and obj.tenant_id != scope.tenant_id and obj in session:
                session.expunge(obj)
    if session.in_transaction():
        _write_rls_setting(session, scope)


def scope_of(session: Session) -> Scope | None:
    scope = session.info.get(_SCOPE_KEY)
    return scope if isinstance(scope, Scope) else None


def current_tenant_id(session: Session) -> int:
    scope = scope_of(session)
    if scope is None or scope.tenant_id is None:
        raise TenantScopeError("no commune is selected for this session")
    return scope.tenant_id


@contextmanager
def scoped(session: Session, scope: Scope) -> Iterator[Session]:
    """Temporarily run under another scope (the CLI loading several communes, say)."""
    previous = scope_of(session)
    set_scope(session, scope)
    try:
        yield session
    finally:
        if previous is None:
            if session.new or session.dirty:
                session.flush()
            session.info.pop(_SCOPE_KEY, None)
            if session.in_transaction():
                _write_rls_setting(session, None)
        else:
            set_scope(session, previous)


_owned_cache: tuple[int, frozenset[Table]] = (-1, frozenset())


def _owned_tables() -> frozenset[Table]:
    """Tables of tenant-owned models; recomputed only when a model module adds mappers."""
    global _owned_cache
    mappers = Base.registry.mappers
    if _owned_cache[0] != len(mappers):
        tables = frozenset(m.local_table for m in mappers if issubclass(m.class_, TenantOwned))
        _owned_cache = (len(mappers), tables)  # type: ignore[assignment]
    return _owned_cache[1]


def _touches_tenant_owned(state: ORMExecuteState) -> bool:
    if any(issubclass(mapper.class_, TenantOwned) for mapper in state.all_mappers):
        return True
    # A Core SELECT over an ORM subquery (the paginator's COUNT(*)) names no mapper; its tables tell.
    owned = _owned_tables()
    return any(isinstance(element, Table) and element in owned for element in visitors.iterate(state.statement))  # type: ignore[arg-type]


@event.listens_for(Session, "do_orm_execute")
def _apply_tenant_criteria(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if not _touches_tenant_owned(state):
        return
    scope = scope_of(state.session)
    if scope is None:
        raise TenantScopeError("query on tenant-owned data outside any tenant scope")
    if scope.is_platform:
        return
    tenant_id = scope.tenant_id
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantOwned,
            lambda cls: cls.tenant_id == tenant_id,
            include_aliases=True,
            track_closure_variables=True,
        )
    )


@event.listens_for(Session, "before_flush")
def _stamp_tenant(session: Session, flush_context: Any, instances: Any) -> None:
    owned_new = [obj for obj in session.new if isinstance(obj, TenantOwned)]
    owned_dirty = [obj for obj in session.dirty if isinstance(obj, TenantOwned)]
    if not owned_new and not owned_dirty:
        return
    scope = scope_of(session)
    if scope is None:
        raise TenantScopeError("write of tenant-owned data outside any tenant scope")
    for obj in owned_new:
        if scope.is_platform:
            if obj.tenant_id is None:
                raise TenantScopeError(f"{type(obj).__name__} needs a tenant_id in platform scope")
        elif obj.tenant_id is None:
            obj.tenant_id = scope.tenant_id  # type: ignore[assignment]
        elif obj.tenant_id != scope.tenant_id:
            raise TenantScopeError(f"{type(obj).__name__} belongs to another commune")
    if not scope.is_platform:
        for obj in owned_dirty:
            if obj.tenant_id != scope.tenant_id:
                raise TenantScopeError(f"{type(obj).__name__} was moved to another commune")


def _rls_value(scope: Scope | None) -> str:
    if scope is None:
        return ""
    return "*" if scope.is_platform else str(scope.tenant_id)


def _write_rls_setting(session: Session, scope: Scope | None) -> None:
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(
            text("SELECT set_config('app.tenant_id', :value, true)"), {"value": _rls_value(scope)}
        )


@event.listens_for(Session, "after_begin")
def _rls_on_begin(session: Session, transaction: Any, connection: Any) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT set_config('app.tenant_id', :value, true)"),
            {"value": _rls_value(scope_of(session))},
        )


def rls_statements(table: str) -> list[str]:
    """PostgreSQL row-level security for a tenant-owned table (used by migrations).

    ``app.tenant_id`` is '*' in platform scope, the commune's id in a commune's scope and
    empty otherwise, so a connection that forgot to set it sees nothing.
    """
    check = (
        "current_setting('app.tenant_id', true) = '*' "
        "OR tenant_id::text = current_setting('app.tenant_id', true)"
    )
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} USING ({check}) WITH CHECK ({check})",
    ]


def tenant_owned_tables() -> list[str]:
    return sorted(table.name for table in _owned_tables())


# ---------------------------------------------------------------------------
# Engine and per-request session


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "savepoint")
        def _begin_before_first_savepoint(connection: Any, _name: str) -> None:
            # The driver says BEGIN only before the first write: a SAVEPOINT taken before any write would be
            # the whole transaction, and its RELEASE would commit. Open the real transaction first.
            if not connection.connection.dbapi_connection.in_transaction:
                connection.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    def __init__(self, url: str, info: dict[str, Any] | None = None) -> None:
        self.engine = make_engine(url)
        # ``info`` is copied into every session: settings that flush hooks need without an app context.
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False, info=info or {})

    def session(self, scope: Scope | None = None) -> Session:
        session = self.sessionmaker()
        if scope is not None:
            set_scope(session, scope)
        return session


def init_app(app: Flask) -> Database:
    database = Database(app.config["DATABASE_URL"], {SEARCH_BACKEND_INFO: app.config["SEARCH_BACKEND"]})
    app.extensions["xaso_db"] = database

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    return database


def database(app: Flask | None = None) -> Database:
    from flask import current_app

    return (app or current_app).extensions["xaso_db"]


def get_session() -> Session:
    """The session of the current request or app context (created on first use)."""
    session = g.get("db_session")
    if session is None:
        session = database().session()
        g.db_session = session
    return session


def streamed(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """A streamed response body that reads the request's session (feeds, sitemaps): the session is closed
    right after the last chunk. Its transaction (a server-side cursor on PostgreSQL) must not outlive the
    body, whenever the server or a test client gets round to closing the response."""
    from flask import stream_with_context

    session = get_session()

    def body() -> Iterator[bytes]:
        try:
            yield from chunks
        finally:
            session.close()

    return stream_with_context(body())
