"""A VNPay simulator: VNPay's side of API 2.1.0, so the embedded default pays offline and tests drive our
real HTTP client against a real server.

A separate small Flask app, mounted at ``/vnpay-sandbox`` when ``VNPAY_SANDBOX`` is on:

- ``GET /paymentv2/vpcpay.html``: checks the merchant's signature and parameters like VNPay, shows a
  bank-like page (no JavaScript needed) to pay, be declined or cancel;
- ``POST /paymentv2/vpcpay.html``: the buyer's choice; sends the signed IPN to the merchant (an HTTP GET to
  ``ipn_url``, by default the return URL's origin + ``/payments/vnpay/ipn``), then redirects the browser to
  ``vnp_ReturnUrl`` with the signed result;
- ``POST /merchant_webapi/api/transaction``: ``querydr`` and ``refund``, JSON signed like VNPay's.

It knows the merchant codes and secrets it is given. Its ledger lives in memory (thread-safe): a restart
forgets every transaction, as a sandbox may.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from flask import Flask, abort, redirect, render_template, request
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from service.core.money import format_vnd
from service.payments.vnpay import (
    DATE_FORMAT,
    FULL_REFUND,
    GMT7,
    PARTIAL_REFUND,
    QUERYDR_REQUEST_FIELDS,
    QUERYDR_RESPONSE_FIELDS,
    REFUND_REQUEST_FIELDS,
    REFUND_RESPONSE_FIELDS,
    VERSION,
    parse_gmt7,
    sign,
    sign_fields,
    verify,
    verify_fields,
)

log = logging.getLogger(__name__)

SANDBOX_PREFIX = "/vnpay-sandbox"
PAY_PATH = "/paymentv2/vpcpay.html"
API_PATH = "/merchant_webapi/api/transaction"
IPN_PATH = "/payments/vnpay/ipn"
TEMPLATES = Path(__file__).resolve().parent.parent.parent / "frontend_templates"

PENDING, PAID, FAILED = "01", "00", "02"  # vnp_TransactionStatus
REFUND_PROCESSING = "05"
# The buyer's choices on the bank page: (vnp_ResponseCode, vnp_TransactionStatus).
CHOICES = {"pay": ("00", PAID), "decline": ("51", FAILED), "cancel": ("24", FAILED)}
EXPIRED = ("11", FAILED)
TXN_REF = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
PLAIN_TEXT = re.compile(r"^[\x20-\x7e]{1,255}$")  # VNPay wants order descriptions without diacritics

PAGE_ERRORS = {
    "01": ("Giao dịch đã tồn tại", "The transaction already exists"),
    "02": ("Merchant không hợp lệ (kiểm tra lại vnp_TmnCode)", "Invalid merchant (check vnp_TmnCode)"),
    "03": ("Dữ liệu gửi sang không đúng định dạng", "The data sent is not in the right format"),
    "11": ("Đã hết hạn chờ thanh toán", "The payment window has expired"),
    "97": ("Sai chữ ký", "Invalid signature"),
}
TEXTS = {
    "vn": {"title": "Cổng thanh toán VNPAY (môi trường thử nghiệm)", "merchant": "Đơn vị chấp nhận",
           "order": "Nội dung", "ref": "Mã giao dịch", "amount": "Số tiền", "expires": "Hết hạn lúc",
           "bank": "Ngân hàng", "card": "Số thẻ", "holder": "Chủ thẻ", "otp": "Mã OTP",
           "pay": "Thanh toán", "decline": "Giả lập: tài khoản không đủ số dư", "cancel": "Hủy thanh toán",
           "skip_ipn": "Giả lập mất IPN (không báo kết quả cho cửa hàng)",
           "note": "Đây là trình giả lập VNPAY của XaSo: không có tiền thật nào được chuyển.",
           "error": "Không thể thực hiện giao dịch", "code": "Mã lỗi"},
    "en": {"title": "VNPAY payment gateway (sandbox)", "merchant": "Merchant", "order": "Description",
           "ref": "Transaction reference", "amount": "Amount", "expires": "Expires at", "bank": "Bank",
           "card": "Card number", "holder": "Card holder", "otp": "OTP", "pay": "Pay",
           "decline": "Simulate: insufficient balance", "cancel": "Cancel payment",
           "skip_ipn": "Simulate a lost IPN (do not notify the shop)",
           "note": "This is XaSo's VNPAY simulator: no real money moves.",
           "error": "The transaction cannot be made", "code": "Error code"},
}


def now_gmt7() -> str:
    return datetime.now(GMT7).strftime(DATE_FORMAT)


@dataclass
class Transaction:
    tmn_code: str
    txn_ref: str
    amount: int  # in VNPay's hundredths of a đồng, as sent
    order_info: str
    create_date: str
    expire_date: str
    return_url: str
    locale: str
    token: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    status: str = PENDING
    response_code: str = ""
    transaction_no: str = ""
    pay_date: str = ""
    bank_code: str = "NCB"
    refunded: int = 0  # hundredths of a đồng
    ipn_calls: list[dict[str, Any]] = field(default_factory=list)  # each delivery attempt and its answer


class Ledger:
    """Transactions by (merchant code, vnp_TxnRef); one lock guards every change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._transactions: dict[tuple[str, str], Transaction] = {}
        self._by_token: dict[str, Transaction] = {}
        self._numbers = itertools.count(14_000_001)
        self._request_ids: set[tuple[str, str]] = set()

    def open(self, transaction: Transaction) -> Transaction | None:
        """Record a pay request; the same pending one again reopens its page, a finished one is refused."""
        with self._lock:
            existing = self._transactions.get((transaction.tmn_code, transaction.txn_ref))
            if existing is not None:
                return existing if existing.status == PENDING else None
            self._transactions[(transaction.tmn_code, transaction.txn_ref)] = transaction
            self._by_token[transaction.token] = transaction
            return transaction

    def get(self, tmn_code: str, txn_ref: str) -> Transaction | None:
        with self._lock:
            return self._transactions.get((tmn_code, txn_ref))

    def by_token(self, token: str) -> Transaction | None:
        with self._lock:
            return self._by_token.get(token)

    def settle(self, transaction: Transaction, response_code: str, status: str) -> bool:
        """The buyer's result, once: False when the transaction was already settled."""
        with self._lock:
            if transaction.status != PENDING:
                return False
            transaction.status, transaction.response_code = status, response_code
            transaction.transaction_no = str(next(self._numbers)) if response_code != "24" else "0"
            transaction.pay_date = now_gmt7()
            return True

    def first_use(self, tmn_code: str, request_id: str) -> bool:
        with self._lock:
            if (tmn_code, request_id) in self._request_ids:
                return False
            self._request_ids.add((tmn_code, request_id))
            return True

    def refund(self, transaction: Transaction, kind: str, amount: int) -> tuple[str, str, str]:
        """(vnp_ResponseCode, vnp_Message, refund transaction number)."""
        with self._lock:
            if transaction.status != PAID:
                return "95", "Transaction was not successful; refund refused", ""
            remaining = transaction.amount - transaction.refunded
            if remaining <= 0 or (kind == FULL_REFUND and transaction.refunded):
                return "94", "A refund of this transaction was already made", ""
            if kind == FULL_REFUND and amount != transaction.amount:
                return "03", "A full refund must be the whole amount", ""
            if amount <= 0 or amount % 100 or amount > remaining:
                return "03", f"Invalid amount: at most {remaining} can be refunded", ""
            transaction.refunded += amount
            return "00", "Refund success", str(next(self._numbers))


