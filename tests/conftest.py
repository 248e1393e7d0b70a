"""Fixtures: the app on a fresh, migrated database per test, on SQLite and (when
TEST_DATABASE_URL is set) on PostgreSQL too: every test runs once per backend."""

from __future__ import annotations

import os

# Cheap argon2 parameters for the thousands of hashes the suite makes (set before service imports).
os.environ.setdefault("ARGON2_PROFILE", "CHEAPEST")
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from service import create_app
from service.db import PLATFORM, Base, database
from service.migrate import upgrade
from tests.factories import World, build_world

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(scope="session", autouse=True)
def compiled_translations() -> None:
    """Tests render Vietnamese pages: make sure the catalog is compiled, as `make` does."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (Path(__file__).resolve().parent.parent / "service" / "translations").glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with open(po, "rb") as source:
                catalog = read_po(source)
            with open(mo, "wb") as target:
                write_mo(target, catalog)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(PG_URL)
    return PG_URL


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    _truncate_postgres(url)
    return url


def app_config(database_url: str, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "SESSION_COOKIE_SECURE": False,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        **extra,
    }


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    application = create_app(app_config(database_url, tmp_path))
    yield application
    database(application).engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    """A platform-scoped session for arranging data and checking results."""
    session = database(app).session(PLATFORM)
    yield session
    session.close()


@pytest.fixture
def world(app: Flask) -> World:
    """Two communes, each with staff, a volunteer, sellers, categories and products."""
    return build_world(app)
