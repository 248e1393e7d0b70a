"""The Stripe-shaped payments API: payment_intents, refunds and events of a commune."""

from __future__ import annotations

import json
import threading

import pytest
from openapi_spec_validator import validate
from sqlalchemy import func, select

from service.db import PLATFORM, Scope, database
from service.payments import services as payments
from service.payments.models import IntentStatus, PaymentEvent, PaymentIntent, Refund
from service.payments.webhooks import event_body
from tests.api.conftest import assert_error

A = "/api/v1/communes/cam-thanh"
B = "/api/v1/communes/nam-phuoc"
RETURN_URL = "https://shop.example.vn/payments/vnpay/return"


def staff(world, role="editor", commune="a"):
    return world.auth(getattr(world, commune).tokens[role])


def create(client, world, path=A, commune="a", **body):
    body = {"amount": 150_000, **body}
    response = client.post(f"{path}/payment_intents", json=body, headers=staff(world, commune=commune))
    assert response.status_code == 200, response.json
    return response.json


def load_intent(app, world, public_id, commune="a"):
    with database(app).session(Scope(getattr(world, commune).id)) as session:
        intent = payments.get_intent(session, public_id)
        return intent, payments.serialize_intent(intent)


def succeeded_intent(app, client, world, amount=100_000):
    """Cash on delivery, then the cash collected: a succeeded intent to refund."""
    created = create(client, world, amount=amount, payment_method="cod", confirm=True)
    with database(app).session(Scope(world.a.id)) as session:
        intent = payments.get_intent(session, created["id"])
        payments.succeed(session, intent, intent.amount)
        session.commit()
    return created["id"]


def rows(app, model, **filters):
    with database(app).session(PLATFORM) as session:
        stmt = select(func.count()).select_from(model)
        for name, value in filters.items():
            stmt = stmt.where(getattr(model, name) == value)
        return session.scalar(stmt)


def event_types(app, world):
    with database(app).session(Scope(world.a.id)) as session:
        return list(session.scalars(select(PaymentEvent.type).order_by(PaymentEvent.id)))


# ---------------------------------------------------------------------------
# PaymentIntents


def test_create_and_retrieve_show_the_one_serialization(app, world, client):
    body = create(client, world, amount=250_000, description="Nước mắm cho khách đoàn",
                  metadata={"booking": "T-42", "kênh": "zalo"})
    assert body["id"].startswith("pi_") and body["object"] == "payment_intent"
    assert (body["amount"], body["currency"], body["status"]) == (250_000, "vnd", "requires_payment_method")
    assert body["metadata"] == {"booking": "T-42", "kênh": "zalo"}
    assert body["description"] == "Nước mắm cho khách đoàn"
    assert body["payment_method"] is None and body["next_action"] is None and body["amount_received"] == 0
    _intent, serialized = load_intent(app, world, body["id"])
    assert body == serialized  # the API adds nothing and drops nothing

    response = client.get(f"{A}/payment_intents/{body['id']}", headers=staff(world, "admin"))
    assert response.status_code == 200 and response.json == serialized
    assert event_types(app, world) == ["payment_intent.created"]
    assert_error(client.get(f"{A}/payment_intents/pi_nope", headers=staff(world)), 404, "resource_missing", "id")