def create_sandbox_app(merchants: Mapping[str, str], *, ipn_url: str = "", timeout: float = 15.0) -> Flask:
    """The simulator for the given merchant codes and hash secrets; ``ipn_url`` overrides where IPNs go."""
    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder=None)
    ledger = Ledger()
    app.extensions["vnpay_sandbox"] = ledger
    known = dict(merchants)

    @app.get(PAY_PATH)
    def pay_page() -> Any:
        params = request.args.to_dict()
        locale = "en" if params.get("vnp_Locale") == "en" else "vn"
        code = _check_pay_request(params, known)
        if code:
            return _error_page(code, locale, params)
        transaction = ledger.open(Transaction(
            tmn_code=params["vnp_TmnCode"], txn_ref=params["vnp_TxnRef"], amount=int(params["vnp_Amount"]),
            order_info=params["vnp_OrderInfo"], create_date=params["vnp_CreateDate"],
            expire_date=params["vnp_ExpireDate"], return_url=params["vnp_ReturnUrl"], locale=locale))
        if transaction is None:
            return _error_page("01", locale, params)
        return render_template("vnpay_sandbox/pay.html", t=TEXTS[locale], locale=locale, txn=transaction,
                               amount=format_vnd(transaction.amount // 100),
                               expires=parse_gmt7(transaction.expire_date).strftime("%d/%m/%Y %H:%M:%S"))

    @app.post(PAY_PATH)
    def pay_choice() -> Any:
        transaction = ledger.by_token(request.form.get("token", ""))
        choice = CHOICES.get(request.form.get("action", ""))
        if transaction is None or choice is None:
            abort(400)
        if now_gmt7() > transaction.expire_date:
            choice = EXPIRED
        if not ledger.settle(transaction, *choice):
            return _error_page("01", transaction.locale, {})
        result = _signed_result(transaction, known[transaction.tmn_code])
        if not request.form.get("skip_ipn"):
            _send_ipn(transaction, result, ipn_url or _default_ipn_url(transaction.return_url), timeout)
        separator = "&" if urlsplit(transaction.return_url).query else "?"
        return redirect(f"{transaction.return_url}{separator}{urlencode(result)}", code=302)

    @app.post(API_PATH)
    def transaction_api() -> Any:
        body = request.get_json(silent=True)
        return _api(body if isinstance(body, dict) else {}, known, ledger)

    return app


def mount(app: Flask) -> Flask:
    """Serve the simulator under /vnpay-sandbox of the main app, for the platform's merchant account."""
    config = app.config
    sandbox = create_sandbox_app({config["VNPAY_TMN_CODE"]: config["VNPAY_HASH_SECRET"]},
                                 ipn_url=config.get("VNPAY_SANDBOX_IPN_URL", ""),
                                 timeout=float(config.get("VNPAY_TIMEOUT", 15)))
    app.extensions["vnpay_sandbox_app"] = sandbox
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {SANDBOX_PREFIX: sandbox})  # type: ignore[method-assign]
    return sandbox


