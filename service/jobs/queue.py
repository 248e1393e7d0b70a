"""Background jobs: RQ on Redis when ``REDIS_URL`` is set, inline otherwise.

``enqueue`` is the one way to start a job. With Redis the call goes on the ``JOB_QUEUE`` queue for
``xaso worker`` and is retried with backoff (10 s, 30 s, 1 min, 5 min, 15 min) before it lands in
the failed registry (``xaso jobs failed``). Without Redis, the embedded default, it runs at once
in the caller's process. Job functions live in ``service.jobs.tasks``: they must be idempotent,
since a retry or a second enqueue may run them again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from redis import Redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from rq.utils import import_attribute

RETRY_INTERVALS = [10, 30, 60, 300, 900]
_REDIS = "xaso_redis"


def default_retry() -> Retry:
    return Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS)


def redis_connection(app: Flask | None = None) -> Redis | None:
    """The app's Redis (one connection pool per app), or None when jobs run inline."""
    app = app or current_app
    url = app.config.get("REDIS_URL", "")
    if not url:
        return None
    cached = app.extensions.get(_REDIS)
    if cached is None or cached[0] != url:
        cached = app.extensions[_REDIS] = (url, Redis.from_url(url))
    connection: Redis = cached[1]
    return connection


def job_queue(app: Flask | None = None) -> Queue:
    app = app or current_app
    connection = redis_connection(app)
    if connection is None:
        raise RuntimeError("set REDIS_URL; without it jobs run inline")
    return Queue(app.config.get("JOB_QUEUE", "xaso"), connection=connection)


def enqueue(function: str | Callable[..., Any], *args: Any, job_id: str | None = None,
            retry: Retry | None = None, unique: bool = False, timeout: int | None = None,
            **kwargs: Any) -> Job | None:
    """Run ``function(*args, **kwargs)`` in a worker (Redis) or now (inline).

    ``job_id`` names the job; with ``unique`` a job of that id that still exists is not enqueued
    again (returns None). ``retry`` replaces the default backoff (tests pass ``Retry(max=2)``).
    Inline, the function's exception reaches the caller.
    """
    queue = job_queue() if redis_connection() is not None else None
    if queue is None:
        target = import_attribute(function) if isinstance(function, str) else function
        target(*args, **kwargs)
        return None
    # By import path, as rq stores it: the worker imports the function itself.
    reference = function if isinstance(function, str) else f"{function.__module__}.{function.__qualname__}"
    try:
        return queue.enqueue_call(reference, args=args, kwargs=kwargs, job_id=job_id, unique=unique,
                                  retry=retry or default_retry(), timeout=timeout)
    except DuplicateJobError:
        return None


def queue_counts(app: Flask | None = None) -> dict[str, int]:
    """Jobs queued, running, failed (after their retries) and scheduled (waiting to retry); for
    ``xaso jobs status`` and the metrics."""
    queue = job_queue(app)
    return {"queued": queue.count, "started": StartedJobRegistry(queue=queue).count,
            "failed": FailedJobRegistry(queue=queue).count, "scheduled": ScheduledJobRegistry(queue=queue).count}