@pytest.mark.parametrize(("body", "param", "code"), [
    ({"amount": 0}, "amount", "invalid_value"),
    ({"amount": -5}, "amount", "invalid_value"),
    ({"amount": 1500.5}, "amount", "invalid_value"),
    ({"amount": "150000"}, "amount", "invalid_value"),
    ({"amount": True}, "amount", "invalid_value"),
    ({}, "amount", "invalid_value"),
    ({"amount": 1000, "currency": "usd"}, "currency", "invalid_value"),
    ({"amount": 1000, "ammount": 1000}, "ammount", "invalid_value"),
    ({"amount": 1000, "metadata": {f"k{i}": "v" for i in range(21)}}, "metadata", "invalid_value"),
    ({"amount": 1000, "metadata": {"count": 3}}, "metadata.count.value", "invalid_value"),
    ({"amount": 1000, "payment_method": "momo", "confirm": True}, "payment_method", "invalid_value"),
    ({"amount": 1000, "confirm": True}, "payment_method", "parameter_missing"),
    ({"amount": 1000, "payment_method": "cod"}, "confirm", "invalid_value"),
    ({"amount": 1000, "payment_method": "vnpay", "confirm": True}, "return_url", "parameter_missing"),
    ({"amount": 1000, "payment_method": "vnpay", "confirm": True, "return_url": "javascript:alert(1)"},
     "return_url", "invalid_value"),
])
def test_create_rejects_bad_input_and_creates_nothing(app, world, client, body, param, code):
    response = client.post(f"{A}/payment_intents", json=body, headers=staff(world))
    assert_error(response, 422, code, param)
    assert rows(app, PaymentIntent) == 0 and rows(app, PaymentEvent) == 0


def test_list_pages_newest_first_with_cursors(app, world, client):
    ids = [create(client, world, amount=1000 + n)["id"] for n in range(25)]
    create(client, world, path=B, commune="b")  # another commune's intent never shows
    newest_first = ids[::-1]
    headers = staff(world)

    first = client.get(f"{A}/payment_intents", headers=headers).json
    assert set(first) == {"object", "data", "has_more", "url"}
    assert first["object"] == "list" and first["url"] == f"{A}/payment_intents"
    assert [i["id"] for i in first["data"]] == newest_first[:10] and first["has_more"] is True
    assert first["data"][0]["amount"] == 1024

    seen, cursor, pages = [], None, 0
    while True:
        query = f"?limit=10&starting_after={cursor}" if cursor else "?limit=10"
        page = client.get(f"{A}/payment_intents{query}", headers=headers).json
        seen += [i["id"] for i in page["data"]]
        pages += 1
        if not page["has_more"]:
            break
        cursor = page["data"][-1]["id"]
    assert seen == newest_first and pages == 3

    last = client.get(f"{A}/payment_intents?limit=10&starting_after={newest_first[19]}", headers=headers).json
    assert [i["id"] for i in last["data"]] == newest_first[20:] and last["has_more"] is False
    back = client.get(f"{A}/payment_intents?limit=5&ending_before={newest_first[20]}", headers=headers).json
    assert [i["id"] for i in back["data"]] == newest_first[15:20] and back["has_more"] is True
    top = client.get(f"{A}/payment_intents?limit=5&ending_before={newest_first[5]}", headers=headers).json
    assert [i["id"] for i in top["data"]] == newest_first[:5] and top["has_more"] is False
    everything = client.get(f"{A}/payment_intents?limit=100", headers=headers).json
    assert len(everything["data"]) == 25 and everything["has_more"] is False

    assert_error(client.get(f"{A}/payment_intents?limit=0", headers=headers), 422, "invalid_value", "limit")
    assert_error(client.get(f"{A}/payment_intents?limit=101", headers=headers), 422, "invalid_value", "limit")
    assert_error(client.get(f"{A}/payment_intents?starting_after={ids[0]}&ending_before={ids[1]}",
                            headers=headers), 422, "invalid_value", "ending_before")
    assert_error(client.get(f"{A}/payment_intents?starting_after=pi_nope", headers=headers), 404,
                 "resource_missing", "starting_after")


