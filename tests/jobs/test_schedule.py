"""The periodic jobs: each slot enqueued once however many schedulers tick; `xaso jobs run-due` without Redis."""

from __future__ import annotations

import pytest
from redis import Redis
from rq import SimpleWorker
from rq.job import Job, JobStatus

from service import create_app
from service.db import database
from service.jobs.cli import jobs_group
from service.jobs.queue import job_queue
from service.jobs.schedule import SCHEDULE, last_tick, run_due, tick
from tests.conftest import app_config
from tests.redis_server import redis_or_skip

REDIS_URL = "redis://127.0.0.1:6379/11"
START = 6000.0  # a moment where every task's slot begins (a multiple of every interval)
NAMES = [task.name for task in SCHEDULE]


def _redis() -> Redis:
    return redis_or_skip(REDIS_URL)


@pytest.fixture
def pods(database_url, tmp_path):
    """Two apps on the same database and Redis, as two pods would be."""
    connection = _redis()
    connection.flushdb()
    apps = [create_app(app_config(database_url, tmp_path / str(n), REDIS_URL=REDIS_URL, JOB_QUEUE="xaso-test"))
            for n in range(2)]
    yield apps
    connection.flushdb()
    for application in apps:
        database(application).engine.dispose()


def test_the_schedule():
    assert {task.name: task.every for task in SCHEDULE} == {
        "relay_outbox": 10, "expire_holds": 60, "reconcile_payments": 300, "sync_calendars": 600}
    assert all(task.every % 10 == 0 and START % task.every == 0 for task in SCHEDULE)


def test_two_schedulers_enqueue_each_slot_once(pods):
    first, second = pods
    assert last_tick(first) is None
    enqueued = tick(first, now=START)
    assert last_tick(second) == START
    assert enqueued == [f"{name}-{int(START) // task.every}" for name, task in zip(NAMES, SCHEDULE, strict=True)]
    assert tick(second, now=START + 1) == []  # the other pod, same slots
    assert tick(first, now=START + 9) == []
    assert job_queue(first).count == len(SCHEDULE)

    assert tick(second, now=START + 10) == ["relay_outbox-601"]  # only the relay's slot has turned
    assert tick(first, now=START + 60) == ["relay_outbox-606", "expire_holds-101"]
    assert job_queue(first).count == len(SCHEDULE) + 3


def test_a_lost_slot_claim_still_enqueues_no_second_job(pods):
    app = pods[0]
    tick(app, now=START)
    connection = job_queue(app).connection
    for key in connection.keys("xaso:jobs:xaso-test:slot:*"):
        connection.delete(key)
    assert tick(app, now=START) == []  # the jobs of these ids still exist: rq refuses duplicates
    assert job_queue(app).count == len(SCHEDULE)


def test_a_worker_runs_the_scheduled_jobs(pods):
    app = pods[0]
    ids = tick(app, now=START)
    with app.app_context():
        queue = job_queue(app)
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    jobs = Job.fetch_many(ids, connection=queue.connection)
    assert [job.get_status() if job else None for job in jobs] == [JobStatus.FINISHED] * len(ids)
    by_name = {job.id.rsplit("-", 1)[0]: job.return_value() for job in jobs if job}
    assert by_name["relay_outbox"] == {"delivered": 0, "retried": 0, "dead": 0}
    assert by_name["expire_holds"] == {"expired": 0, "purged_keys": 0}
    status = app.test_cli_runner().invoke(jobs_group, ["status"])
    assert "queued 0, started 0, failed 0, scheduled 0" in status.output and "scheduler: last tick" in status.output


def test_the_scheduler_needs_redis(app):
    with pytest.raises(RuntimeError, match="REDIS_URL"):
        tick(app)
    result = app.test_cli_runner().invoke(jobs_group, ["scheduler"])
    assert result.exit_code != 0 and "set REDIS_URL" in result.output


def test_run_due_runs_every_task_inline_without_redis(app, world):
    outcomes = run_due(app)
    assert [name for name, _outcome in outcomes] == NAMES
    assert all(outcome.startswith("ok") for _name, outcome in outcomes), outcomes
    result = app.test_cli_runner().invoke(jobs_group, ["run-due"])
    assert result.exit_code == 0, result.output
    assert "expire_holds: ok {'expired': 0, 'purged_keys': 0}" in result.output

