"""``xaso worker`` and ``xaso jobs ...``: run and inspect background jobs. (filled by the issue-9 work)"""

from __future__ import annotations

import click


@click.group("jobs")
def jobs_group() -> None:
    """Background jobs (RQ on Redis)."""


@click.command("worker")
def worker_command() -> None:
    """Run a background-jobs worker."""
    raise click.ClickException("not built yet")