def test_cancel_records_the_reason_and_refuses_succeeded_intents(app, world, client):
    intent = create(client, world)
    response = client.post(f"{A}/payment_intents/{intent['id']}/cancel", json={"cancellation_reason": "duplicate"},
                           headers=staff(world))
    assert response.status_code == 200, response.json
    assert response.json["status"] == "canceled" and response.json["cancellation_reason"] == "duplicate"
    again = client.post(f"{A}/payment_intents/{intent['id']}/cancel", headers=staff(world))
    assert again.status_code == 200 and again.json["cancellation_reason"] == "duplicate"
    assert event_types(app, world) == ["payment_intent.created", "payment_intent.canceled"]
    assert_error(client.post(f"{A}/payment_intents/{intent['id']}/confirm", json={"payment_method": "cod"},
                             headers=staff(world)), 409, "payment_intent_unexpected_state")

    paid = succeeded_intent(app, client, world)
    assert_error(client.post(f"{A}/payment_intents/{paid}/cancel", headers=staff(world)), 409,
                 "payment_intent_unexpected_state")
    assert load_intent(app, world, paid)[1]["status"] == "succeeded"
    assert_error(client.post(f"{A}/payment_intents/{intent['id']}/cancel", json={"cancellation_reason": "bored"},
                             headers=staff(world)), 422, "invalid_value", "cancellation_reason")
    assert_error(client.post(f"{A}/payment_intents/pi_nope/cancel", headers=staff(world)), 404, "resource_missing")


def test_confirm_with_cash_on_delivery_is_processing(app, world, client):
    intent = create(client, world, description="COD")
    assert_error(client.post(f"{A}/payment_intents/{intent['id']}/confirm", json={}, headers=staff(world)), 422,
                 "parameter_missing", "payment_method")
    response = client.post(f"{A}/payment_intents/{intent['id']}/confirm", json={"payment_method": "cod"},
                           headers=staff(world))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "processing" and body["payment_method"] == "cod"
    assert body["next_action"] is None and body["expires_at"] is None
    assert body == load_intent(app, world, intent["id"])[1]
    assert_error(client.post(f"{A}/payment_intents/{intent['id']}/confirm", json={"payment_method": "cod"},
                             headers=staff(world)), 409, "payment_intent_unexpected_state")
    assert event_types(app, world) == ["payment_intent.created", "payment_intent.processing"]

    at_once = create(client, world, payment_method="cod", confirm=True)
    assert at_once["status"] == "processing"


def test_confirm_with_vietqr_needs_a_seller_part(app, world, client):
    if "vietqr" not in payments._next_actions:
        pytest.skip("the VietQR provider is not registered yet")
    intent = create(client, world)
    response = client.post(f"{A}/payment_intents/{intent['id']}/confirm", json={"payment_method": "vietqr"},
                           headers=staff(world))
    assert_error(response, 422, "vietqr_unavailable")
    assert load_intent(app, world, intent["id"])[1] == intent  # unchanged
    assert event_types(app, world) == ["payment_intent.created"]


def test_confirm_with_vnpay_redirects(app, world, client):
    if "vnpay" not in payments._next_actions:
        pytest.skip("the VNPay provider is not registered yet")
    body = create(client, world, payment_method="vnpay", confirm=True, return_url=RETURN_URL, locale="en")
    assert body["status"] == "requires_action" and body["payment_method"] == "vnpay"
    assert body["next_action"]["type"] == "redirect_to_url"
    assert body["next_action"]["redirect_to_url"]["url"].startswith("http")
    assert body["expires_at"] is not None


# ---------------------------------------------------------------------------
# Refunds


def test_full_refund_then_a_second_one_is_refused(app, world, client):
    paid = succeeded_intent(app, client, world, amount=100_000)
    response = client.post(f"{A}/refunds", json={"payment_intent": paid}, headers=staff(world))
    assert response.status_code == 200, response.json
    refund = response.json
    assert refund["id"].startswith("re_") and refund["object"] == "refund"
    assert (refund["amount"], refund["status"], refund["payment_intent"]) == (100_000, "succeeded", paid)
    assert refund["reason"] == "requested_by_customer" and refund["currency"] == "vnd"
    assert load_intent(app, world, paid)[1]["amount_refunded"] == 100_000

    events_before = event_types(app, world)
    assert_error(client.post(f"{A}/refunds", json={"payment_intent": paid, "amount": 1}, headers=staff(world)),
                 409, "charge_already_refunded")
    assert rows(app, Refund) == 1 and event_types(app, world) == events_before
    assert client.get(f"{A}/refunds/{refund['id']}", headers=staff(world)).json == refund
    assert_error(client.get(f"{A}/refunds/re_nope", headers=staff(world)), 404, "resource_missing", "id")


