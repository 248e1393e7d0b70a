"""The ``xaso`` command, run the way an operator runs it: configuration from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, func, inspect, select

from service.accounts.services import authenticate, find_user
from service.catalog.models import Product
from service.cli import main
from service.db import PLATFORM, Scope, database, scoped
from service.demo import DEMO_PASSWORD
from service.tenants.models import Membership, Role, Tenant


@pytest.fixture
def xaso(database_url: str, tmp_path: Path):
    """Run ``xaso <args>`` against the test database, with a private instance folder."""
    env = {
        "DATABASE_URL": database_url,
        "XASO_INSTANCE_PATH": str(tmp_path / "instance"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "SECRET_KEY": "cli-test",
    }

    def run(*args: str, url: str | None = None) -> Result:
        result = CliRunner().invoke(main, list(args), env={**env, **({"DATABASE_URL": url} if url else {})},
                                    catch_exceptions=False)
        return result

    return run


def test_db_upgrade_creates_schema_and_is_repeatable(xaso, tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = xaso("db", "upgrade", url=url)
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    engine = create_engine(url)
    assert {"tenants", "users", "products", "alembic_version"} <= set(inspect(engine).get_table_names())
    engine.dispose()
    assert xaso("db", "upgrade", url=url).exit_code == 0
    # And on the suite's database (SQLite or PostgreSQL), already at head: nothing to do.
    assert xaso("db", "upgrade").exit_code == 0


def test_create_tenant_and_duplicate_slug(xaso, app):
    result = xaso("create-tenant", "tra-que", "Trà Quế", "--district", "TP. Hội An", "--province", "Quảng Nam")
    assert result.exit_code == 0, result.output
    assert "created commune tra-que" in result.output
    with database(app).session(PLATFORM) as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == "tra-que"))
        assert tenant is not None
        assert (tenant.name, tenant.district, tenant.province) == ("Trà Quế", "TP. Hội An", "Quảng Nam")

    again = xaso("create-tenant", "tra-que", "Trà Quế 2")
    assert again.exit_code == 1
    assert "already exists" in again.output
    bad = xaso("create-tenant", "Not A Slug", "Sai")
    assert bad.exit_code == 1
    assert "Slug" in bad.output
    with database(app).session(PLATFORM) as session:
        assert session.scalar(select(func.count()).select_from(Tenant)) == 1


def test_create_user_with_role_in_commune(xaso, app):
    assert xaso("create-tenant", "tra-que", "Trà Quế").exit_code == 0
    result = xaso("create-user", "Chi@Tra-Que.vn", "--name", "Nguyễn Thị Chi", "--password", "rau-hung-thom",
                  "--commune", "tra-que", "--role", "editor")
    assert result.exit_code == 0, result.output
    assert "created user chi@tra-que.vn" in result.output
    with database(app).session(PLATFORM) as session:
        user = authenticate(session, "chi@tra-que.vn", "rau-hung-thom")
        assert user is not None and not user.is_platform_admin
        tenant = session.scalar(select(Tenant).where(Tenant.slug == "tra-que"))
        with scoped(session, Scope(tenant.id)):
            assert session.scalar(select(Membership.role).where(Membership.user_id == user.id)) == Role.EDITOR

    admin = xaso("create-user", "tinh@quangnam.gov.vn", "--name", "Sở", "--password", "province-2026",
                 "--platform-admin")
    assert admin.exit_code == 0, admin.output
    with database(app).session(PLATFORM) as session:
        platform_admin = find_user(session, "tinh@quangnam.gov.vn")
        assert platform_admin is not None and platform_admin.is_platform_admin

    duplicate = xaso("create-user", "chi@tra-que.vn", "--name", "Chi", "--password", "rau-hung-thom")
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    unknown = xaso("create-user", "x@y.vn", "--name", "X", "--password", "long-enough", "--commune", "nowhere",
                   "--role", "seller")
    assert unknown.exit_code == 1 and "No such commune" in unknown.output
    half = xaso("create-user", "z@y.vn", "--name", "Z", "--password", "long-enough", "--commune", "tra-que")
    assert half.exit_code == 2 and "go together" in half.output
    short = xaso("create-user", "s@y.vn", "--name", "S", "--password", "short")
    assert short.exit_code == 1 and "at least" in short.output
    with database(app).session(PLATFORM) as session:
        assert find_user(session, "x@y.vn") is None and find_user(session, "z@y.vn") is None


def test_demo_load_prints_logins_and_is_idempotent(xaso, app, tmp_path):
    result = xaso("demo", "load")
    assert result.exit_code == 0, result.output
    assert DEMO_PASSWORD in result.output
    for email in ("admin@cam-thanh.xaso.vn", "seller@nam-phuoc.xaso.vn", "volunteer@binh-loi.xaso.vn"):
        assert email in result.output
    with database(app).session(PLATFORM) as session:
        cover = session.scalar(select(Tenant.cover_key).where(Tenant.slug == "cam-thanh"))
        assert (tmp_path / "media" / cover / "1600.webp").is_file()  # drawn, uploaded, variants on disk
        products = session.scalar(select(func.count()).select_from(Product))
        assert products >= 45
        assert authenticate(session, "editor@nam-phuoc.xaso.vn", DEMO_PASSWORD) is not None

    again = xaso("demo", "load")
    assert again.exit_code == 0
    assert again.output == result.output
    with database(app).session(PLATFORM) as session:
        assert session.scalar(select(func.count()).select_from(Product)) == products


def test_open311_create_key_prints_it_once_and_keeps_only_its_hash(xaso, app):
    assert xaso("create-tenant", "tra-que", "Trà Quế").exit_code == 0
    result = xaso("open311", "create-key", "tra-que", "Ứng dụng Phản ánh Quảng Nam")
    assert result.exit_code == 0, result.output
    plaintext = result.output.strip()
    from service.engagement.models import Open311Key
    from service.engagement.open311_keys import key_for

    with database(app).session(PLATFORM) as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == "tra-que"))
        with scoped(session, Scope(tenant_id)):
            key = key_for(session, plaintext)
            assert key is not None and key.name == "Ứng dụng Phản ánh Quảng Nam"
            assert plaintext not in {key.key_hash, key.key_prefix}
        assert session.scalar(select(func.count()).select_from(Open311Key)) == 1
    unknown = xaso("open311", "create-key", "nowhere", "App")
    assert unknown.exit_code == 1 and "No such commune" in unknown.output
