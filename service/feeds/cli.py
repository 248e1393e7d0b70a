"""``xaso feeds export``: a commune's feed written to a file, with a progress bar.

For marketplaces that take an uploaded file rather than fetching a URL, and for cron jobs that publish
the feed as a static file. The file appears whole or not at all (written beside it, then renamed),
and memory stays flat whatever the catalog's size: items stream from the database to the file.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from service.core.errors import AppError
from service.core.urls import commune_url
from service.db import PLATFORM, Scope, database, scoped
from service.feeds.access import settings_for
from service.feeds.formats import FeedContext, load_formats
from service.feeds.items import FeedItem, count_items, iter_items
from service.media.storage import get_storage
from service.tenants.services import get_tenant_or_404

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar  # the type click.progressbar() returns

PROGRESS_STEP = 100  # items between progress-bar updates (redrawing per item would cost more than the item)


@click.group("feeds")
def feeds_group() -> None:
    """Marketplace feeds (Google Merchant, CSV, JSON)."""


@feeds_group.command("export")
@click.option("--tenant", "slug", required=True, help="Commune slug.")
@click.option("--format", "format_name", required=True, type=click.Choice(sorted(load_formats())),
              help="Feed format.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="File to write (replaced atomically).")
@click.option("--lang", "language", default="vi", show_default=True, type=click.Choice(["vi", "en"]),
              help="Language of the texts.")
@with_appcontext
def export(slug: str, format_name: str, out: Path, language: str) -> None:
    """Write the published products of commune SLUG as one feed file."""
    fmt = load_formats()[format_name]
    with database(current_app).session(PLATFORM) as session, force_locale(language):
        try:
            tenant = get_tenant_or_404(session, slug)
        except AppError as error:
            raise click.ClickException(f"{slug}: {error.message}") from error
        with scoped(session, Scope(tenant.id)):
            settings = settings_for(session)
            total = count_items(session, tenant.id)
            context = FeedContext(tenant=tenant, settings=settings, language=language,
                                  link=commune_url(tenant.slug))
            with click.progressbar(length=total, label=f"{tenant.slug} {fmt.name}", file=sys.stderr,
                                   show_pos=True) as bar:
                items = _counted(iter_items(session, get_storage(), tenant, language=language), bar)
                written = _write_atomically(out, fmt.render(items, context))
    click.echo(f"wrote {total} products ({written} bytes) to {out}")


def _counted(items: Iterator[FeedItem], bar: ProgressBar[int]) -> Iterator[FeedItem]:
    pending = 0
    for item in items:
        yield item
        pending += 1
        if pending == PROGRESS_STEP:
            bar.update(pending)
            pending = 0
    bar.update(pending)


def _write_atomically(out: Path, chunks: Iterator[bytes]) -> int:
    """Write beside ``out`` then rename over it, so readers never see half a feed."""
    descriptor, temporary = tempfile.mkstemp(dir=out.resolve().parent, prefix=f".{out.name}.", suffix=".part")
    written = 0
    try:
        with os.fdopen(descriptor, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                written += len(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return written
