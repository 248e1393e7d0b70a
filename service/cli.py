"""The ``xaso`` command: database migrations, demo data, communes and users."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup

from service import create_app
from service.core.errors import AppError
from service.db import PLATFORM, database
from service.feeds.cli import feeds_group
from service.jobs.cli import jobs_group, worker_command


def _session():  # type: ignore[no-untyped-def]
    return database(current_app).session(PLATFORM)


@click.group(cls=FlaskGroup, create_app=lambda: create_app())
def main() -> None:
    """XaSo - the digital commune."""


main.add_command(feeds_group)  # xaso feeds export (service/feeds/cli.py)
main.add_command(jobs_group)  # xaso jobs ... (service/jobs/cli.py)
main.add_command(worker_command)  # xaso worker


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
    from service.media.storage import get_storage

    with _session() as session:
        logins = load_demo(session, get_storage(), reset=reset)
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
    """Rebuild the search index from the published catalog (and Meilisearch's copy, when it is the backend)."""
    from sqlalchemy import select

    from service.search import get_backend
    from service.search.indexing import reindex
    from service.search.meili import MeiliBackend
    from service.search.sql import SqlBackend
    from service.tenants.models import Tenant
    from service.tenants.services import get_tenant_or_404

    backend = get_backend()
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
                if isinstance(backend, MeiliBackend):
                    backend.rebuild_tenant(session, tenant.id)
        SqlBackend().refresh_statistics(session)
        session.commit()
    click.echo(f"indexed {count} documents")


@search_group.group("settings")
def search_settings_group() -> None:
    """The Meilisearch index settings."""


@search_settings_group.command("apply")
def search_settings_apply() -> None:
    """Create the Meilisearch index if needed and apply its settings (attributes, typos, synonyms)."""
    from meilisearch.errors import MeilisearchApiError

    from service.search import get_backend
    from service.search.meili import MeiliBackend, index_settings

    backend = get_backend()
    if not isinstance(backend, MeiliBackend):
        raise click.ClickException("search settings apply needs SEARCH_BACKEND=meilisearch and MEILI_URL")
    backend.apply_settings()
    settings = index_settings()
    click.echo(f"index {backend.config.index}: {len(settings['searchableAttributes'])} searchable, "
               f"{len(settings['filterableAttributes'])} filterable, {len(settings['sortableAttributes'])} sortable "
               f"attributes, {len(settings['synonyms'])} synonyms")
    try:
        click.echo(f"browser search key (signs tenant tokens): {backend.search_key()[0]}")
    except MeilisearchApiError as error:  # an instance without a master key has no keys at all
        click.echo(f"no browser search key: {error}")


@main.group("outbox")
def outbox_group() -> None:
    """Side effects waiting to be delivered (search pushes, webhooks, emails)."""


@outbox_group.command("relay")
@click.option("--forever", is_flag=True, help="Keep relaying (a worker process) instead of draining once.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between polls when idle.")
def outbox_relay(forever: bool, interval: float) -> None:
    """Deliver the due messages of the outbox."""
    import time

    from service.jobs import outbox

    with _session() as session:
        while True:
            report = outbox.drain(session)
            if report.handled or not forever:
                click.echo(f"delivered {report.delivered}, to retry {report.retried}, dead {report.dead}")
            if not forever:
                return
            time.sleep(interval)


@outbox_group.command("status")
def outbox_status() -> None:
    """Count pending and dead messages per topic."""
    from service.jobs import outbox

    with _session() as session:
        rows = outbox.status(session)
    if not rows:
        click.echo("outbox is empty")
    for topic, pending, dead in rows:
        click.echo(f"{topic:<24} pending {pending:>6}  dead {dead:>6}")


@main.group("payments")
def payments_group() -> None:
    """Payments: reconciliation with the providers."""


@payments_group.command("reconcile")
@click.option("--older-than", default=5, show_default=True, help="Minutes an open VNPay payment waits first.")
def payments_reconcile(older_than: int) -> None:
    """Ask VNPay (querydr) about open VNPay payments whose IPN never came, and apply the answers."""
    from datetime import timedelta

    from service.payments import vnpay

    with _session() as session:
        report = vnpay.reconcile(session, older_than=timedelta(minutes=older_than))
    click.echo(f"checked {report.checked}: succeeded {report.succeeded}, failed {report.failed}, "
               f"unchanged {report.unchanged}, errors {report.errors}")


@payments_group.command("expire")
def payments_expire() -> None:
    """Cancel unpaid payments whose time ran out (their orders are cancelled, the stock goes back), and forget
    Idempotency-Keys older than a day. Run it every few minutes (cron, or the jobs worker)."""
    from service.payments.idempotency import purge_expired
    from service.payments.services import expire_everywhere

    with _session() as session:
        expired = expire_everywhere(session)
        purged = purge_expired(session)
        session.commit()
    click.echo(f"expired {expired} payments, forgot {purged} idempotency keys")


@payments_group.command("set-vnpay")
@click.argument("slug")
@click.option("--tmn-code", prompt=True, help="The commune's VNPay terminal code (empty: use the platform's).")
@click.option("--hash-secret", prompt=True, hide_input=True, default="", help="Its hash secret (stored encrypted).")
def payments_set_vnpay(slug: str, tmn_code: str, hash_secret: str) -> None:
    """Give a commune its own VNPay merchant account, or take it back to the platform's."""
    from service.db import Scope, scoped
    from service.payments.vnpay import set_commune_credentials
    from service.tenants.services import get_tenant_or_404

    with _session() as session:
        try:
            tenant = get_tenant_or_404(session, slug)
            with scoped(session, Scope(tenant.id)):
                set_commune_credentials(session, tmn_code, hash_secret)
        except AppError as error:
            raise click.ClickException(error.message) from error
        session.commit()
    click.echo(f"{slug}: VNPay {'terminal ' + tmn_code.strip() if tmn_code.strip() else 'platform account'}")


@main.group("stays")
def stays_group() -> None:
    """Homestays: channel sync with Airbnb, Booking.com and other iCalendar feeds."""


@stays_group.command("sync-calendars")
def stays_sync_calendars() -> None:
    """Fetch every room type's imported iCal feeds in every commune and block or free their nights. Run it
    every 15-30 minutes (cron, or the jobs worker); double bookings are reported on each feed."""
    from service.tourism.ical import sync_all

    with _session() as session:
        report = sync_all(session)
    click.echo(f"synced {report.feeds} calendars ({report.failed} failed): claimed {report.claimed} nights, "
               f"released {report.released}, double-booked {report.conflicts}")


@main.group("open311")
def open311_group() -> None:
    """Open311 GeoReport v2 API keys."""


@open311_group.command("create-key")
@click.argument("slug")
@click.argument("name")
def open311_create_key(slug: str, name: str) -> None:
    """Issue an API key for a client app NAME of commune SLUG; printed once, only its hash is kept."""
    from service.audit.services import record
    from service.db import Scope, scoped
    from service.engagement.open311_keys import create_key
    from service.tenants.services import SYSTEM, get_tenant_or_404

    with _session() as session:
        try:
            tenant = get_tenant_or_404(session, slug)
            with scoped(session, Scope(tenant.id)):
                key, plaintext = create_key(session, name)
                record(session, SYSTEM, "open311_key.created", key, {"name": key.name, "key_prefix": key.key_prefix})
        except AppError as error:
            raise click.ClickException(error.message) from error
        session.commit()
    click.echo(plaintext)