def test_partial_refunds_up_to_what_was_paid(app, world, client):
    paid = succeeded_intent(app, client, world, amount=100_000)
    first = client.post(f"{A}/refunds", json={"payment_intent": paid, "amount": 40_000, "reason": "duplicate"},
                        headers=staff(world))
    assert first.status_code == 200 and first.json["amount"] == 40_000 and first.json["reason"] == "duplicate"

    intent_before, events_before = load_intent(app, world, paid)[1], event_types(app, world)
    too_much = client.post(f"{A}/refunds", json={"payment_intent": paid, "amount": 60_001}, headers=staff(world))
    assert_error(too_much, 422, "amount_too_large", "amount")
    assert load_intent(app, world, paid)[1] == intent_before and event_types(app, world) == events_before
    assert rows(app, Refund) == 1

    rest = client.post(f"{A}/refunds", json={"payment_intent": paid}, headers=staff(world))
    assert rest.status_code == 200 and rest.json["amount"] == 60_000
    assert load_intent(app, world, paid)[1]["amount_refunded"] == 100_000
    assert event_types(app, world)[-4:] == ["charge.refunded", "refund.created", "charge.refunded", "refund.created"]

    listed = client.get(f"{A}/refunds?payment_intent={paid}", headers=staff(world)).json
    assert [r["amount"] for r in listed["data"]] == [60_000, 40_000]
    assert listed["url"] == f"{A}/refunds" and listed["has_more"] is False


def test_refund_errors_leave_the_state_unchanged(app, world, client):
    open_intent = create(client, world, payment_method="cod", confirm=True)
    assert_error(client.post(f"{A}/refunds", json={"payment_intent": open_intent["id"]}, headers=staff(world)),
                 409, "payment_intent_unexpected_state")
    assert load_intent(app, world, open_intent["id"])[1] == open_intent
    assert_error(client.post(f"{A}/refunds", json={"payment_intent": "pi_nope"}, headers=staff(world)), 404,
                 "resource_missing", "payment_intent")
    paid = succeeded_intent(app, client, world)
    for body in ({"payment_intent": paid, "amount": 0}, {"payment_intent": paid, "amount": 10.5},
                 {"payment_intent": paid, "reason": "changed_my_mind"}, {"amount": 10}):
        assert_error(client.post(f"{A}/refunds", json=body, headers=staff(world)), 422, "invalid_value")
    assert rows(app, Refund) == 0
    assert load_intent(app, world, paid)[1]["amount_refunded"] == 0


