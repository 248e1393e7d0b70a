"""Webhook endpoints: the admin API, and signed deliveries to a real HTTP receiver through the outbox
(retried with backoff; one failing endpoint never holds up another)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from service.core.crypto import decrypt
from service.db import PLATFORM, Scope, scoped, utcnow
from service.jobs import outbox
from service.jobs.models import OutboxMessage
from service.payments import services as payments
from service.payments.models import WebhookEndpoint
from service.payments.webhooks import TOPIC
from tests.api.conftest import assert_error

ENDPOINTS = "/api/v1/communes/cam-thanh/webhook_endpoints"


@dataclass
class Receiver:
    """A small HTTP server that records every request and answers each path with a chosen status."""

    base_url: str
    requests: list[dict] = field(default_factory=list)
    status: dict[str, int] = field(default_factory=dict)

    def received(self, path: str) -> list[dict]:
        return [each for each in self.requests if each["path"] == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box: list[Receiver] = []

    @Request.application
    def record(request: Request) -> Response:
        box[0].requests.append({"path": request.path, "headers": dict(request.headers), "body": request.get_data()})
        return Response("ok", status=box[0].status.get(request.path, 200))

    server = make_server("127.0.0.1", 0, record)
    box.append(Receiver(base_url=f"http://127.0.0.1:{server.server_port}"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box[0]
    server.shutdown()
    thread.join(5)


def _register(client, world, url, **extra):
    response = client.post(ENDPOINTS, headers=world.auth(world.a.tokens["admin"]), json={"url": url, **extra})
    assert response.status_code == 201, response.json
    return response.json


def _new_intent(app, db_session, commune, amount=150_000):
    with app.app_context(), scoped(db_session, Scope(commune.id)):
        intent = payments.create_intent(db_session, amount=amount, description="Đơn thử")
        db_session.commit()
        return intent.public_id


def _relay(app, db_session, now=None):
    with app.app_context():
        return outbox.drain(db_session, now=now, topics=[TOPIC])


def _messages(db_session):
    db_session.expire_all()
    with scoped(db_session, PLATFORM):
        return list(db_session.scalars(select(OutboxMessage).where(OutboxMessage.topic == TOPIC)
                                       .order_by(OutboxMessage.id)))


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """What a receiver does, written from the documentation: t=<unix>,v1=<hex HMAC-SHA256>."""
    items = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), items["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, items["v1"]) and abs(time.time() - int(items["t"])) <= tolerance


# -- the API ------------------------------------------------------------------------------------

def test_admin_registers_an_endpoint_and_sees_the_secret_once(app, client, db_session, world):
    created = _register(client, world, "https://shop.example.vn/hooks/xaso", description="Kế toán")
    assert created["id"].startswith("we_") and created["object"] == "webhook_endpoint"
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert (created["enabled_events"], created["status"], created["description"]) == (["*"], "enabled", "Kế toán")
    with scoped(db_session, PLATFORM):
        stored = db_session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.public_id == created["id"]))
    assert stored is not None and created["secret"] not in stored.secret_encrypted
    with app.app_context():
        assert decrypt(stored.secret_encrypted) == created["secret"]
    headers = world.auth(world.a.tokens["admin"])
    one = client.get(f"{ENDPOINTS}/{created['id']}", headers=headers)
    assert one.status_code == 200 and "secret" not in one.json
    assert one.json == {key: value for key, value in created.items() if key != "secret"}
    listed = client.get(ENDPOINTS, headers=headers).json
    assert listed["object"] == "list" and [each["id"] for each in listed["data"]] == [created["id"]]
    assert "secret" not in listed["data"][0] and listed["has_more"] is False


def test_only_the_communes_admins_manage_endpoints(client, world):
    created = _register(client, world, "https://shop.example.vn/hooks")
    one = f"{ENDPOINTS}/{created['id']}"
    for role in ("editor", "volunteer", "seller"):
        headers = world.auth(world.a.tokens[role])
        assert_error(client.get(ENDPOINTS, headers=headers), 403)
        assert_error(client.post(ENDPOINTS, headers=headers, json={"url": "https://x.example"}), 403)
        assert_error(client.delete(one, headers=headers), 403)
    assert_error(client.get(ENDPOINTS), 401)
    # another commune's admin: not a member here, and the id does not exist in its own commune
    other = world.auth(world.b.tokens["admin"])
    assert_error(client.get(one, headers=other), 404)
    assert_error(client.get(f"/api/v1/communes/nam-phuoc/webhook_endpoints/{created['id']}", headers=other), 404)
    assert_error(client.delete(f"/api/v1/communes/nam-phuoc/webhook_endpoints/{created['id']}", headers=other), 404)
    assert client.get("/api/v1/communes/nam-phuoc/webhook_endpoints", headers=other).json["data"] == []
    # the province sees every commune
    assert client.get(one, headers=world.auth(world.platform_admin_token)).status_code == 200


@pytest.mark.parametrize(("body", "param"), [
    ({"url": "http://shop.example.vn/hooks"}, "url"),  # plain http outside this machine
    ({"url": "ftp://shop.example.vn/hooks"}, "url"),
    ({"url": "https://user:pass@shop.example.vn/hooks"}, "url"),
    ({"url": "https:///no-host"}, "url"),
    ({"url": "https://shop.example.vn/hooks#part"}, "url"),
    ({"url": ""}, "url"),
    ({}, "url"),
    ({"url": "https://shop.example.vn", "enabled_events": ["payment_intent.paid"]}, "enabled_events.0"),
    ({"url": "https://shop.example.vn", "enabled_events": []}, "enabled_events"),
])
def test_bad_endpoints_are_refused(client, db_session, world, body, param):
    response = client.post(ENDPOINTS, headers=world.auth(world.a.tokens["admin"]), json=body)
    assert_error(response, 422, param=param)
    with scoped(db_session, PLATFORM):
        assert db_session.scalars(select(WebhookEndpoint)).first() is None


def test_event_choice_is_kept_and_star_means_everything(client, world):
    chosen = _register(client, world, "https://a.example.vn", enabled_events=[
        "payment_intent.succeeded", "payment_intent.succeeded", "refund.created"])
    assert chosen["enabled_events"] == ["payment_intent.succeeded", "refund.created"]
    everything = _register(client, world, "https://b.example.vn", enabled_events=["refund.created", "*"])
    assert everything["enabled_events"] == ["*"]


def test_list_pages_newest_first(client, world):
    ids = [_register(client, world, f"https://shop{n}.example.vn")["id"] for n in range(3)]
    headers = world.auth(world.a.tokens["admin"])
    first = client.get(f"{ENDPOINTS}?limit=2", headers=headers).json
    assert [each["id"] for each in first["data"]] == ids[::-1][:2] and first["has_more"] is True
    rest = client.get(f"{ENDPOINTS}?limit=2&starting_after={ids[1]}", headers=headers).json
    assert [each["id"] for each in rest["data"]] == [ids[0]] and rest["has_more"] is False
    assert_error(client.get(f"{ENDPOINTS}?starting_after=we_nope", headers=headers), 422, param="starting_after")


def test_deleted_endpoints_get_nothing_more(app, client, db_session, world, receiver):
    created = _register(client, world, f"{receiver.base_url}/hook")
    _new_intent(app, db_session, world.a)  # queued for the endpoint before it goes
    headers = world.auth(world.a.tokens["admin"])
    response = client.delete(f"{ENDPOINTS}/{created['id']}", headers=headers)
    assert response.json == {"id": created["id"], "object": "webhook_endpoint", "deleted": True}
    assert_error(client.get(f"{ENDPOINTS}/{created['id']}", headers=headers), 404)
    assert_error(client.delete(f"{ENDPOINTS}/{created['id']}", headers=headers), 404)
    _new_intent(app, db_session, world.a)
    report = _relay(app, db_session)
    assert (report.delivered, report.retried) == (1, 0)  # the queued one is dropped quietly
    assert receiver.requests == [] and len(_messages(db_session)) == 1


# -- delivery -----------------------------------------------------------------------------------

def test_events_arrive_signed_at_a_real_receiver(app, client, db_session, world, receiver):
    created = _register(client, world, f"{receiver.base_url}/hook")
    intent_id = _new_intent(app, db_session, world.a)
    assert receiver.requests == []  # nothing is sent before the relay
    report = _relay(app, db_session)
    assert (report.delivered, report.retried) == (1, 0)
    [request] = receiver.requests
    assert request["headers"]["Content-Type"] == "application/json"
    assert verify(created["secret"], request["headers"]["Xaso-Signature"], request["body"])
    assert not verify("whsec_wrong", request["headers"]["Xaso-Signature"], request["body"])
    assert not verify(created["secret"], request["headers"]["Xaso-Signature"], request["body"] + b" ")
    event = json.loads(request["body"])
    assert event["object"] == "event" and event["type"] == "payment_intent.created"
    assert event["id"].startswith("evt_") and event["data"]["object"]["id"] == intent_id
    assert event["data"]["object"]["amount"] == 150_000 and event["data"]["object"]["description"] == "Đơn thử"
    assert _relay(app, db_session).handled == 0 and len(receiver.requests) == 1  # delivered once


def test_endpoints_get_only_the_events_they_chose_and_only_of_their_commune(app, client, db_session, world,
                                                                            receiver):
    _register(client, world, f"{receiver.base_url}/canceled", enabled_events=["payment_intent.canceled"])
    _new_intent(app, db_session, world.b)  # another commune's payment
    intent_id = _new_intent(app, db_session, world.a)
    with app.app_context(), scoped(db_session, Scope(world.a.id)):
        payments.cancel(db_session, payments.get_intent(db_session, intent_id))
        db_session.commit()
    _relay(app, db_session)
    assert [json.loads(each["body"])["type"] for each in receiver.requests] == ["payment_intent.canceled"]


def test_a_failing_endpoint_retries_with_backoff_without_holding_up_another(app, client, db_session, world,
                                                                          receiver):
    _register(client, world, f"{receiver.base_url}/down")
    healthy = _register(client, world, f"{receiver.base_url}/up")
    receiver.status["/down"] = 500
    _new_intent(app, db_session, world.a)
    start = utcnow()
    report = _relay(app, db_session, now=start)
    assert (report.delivered, report.retried) == (1, 1)
    assert len(receiver.received("/up")) == 1 and len(receiver.received("/down")) == 1
    assert verify(healthy["secret"], receiver.received("/up")[0]["headers"]["Xaso-Signature"],
                  receiver.received("/up")[0]["body"])
    failed = [message for message in _messages(db_session) if message.delivered_at is None]
    assert len(failed) == 1
    assert failed[0].attempts == 1 and "500" in failed[0].last_error
    assert failed[0].available_at == start + timedelta(seconds=10)
    assert _relay(app, db_session, now=start + timedelta(seconds=5)).handled == 0  # backing off
    receiver.status["/down"] = 200  # the receiver is back
    report = _relay(app, db_session, now=start + timedelta(seconds=11))
    assert (report.delivered, report.retried) == (1, 0)
    down = receiver.received("/down")
    assert len(down) == 2 and down[0]["body"] == down[1]["body"]  # the same event, signed afresh
    assert all(message.delivered_at is not None for message in _messages(db_session))
