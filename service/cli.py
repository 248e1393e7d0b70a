"""The ``xaso`` command: database migrations, demo data, communes and users."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup

from service import create_app
from service.core.errors import AppError
from service.db import PLATFORM, database


def _session():  # type: ignore[no-untyped-def]
    return database(current_app).session(PLATFORM)


@click.group(cls=FlaskGroup, create_app=lambda: create_app())
def main() -> None:
    """XaSo - the digital commune."""


@main.group("db")
def db_group() -> None:
    """Database schema (Alembic)."""


@db_group.command("upgrade")
@click.option("--revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database to the newest schema."""
    from service.migrate import upgrade

    upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo("database is up to date")


@main.group("demo")
def demo_group() -> None:
    """Demo communes."""


@demo_group.command("load")
@click.option("--reset", is_flag=True, help="Delete the demo communes first.")
def demo_load(reset: bool) -> None:
    """Load the demo communes (idempotent) and print their sign-ins."""
    from service.demo import load_demo

    with _session() as session:
        logins = load_demo(session, current_app.config["MEDIA_ROOT"], reset=reset)
        session.commit()
    click.echo(f"Demo sign-ins (password for all: {logins.password}):")
    for email, what in logins.accounts:
        click.echo(f"  {email:<34} {what}")


@main.command("create-tenant")
@click.argument("slug")
@click.argument("name")
@click.option("--district", default="")
@click.option("--province", default="")
def create_tenant_command(slug: str, name: str, district: str, province: str) -> None:
    """Create a commune."""
    from service.tenants.services import create_tenant

    with _session() as session:
        try:
            tenant = create_tenant(session, slug=slug, name=name, district=district, province=province)
        except AppError as error:
            raise click.ClickException(error.message) from error
        session.commit()
        click.echo(f"created commune {tenant.slug} (id {tenant.id})")


@main.command("create-user")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--commune", "slug", help="Commune slug to join.")
@click.option("--role", type=click.Choice(["admin", "editor", "volunteer", "seller"]))
@click.option("--platform-admin", is_flag=True)
def create_user_command(email: str, name: str, password: str, slug: str | None, role: str | None,
                        platform_admin: bool) -> None:
    """Create a user, optionally with a role in a commune."""
    from service.accounts.services import create_user
    from service.tenants.services import add_member, get_tenant_or_404

    if bool(slug) != bool(role):
        raise click.UsageError("--commune and --role go together")
    with _session() as session:
        try:
            user = create_user(session, email=email, name=name, password=password,
                               is_platform_admin=platform_admin)
            if slug and role:
                add_member(session, get_tenant_or_404(session, slug), user, role)
        except AppError as error:
            raise click.ClickException(error.message) from error
        session.commit()
        click.echo(f"created user {user.email}")


@main.group("search")
def search_group() -> None:
    """The search index."""


@search_group.command("reindex")
@click.option("--tenant", "slug", help="Commune slug (default: every commune).")
def search_reindex(slug: str | None) -> None:
    """Rebuild the search index from the published catalog."""
    from sqlalchemy import select

    from service.search.indexing import reindex
    from service.search.sql import SqlBackend
    from service.tenants.models import Tenant
    from service.tenants.services import get_tenant_or_404

    with _session() as session:
        try:
            tenants = [get_tenant_or_404(session, slug)] if slug else list(
                session.scalars(select(Tenant).order_by(Tenant.id)))
        except AppError as error:
            raise click.ClickException(error.message) from error
        count = 0
        with click.progressbar(tenants, label="Indexing", item_show_func=lambda t: t.slug if t else None) as bar:
            for tenant in bar:
                count += reindex(session, tenant)
        session.commit()
        SqlBackend().refresh_statistics(session)
        session.commit()
    click.echo(f"indexed {count} documents")