# -- the pay page -----------------------------------------------------------------------------

def _check_pay_request(params: Mapping[str, str], merchants: Mapping[str, str]) -> str:
    """'' when VNPay would accept the request, else the error code its page shows."""
    secret = merchants.get(params.get("vnp_TmnCode", ""))
    if secret is None:
        return "02"
    if not verify(params, secret):
        return "97"
    amount = params.get("vnp_Amount", "")
    well_formed = (
        params.get("vnp_Version") == VERSION and params.get("vnp_Command") == "pay"
        and params.get("vnp_CurrCode") == "VND" and amount.isdigit() and int(amount) > 0 and int(amount) % 100 == 0
        and bool(TXN_REF.match(params.get("vnp_TxnRef", "")))
        and bool(PLAIN_TEXT.match(params.get("vnp_OrderInfo", ""))) and bool(params.get("vnp_OrderType"))
        and params.get("vnp_Locale") in ("vn", "en") and bool(params.get("vnp_IpAddr"))
        and urlsplit(params.get("vnp_ReturnUrl", "")).scheme in ("http", "https")
        and _is_date(params.get("vnp_CreateDate", "")) and _is_date(params.get("vnp_ExpireDate", ""))
    )
    if not well_formed:
        return "03"
    if params["vnp_ExpireDate"] <= now_gmt7():
        return "11"
    return ""


def _is_date(text: str) -> bool:
    try:
        parse_gmt7(text)
    except ValueError:
        return False
    return len(text) == 14


def _error_page(code: str, locale: str, params: Mapping[str, str]) -> Any:
    vietnamese, english = PAGE_ERRORS[code]
    log.info("vnpay sandbox: pay request refused with %s for vnp_TxnRef %r", code, params.get("vnp_TxnRef"))
    return render_template("vnpay_sandbox/error.html", t=TEXTS[locale], locale=locale, code=code,
                           message=english if locale == "en" else vietnamese), 400


def _signed_result(transaction: Transaction, secret: str) -> dict[str, str]:
    result = {
        "vnp_Amount": str(transaction.amount), "vnp_BankCode": transaction.bank_code, "vnp_CardType": "ATM",
        "vnp_OrderInfo": transaction.order_info, "vnp_PayDate": transaction.pay_date,
        "vnp_ResponseCode": transaction.response_code, "vnp_TmnCode": transaction.tmn_code,
        "vnp_TransactionNo": transaction.transaction_no, "vnp_TransactionStatus": transaction.status,
        "vnp_TxnRef": transaction.txn_ref,
    }
    if transaction.status == PAID:
        result["vnp_BankTranNo"] = f"VNP{transaction.transaction_no}"
    result["vnp_SecureHash"] = sign(result, secret)
    return result


