"""The worker: `xaso worker`, the outbox relay job (each message once from the app's view, even when the
job runs twice), and requests handing their outbox to a relay job when OUTBOX_DELIVERY=worker."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from redis import Redis
from rq import SimpleWorker
from sqlalchemy import select

from service import create_app
from service.db import PLATFORM, database, get_session
from service.jobs import outbox
from service.jobs.cli import NO_REDIS, worker_command
from service.jobs.delivery import RELAY_TASK
from service.jobs.models import OutboxMessage
from service.jobs.queue import enqueue, job_queue
from service.jobs.tasks import relay_outbox
from service.notifications.email import mail_folder, queue_email
from tests.conftest import app_config
from tests.redis_server import redis_or_skip

REDIS_URL = "redis://127.0.0.1:6379/11"
handled: list[int] = []
handled_lock = threading.Lock()


@outbox.handler("test.jobs.slow", batch=False)
def _slow(_session, payloads):
    time.sleep(0.05)  # long enough for a second relay to come by meanwhile
    with handled_lock:
        handled.extend(payload["n"] for payload in payloads)


@pytest.fixture(autouse=True)
def _forget():
    handled.clear()


def _redis() -> Redis:
    return redis_or_skip(REDIS_URL)


@pytest.fixture
def make_app(database_url, tmp_path):
    connection = _redis()
    connection.flushdb()
    made = []

    def make(**extra):
        application = create_app(app_config(database_url, tmp_path, REDIS_URL=REDIS_URL, JOB_QUEUE="xaso-test",
                                            **extra))
        made.append(application)
        return application

    yield make
    connection.flushdb()
    for application in made:
        database(application).engine.dispose()


def work(app, max_jobs=None) -> None:
    with app.app_context():
        queue = job_queue(app)
        SimpleWorker([queue], connection=queue.connection).work(burst=True, max_jobs=max_jobs)


def _emails(app) -> list[Path]:
    return sorted(mail_folder(app).glob("*.eml"))


def _messages(app) -> list[OutboxMessage]:
    session = database(app).session(PLATFORM)
    try:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    finally:
        session.close()


def _queue_email(app, to="dan@example.vn") -> None:
    session = database(app).session(PLATFORM)
    queue_email(session, to=to, subject="Đơn hàng XS-1", body="Cảm ơn bạn", tenant_id=None)
    session.commit()
    session.close()


def test_worker_without_redis_says_how_jobs_run(app):
    result = app.test_cli_runner().invoke(worker_command, ["--burst"])
    assert result.exit_code != 0 and NO_REDIS in result.output


def test_worker_command_runs_the_queued_jobs(make_app):
    app = make_app()
    _queue_email(app)
    with app.app_context():
        enqueue(RELAY_TASK)
    result = app.test_cli_runner().invoke(worker_command, ["--burst", "--simple"])
    assert result.exit_code == 0, result.output
    assert len(_emails(app)) == 1 and job_queue(app).count == 0


def test_an_email_is_sent_once_when_the_relay_job_runs_twice(make_app):
    app = make_app(OUTBOX_DELIVERY="worker")
    _queue_email(app)
    with app.app_context():
        first, second = enqueue(RELAY_TASK), enqueue(RELAY_TASK)
    assert first is not None and second is not None and job_queue(app).count == 2

    work(app, max_jobs=1)  # one worker takes the first job ...
    [message] = _messages(app)
    delivered_at = message.delivered_at
    assert delivered_at is not None and message.attempts == 0
    assert first.return_value() == {"delivered": 1, "retried": 0, "dead": 0}

    work(app)  # ... another one the second: nothing is left for it
    assert second.return_value() == {"delivered": 0, "retried": 0, "dead": 0}
    [message] = _messages(app)
    assert (message.delivered_at, message.attempts) == (delivered_at, 0)
    [eml] = _emails(app)
    assert "dan@example.vn" in eml.read_text()


def test_two_relays_at_the_same_time_deliver_each_message_once(make_app):
    app = make_app(OUTBOX_DELIVERY="worker")
    session = database(app).session(PLATFORM)
    for n in range(6):
        outbox.enqueue(session, "test.jobs.slow", {"n": n})
    session.commit()
    session.close()
    reports = []

    def relay():
        with app.app_context():
            reports.append(relay_outbox())

    threads = [threading.Thread(target=relay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(handled) == list(range(6))
    assert sum(report["delivered"] for report in reports) == 6
    assert all(message.delivered_at is not None and message.attempts == 0 for message in _messages(app))


def _add_outbox_route(app) -> None:
    @app.post("/test-jobs/email")
    def send_email():
        session = get_session()
        queue_email(session, to="an@example.vn", subject="Xin chào", body="Chào bạn", tenant_id=None)
        session.commit()
        return "queued"


def test_a_request_hands_its_outbox_to_one_relay_job(make_app):
    app = make_app(OUTBOX_DELIVERY="worker")
    _add_outbox_route(app)
    client = app.test_client()
    assert client.post("/test-jobs/email").status_code == 200
    queue = job_queue(app)
    [job] = queue.get_jobs()
    assert job.func_name == RELAY_TASK
    assert _emails(app) == [] and _messages(app)[0].delivered_at is None  # not relayed inline

    client.post("/test-jobs/email")
    assert queue.count == 1  # a relay job is waiting already: it will see this message too
    work(app)
    assert len(_emails(app)) == 2
    assert all(message.delivered_at is not None for message in _messages(app))

    client.post("/test-jobs/email")  # the waiting job has run: a new one is enqueued
    assert queue.count == 1


def test_inline_delivery_needs_no_job_even_with_redis(make_app):
    app = make_app(OUTBOX_DELIVERY="inline")
    _add_outbox_route(app)
    app.test_client().post("/test-jobs/email")
    assert len(_emails(app)) == 1 and job_queue(app).count == 0


def test_a_request_without_outbox_messages_enqueues_nothing(make_app):
    app = make_app(OUTBOX_DELIVERY="worker")
    assert app.test_client().get("/healthz").status_code == 200
    assert job_queue(app).count == 0


def test_the_expiry_job_cancels_an_unpaid_order_once(make_app, world):
    from service.db import Scope
    from service.orders import services as orders
    from service.orders.models import Order, OrderStatus
    from service.payments.models import IntentStatus
    from tests.orders.test_checkout import BUYER, stock

    app = make_app()
    product_id = world.a.products["published"]
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        order = orders.checkout(session, {product_id: 4}, orders.Buyer(**BUYER), "vnpay",
                                {"return_url": "http://127.0.0.1/r", "ip_address": "127.0.0.1", "locale": "vn",
                                 "commune_slug": "cam-thanh"})
        [intent] = orders.intents_of(session, order)
        intent.expires_at = intent.created_at  # as if the buyer had walked away
        session.commit()
        order_id = order.id
        first, second = enqueue("service.jobs.tasks.expire_holds"), enqueue("service.jobs.tasks.expire_holds")
    assert stock(app, product_id) == 6
    work(app)
    assert first is not None and second is not None
    assert (first.return_value(), second.return_value()) == ({"expired": 1, "purged_keys": 0},
                                                             {"expired": 0, "purged_keys": 0})
    assert stock(app, product_id) == 10
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        order = session.get(Order, order_id)
        assert order.status == OrderStatus.CANCELED
        assert {intent.status for intent in orders.intents_of(session, order)} == {IntentStatus.CANCELED}
