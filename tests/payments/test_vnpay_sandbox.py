"""VNPay end to end, both ways over real HTTP: the buyer at the simulator's bank page, the simulator's IPN
into our app, our querydr and refund client against the simulator's web API."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from click.testing import CliRunner

from service.cli import main
from service.core.errors import Conflict, Invalid
from service.db import Scope, database
from service.payments import services, vnpay
from service.payments.models import IntentStatus, RefundStatus
from service.payments.vnpay_sandbox import SANDBOX_PREFIX
from tests.payments.conftest import (
    HASH_SECRET,
    TMN_CODE,
    choose_at_bank,
    create_vnpay_intent,
    event_types,
    load_intent,
    send_ipn,
)

ACCOUNT = vnpay.Credentials(TMN_CODE, HASH_SECRET)


def _pay_url(intent) -> str:
    return intent.next_action["redirect_to_url"]["url"]


def _result(location: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(location).query))


def _paid_intent(app, world, live, amount: int = 150_000):
    intent = create_vnpay_intent(app, world.a.id, live, amount=amount)
    choose_at_bank(_pay_url(intent), "pay")
    return load_intent(app, world.a.id, intent.public_id)


# -- paying --------------------------------------------------------------------------------------

def test_full_pay_flow_through_the_simulator(app, world, live, sandbox):
    intent = create_vnpay_intent(app, world.a.id, live)
    assert _pay_url(intent).startswith(sandbox.pay_url)
    page = requests.get(_pay_url(intent), timeout=10)
    assert "150.000 ₫" in page.text and "Thanh toan don hang CT-0001" in page.text

    location = choose_at_bank(_pay_url(intent), "pay")

    transaction = sandbox.ledger.get(TMN_CODE, intent.provider_ref)
    assert transaction is not None and transaction.ipn_calls[-1]["answer"] == {
        "RspCode": "00", "Message": "Confirm Success"}
    paid = load_intent(app, world.a.id, intent.public_id)
    assert paid.status == IntentStatus.SUCCEEDED and paid.amount_received == 150_000
    assert (paid.provider_transaction_no, paid.provider_pay_date) == (transaction.transaction_no,
                                                                      transaction.pay_date)
    assert "payment_intent.succeeded" in event_types(app, world.a.id)
    # The browser comes back to the return page with VNPay's signed result.
    assert location.startswith(f"{live}/payments/vnpay/return?")
    result = _result(location)
    assert (result["vnp_ResponseCode"], result["vnp_TransactionStatus"], result["vnp_Amount"]) == (
        "00", "00", "15000000")
    page = requests.get(location, timeout=10)
    assert page.status_code == 200 and 'data-outcome="paid"' in page.text


@pytest.mark.parametrize(("action", "code", "outcome"), [("cancel", "24", "canceled"), ("decline", "51", "failed")])
def test_cancel_or_decline_at_the_bank(app, world, live, sandbox, action, code, outcome):
    intent = create_vnpay_intent(app, world.a.id, live)

    location = choose_at_bank(_pay_url(intent), action)

    assert _result(location)["vnp_ResponseCode"] == code
    assert sandbox.ledger.get(TMN_CODE, intent.provider_ref).ipn_calls[-1]["answer"]["RspCode"] == "00"
    after = load_intent(app, world.a.id, intent.public_id)
    assert after.status == IntentStatus.REQUIRES_ACTION and after.last_error.startswith(f"VNPay {code}")
    assert event_types(app, world.a.id).count("payment_intent.payment_failed") == 1
    assert f'data-outcome="{outcome}"' in requests.get(location, timeout=10).text
    # The buyer tries again: a new reference, a new page, and this time it is paid.
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        retry = services.confirm(session, services.get_intent(session, intent.public_id), "vnpay",
                                 {"return_url": f"{live}/payments/vnpay/return"})
        session.commit()
    choose_at_bank(_pay_url(retry), "pay")
    assert load_intent(app, world.a.id, intent.public_id).status == IntentStatus.SUCCEEDED


def test_simulator_checks_the_pay_request_like_vnpay(app, world, live, sandbox):
    intent = create_vnpay_intent(app, world.a.id, live)
    url = _pay_url(intent)

    tampered = requests.get(url.replace("vnp_Amount=15000000", "vnp_Amount=100"), timeout=10)
    assert tampered.status_code == 400 and 'data-code="97"' in tampered.text
    unknown = requests.get(url.replace(f"vnp_TmnCode={TMN_CODE}", "vnp_TmnCode=NOBODY00"), timeout=10)
    assert unknown.status_code == 400 and 'data-code="02"' in unknown.text
    params = dict(parse_qsl(urlsplit(url).query)) | {"vnp_CurrCode": "USD"}
    wrong_currency = requests.get(vnpay.build_pay_url(sandbox.pay_url, params, HASH_SECRET), timeout=10)
    assert wrong_currency.status_code == 400 and 'data-code="03"' in wrong_currency.text
    params |= {"vnp_CurrCode": "VND", "vnp_ExpireDate": "20200101000000"}
    expired = requests.get(vnpay.build_pay_url(sandbox.pay_url, params, HASH_SECRET), timeout=10)
    assert expired.status_code == 400 and 'data-code="11"' in expired.text

    choose_at_bank(url, "pay")
    again = requests.get(url, timeout=10)  # the same reference cannot be paid twice
    assert again.status_code == 400 and 'data-code="01"' in again.text


def test_simulator_is_mounted_in_the_app(app):
    """`make run`: the main app serves the simulator at /vnpay-sandbox for the platform's merchant account."""
    params = {"vnp_Version": "2.1.0", "vnp_Command": "pay", "vnp_TmnCode": TMN_CODE, "vnp_Amount": "5000000",
              "vnp_CurrCode": "VND", "vnp_TxnRef": "20990101000000MOUNTED1", "vnp_OrderInfo": "Thanh toan",
              "vnp_OrderType": "other", "vnp_Locale": "vn", "vnp_ReturnUrl": "http://localhost/payments/vnpay/return",
              "vnp_IpAddr": "127.0.0.1", "vnp_CreateDate": "20990101000000", "vnp_ExpireDate": "20990101001500"}
    url = vnpay.build_pay_url(f"http://localhost{SANDBOX_PREFIX}/paymentv2/vpcpay.html", params, HASH_SECRET)

    page = app.test_client().get(url)

    assert page.status_code == 200
    assert f'action="{SANDBOX_PREFIX}/paymentv2/vpcpay.html"' in page.get_data(as_text=True)


