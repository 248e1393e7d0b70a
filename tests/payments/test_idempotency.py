"""Idempotency-Key on the payments API's POSTs (and on any view wearing @idempotent)."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from service.db import PLATFORM, Scope, database, get_session, utcnow
from service.payments import services as payments
from service.payments.idempotency import IN_PROGRESS, idempotent, purge_expired, request_fingerprint
from service.payments.models import IdempotencyRecord, PaymentEvent, PaymentIntent, Refund
from tests.api.conftest import assert_error

A = "/api/v1/communes/cam-thanh"
B = "/api/v1/communes/nam-phuoc"
BODY = {"amount": 150_000, "description": "Giỏ tre", "metadata": {"booking": "T-7"}}


def post(client, world, path, body, key=None, commune="a", role="editor"):
    headers = world.auth(getattr(world, commune).tokens[role])
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(path, json=body, headers=headers)


def rows(app, model):
    with database(app).session(PLATFORM) as session:
        return session.scalar(select(func.count()).select_from(model))


def new_key():
    return str(uuid.uuid4())


def test_the_same_request_again_replays_the_first_answer(app, world, client):
    key = new_key()
    first = post(client, world, f"{A}/payment_intents", BODY, key)
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    again = post(client, world, f"{A}/payment_intents", BODY, key)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json and again.content_type == "application/json"
    # Same content, other spacing and key order: the same request.
    reordered = client.post(f"{A}/payment_intents", data='{"metadata":{"booking":"T-7"},  "description":"Giỏ tre",'
                            '"amount":150000}', content_type="application/json",
                            headers={**world.auth(world.a.tokens["admin"]), "Idempotency-Key": key})
    assert reordered.headers["Idempotent-Replayed"] == "true" and reordered.json == first.json
    assert rows(app, PaymentIntent) == 1 and rows(app, PaymentEvent) == 1 and rows(app, IdempotencyRecord) == 1

    without_key = post(client, world, f"{A}/payment_intents", BODY)
    assert without_key.status_code == 200 and without_key.json["id"] != first.json["id"]
    assert rows(app, PaymentIntent) == 2 and rows(app, IdempotencyRecord) == 1


def test_the_same_key_with_another_body_or_path_is_a_conflict(app, world, client):
    key = new_key()
    first = post(client, world, f"{A}/payment_intents", BODY, key)
    other_body = post(client, world, f"{A}/payment_intents", {**BODY, "amount": 150_001}, key)
    error = assert_error(other_body, 409, "idempotency_key_in_use", "Idempotency-Key")
    assert error["type"] == "idempotency_error" and "other parameters" in error["message"]
    other_path = post(client, world, f"{A}/payment_intents/{first.json['id']}/cancel", {}, key)
    error = assert_error(other_path, 409, "idempotency_key_in_use")
    assert "another endpoint" in error["message"]
    assert rows(app, PaymentIntent) == 1
    assert client.get(f"{A}/payment_intents/{first.json['id']}",
                      headers=world.auth(world.a.tokens["admin"])).json["status"] == "requires_payment_method"


def test_keys_belong_to_a_commune(app, world, client):
    key = new_key()
    in_a = post(client, world, f"{A}/payment_intents", BODY, key)
    in_b = post(client, world, f"{B}/payment_intents", BODY, key, commune="b")
    assert in_a.status_code == in_b.status_code == 200
    assert "Idempotent-Replayed" not in in_b.headers and in_b.json["id"] != in_a.json["id"]
    assert rows(app, PaymentIntent) == 2 and rows(app, IdempotencyRecord) == 2
    # B's answer under the same key stays B's.
    assert post(client, world, f"{B}/payment_intents", BODY, key, commune="b").json == in_b.json


def test_get_ignores_the_header(app, world, client):
    created = post(client, world, f"{A}/payment_intents", BODY, "shared-key").json
    headers = {**world.auth(world.a.tokens["editor"]), "Idempotency-Key": "shared-key"}
    for url in (f"{A}/payment_intents", f"{A}/payment_intents/{created['id']}", f"{A}/events", f"{A}/refunds"):
        response = client.get(url, headers=headers)
        assert response.status_code == 200 and "Idempotent-Replayed" not in response.headers
    assert rows(app, IdempotencyRecord) == 1


def test_every_post_of_the_api_is_idempotent(app, world, client):
    intent = post(client, world, f"{A}/payment_intents", {"amount": 90_000}).json
    confirm = (f"{A}/payment_intents/{intent['id']}/confirm", {"payment_method": "cod"})
    first = post(client, world, *confirm, key="confirm-1")
    assert first.json["status"] == "processing"
    replay = post(client, world, *confirm, key="confirm-1")  # a second confirm would be a 409
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true" and replay.json == first.json

    with database(app).session(Scope(world.a.id)) as session:
        payments.succeed(session, payments.get_intent(session, intent["id"]), 90_000)
        session.commit()
    refund = (f"{A}/refunds", {"payment_intent": intent["id"], "amount": 30_000})
    made = post(client, world, *refund, key="refund-1")
    assert post(client, world, *refund, key="refund-1").json == made.json
    assert rows(app, Refund) == 1

    other = post(client, world, f"{A}/payment_intents", {"amount": 1000}).json
    cancel = (f"{A}/payment_intents/{other['id']}/cancel", {"cancellation_reason": "abandoned"})
    canceled = post(client, world, *cancel, key="cancel-1")
    assert post(client, world, *cancel, key="cancel-1").json == canceled.json
    with database(app).session(Scope(world.a.id)) as session:
        counted = session.scalar(select(func.count()).select_from(PaymentEvent)
                                 .where(PaymentEvent.type == "payment_intent.canceled"))
    assert counted == 1


def test_client_errors_are_stored_and_replayed_but_undo_their_work(app, world, client):
    invalid = post(client, world, f"{A}/payment_intents", {"amount": -1}, "bad-1")
    assert_error(invalid, 422, "invalid_value", "amount")
    replayed = post(client, world, f"{A}/payment_intents", {"amount": -1}, "bad-1")
    assert_error(replayed, 422, "invalid_value", "amount")
    assert replayed.headers["Idempotent-Replayed"] == "true" and replayed.json == invalid.json
    # Fixing the body means a new request: it needs a new key.
    assert_error(post(client, world, f"{A}/payment_intents", {"amount": 1}, "bad-1"), 409, "idempotency_key_in_use")

    intent = post(client, world, f"{A}/payment_intents", {"amount": 50_000, "payment_method": "cod",
                                                           "confirm": True}).json
    with database(app).session(Scope(world.a.id)) as session:
        payments.succeed(session, payments.get_intent(session, intent["id"]), 50_000)
        session.commit()
    too_much = {"payment_intent": intent["id"], "amount": 50_001}
    first = post(client, world, f"{A}/refunds", too_much, "refund-too-much")
    assert_error(first, 422, "amount_too_large")
    assert post(client, world, f"{A}/refunds", too_much, "refund-too-much").json == first.json
    assert rows(app, Refund) == 0

    # A service error after work began (the refund row was flushed): undone, the answer kept.
    post(client, world, f"{A}/refunds", {"payment_intent": intent["id"]}, "refund-all")
    events = rows(app, PaymentEvent)
    twice = post(client, world, f"{A}/refunds", {"payment_intent": intent["id"], "amount": 1}, "refund-again")
    assert_error(twice, 409, "charge_already_refunded")
    assert_error(post(client, world, f"{A}/refunds", {"payment_intent": intent["id"], "amount": 1}, "refund-again"),
                 409, "charge_already_refunded")
    assert rows(app, Refund) == 1 and rows(app, PaymentEvent) == events
    with database(app).session(PLATFORM) as session:
        stored = {r.key: r.status_code for r in session.scalars(select(IdempotencyRecord))}
    assert stored == {"bad-1": 422, "refund-too-much": 422, "refund-all": 200, "refund-again": 409}


def test_bad_keys_and_unauthorized_callers_store_nothing(app, world, client):
    assert_error(post(client, world, f"{A}/payment_intents", BODY, "k" * 256), 400, "idempotency_key_invalid",
                 "Idempotency-Key")
    assert_error(post(client, world, f"{A}/payment_intents", BODY, "  "), 400, "idempotency_key_invalid")
    ok = post(client, world, f"{A}/payment_intents", BODY, "k" * 255)
    assert ok.status_code == 200
    # Neither a seller of the commune nor an outsider can occupy (or read) a staff member's key.
    assert_error(post(client, world, f"{A}/payment_intents", BODY, "mine", role="seller"), 403, "forbidden")
    assert_error(post(client, world, f"{A}/payment_intents", BODY, "mine", commune="b", role="admin"), 404)
    assert_error(post(client, world, f"{A}/payment_intents", BODY, "k" * 255, role="volunteer"), 403)
    assert rows(app, IdempotencyRecord) == 1 and rows(app, PaymentIntent) == 1
    mine = post(client, world, f"{A}/payment_intents", BODY, "mine")
    assert mine.status_code == 200 and "Idempotent-Replayed" not in mine.headers


def test_expired_keys_are_free_again_and_purged(app, world, client):
    old = post(client, world, f"{A}/payment_intents", BODY, "old").json
    post(client, world, f"{B}/payment_intents", BODY, "old-b", commune="b")
    post(client, world, f"{A}/payment_intents", BODY, "fresh")
    with database(app).session(PLATFORM) as session:
        for record in session.scalars(select(IdempotencyRecord).where(IdempotencyRecord.key.like("old%"))):
            record.created_at = utcnow() - timedelta(hours=24, minutes=1)
        session.commit()
    reused = post(client, world, f"{A}/payment_intents", {"amount": 1234}, "old")
    assert reused.status_code == 200 and reused.json["id"] != old["id"]
    with database(app).session(PLATFORM) as session:
        assert purge_expired(session) == 1  # B's stale one; A's "old" was replaced by the new request
        session.commit()
        assert sorted(session.scalars(select(IdempotencyRecord.key))) == ["fresh", "old"]


def test_a_request_waits_for_one_in_flight_with_the_same_key_then_replays(app, world, client):
    """The first request's uncommitted row holds the key: the second blocks on it, never runs twice."""
    body = {"amount": 77_000}
    path = f"{A}/payment_intents"
    with app.test_request_context(path, method="POST", json=body):
        fingerprint = request_fingerprint()
    holder = database(app).session(Scope(world.a.id))
    record = IdempotencyRecord(key="in-flight", request_path=path, request_hash=fingerprint,
                               status_code=IN_PROGRESS, response_body="")
    holder.add(record)
    holder.flush()  # the row exists, uncommitted: as during the first request's work
    answers = []
    second = threading.Thread(target=lambda: answers.append(post(app.test_client(), world, path, body, "in-flight")))
    second.start()
    second.join(timeout=1.5)
    try:
        assert second.is_alive(), "the second request must wait for the first"
        record.status_code = 200
        record.response_body = '{"id": "pi_first", "object": "payment_intent"}'
        holder.commit()
    finally:
        holder.close()
    second.join(timeout=30)
    assert not second.is_alive()
    (response,) = answers
    assert response.status_code == 200 and response.headers["Idempotent-Replayed"] == "true"
    assert response.json == {"id": "pi_first", "object": "payment_intent"}
    assert rows(app, PaymentIntent) == 0


