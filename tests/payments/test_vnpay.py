"""VNPay on our side: the signed pay URL, credentials per commune, the IPN's answers and the return page.

The IPN and the return page are called over real HTTP (our app served in a thread), with messages
signed independently of our code (``hand_sign``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from sqlalchemy import select

from service.core.crypto import encrypt
from service.db import Scope, database
from service.payments import services, vnpay
from service.payments.models import IntentStatus, PaymentSettings
from tests.payments.conftest import (
    COMMUNE_HASH_SECRET,
    COMMUNE_TMN_CODE,
    HASH_SECRET,
    TMN_CODE,
    create_vnpay_intent,
    event_types,
    hand_sign,
    ipn_params,
    load_intent,
    send_ipn,
)

# -- signatures (pure) ---------------------------------------------------------------------------

PAY_PARAMS = {
    "vnp_Version": "2.1.0", "vnp_Command": "pay", "vnp_TmnCode": "XASOTEST", "vnp_Amount": "15000000",
    "vnp_CurrCode": "VND", "vnp_TxnRef": "20250101120000ABCD1234", "vnp_OrderInfo": "Thanh toan don hang CT-0001",
    "vnp_OrderType": "other", "vnp_Locale": "vn", "vnp_ReturnUrl": "http://127.0.0.1:5000/payments/vnpay/return",
    "vnp_IpAddr": "203.0.113.7", "vnp_CreateDate": "20250101120000", "vnp_ExpireDate": "20250101121500",
}
# The same parameters sorted by name and URL-encoded by hand.
SIGNED_QUERY = (
    "vnp_Amount=15000000&vnp_Command=pay&vnp_CreateDate=20250101120000&vnp_CurrCode=VND"
    "&vnp_ExpireDate=20250101121500&vnp_IpAddr=203.0.113.7&vnp_Locale=vn"
    "&vnp_OrderInfo=Thanh+toan+don+hang+CT-0001&vnp_OrderType=other"
    "&vnp_ReturnUrl=http%3A%2F%2F127.0.0.1%3A5000%2Fpayments%2Fvnpay%2Freturn"
    "&vnp_TmnCode=XASOTEST&vnp_TxnRef=20250101120000ABCD1234&vnp_Version=2.1.0"
)


def test_pay_url_is_signed_with_hmac_sha512_of_the_sorted_encoded_query():
    expected = hmac.new(b"SECRET-KEY", SIGNED_QUERY.encode(), hashlib.sha512).hexdigest()

    assert vnpay.canonical_query(PAY_PARAMS) == SIGNED_QUERY
    assert vnpay.sign(PAY_PARAMS, "SECRET-KEY") == expected
    assert len(expected) == 128
    url = vnpay.build_pay_url("https://pay.example/vpcpay.html", PAY_PARAMS, "SECRET-KEY")
    assert url == f"https://pay.example/vpcpay.html?{SIGNED_QUERY}&vnp_SecureHash={expected}"


def test_verify_ignores_the_hash_fields_and_rejects_any_change():
    signed = PAY_PARAMS | {"vnp_SecureHash": hand_sign(PAY_PARAMS, "SECRET-KEY")}

    assert vnpay.verify(signed, "SECRET-KEY")
    assert vnpay.verify(signed | {"vnp_SecureHashType": "HmacSHA512"}, "SECRET-KEY")
    assert vnpay.verify(signed | {"vnp_SecureHash": signed["vnp_SecureHash"].upper()}, "SECRET-KEY")
    assert vnpay.verify(signed | {"lang": "en"}, "SECRET-KEY")  # not a vnp_ parameter: not signed
    assert not vnpay.verify(signed | {"vnp_Amount": "15000100"}, "SECRET-KEY")
    assert not vnpay.verify(signed | {"vnp_BankCode": "NCB"}, "SECRET-KEY")
    assert not vnpay.verify(signed, "OTHER-KEY")
    assert not vnpay.verify(PAY_PARAMS, "SECRET-KEY")
    assert not vnpay.verify(signed | {"vnp_SecureHash": ""}, "SECRET-KEY")


def test_web_api_signature_joins_the_documented_fields_with_pipes():
    body = {"vnp_RequestId": "r1", "vnp_Version": "2.1.0", "vnp_Command": "querydr", "vnp_TmnCode": "XASOTEST",
            "vnp_TxnRef": "T1", "vnp_TransactionDate": "20250101120000", "vnp_CreateDate": "20250101130000",
            "vnp_IpAddr": "127.0.0.1", "vnp_OrderInfo": "Truy van"}
    data = "r1|2.1.0|querydr|XASOTEST|T1|20250101120000|20250101130000|127.0.0.1|Truy van"

    assert vnpay.sign_fields(body, vnpay.QUERYDR_REQUEST_FIELDS, "K") == \
        hmac.new(b"K", data.encode(), hashlib.sha512).hexdigest()


def test_dates_are_gmt7_whatever_the_input_zone():
    assert vnpay.gmt7(datetime(2024, 12, 31, 17, 30, 5, tzinfo=UTC)) == "20250101003005"
    assert vnpay.gmt7(datetime(2024, 12, 31, 17, 30, 5)) == "20250101003005"  # naive means UTC, as stored
    assert vnpay.parse_gmt7("20250101003005") == datetime(2024, 12, 31, 17, 30, 5, tzinfo=UTC)


def test_order_descriptions_lose_diacritics_and_special_characters():
    assert vnpay.ascii_text("Thanh toán đơn hàng Cẩm Thanh #12 — Đặc sản!") == \
        "Thanh toan don hang Cam Thanh #12 Dac san"
    assert vnpay.ascii_text("x" * 300) == "x" * 255


# -- the pay URL of an intent --------------------------------------------------------------------

def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def test_vnpay_intent_requires_action_with_a_signed_redirect(app, world, sandbox):
    before = datetime.now(UTC)
    intent = create_vnpay_intent(app, world.a.id, "https://shop.example", amount=150_000, locale="en")

    assert intent.status == IntentStatus.REQUIRES_ACTION
    action = intent.next_action
    assert action is not None and action["type"] == "redirect_to_url"
    url = action["redirect_to_url"]["url"]
    assert url.startswith(sandbox.pay_url + "?")
    assert action["redirect_to_url"]["return_url"] == "https://shop.example/payments/vnpay/return"
    params = _query(url)
    assert params["vnp_SecureHash"] == hand_sign(params, HASH_SECRET)
    assert params["vnp_Amount"] == "15000000"  # amount x 100
    assert params["vnp_TxnRef"] == intent.provider_ref
    assert {key: params[key] for key in ("vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_CurrCode", "vnp_Locale",
                                         "vnp_IpAddr", "vnp_OrderType", "vnp_OrderInfo", "vnp_ReturnUrl")} == {
        "vnp_Version": "2.1.0", "vnp_Command": "pay", "vnp_TmnCode": TMN_CODE, "vnp_CurrCode": "VND",
        "vnp_Locale": "en", "vnp_IpAddr": "203.0.113.7", "vnp_OrderType": "other",
        "vnp_OrderInfo": "Thanh toan don hang CT-0001",
        "vnp_ReturnUrl": "https://shop.example/payments/vnpay/return"}
    created = datetime.strptime(params["vnp_CreateDate"], "%Y%m%d%H%M%S")
    # The wall clock of Vietnam (UTC+7), to the second.
    assert abs(created - (before + timedelta(hours=7)).replace(tzinfo=None)) < timedelta(seconds=5)
    expires = datetime.strptime(params["vnp_ExpireDate"], "%Y%m%d%H%M%S")
    assert abs(expires - created - timedelta(minutes=15)) <= timedelta(seconds=2)


def test_each_attempt_gets_a_new_reference(app, world):
    first = create_vnpay_intent(app, world.a.id, "https://shop.example")
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        again = services.confirm(session, services.get_intent(session, first.public_id), "vnpay", {})
        session.commit()
    assert again.provider_ref and again.provider_ref != first.provider_ref
    assert vnpay.transaction_date(again.provider_ref) == _query(again.next_action["redirect_to_url"]["url"])[
        "vnp_CreateDate"]


def test_a_commune_with_its_own_merchant_account_signs_with_it(app, world, live):
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        session.add(PaymentSettings(vnpay_tmn_code=COMMUNE_TMN_CODE,
                                    vnpay_hash_secret_encrypted=encrypt(COMMUNE_HASH_SECRET)))
        session.commit()
        stored = session.scalars(select(PaymentSettings)).one()
        assert COMMUNE_HASH_SECRET not in stored.vnpay_hash_secret_encrypted  # encrypted at rest
    own = create_vnpay_intent(app, world.a.id, live)
    platform = create_vnpay_intent(app, world.b.id, live)

    own_params = _query(own.next_action["redirect_to_url"]["url"])
    assert own_params["vnp_TmnCode"] == COMMUNE_TMN_CODE
    assert own_params["vnp_SecureHash"] == hand_sign(own_params, COMMUNE_HASH_SECRET)
    assert _query(platform.next_action["redirect_to_url"]["url"])["vnp_TmnCode"] == TMN_CODE
    # The IPN must be signed with the commune's secret, not the platform's.
    signed_by_platform = ipn_params(own.provider_ref, own.amount, tmn_code=COMMUNE_TMN_CODE)
    assert send_ipn(live, signed_by_platform)["RspCode"] == "97"
    signed_by_commune = ipn_params(own.provider_ref, own.amount, tmn_code=COMMUNE_TMN_CODE,
                                   secret=COMMUNE_HASH_SECRET)
    assert send_ipn(live, signed_by_commune) == {"RspCode": "00", "Message": "Confirm Success"}
    assert load_intent(app, world.a.id, own.public_id).status == IntentStatus.SUCCEEDED


# -- the IPN -------------------------------------------------------------------------------------

def test_ipn_confirms_the_payment_once_and_a_replay_changes_nothing(app, world, live):
    intent = create_vnpay_intent(app, world.a.id, live)
    params = ipn_params(intent.provider_ref, intent.amount)

    assert send_ipn(live, params) == {"RspCode": "00", "Message": "Confirm Success"}
    paid = load_intent(app, world.a.id, intent.public_id)
    assert paid.status == IntentStatus.SUCCEEDED
    assert (paid.amount_received, paid.provider_transaction_no, paid.provider_pay_date) == (
        150_000, "14999999", "20250101120500")
    events = event_types(app, world.a.id)
    assert events.count("payment_intent.succeeded") == 1

    assert send_ipn(live, params) == {"RspCode": "02", "Message": "Order already confirmed"}
    replayed = load_intent(app, world.a.id, intent.public_id)
    assert replayed.succeeded_at == paid.succeeded_at
    assert event_types(app, world.a.id) == events


def _unchanged(app, world, intent, events):
    now = load_intent(app, world.a.id, intent.public_id)
    assert (now.status, now.amount_received, now.last_error) == (IntentStatus.REQUIRES_ACTION, 0, "")
    assert event_types(app, world.a.id) == events


def test_forged_ipns_are_refused_with_97_and_logged(app, world, live, caplog):
    intent = create_vnpay_intent(app, world.a.id, live)
    events = event_types(app, world.a.id)
    tampered = ipn_params(intent.provider_ref, intent.amount) | {"vnp_TransactionNo": "1"}
    wrong_key = ipn_params(intent.provider_ref, intent.amount, secret="NOT-THE-SECRET")
    unsigned = {key: value for key, value in ipn_params(intent.provider_ref, intent.amount).items()
                if key != "vnp_SecureHash"}

    with caplog.at_level(logging.WARNING, logger="service.payments.vnpay"):
        for forged in (tampered, wrong_key, unsigned):
            assert send_ipn(live, forged) == {"RspCode": "97", "Message": "Invalid signature"}
    _unchanged(app, world, intent, events)
    assert sum("rejected with 97" in record.getMessage() for record in caplog.records) == 3


def test_ipn_with_another_amount_is_refused_with_04(app, world, live, caplog):
    intent = create_vnpay_intent(app, world.a.id, live)
    events = event_types(app, world.a.id)

    with caplog.at_level(logging.WARNING, logger="service.payments.vnpay"):
        assert send_ipn(live, ipn_params(intent.provider_ref, intent.amount - 1_000)) == {
            "RspCode": "04", "Message": "Invalid amount"}
    _unchanged(app, world, intent, events)
    assert any("rejected with 04" in record.getMessage() for record in caplog.records)


def test_ipn_for_an_unknown_reference_is_01_when_signed_else_97(app, world, live):
    assert send_ipn(live, ipn_params("20250101120000DEADBEEF", 150_000)) == {
        "RspCode": "01", "Message": "Order not found"}
    assert send_ipn(live, ipn_params("20250101120000DEADBEEF", 150_000, secret="NOT-THE-SECRET"))["RspCode"] == "97"
    assert send_ipn(live, {})["RspCode"] == "97"


@pytest.mark.parametrize("code", ["24", "51"])
def test_failed_payment_is_acknowledged_and_recorded_once(app, world, live, code):
    intent = create_vnpay_intent(app, world.a.id, live)
    params = ipn_params(intent.provider_ref, intent.amount, code=code, status="02")

    assert send_ipn(live, params) == {"RspCode": "00", "Message": "Confirm Success"}
    failed = load_intent(app, world.a.id, intent.public_id)
    assert failed.status == IntentStatus.REQUIRES_ACTION  # the buyer may try again
    assert failed.last_error.startswith(f"VNPay {code}: ") and intent.provider_ref in failed.last_error
    events = event_types(app, world.a.id)
    assert events.count("payment_intent.payment_failed") == 1

    assert send_ipn(live, params)["RspCode"] == "02"
    assert event_types(app, world.a.id) == events


def test_payment_of_a_canceled_intent_is_refused_and_logged_for_a_refund(app, world, live, caplog):
    intent = create_vnpay_intent(app, world.a.id, live)
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        services.cancel(session, services.get_intent(session, intent.public_id), "expired")
        session.commit()

    with caplog.at_level(logging.WARNING, logger="service.payments.vnpay"):
        assert send_ipn(live, ipn_params(intent.provider_ref, intent.amount))["RspCode"] == "02"
    assert load_intent(app, world.a.id, intent.public_id).status == IntentStatus.CANCELED
    assert any("paid after it was canceled" in record.getMessage() for record in caplog.records)


@pytest.fixture
def failing_order_update():
    """An order listener that fails, as a crash between the IPN and the order update would."""

    def fail(session, intent):
        raise RuntimeError("the order could not be updated")

    services.on("payment_intent.succeeded")(fail)
    yield
    services._listeners["payment_intent.succeeded"].remove(fail)


def test_ipn_is_one_transaction_answered_99_when_anything_fails(app, world, live, failing_order_update):
    intent = create_vnpay_intent(app, world.a.id, live)
    events = event_types(app, world.a.id)
    params = ipn_params(intent.provider_ref, intent.amount)

    assert send_ipn(live, params) == {"RspCode": "99", "Message": "Unknown error"}
    _unchanged(app, world, intent, events)  # nothing half-done: no success without its order update


def test_ipn_retried_after_a_failure_succeeds(app, world, live):
    intent = create_vnpay_intent(app, world.a.id, live)
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        session.add(PaymentSettings(vnpay_tmn_code=COMMUNE_TMN_CODE, vnpay_hash_secret_encrypted="not-a-token"))
        session.commit()
    params = ipn_params(intent.provider_ref, intent.amount)
    assert send_ipn(live, params)["RspCode"] == "99"  # the stored secret cannot be decrypted

    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        session.delete(session.scalars(select(PaymentSettings)).one())  # the operator fixes the key
        session.commit()
    assert send_ipn(live, params)["RspCode"] == "00"  # VNPay retries; now it goes through


# -- the return page -----------------------------------------------------------------------------

def _return_page(live: str, params: dict[str, str], **extra: str) -> requests.Response:
    response = requests.get(f"{live}/payments/vnpay/return", params=params | extra, timeout=10)
    assert response.status_code == 200
    return response


def test_return_page_shows_the_result_but_never_changes_state(app, world, live):
    intent = create_vnpay_intent(app, world.a.id, live)
    events = event_types(app, world.a.id)
    params = ipn_params(intent.provider_ref, intent.amount)

    page = _return_page(live, params)
    assert 'data-outcome="confirming"' in page.text
    assert "150.000 ₫" in page.text and "CT-0001" in page.text
    assert 'href="/c/cam-thanh/orders/secret-link"' in page.text
    _unchanged(app, world, intent, events)

    send_ipn(live, params)
    assert 'data-outcome="paid"' in _return_page(live, params).text


def test_return_page_outcomes_and_languages(app, world, live):
    intent = create_vnpay_intent(app, world.a.id, live)

    forged = _return_page(live, ipn_params(intent.provider_ref, intent.amount, secret="NOT-THE-SECRET"))
    assert 'data-outcome="unverified"' in forged.text and "secret-link" not in forged.text
    canceled = ipn_params(intent.provider_ref, intent.amount, code="24", status="02")
    vietnamese = _return_page(live, canceled)
    assert 'data-outcome="canceled"' in vietnamese.text and "Thanh toán đã bị huỷ" in vietnamese.text
    english = _return_page(live, canceled, lang="en")
    assert "The payment was canceled" in english.text
    declined = _return_page(live, ipn_params(intent.provider_ref, intent.amount, code="51", status="02"), lang="en")
    assert 'data-outcome="failed"' in declined.text and "does not have enough money" in declined.text
    assert load_intent(app, world.a.id, intent.public_id).last_error == ""


def test_a_communes_own_credentials_are_set_by_cli_and_stored_encrypted(app, world, database_url, tmp_path):
    from click.testing import CliRunner

    from service.cli import main
    from service.payments.vnpay import credentials

    env = {"DATABASE_URL": database_url, "XASO_INSTANCE_PATH": str(tmp_path / "instance"),
           "SECRET_KEY": app.config["SECRET_KEY"]}
    result = CliRunner().invoke(main, ["payments", "set-vnpay", "cam-thanh", "--tmn-code", "CAMTHANH",
                                       "--hash-secret", "S3CRET-OF-THE-COMMUNE"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        stored = session.scalars(select(PaymentSettings)).one()
        assert stored.vnpay_tmn_code == "CAMTHANH" and "S3CRET" not in stored.vnpay_hash_secret_encrypted
        account = credentials(session)
        assert (account.tmn_code, account.hash_secret) == ("CAMTHANH", "S3CRET-OF-THE-COMMUNE")
    with app.app_context(), database(app).session(Scope(world.b.id)) as session:
        assert credentials(session).tmn_code != "CAMTHANH"  # the other commune keeps the platform's account
    bad = CliRunner().invoke(main, ["payments", "set-vnpay", "cam-thanh", "--tmn-code", "x!", "--hash-secret", "s"],
                             env=env)
    assert bad.exit_code != 0 and "terminal code" in bad.output
