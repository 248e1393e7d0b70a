"""Periodic jobs: what runs how often, and the scheduler loop that enqueues them (``xaso jobs scheduler``).

Time is cut into slots of each task's interval; a slot's job is enqueued once, whatever the number
of schedulers (one per pod): the first to claim ``slot`` in Redis (SET NX, expiring) enqueues it
under the id ``<task>-<slot>``, the others skip. ``run_due`` runs every task once, inline, for a
cron line on an installation without Redis.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from rq.utils import import_attribute

from service.jobs.queue import enqueue, redis_connection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str  # a function of service.jobs.tasks
    every: int  # seconds
    timeout: int = 180  # seconds a run may take before the worker stops it

    @property
    def path(self) -> str:
        return f"service.jobs.tasks.{self.name}"

    def slot(self, now: float) -> int:
        return int(now // self.every)

    def job_id(self, now: float) -> str:
        return f"{self.name}-{self.slot(now)}"


SCHEDULE: tuple[Periodic, ...] = (
    Periodic("relay_outbox", 10),  # a safety net: requests enqueue their own relay job
    Periodic("expire_holds", 60),
    Periodic("reconcile_payments", 5 * 60),
    Periodic("sync_calendars", 10 * 60, timeout=15 * 60),
)


def tick(app: Flask, now: float | None = None) -> list[str]:
    """Enqueue the tasks whose current slot nobody has claimed yet; returns their job ids."""
    now = time.time() if now is None else now
    connection = redis_connection(app)
    if connection is None:
        raise RuntimeError("set REDIS_URL; without it run `xaso jobs run-due` from cron")
    queue_name = app.config.get("JOB_QUEUE", "xaso")
    connection.set(last_tick_key(app), str(now), ex=3600)
    enqueued = []
    with app.app_context():
        for task in SCHEDULE:
            job_id = task.job_id(now)
            # The claim outlives the slot, so a late scheduler cannot take the same slot again.
            claimed = connection.set(f"xaso:jobs:{queue_name}:slot:{job_id}", "1", nx=True, ex=task.every * 2 + 60)
            if claimed and enqueue(task.path, job_id=job_id, unique=True, timeout=task.timeout) is not None:
                enqueued.append(job_id)
    return enqueued


def last_tick_key(app: Flask) -> str:
    return f"xaso:jobs:{app.config.get('JOB_QUEUE', 'xaso')}:scheduler-tick"


def last_tick(app: Flask) -> float | None:
    """When a scheduler last looked at the clock (None: no scheduler in the last hour)."""
    connection = redis_connection(app)
    value = connection.get(last_tick_key(app)) if connection is not None else None
    return float(value) if value else None


def run_forever(app: Flask, poll: float = 1.0, keep_going: Callable[[], bool] = lambda: True) -> None:
    while keep_going():
        try:
            for job_id in tick(app):
                log.info("scheduler: enqueued %s", job_id)
        except Exception:  # Redis restarting: try again at the next poll
            log.exception("scheduler: tick failed")
        time.sleep(poll)


def run_due(app: Flask) -> list[tuple[str, str]]:
    """Run every periodic task once, now, in this process: (name, outcome) for each."""
    outcomes = []
    with app.app_context():
        for task in SCHEDULE:
            try:
                result = import_attribute(task.path)()
                outcomes.append((task.name, f"ok {result}"))
            except Exception as error:  # noqa: BLE001 - one task's failure must not stop the others
                log.exception("run-due: %s failed", task.name)
                outcomes.append((task.name, f"failed: {type(error).__name__}: {error}"))
    return outcomes
