"""enqueue: inline without Redis, on the RQ queue with it; retried with backoff, then in the failed list."""

from __future__ import annotations

import pytest
from redis import Redis
from rq import Retry, SimpleWorker
from rq.job import JobStatus
from rq.registry import FailedJobRegistry

from service import create_app
from service.db import database
from service.jobs.cli import jobs_group
from service.jobs.queue import RETRY_INTERVALS, enqueue, job_queue
from tests.conftest import app_config
from tests.redis_server import redis_or_skip

REDIS_URL = "redis://127.0.0.1:6379/11"
calls: list[str] = []


def record(word: str, *, suffix: str = "") -> str:
    calls.append(word + suffix)
    return word


def always_fails(word: str) -> None:
    calls.append(word)
    raise RuntimeError(f"the far side is down for {word}")


def fails_once(word: str) -> str:
    calls.append(word)
    if len(calls) == 1:
        raise ConnectionError("first try")
    return word


def _redis() -> Redis:
    return redis_or_skip(REDIS_URL)


@pytest.fixture(autouse=True)
def _forget_calls():
    calls.clear()


@pytest.fixture
def redis_app(database_url, tmp_path):
    connection = _redis()
    connection.flushdb()
    application = create_app(app_config(database_url, tmp_path, REDIS_URL=REDIS_URL, JOB_QUEUE="xaso-test"))
    yield application
    connection.flushdb()
    database(application).engine.dispose()


def work(app) -> None:
    with app.app_context():
        queue = job_queue(app)
        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def test_without_redis_a_job_runs_at_once(app):
    with app.app_context():
        assert enqueue(record, "now", suffix="!") is None
        assert enqueue("tests.jobs.test_queue.record", "by name") is None
    assert calls == ["now!", "by name"]


def test_without_redis_the_error_reaches_the_caller(app):
    with app.app_context(), pytest.raises(RuntimeError, match="down for inline"):
        enqueue(always_fails, "inline")


def test_with_redis_a_worker_runs_the_job(redis_app):
    with redis_app.app_context():
        job = enqueue(record, "later", suffix="?")
    assert job is not None and calls == []
    assert job.get_status() == JobStatus.QUEUED and job.func_name == "tests.jobs.test_queue.record"
    assert (job.retries_left, job.retry_intervals) == (len(RETRY_INTERVALS), RETRY_INTERVALS)  # backoff by default
    work(redis_app)
    assert calls == ["later?"]
    assert job.get_status() == JobStatus.FINISHED and job.return_value() == "later"


def test_a_failing_job_is_retried_then_listed_as_failed(redis_app):
    with redis_app.app_context():
        job = enqueue(always_fails, "vnpay", retry=Retry(max=2))
    assert job is not None
    work(redis_app)
    assert calls == ["vnpay"] * 3  # the first run and two retries
    assert job.get_status() == JobStatus.FAILED
    assert FailedJobRegistry(queue=job_queue(redis_app)).get_job_ids() == [job.id]

    runner = redis_app.test_cli_runner()
    listed = runner.invoke(jobs_group, ["failed"])
    assert listed.exit_code == 0, listed.output
    assert job.id in listed.output and "tests.jobs.test_queue.always_fails" in listed.output
    assert "RuntimeError: the far side is down for vnpay" in listed.output
    status = runner.invoke(jobs_group, ["status"])
    assert "queued 0" in status.output and "failed 1" in status.output

    again = runner.invoke(jobs_group, ["retry", job.id])
    assert again.exit_code == 0 and "requeued 1" in again.output
    assert job_queue(redis_app).count == 1 and FailedJobRegistry(queue=job_queue(redis_app)).count == 0
    assert runner.invoke(jobs_group, ["retry", "no-such-job"]).exit_code != 0


def test_a_job_that_fails_once_succeeds_on_retry(redis_app):
    with redis_app.app_context():
        job = enqueue(fails_once, "ical", retry=Retry(max=3))
    assert job is not None
    work(redis_app)
    assert calls == ["ical", "ical"] and job.get_status() == JobStatus.FINISHED
    assert FailedJobRegistry(queue=job_queue(redis_app)).count == 0


def test_retry_all_requeues_every_failed_job(redis_app):
    with redis_app.app_context():
        for word in ("a", "b"):
            enqueue(always_fails, word, retry=Retry(max=1))
    work(redis_app)
    result = redis_app.test_cli_runner().invoke(jobs_group, ["retry", "--all"])
    assert "requeued 2" in result.output and job_queue(redis_app).count == 2


def test_a_unique_job_id_is_enqueued_once(redis_app):
    with redis_app.app_context():
        first = enqueue(record, "once", job_id="reindex-cam-thanh", unique=True)
        second = enqueue(record, "twice", job_id="reindex-cam-thanh", unique=True)
    assert first is not None and second is None
    work(redis_app)
    assert calls == ["once"]
