"""``xaso worker`` and ``xaso jobs ...``: run and inspect background jobs."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from redis import Redis
from rq import Queue, SimpleWorker, Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.results import Result

from service.db import database
from service.jobs.queue import job_queue, queue_counts, redis_connection

NO_REDIS = "set REDIS_URL; without it jobs run inline"


def _app() -> Flask:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def _queue() -> tuple[Redis, Queue]:
    connection = redis_connection(_app())
    if connection is None:
        raise click.ClickException(NO_REDIS)
    return connection, job_queue(_app())


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the queued jobs, then stop.")
@click.option("--simple", is_flag=True, help="Run each job in this process instead of a forked one.")
@with_appcontext
def worker_command(burst: bool, simple: bool) -> None:
    """Run a background-jobs worker on the JOB_QUEUE queue of REDIS_URL."""
    connection, queue = _queue()
    # A forked job must not share the parent's database connections: it opens its own.
    database(_app()).engine.dispose()
    worker_class = SimpleWorker if simple else Worker
    worker = worker_class([queue], connection=connection)
    worker.work(burst=burst, with_scheduler=True)  # the scheduler part runs the delayed retries


@click.group("jobs", cls=AppGroup)
def jobs_group() -> None:
    """Background jobs (RQ on Redis)."""


@jobs_group.command("status")
def jobs_status() -> None:
    """Count queued, running, failed and scheduled (waiting to retry) jobs."""
    import time

    from service.jobs.schedule import SCHEDULE, last_tick

    _connection, queue = _queue()
    counts = queue_counts(_app())
    click.echo(f"queue {queue.name}: " + ", ".join(f"{name} {count}" for name, count in counts.items()))
    ticked = last_tick(_app())
    click.echo("scheduler: " + (f"last tick {time.time() - ticked:.0f} s ago" if ticked else
                                "not running (start `xaso jobs scheduler`)"))
    for task in SCHEDULE:
        click.echo(f"every {task.every:>4} s  {task.name}")


def _exception_line(job: Job) -> str:
    result = job.latest_result()
    if result is None or result.type != Result.Type.FAILED or not result.exc_string:
        return ""
    lines = [line for line in result.exc_string.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


@jobs_group.command("failed")
def jobs_failed() -> None:
    """The jobs that failed after their retries: id, function, exception, when."""
    connection, queue = _queue()
    ids = FailedJobRegistry(queue=queue).get_job_ids()
    if not ids:
        click.echo("no failed jobs")
    for job in Job.fetch_many(ids, connection=connection):
        if job is None:
            continue
        ended = f"{job.ended_at:%Y-%m-%d %H:%M:%S} UTC" if job.ended_at else "-"
        click.echo(f"{job.id}  {job.func_name}  {ended}  {_exception_line(job)}")


@jobs_group.command("retry")
@click.argument("job_id", required=False)
@click.option("--all", "retry_all", is_flag=True, help="Requeue every failed job.")
def jobs_retry(job_id: str | None, retry_all: bool) -> None:
    """Put a failed job (or all of them) back on the queue."""
    if not job_id and not retry_all:
        raise click.UsageError("give a job id or --all")
    _connection, queue = _queue()
    registry = FailedJobRegistry(queue=queue)
    ids = registry.get_job_ids() if retry_all else [job_id]
    for each in ids:
        try:
            registry.requeue(str(each))
        except (InvalidJobOperation, NoSuchJobError) as error:
            raise click.ClickException(f"{each} is not a failed job") from error
    click.echo(f"requeued {len(ids)}")


@jobs_group.command("run-due")
def jobs_run_due() -> None:
    """Run every periodic task once, here and now (a cron line where there is no Redis)."""
    from service.jobs.schedule import run_due

    outcomes = run_due(_app())
    for name, outcome in outcomes:
        click.echo(f"{name}: {outcome}")
    if any(outcome.startswith("failed") for _name, outcome in outcomes):
        raise SystemExit(1)


@jobs_group.command("scheduler")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between looks at the clock.")
def jobs_scheduler(poll: float) -> None:
    """Enqueue the periodic jobs when due (one scheduler or several: each slot is enqueued once)."""
    import signal

    from service.jobs.schedule import run_forever

    _queue()
    stopping: list[int] = []
    # Kubernetes stops a pod with SIGTERM: finish the tick under way, then leave.
    signal.signal(signal.SIGTERM, lambda signum, _frame: stopping.append(signum))
    run_forever(_app(), poll=poll, keep_going=lambda: not stopping)
    click.echo("scheduler stopped")