def _default_ipn_url(return_url: str) -> str:
    parts = urlsplit(return_url)
    return f"{parts.scheme}://{parts.netloc}{IPN_PATH}"


def _send_ipn(transaction: Transaction, result: dict[str, str], url: str, timeout: float) -> None:
    """Tell the merchant, once; a failure is recorded (the merchant must then reconcile with querydr)."""
    attempt: dict[str, Any] = {"url": url, "status": None, "answer": None, "error": ""}
    try:
        response = requests.get(url, params=result, timeout=timeout)
        attempt["status"] = response.status_code
        attempt["answer"] = response.json()
    except (requests.RequestException, ValueError) as error:
        attempt["error"] = str(error)
        log.warning("vnpay sandbox: IPN to %s failed: %s", url, error)
    transaction.ipn_calls.append(attempt)


# -- the merchant web API -----------------------------------------------------------------------

def _api(body: Mapping[str, Any], merchants: Mapping[str, str], ledger: Ledger) -> Any:
    command = str(body.get("vnp_Command") or "")
    tmn_code = str(body.get("vnp_TmnCode") or "")
    secret = merchants.get(tmn_code)
    request_fields, response_fields = ((REFUND_REQUEST_FIELDS, REFUND_RESPONSE_FIELDS) if command == "refund"
                                       else (QUERYDR_REQUEST_FIELDS, QUERYDR_RESPONSE_FIELDS))
    answer: dict[str, Any] = {"vnp_ResponseId": secrets.token_hex(16), "vnp_Command": command,
                              "vnp_TmnCode": tmn_code, "vnp_TxnRef": str(body.get("vnp_TxnRef") or "")}

    def reply(code: str, message: str, **values: Any) -> Any:
        answer.update(values, vnp_ResponseCode=code, vnp_Message=message)
        if secret is not None:
            answer["vnp_SecureHash"] = sign_fields(answer, response_fields, secret)
        return answer

    if secret is None:
        return reply("02", "Invalid merchant (check vnp_TmnCode)")
    optional = {"vnp_TransactionNo"}
    if command not in ("querydr", "refund") or any(
            body.get(name) in (None, "") for name in request_fields if name not in optional):
        return reply("03", "The data sent is not in the right format")
    if not verify_fields(body, request_fields, secret):
        return reply("97", "Invalid checksum")
    if not ledger.first_use(tmn_code, str(body["vnp_RequestId"])):
        return reply("94", "Duplicate request")
    transaction = ledger.get(tmn_code, str(body["vnp_TxnRef"]))
    if transaction is None or transaction.create_date != str(body["vnp_TransactionDate"]):
        return reply("91", "Transaction not found")
    if command == "querydr":
        return reply("00", "QueryDR Success", vnp_Amount=str(transaction.amount), vnp_BankCode=transaction.bank_code,
                     vnp_PayDate=transaction.pay_date, vnp_TransactionNo=transaction.transaction_no,
                     vnp_TransactionType="01", vnp_TransactionStatus=transaction.status,
                     vnp_OrderInfo=transaction.order_info, vnp_PromotionCode="", vnp_PromotionAmount="")
    return _refund(body, transaction, ledger, reply)


def _refund(body: Mapping[str, Any], transaction: Transaction, ledger: Ledger, reply: Any) -> Any:
    kind = str(body["vnp_TransactionType"])
    raw_amount = str(body["vnp_Amount"])
    given_no = str(body.get("vnp_TransactionNo") or "0")
    if kind not in (FULL_REFUND, PARTIAL_REFUND) or not raw_amount.isdigit():
        return reply("03", "The data sent is not in the right format")
    if given_no != "0" and given_no != transaction.transaction_no:
        return reply("91", "Transaction not found")
    code, message, refund_no = ledger.refund(transaction, kind, int(raw_amount))
    if code != "00":
        return reply(code, message)
    return reply(code, message, vnp_Amount=raw_amount, vnp_BankCode=transaction.bank_code, vnp_PayDate=now_gmt7(),
                 vnp_TransactionNo=refund_no, vnp_TransactionType=kind, vnp_TransactionStatus=REFUND_PROCESSING,
                 vnp_OrderInfo=str(body["vnp_OrderInfo"]))