def test_default_urls_point_at_the_mounted_simulator(monkeypatch):
    from service.config import load_config

    for name in ("VNPAY_SANDBOX", "VNPAY_TMN_CODE", "VNPAY_HASH_SECRET", "VNPAY_PAY_URL", "VNPAY_API_URL",
                 "PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    config = load_config({"SECRET_KEY": "x"})
    assert config["VNPAY_SANDBOX"] is True
    assert config["VNPAY_PAY_URL"] == "http://127.0.0.1:5000/vnpay-sandbox/paymentv2/vpcpay.html"
    assert config["VNPAY_API_URL"] == "http://127.0.0.1:5000/vnpay-sandbox/merchant_webapi/api/transaction"

    monkeypatch.setenv("VNPAY_TMN_CODE", "REALCODE")  # real credentials turn the simulator off by default
    monkeypatch.setenv("VNPAY_HASH_SECRET", "REAL")
    config = load_config({"SECRET_KEY": "x"})
    assert config["VNPAY_SANDBOX"] is False and config["VNPAY_PAY_URL"].startswith("https://sandbox.vnpayment.vn/")


# -- querydr and reconciliation ------------------------------------------------------------------

def test_lost_ipn_is_reconciled_with_querydr_once(app, world, live, sandbox):
    intent = create_vnpay_intent(app, world.a.id, live)
    location = choose_at_bank(_pay_url(intent), "pay", skip_ipn=True)
    assert load_intent(app, world.a.id, intent.public_id).status == IntentStatus.REQUIRES_ACTION
    assert 'data-outcome="confirming"' in requests.get(location, timeout=10).text  # the return page waits

    with app.app_context(), database(app).session() as session:
        assert vnpay.reconcile(session, older_than=timedelta(minutes=5)).checked == 0  # too recent to ask
        report = vnpay.reconcile(session, older_than=timedelta(0))
    assert (report.checked, report.succeeded, report.errors) == (1, 1, 0)
    paid = load_intent(app, world.a.id, intent.public_id)
    assert paid.status == IntentStatus.SUCCEEDED
    assert paid.provider_transaction_no == sandbox.ledger.get(TMN_CODE, intent.provider_ref).transaction_no
    events = event_types(app, world.a.id)
    assert events.count("payment_intent.succeeded") == 1

    with app.app_context(), database(app).session() as session:
        assert vnpay.reconcile(session, older_than=timedelta(0)).checked == 0
    assert send_ipn(live, _result(location))["RspCode"] == "02"  # the IPN arrives late after all
    assert event_types(app, world.a.id) == events


def test_reconcile_leaves_unpaid_intents_and_records_failures(app, world, live):
    never_opened = create_vnpay_intent(app, world.a.id, live)
    still_paying = create_vnpay_intent(app, world.a.id, live)
    requests.get(_pay_url(still_paying), timeout=10)
    canceled = create_vnpay_intent(app, world.a.id, live)
    choose_at_bank(_pay_url(canceled), "cancel", skip_ipn=True)

    with app.app_context(), database(app).session() as session:
        report = vnpay.reconcile(session, older_than=timedelta(0))
        again = vnpay.reconcile(session, older_than=timedelta(0))

    assert (report.checked, report.succeeded, report.failed, report.unchanged) == (3, 0, 1, 2)
    assert (again.checked, again.failed, again.unchanged) == (3, 0, 3)
    assert load_intent(app, world.a.id, canceled.public_id).last_error.startswith("VNPay 02")
    for intent in (never_opened, still_paying):
        assert load_intent(app, world.a.id, intent.public_id).last_error == ""


def test_reconcile_command(app, world, live, database_url, tmp_path, sandbox):
    intent = create_vnpay_intent(app, world.a.id, live)
    choose_at_bank(_pay_url(intent), "pay", skip_ipn=True)
    env = {"DATABASE_URL": database_url, "XASO_INSTANCE_PATH": str(tmp_path / "cli"), "SECRET_KEY": "test-secret",
           "VNPAY_TMN_CODE": TMN_CODE, "VNPAY_HASH_SECRET": HASH_SECRET, "VNPAY_API_URL": sandbox.api_url}

    result = CliRunner().invoke(main, ["payments", "reconcile", "--older-than", "0"], env=env,
                                catch_exceptions=False)

    assert result.exit_code == 0, result.output
    assert "checked 1: succeeded 1" in result.output
    assert load_intent(app, world.a.id, intent.public_id).status == IntentStatus.SUCCEEDED


def test_client_refuses_an_answer_it_cannot_verify(app, world, live):
    intent = _paid_intent(app, world, live)
    with app.app_context():
        answer = vnpay.querydr_request(ACCOUNT, intent.provider_ref)
        assert (answer["vnp_ResponseCode"], answer["vnp_TransactionStatus"]) == ("00", "00")
        # Signed with another secret: the simulator refuses it (97), signing its answer with the real one,
        # which our client, holding the wrong secret, cannot verify.
        with pytest.raises(vnpay.VnpayError, match="invalid signature"):
            vnpay.querydr_request(vnpay.Credentials(TMN_CODE, "WRONG-SECRET"), intent.provider_ref)
        assert vnpay.querydr_request(vnpay.Credentials("NOBODY00", "x"), intent.provider_ref)[
            "vnp_ResponseCode"] == "02"


def test_simulator_api_rejects_bad_checksums_and_repeated_requests(sandbox):
    body = {"vnp_RequestId": "req-1-unique-0001", "vnp_Version": "2.1.0", "vnp_Command": "querydr",
            "vnp_TmnCode": TMN_CODE, "vnp_TxnRef": "20250101000000NOPE", "vnp_TransactionDate": "20250101000000",
            "vnp_CreateDate": "20250101000100", "vnp_IpAddr": "127.0.0.1", "vnp_OrderInfo": "Truy van"}
    forged = requests.post(sandbox.api_url, json=body | {"vnp_SecureHash": "00" * 64}, timeout=10).json()
    assert forged["vnp_ResponseCode"] == "97"
    assert vnpay.verify_fields(forged, vnpay.QUERYDR_RESPONSE_FIELDS, HASH_SECRET)  # VNPay signs its refusals
    signed = body | {"vnp_SecureHash": vnpay.sign_fields(body, vnpay.QUERYDR_REQUEST_FIELDS, HASH_SECRET)}
    assert requests.post(sandbox.api_url, json=signed, timeout=10).json()["vnp_ResponseCode"] == "91"
    assert requests.post(sandbox.api_url, json=signed, timeout=10).json()["vnp_ResponseCode"] == "94"
    assert requests.post(sandbox.api_url, json={"vnp_TmnCode": TMN_CODE}, timeout=10).json()[
        "vnp_ResponseCode"] == "03"


# -- refunds -------------------------------------------------------------------------------------

def _refund(app, world, public_id: str, amount: int | None = None):
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        refund = services.create_refund(session, services.get_intent(session, public_id), amount)
        session.commit()
        return refund


def test_full_refund_through_the_web_api(app, world, live, sandbox):
    intent = _paid_intent(app, world, live)

    refund = _refund(app, world, intent.public_id)

    assert refund.status == RefundStatus.SUCCEEDED and refund.amount == 150_000 and refund.provider_ref
    assert load_intent(app, world.a.id, intent.public_id).amount_refunded == 150_000
    assert sandbox.ledger.get(TMN_CODE, intent.provider_ref).refunded == 15_000_000
    assert event_types(app, world.a.id)[-2:] == ["charge.refunded", "refund.created"]
    # A second refund: refused by us before VNPay is asked, and by VNPay if asked anyway.
    with pytest.raises(Conflict):
        _refund(app, world, intent.public_id)
    with app.app_context():
        twice = vnpay.refund_request(ACCOUNT, txn_ref=intent.provider_ref, amount=150_000, full=True,
                                     transaction_no=intent.provider_transaction_no)
    assert twice["vnp_ResponseCode"] == "94"
    assert sandbox.ledger.get(TMN_CODE, intent.provider_ref).refunded == 15_000_000
    assert load_intent(app, world.a.id, intent.public_id).amount_refunded == 150_000


def test_partial_refunds_up_to_the_paid_amount(app, world, live, sandbox):
    intent = _paid_intent(app, world, live)

    first = _refund(app, world, intent.public_id, 40_000)
    assert first.status == RefundStatus.SUCCEEDED
    with pytest.raises(Invalid) as above:
        _refund(app, world, intent.public_id, 110_001)
    assert above.value.code == "amount_too_large"
    with app.app_context():
        too_much = vnpay.refund_request(ACCOUNT, txn_ref=intent.provider_ref, amount=110_001, full=False,
                                        transaction_no=intent.provider_transaction_no)
        full_after_partial = vnpay.refund_request(ACCOUNT, txn_ref=intent.provider_ref, amount=150_000, full=True,
                                                  transaction_no=intent.provider_transaction_no)
    assert (too_much["vnp_ResponseCode"], full_after_partial["vnp_ResponseCode"]) == ("03", "94")
    assert sandbox.ledger.get(TMN_CODE, intent.provider_ref).refunded == 4_000_000
    assert load_intent(app, world.a.id, intent.public_id).amount_refunded == 40_000

    rest = _refund(app, world, intent.public_id, 110_000)
    assert rest.status == RefundStatus.SUCCEEDED
    assert load_intent(app, world.a.id, intent.public_id).amount_refunded == 150_000
    assert sandbox.ledger.get(TMN_CODE, intent.provider_ref).refunded == 15_000_000


def test_refund_refused_by_vnpay_fails_and_changes_nothing(app, world, live, sandbox):
    intent = _paid_intent(app, world, live)
    with app.app_context():  # refunded outside XaSo (VNPay's merchant portal)
        assert vnpay.refund_request(ACCOUNT, txn_ref=intent.provider_ref, amount=150_000, full=True,
                                    transaction_no=intent.provider_transaction_no)["vnp_ResponseCode"] == "00"

    refund = _refund(app, world, intent.public_id)

    assert refund.status == RefundStatus.FAILED and refund.failure_reason.startswith("VNPay 94")
    assert load_intent(app, world.a.id, intent.public_id).amount_refunded == 0
    assert event_types(app, world.a.id)[-1] == "refund.failed"
    assert sandbox.ledger.get(TMN_CODE, intent.provider_ref).refunded == 15_000_000