def test_concurrent_requests_with_one_key_create_one_intent(app, world):
    # Three people's tokens: requests with one token take turns on its last_used_at row anyway.
    tokens = [world.a.tokens["admin"], world.a.tokens["editor"], world.platform_admin_token] * 3
    threads, answers = len(tokens), []
    barrier = threading.Barrier(threads)

    def send(token):
        test_client = app.test_client()
        barrier.wait()
        answers.append(test_client.post(f"{A}/payment_intents", json=BODY,
                                        headers={**world.auth(token), "Idempotency-Key": "race"}))

    workers = [threading.Thread(target=send, args=(token,)) for token in tokens]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert len(answers) == threads
    assert {r.status_code for r in answers} == {200}, [r.json for r in answers]
    assert len({r.json["id"] for r in answers}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in answers) == threads - 1
    assert rows(app, PaymentIntent) == 1 and rows(app, PaymentEvent) == 1


# ---------------------------------------------------------------------------
# The decorator on its own: answers the payments views never give


@pytest.fixture
def flaky_app(app):
    """A view that fails with a server error on its first call, and records an event each time it runs."""
    calls = {"n": 0}

    @idempotent()
    def flaky():
        calls["n"] += 1
        if calls["n"] == 1:
            payments.record_event(get_session(), "test.flaky", {"attempt": 1})
            raise RuntimeError("the database went away")
        event = payments.record_event(get_session(), "test.flaky", {"attempt": calls["n"]})
        return {"event": event.public_id, "attempt": calls["n"]}, 201

    app.add_url_rule("/api/v1/communes/<commune>/flaky", "flaky", flaky, methods=["POST"])
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer 500 as in production instead of raising into the test
    return app


def test_server_errors_are_not_stored_so_a_retry_runs_again(flaky_app, world):
    client = flaky_app.test_client()
    failed = post(client, world, f"{A}/flaky", {"x": 1}, "flaky-1")
    assert failed.status_code == 500
    assert rows(flaky_app, IdempotencyRecord) == 0 and rows(flaky_app, PaymentEvent) == 0
    retried = post(client, world, f"{A}/flaky", {"x": 1}, "flaky-1")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert retried.json["attempt"] == 2
    replayed = post(client, world, f"{A}/flaky", {"x": 1}, "flaky-1")
    assert replayed.status_code == 201 and replayed.json == retried.json
    assert rows(flaky_app, PaymentEvent) == 1


def test_the_api_documents_the_header_on_posts_only(client):
    spec = client.get("/api/openapi.json").json
    create = spec["paths"]["/api/v1/communes/{commune}/payment_intents"]
    (header,) = [p for p in create["post"]["parameters"] if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key" and header["schema"]["maxLength"] == 255
    assert all(p["in"] != "header" for p in create["get"]["parameters"])