def test_concurrent_refunds_cannot_exceed_what_was_paid(app, world, client):
    """Two refunds of 60 000 on 100 000 at once: the intent's row lock makes the second see the first."""
    paid = succeeded_intent(app, client, world, amount=100_000)
    barrier, answers = threading.Barrier(2), []

    def refund(role):
        test_client = app.test_client()
        barrier.wait()
        answers.append(test_client.post(f"{A}/refunds", json={"payment_intent": paid, "amount": 60_000},
                                        headers=staff(world, role)))

    # Two people (two tokens): nothing else they write makes them take turns.
    workers = [threading.Thread(target=refund, args=(role,)) for role in ("admin", "editor")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(r.status_code for r in answers) == [200, 422], [r.json for r in answers]
    assert_error(next(r for r in answers if r.status_code == 422), 422, "amount_too_large")
    assert load_intent(app, world, paid)[1]["amount_refunded"] == 60_000 and rows(app, Refund) == 1


def test_refund_list_pages_and_filters(app, world, client):
    first, second = succeeded_intent(app, client, world), succeeded_intent(app, client, world)
    made = []
    for intent in (first, second, first):
        response = client.post(f"{A}/refunds", json={"payment_intent": intent, "amount": 1000}, headers=staff(world))
        made.append(response.json["id"])
    everything = client.get(f"{A}/refunds?limit=2", headers=staff(world)).json
    assert [r["id"] for r in everything["data"]] == made[::-1][:2] and everything["has_more"] is True
    rest = client.get(f"{A}/refunds?limit=2&starting_after={made[1]}", headers=staff(world)).json
    assert [r["id"] for r in rest["data"]] == [made[0]] and rest["has_more"] is False
    of_first = client.get(f"{A}/refunds?payment_intent={first}", headers=staff(world)).json
    assert [r["id"] for r in of_first["data"]] == [made[2], made[0]]
    assert_error(client.get(f"{A}/refunds?payment_intent=pi_nope", headers=staff(world)), 404, "resource_missing",
                 "payment_intent")


# ---------------------------------------------------------------------------
# Events


def test_events_list_filters_and_match_the_webhook_body(app, world, client):
    kept = create(client, world)
    dropped = create(client, world)
    client.post(f"{A}/payment_intents/{dropped['id']}/cancel", headers=staff(world))
    client.post(f"{A}/payment_intents/{kept['id']}/confirm", json={"payment_method": "cod"}, headers=staff(world))
    create(client, world, path=B, commune="b")

    def types(query=""):
        response = client.get(f"{A}/events{query}", headers=staff(world))
        assert response.status_code == 200, response.json
        return [event["type"] for event in response.json["data"]]

    assert types() == ["payment_intent.processing", "payment_intent.canceled", "payment_intent.created",
                       "payment_intent.created"]
    assert types("?type=payment_intent.created") == ["payment_intent.created"] * 2
    assert types("?type=payment_intent.*") == types()
    assert types("?type=refund.*") == [] and types("?type=charge.refunded") == []

    page = client.get(f"{A}/events?limit=1", headers=staff(world)).json
    assert page["has_more"] is True and page["url"] == f"{A}/events"
    event = page["data"][0]
    assert set(event) == {"id", "object", "type", "created", "data"} and event["object"] == "event"
    assert event["data"]["object"]["id"] == kept["id"] and event["data"]["object"]["status"] == "processing"
    older = client.get(f"{A}/events?limit=10&starting_after={event['id']}&type=payment_intent.created",
                       headers=staff(world)).json
    assert [e["data"]["object"]["id"] for e in older["data"]] == [dropped["id"], kept["id"]]

    retrieved = client.get(f"{A}/events/{event['id']}", headers=staff(world))
    assert retrieved.status_code == 200 and retrieved.json == event
    with database(app).session(Scope(world.a.id)) as session:
        stored = session.scalars(select(PaymentEvent).where(PaymentEvent.public_id == event["id"])).one()
        assert json.loads(event_body(stored)) == event
    assert_error(client.get(f"{A}/events/evt_nope", headers=staff(world)), 404, "resource_missing", "id")


# ---------------------------------------------------------------------------
# Who may use it


ROUTES = [
    ("GET", "/payment_intents", None),
    ("POST", "/payment_intents", {"amount": 1000}),
    ("GET", "/payment_intents/{intent}", None),
    ("POST", "/payment_intents/{intent}/confirm", {"payment_method": "cod"}),
    ("POST", "/payment_intents/{intent}/cancel", {}),
    ("GET", "/refunds", None),
    ("POST", "/refunds", {"payment_intent": "{intent}"}),
    ("GET", "/refunds/{refund}", None),
    ("GET", "/events", None),
    ("GET", "/events/{event}", None),
]


def _b_objects(app, client, world):
    paid = succeeded_intent_in_b(app, client, world)
    refund = client.post(f"{B}/refunds", json={"payment_intent": paid, "amount": 1000},
                         headers=staff(world, "admin", "b")).json
    with database(app).session(Scope(world.b.id)) as session:
        event = session.scalars(select(PaymentEvent.public_id)).first()
    return {"intent": paid, "refund": refund["id"], "event": event}


def succeeded_intent_in_b(app, client, world):
    created = create(client, world, path=B, commune="b", payment_method="cod", confirm=True)
    with database(app).session(Scope(world.b.id)) as session:
        intent = payments.get_intent(session, created["id"])
        payments.succeed(session, intent, intent.amount)
        session.commit()
    return created["id"]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_only_the_communes_staff_get_in(app, world, client, method, path, body):
    ids = _b_objects(app, client, world)
    url = path.format(**ids)
    if body and body.get("payment_intent"):
        body = {"payment_intent": ids["intent"]}
    before = (rows(app, PaymentIntent), rows(app, Refund), rows(app, PaymentEvent))
    for role in ("admin", "editor", "volunteer", "seller"):  # commune A's people, on B's URLs
        response = client.open(f"{B}{url}", method=method, json=body, headers=staff(world, role, "a"))
        assert_error(response, 404, "resource_missing")
    for role in ("volunteer", "seller"):  # B's own members without a staff role
        response = client.open(f"{B}{url}", method=method, json=body, headers=staff(world, role, "b"))
        assert_error(response, 403, "forbidden")
    assert_error(client.open(f"{B}{url}", method=method, json=body), 401, "unauthenticated")
    if "{" in path:  # B's object under A's URL, with A's staff: as if it did not exist
        response = client.open(f"{A}{url}", method=method, json=body, headers=staff(world, "admin", "a"))
        assert_error(response, 404, "resource_missing")
    assert (rows(app, PaymentIntent), rows(app, Refund), rows(app, PaymentEvent)) == before
    assert_error(client.get("/api/v1/communes/no-such/payment_intents", headers=staff(world)), 404)
    platform_admin = client.get(f"{B}/payment_intents/{ids['intent']}", headers=world.auth(world.platform_admin_token))
    assert platform_admin.status_code == 200 and platform_admin.json["status"] == "succeeded"


def test_lists_show_only_the_communes_own_objects(app, world, client):
    _b_objects(app, client, world)
    mine = create(client, world)
    for resource, expected in (("payment_intents", [mine["id"]]), ("refunds", []), ("events", None)):
        data = client.get(f"{A}/{resource}", headers=staff(world, "admin")).json["data"]
        if expected is not None:
            assert [item["id"] for item in data] == expected
        else:
            assert [e["data"]["object"]["id"] for e in data] == [mine["id"]]


def test_openapi_documents_the_payments_api_validly(client):
    spec = client.get("/api/openapi.json").json
    ours = {path: item for path, item in spec["paths"].items()
            if path.split("/")[-1] in ("payment_intents", "refunds", "events", "confirm", "cancel")
            or "/payment_intents/" in path or "/refunds/" in path or "/events/" in path}
    expected = {
        "/api/v1/communes/{commune}/payment_intents": {"get", "post"},
        "/api/v1/communes/{commune}/payment_intents/{intent_id}": {"get"},
        "/api/v1/communes/{commune}/payment_intents/{intent_id}/confirm": {"post"},
        "/api/v1/communes/{commune}/payment_intents/{intent_id}/cancel": {"post"},
        "/api/v1/communes/{commune}/refunds": {"get", "post"},
        "/api/v1/communes/{commune}/refunds/{refund_id}": {"get"},
        "/api/v1/communes/{commune}/events": {"get"},
        "/api/v1/communes/{commune}/events/{event_id}": {"get"},
    }
    assert {path: {m for m in item if m != "parameters"} for path, item in ours.items()} == expected
    for item in ours.values():
        for method, operation in item.items():
            if method == "parameters":
                continue
            headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
            assert headers == (["Idempotency-Key"] if method == "post" else []), operation["summary"]
            assert operation["security"] == [{"bearerAuth": []}]
            if method == "post":
                assert {"200", "400", "409", "422"} <= set(operation["responses"])
    intent = spec["components"]["schemas"]["IntentOut"]["properties"]
    assert {"id", "object", "amount", "status", "next_action", "metadata"} <= set(intent)
    # The payments part on its own must be a valid document (others' paths are tested elsewhere).
    validate({**spec, "paths": ours})
    assert IntentStatus.REQUIRES_ACTION.value in intent["status"]["enum"]
