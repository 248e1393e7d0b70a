"""/metrics: request latency by route template, the outbox and RQ read at scrape time, the bearer token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from service import create_app
from service.db import database, utcnow
from service.jobs import outbox
from service.jobs.models import OutboxMessage
from tests.conftest import app_config
from tests.redis_server import redis_or_skip

REDIS_DB = "redis://127.0.0.1:6379/12"


def scrape(client, **headers) -> dict[str, list]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.data
    assert response.headers["Content-Type"].startswith("text/plain")
    families = text_string_to_metric_families(response.get_data(as_text=True))
    return {family.name: family.samples for family in families}


def value(samples, name: str, **labels) -> float:
    found = [s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (name, labels, samples)
    return found[0]


@pytest.fixture
def make_app(database_url, tmp_path):
    built = []

    def make(**extra):
        application = create_app(app_config(database_url, tmp_path, **extra))
        built.append(application)
        return application

    yield make
    for application in built:
        database(application).engine.dispose()


def test_request_histogram_is_labelled_by_route_template(world, client):
    route = "/c/<commune>/feeds/<filename>"
    before = scrape(client).get("xaso_http_request_duration_seconds", [])
    count_before = sum(s.value for s in before if s.name.endswith("_count") and s.labels["route"] == route
                       and s.labels["status"] == "2xx")
    for _ in range(3):
        assert client.get("/c/cam-thanh/feeds/products.json").status_code == 200
    assert client.get("/no/such/page-123").status_code == 404

    metrics = scrape(client)
    histogram = metrics["xaso_http_request_duration_seconds"]
    assert value(histogram, "xaso_http_request_duration_seconds_count", method="GET", route=route,
                 status="2xx") == count_before + 3
    buckets = [s for s in histogram if s.name.endswith("_bucket") and s.labels["route"] == route]
    assert {s.labels["le"] for s in buckets} >= {"0.1", "1.0", "+Inf"}
    routes = {s.labels["route"] for s in histogram}
    assert "<unmatched>" in routes
    # Never the raw path: a label per product or per typo would explode the series count.
    assert not any("cam-thanh" in r or "page-123" in r for r in routes)
    assert value(metrics["xaso_http_requests"], "xaso_http_requests_total", method="GET", route=route,
                 status="2xx") >= 3
    # The scrape itself is in flight while it is answered.
    assert value(metrics["xaso_http_requests_in_flight"], "xaso_http_requests_in_flight") >= 1


def test_outbox_gauges_follow_pending_and_dead_messages(app, client, db_session):
    now = utcnow()
    db_session.add_all([
        OutboxMessage(topic="search.index", payload={}, available_at=now - timedelta(seconds=90)),
        OutboxMessage(topic="search.index", payload={}, available_at=now - timedelta(seconds=5)),
        OutboxMessage(topic="search.index", payload={}, available_at=now + timedelta(hours=1)),  # backing off
        OutboxMessage(topic="webhook", payload={}, dead_at=now, attempts=12),
        OutboxMessage(topic="webhook", payload={}, delivered_at=now),
    ])
    db_session.commit()

    metrics = scrape(client)
    assert value(metrics["xaso_outbox_up"], "xaso_outbox_up") == 1
    assert value(metrics["xaso_outbox_pending_messages"], "xaso_outbox_pending_messages", topic="search.index") == 3
    assert value(metrics["xaso_outbox_pending_messages"], "xaso_outbox_pending_messages", topic="webhook") == 0
    assert value(metrics["xaso_outbox_dead_messages"], "xaso_outbox_dead_messages", topic="webhook") == 1
    assert 89 <= value(metrics["xaso_outbox_lag_seconds"], "xaso_outbox_lag_seconds") < 150
    assert "xaso_rq_up" not in metrics  # no REDIS_URL: jobs run inline, no queue to report


def test_empty_outbox_has_no_lag(app, client):
    metrics = scrape(client)
    assert value(metrics["xaso_outbox_lag_seconds"], "xaso_outbox_lag_seconds") == 0
    assert "xaso_outbox_pending_messages" not in metrics or not metrics["xaso_outbox_pending_messages"]


def test_metrics_answer_when_the_database_fails(app, client, monkeypatch):
    def broken(_session):
        raise RuntimeError("database down")

    monkeypatch.setattr(outbox, "status", broken)
    metrics = scrape(client)
    assert value(metrics["xaso_outbox_up"], "xaso_outbox_up") == 0
    assert "xaso_http_request_duration_seconds" in metrics


def test_token_protects_metrics(make_app):
    client = make_app(METRICS_TOKEN="s3cret-token").test_client()
    denied = client.get("/metrics")
    assert denied.status_code == 401
    assert denied.headers["WWW-Authenticate"] == "Bearer"
    assert b"xaso_http" not in denied.data
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert "xaso_outbox_up" in scrape(client, Authorization="Bearer s3cret-token")


def test_rq_queues_are_reported(make_app):
    redis = redis_or_skip(REDIS_DB)
    redis.flushdb()
    try:
        from rq import Queue

        queue = Queue("xaso", connection=redis)
        queue.enqueue_call("builtins.len", args=([1, 2],))
        queue.enqueue_call("builtins.len", args=([1],))
        client = make_app(REDIS_URL=REDIS_DB, JOB_QUEUE="xaso").test_client()
        metrics = scrape(client)
        assert value(metrics["xaso_rq_up"], "xaso_rq_up") == 1
        assert value(metrics["xaso_rq_queue_length"], "xaso_rq_queue_length", queue="xaso") == 2
        assert value(metrics["xaso_rq_failed_jobs"], "xaso_rq_failed_jobs", queue="xaso") == 0
    finally:
        redis.flushdb()


def test_redis_down_does_not_break_metrics(make_app):
    client = make_app(REDIS_URL="redis://127.0.0.1:1/12").test_client()
    metrics = scrape(client)
    assert value(metrics["xaso_rq_up"], "xaso_rq_up") == 0
    assert value(metrics["xaso_outbox_up"], "xaso_outbox_up") == 1
