"""VNPay (API 2.1.0): the pay URL and its signature, the IPN, the querydr and refund web API, reconciliation.

The buyer is sent to VNPay with a signed pay URL (``next_action.redirect_to_url``). VNPay then calls our
IPN (server to server: the only message that changes state) and redirects the buyer to our return page,
which only shows the result. ``reconcile`` asks VNPay (querydr) about intents whose IPN never came.

Signatures: the pay URL, the return redirect and the IPN sign the ``vnp_*`` parameters sorted by name,
URL-encoded (``quote_plus``) and joined with ``&``; the web API signs documented fields joined with ``|``.
Both are HMAC-SHA512 with the merchant's hash secret, in hex. Dates are ``yyyyMMddHHmmss`` in GMT+7.
Each commune may have its own merchant account (``PaymentSettings``); otherwise the platform's applies.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote_plus

import requests
from flask import current_app, has_request_context, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.crypto import decrypt, encrypt
from service.core.errors import Invalid
from service.db import PLATFORM, Scope, scoped, utcnow
from service.payments import services
from service.payments.models import IntentStatus, PaymentIntent, PaymentSettings, Refund, RefundStatus

log = logging.getLogger(__name__)

VERSION = "2.1.0"
GMT7 = timezone(timedelta(hours=7))  # VNPay's clock, whatever the server's time zone
DATE_FORMAT = "%Y%m%d%H%M%S"
HASH_PARAMS = ("vnp_SecureHash", "vnp_SecureHashType")
ORDER_TYPE = "other"
# The web API wants the caller's address; it is informational (VNPay filters by its own allow-list).
SERVER_IP = "127.0.0.1"
CREATED_BY = "xaso"

# The fields each web API message signs, in VNPay's documented order.
QUERYDR_REQUEST_FIELDS = ("vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TxnRef",
                          "vnp_TransactionDate", "vnp_CreateDate", "vnp_IpAddr", "vnp_OrderInfo")
QUERYDR_RESPONSE_FIELDS = ("vnp_ResponseId", "vnp_Command", "vnp_ResponseCode", "vnp_Message", "vnp_TmnCode",
                           "vnp_TxnRef", "vnp_Amount", "vnp_BankCode", "vnp_PayDate", "vnp_TransactionNo",
                           "vnp_TransactionType", "vnp_TransactionStatus", "vnp_OrderInfo", "vnp_PromotionCode",
                           "vnp_PromotionAmount")
REFUND_REQUEST_FIELDS = ("vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TransactionType",
                         "vnp_TxnRef", "vnp_Amount", "vnp_TransactionNo", "vnp_TransactionDate", "vnp_CreateBy",
                         "vnp_CreateDate", "vnp_IpAddr", "vnp_OrderInfo")
REFUND_RESPONSE_FIELDS = QUERYDR_RESPONSE_FIELDS[:13]

FULL_REFUND, PARTIAL_REFUND = "02", "03"
PAID = "00"  # vnp_ResponseCode / vnp_TransactionStatus of a successful payment
PENDING_AT_BANK = "01"  # querydr: the buyer has not finished paying
NOT_FOUND = "91"  # querydr: VNPay never saw this vnp_TxnRef (the buyer did not reach the bank)

# What a vnp_ResponseCode of the pay flow means (English: it goes into the intent's last_payment_error).
RESPONSE_CODES = {
    "07": "money taken but the transaction is suspected of fraud",
    "09": "the card or account is not registered for internet banking",
    "10": "the card or account details were wrong three times",
    "11": "the payment window expired",
    "12": "the card or account is locked",
    "13": "the one-time password was wrong",
    "24": "the buyer canceled the payment",
    "51": "insufficient balance",
    "65": "the daily limit of the account was exceeded",
    "75": "the bank is under maintenance",
    "79": "the payment password was wrong too many times",
    "99": "other error",
}

# The IPN's answers (VNPay's documented RspCode values).
IPN_SUCCESS, IPN_NOT_FOUND, IPN_ALREADY_CONFIRMED, IPN_INVALID_AMOUNT, IPN_INVALID_SIGNATURE, IPN_UNKNOWN = (
    "00", "01", "02", "04", "97", "99")
IPN_MESSAGES = {
    IPN_SUCCESS: "Confirm Success",
    IPN_NOT_FOUND: "Order not found",
    IPN_ALREADY_CONFIRMED: "Order already confirmed",
    IPN_INVALID_AMOUNT: "Invalid amount",
    IPN_INVALID_SIGNATURE: "Invalid signature",
    IPN_UNKNOWN: "Unknown error",
}


class VnpayError(RuntimeError):
    """VNPay could not be reached, or answered something we cannot trust (bad signature, not JSON)."""


# -- signatures (pure) ----------------------------------------------------------------------

def hmac_sha512(secret: str, data: str) -> str:
    return hmac.new(secret.encode(), data.encode(), hashlib.sha512).hexdigest()


def canonical_query(params: Mapping[str, Any]) -> str:
    """The signed string: vnp_* parameters but the hash itself, sorted, quote_plus-encoded, joined by &.

    Empty values are left out, as VNPay's own reference code does.
    """
    pairs = sorted((key, str(value)) for key, value in params.items()
                   if key.startswith("vnp_") and key not in HASH_PARAMS and value is not None and str(value) != "")
    return "&".join(f"{key}={quote_plus(value)}" for key, value in pairs)


def sign(params: Mapping[str, Any], secret: str) -> str:
    return hmac_sha512(secret, canonical_query(params))


def verify(params: Mapping[str, Any], secret: str) -> bool:
    """True when vnp_SecureHash is the signature of the other vnp_* parameters (compared in constant time)."""
    given = str(params.get("vnp_SecureHash") or "").lower()
    return bool(given) and hmac.compare_digest(sign(params, secret), given)


def build_pay_url(base_url: str, params: Mapping[str, Any], secret: str) -> str:
    query = canonical_query(params)
    return f"{base_url}?{query}&vnp_SecureHash={hmac_sha512(secret, query)}"


def sign_fields(values: Mapping[str, Any], names: Iterable[str], secret: str) -> str:
    """The web API's signature: the named fields' values joined by | (a missing field counts as empty)."""
    data = "|".join("" if values.get(name) is None else str(values.get(name)) for name in names)
    return hmac_sha512(secret, data)


def verify_fields(values: Mapping[str, Any], names: Iterable[str], secret: str) -> bool:
    given = str(values.get("vnp_SecureHash") or "").lower()
    return bool(given) and hmac.compare_digest(sign_fields(values, names, secret), given)


# -- dates and texts ------------------------------------------------------------------------

def gmt7(moment: datetime) -> str:
    """A moment as VNPay writes it: yyyyMMddHHmmss in GMT+7 (naive datetimes are UTC, as in our database)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(GMT7).strftime(DATE_FORMAT)


def parse_gmt7(text: str) -> datetime:
    return datetime.strptime(text, DATE_FORMAT).replace(tzinfo=GMT7)


def ascii_text(text: str, limit: int = 255) -> str:
    """VNPay wants order descriptions in Vietnamese without diacritics and without special characters."""
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    return re.sub(r"\s+", " ", re.sub(r"[^A-Za-z0-9 .,:#_-]", " ", plain)).strip()[:limit]


def new_txn_ref(created: datetime) -> str:
    """A unique vnp_TxnRef that starts with its own vnp_CreateDate (GMT+7).

    querydr and refund must repeat the pay request's vnp_CreateDate as vnp_TransactionDate; carrying it
    in the reference keeps it without another column.
    """
    return gmt7(created) + secrets.token_hex(4).upper()


def transaction_date(txn_ref: str) -> str:
    return txn_ref[:14]


def describe(response_code: str) -> str:
    return RESPONSE_CODES.get(response_code, "the bank declined the payment")


def failure_message(response_code: str, txn_ref: str) -> str:
    # The reference in the message tells a replayed failure from a new one (see _already_failed).
    return f"VNPay {response_code}: {describe(response_code)} (vnp_TxnRef {txn_ref})"


def _already_failed(intent: PaymentIntent, txn_ref: str) -> bool:
    return f"(vnp_TxnRef {txn_ref})" in (intent.last_error or "")


# -- credentials ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Credentials:
    tmn_code: str
    hash_secret: str = field(repr=False)


def platform_credentials() -> Credentials:
    config = current_app.config
    tmn_code, secret = config.get("VNPAY_TMN_CODE", ""), config.get("VNPAY_HASH_SECRET", "")
    if not tmn_code or not secret:
        raise Invalid("VNPay is not configured: set VNPAY_TMN_CODE and VNPAY_HASH_SECRET, or the commune's own.",
                      param="payment_method", code="vnpay_not_configured")
    return Credentials(tmn_code, secret)


def credentials(session: Session) -> Credentials:
    """The merchant account of the session's commune: its own when it has one, else the platform's."""
    settings = session.scalars(select(PaymentSettings)).first()
    if settings is not None and settings.vnpay_tmn_code and settings.vnpay_hash_secret_encrypted:
        return Credentials(settings.vnpay_tmn_code, decrypt(settings.vnpay_hash_secret_encrypted))
    return platform_credentials()


def set_commune_credentials(session: Session, tmn_code: str, hash_secret: str) -> PaymentSettings:
    """Give the session's commune its own VNPay merchant account (the secret is stored encrypted);
    empty values go back to the platform's account."""
    tmn_code, hash_secret = tmn_code.strip(), hash_secret.strip()
    if bool(tmn_code) != bool(hash_secret):
        raise Invalid("Give both the VNPay terminal code and its hash secret, or neither.", param="tmn_code")
    if tmn_code and not re.fullmatch(r"[A-Za-z0-9]{4,20}", tmn_code):
        raise Invalid("A VNPay terminal code is 4 to 20 letters and digits.", param="tmn_code")
    settings = session.scalars(select(PaymentSettings)).first() or PaymentSettings()
    settings.vnpay_tmn_code = tmn_code
    settings.vnpay_hash_secret_encrypted = encrypt(hash_secret)
    session.add(settings)
    session.flush()
    return settings


def _secret_for_merchant(session: Session, tmn_code: str) -> str | None:
    """The secret of whichever account owns a merchant code (for messages we cannot tie to an intent)."""
    config = current_app.config
    if not tmn_code:
        return None
    if tmn_code == config.get("VNPAY_TMN_CODE"):
        return str(config.get("VNPAY_HASH_SECRET") or "") or None
    with scoped(session, PLATFORM):
        settings = session.scalars(select(PaymentSettings).where(PaymentSettings.vnpay_tmn_code == tmn_code)).first()
    return decrypt(settings.vnpay_hash_secret_encrypted) if settings is not None else None


# -- paying ---------------------------------------------------------------------------------

def _return_url(context: Mapping[str, Any]) -> str:
    if context.get("return_url"):
        return str(context["return_url"])
    if has_request_context():
        return url_for("vnpay.return_page", _external=True)
    return f"{current_app.config.get('PUBLIC_BASE_URL', 'http://127.0.0.1:5000')}/payments/vnpay/return"


def _order_info(intent: PaymentIntent, context: Mapping[str, Any]) -> str:
    number = context.get("order_number") or (intent.metadata_ or {}).get("order_number")
    text = f"Thanh toan don hang {number}" if number else (intent.description or f"Thanh toan {intent.public_id}")
    return ascii_text(text) or f"Thanh toan {intent.public_id}"


def pay_params(intent: PaymentIntent, account: Credentials, context: Mapping[str, Any], txn_ref: str,
               created: datetime) -> dict[str, str]:
    expires = intent.expires_at or created + (services.PAY_WINDOW["vnpay"] or timedelta(minutes=15))
    locale = "en" if context.get("locale") == "en" else "vn"
    return {
        "vnp_Version": VERSION,
        "vnp_Command": "pay",
        "vnp_TmnCode": account.tmn_code,
        "vnp_Amount": str(intent.amount * 100),  # VNPay counts in hundredths of a đồng
        "vnp_CurrCode": "VND",
        "vnp_TxnRef": txn_ref,
        "vnp_OrderInfo": _order_info(intent, context),
        "vnp_OrderType": ORDER_TYPE,
        "vnp_Locale": locale,
        "vnp_ReturnUrl": _return_url(context),
        "vnp_IpAddr": str(context.get("ip_address") or SERVER_IP)[:45],
        "vnp_CreateDate": gmt7(created),
        "vnp_ExpireDate": gmt7(expires),
    }


@services.provider("vnpay")
def next_action(session: Session, intent: PaymentIntent, context: dict[str, Any]) -> dict[str, Any]:
    """A fresh vnp_TxnRef for every attempt (VNPay refuses a reference twice) and its signed pay URL."""
    account = credentials(session)
    created = utcnow()
    txn_ref = new_txn_ref(created)
    params = pay_params(intent, account, context, txn_ref, created)
    intent.provider_ref = txn_ref
    url = build_pay_url(current_app.config["VNPAY_PAY_URL"], params, account.hash_secret)
    return {"type": "redirect_to_url", "redirect_to_url": {"url": url, "return_url": params["vnp_ReturnUrl"]}}


# -- the IPN ---------------------------------------------------------------------------------

def _locked_intent(session: Session, **where: Any) -> PaymentIntent | None:
    """The intent, row-locked until the transaction ends: an IPN and a reconciliation never both apply."""
    query = select(PaymentIntent).filter_by(**where).with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).first()


def _amount(params: Mapping[str, Any]) -> int | None:
    raw = str(params.get("vnp_Amount") or "")
    if not raw.isdigit() or int(raw) % 100:
        return None
    return int(raw) // 100


def handle_ipn(session: Session, params: Mapping[str, str]) -> str:
    """Apply VNPay's IPN and return the RspCode to answer. The caller commits once, afterwards.

    Order of checks as VNPay documents: signature (97), order (01), amount (04), already confirmed (02).
    A failed payment is still acknowledged with 00: the answer confirms receipt, not success.
    """
    txn_ref = str(params.get("vnp_TxnRef") or "")
    with scoped(session, PLATFORM):  # the reference is unique across communes
        intent = _locked_intent(session, provider_ref=txn_ref) if txn_ref else None
    if intent is None:
        secret = _secret_for_merchant(session, str(params.get("vnp_TmnCode") or ""))
        if secret is None or not verify(params, secret):
            return _reject(IPN_INVALID_SIGNATURE, txn_ref, "signature does not verify (unknown order)")
        return _reject(IPN_NOT_FOUND, txn_ref, "no payment_intent has this vnp_TxnRef")
    with scoped(session, Scope(intent.tenant_id)):
        return _apply_ipn(session, intent, params, txn_ref)


def _apply_ipn(session: Session, intent: PaymentIntent, params: Mapping[str, str], txn_ref: str) -> str:
    if not verify(params, credentials(session).hash_secret):
        return _reject(IPN_INVALID_SIGNATURE, txn_ref, "signature does not verify")
    if _amount(params) != intent.amount:
        return _reject(IPN_INVALID_AMOUNT, txn_ref, f"vnp_Amount {params.get('vnp_Amount')!r} is not "
                                                    f"{intent.amount * 100} for {intent.public_id}")
    response_code = str(params.get("vnp_ResponseCode") or "")
    paid = response_code == PAID and params.get("vnp_TransactionStatus") == PAID
    if intent.status not in services.OPEN or (not paid and _already_failed(intent, txn_ref)):
        if paid and intent.status == IntentStatus.CANCELED:
            log.error("vnpay ipn: %s was paid after it was canceled (%s): refund it at VNPay", intent.public_id,
                      intent.cancellation_reason)
        return _reject(IPN_ALREADY_CONFIRMED, txn_ref, f"{intent.public_id} is {intent.status.value}")
    if paid:
        services.succeed(session, intent, intent.amount, transaction_no=str(params.get("vnp_TransactionNo") or ""),
                         pay_date=str(params.get("vnp_PayDate") or ""))
        log.info("vnpay ipn: %s succeeded (vnp_TxnRef %s)", intent.public_id, txn_ref)
    else:
        services.payment_failed(session, intent, failure_message(response_code, txn_ref))
        log.info("vnpay ipn: %s failed with %s (vnp_TxnRef %s)", intent.public_id, response_code, txn_ref)
    return IPN_SUCCESS


def _reject(code: str, txn_ref: str, reason: str) -> str:
    log.warning("vnpay ipn rejected with %s (%s): vnp_TxnRef %r: %s", code, IPN_MESSAGES[code], txn_ref, reason)
    return code


# -- the return page ------------------------------------------------------------------------

@dataclass
class ReturnResult:
    """What the buyer's browser brought back; nothing here changes state."""

    verified: bool
    intent: PaymentIntent | None
    response_code: str
    amount: int | None

    @property
    def paid(self) -> bool:
        return self.verified and self.response_code == PAID


def read_return(session: Session, params: Mapping[str, str]) -> ReturnResult:
    txn_ref = str(params.get("vnp_TxnRef") or "")
    response_code = str(params.get("vnp_ResponseCode") or "")
    with scoped(session, PLATFORM):
        intent = services.intent_by_provider_ref(session, txn_ref) if txn_ref else None
    if intent is None:
        secret = _secret_for_merchant(session, str(params.get("vnp_TmnCode") or ""))
        verified = secret is not None and verify(params, secret)
    else:
        with scoped(session, Scope(intent.tenant_id)):
            verified = verify(params, credentials(session).hash_secret)
    if not verified:
        log.warning("vnpay return: signature does not verify for vnp_TxnRef %r", txn_ref)
    return ReturnResult(verified=verified, intent=intent if verified else None, response_code=response_code,
                        amount=_amount(params))


# -- the merchant web API (querydr, refund) --------------------------------------------------

def _post(account: Credentials, body: dict[str, Any], response_fields: tuple[str, ...]) -> dict[str, Any]:
    config = current_app.config
    try:
        response = requests.post(config["VNPAY_API_URL"], json=body, timeout=config.get("VNPAY_TIMEOUT", 15),
                                 headers={"User-Agent": "XaSo/1.0"})
        response.raise_for_status()
        answer = response.json()
    except (requests.RequestException, ValueError) as error:
        raise VnpayError(f"VNPay {body['vnp_Command']} failed: {error}") from error
    if not isinstance(answer, dict):
        raise VnpayError(f"VNPay {body['vnp_Command']} answered {type(answer).__name__}, not an object")
    # VNPay signs what it answers; an unsigned answer is only acceptable as a refusal.
    signed = bool(answer.get("vnp_SecureHash"))
    if (signed or answer.get("vnp_ResponseCode") == PAID) and not verify_fields(answer, response_fields,
                                                                                account.hash_secret):
        raise VnpayError(f"VNPay {body['vnp_Command']} answer has an invalid signature")
    return answer


def _request_base(account: Credentials, command: str, txn_ref: str) -> dict[str, Any]:
    return {"vnp_RequestId": secrets.token_hex(16), "vnp_Version": VERSION, "vnp_Command": command,
            "vnp_TmnCode": account.tmn_code, "vnp_TxnRef": txn_ref, "vnp_CreateDate": gmt7(utcnow()),
            "vnp_IpAddr": SERVER_IP}


def querydr_request(account: Credentials, txn_ref: str) -> dict[str, Any]:
    """VNPay's record of a payment (vnp_ResponseCode 00 and a vnp_TransactionStatus), signature checked."""
    body = _request_base(account, "querydr", txn_ref) | {
        "vnp_TransactionDate": transaction_date(txn_ref), "vnp_OrderInfo": f"Truy van giao dich {txn_ref}"}
    body["vnp_SecureHash"] = sign_fields(body, QUERYDR_REQUEST_FIELDS, account.hash_secret)
    return _post(account, body, QUERYDR_RESPONSE_FIELDS)


def refund_request(account: Credentials, *, txn_ref: str, amount: int, full: bool, transaction_no: str,
                   created_by: str = CREATED_BY) -> dict[str, Any]:
    """Ask VNPay to return ``amount`` đồng of a payment; the answer's signature is checked."""
    body = _request_base(account, "refund", txn_ref) | {
        "vnp_TransactionType": FULL_REFUND if full else PARTIAL_REFUND, "vnp_Amount": amount * 100,
        "vnp_TransactionNo": transaction_no or "0", "vnp_TransactionDate": transaction_date(txn_ref),
        "vnp_CreateBy": created_by, "vnp_OrderInfo": f"Hoan tien giao dich {txn_ref}"}
    body["vnp_SecureHash"] = sign_fields(body, REFUND_REQUEST_FIELDS, account.hash_secret)
    answer = _post(account, body, REFUND_RESPONSE_FIELDS)
    answer.setdefault("vnp_RequestId", body["vnp_RequestId"])
    return answer


def querydr(session: Session, intent: PaymentIntent) -> dict[str, Any]:
    if not intent.provider_ref:
        raise Invalid("This payment_intent was never sent to VNPay.", code="payment_intent_unexpected_state")
    return querydr_request(credentials(session), intent.provider_ref)


@services.refund_sender("vnpay")
def send_refund(session: Session, intent: PaymentIntent, refund: Refund) -> None:
    """Refund through VNPay's web API; whatever goes wrong leaves the refund FAILED with the reason."""
    full = refund.amount == intent.amount_received and intent.amount_refunded == 0
    try:
        answer = refund_request(credentials(session), txn_ref=intent.provider_ref or "", amount=refund.amount,
                                full=full, transaction_no=intent.provider_transaction_no)
    except VnpayError as error:
        log.warning("vnpay refund %s of %s: %s", refund.public_id, intent.public_id, error)
        refund.status, refund.failure_reason = RefundStatus.FAILED, str(error)[:300]
        return
    refund.provider_ref = str(answer["vnp_RequestId"])[:64]
    code = str(answer.get("vnp_ResponseCode") or "")
    if code == PAID:
        refund.status = RefundStatus.SUCCEEDED
        return
    refund.status = RefundStatus.FAILED
    refund.failure_reason = f"VNPay {code}: {answer.get('vnp_Message') or 'refund refused'}"[:300]
    log.warning("vnpay refund %s of %s refused: %s", refund.public_id, intent.public_id, refund.failure_reason)


# -- reconciliation --------------------------------------------------------------------------

@dataclass
class ReconcileReport:
    checked: int = 0
    succeeded: int = 0
    failed: int = 0
    unchanged: int = 0
    errors: int = 0


def reconcile(session: Session, older_than: timedelta = timedelta(minutes=5)) -> ReconcileReport:
    """Ask VNPay about VNPay intents still open after ``older_than`` (a lost IPN) and apply its answer.

    Each intent is settled in its own transaction under a row lock, so this can run next to the IPN,
    and twice: an intent that is no longer open is left alone.
    """
    report = ReconcileReport()
    with scoped(session, PLATFORM):
        stuck = session.execute(select(PaymentIntent.id, PaymentIntent.tenant_id).where(
            PaymentIntent.payment_method == "vnpay", PaymentIntent.provider_ref.is_not(None),
            PaymentIntent.status.in_((IntentStatus.REQUIRES_ACTION, IntentStatus.PROCESSING)),
            PaymentIntent.created_at <= utcnow() - older_than).order_by(PaymentIntent.id)).all()
        session.rollback()
    for intent_id, tenant_id in stuck:
        report.checked += 1
        try:
            with scoped(session, Scope(tenant_id)):
                outcome = _reconcile_one(session, intent_id)
            session.commit()
        except Exception:  # one intent's trouble (VNPay down, a listener failing) must not stop the others
            session.rollback()
            log.exception("vnpay reconcile: payment_intent %s", intent_id)
            outcome = "errors"
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _reconcile_one(session: Session, intent_id: int) -> str:
    intent = _locked_intent(session, id=intent_id)
    if intent is None or intent.status not in services.OPEN or not intent.provider_ref:
        return "unchanged"
    answer = querydr(session, intent)
    code, status = str(answer.get("vnp_ResponseCode") or ""), str(answer.get("vnp_TransactionStatus") or "")
    if code != PAID or status == PENDING_AT_BANK:
        return "unchanged"  # not found at VNPay (the buyer never reached the bank) or still paying
    if status == PAID:
        if _amount(answer) != intent.amount:
            raise VnpayError(f"querydr amount {answer.get('vnp_Amount')!r} does not match {intent.public_id}")
        services.succeed(session, intent, intent.amount, transaction_no=str(answer.get("vnp_TransactionNo") or ""),
                         pay_date=str(answer.get("vnp_PayDate") or ""))
        log.info("vnpay reconcile: %s succeeded (its IPN was lost)", intent.public_id)
        return "succeeded"
    if _already_failed(intent, intent.provider_ref):
        return "unchanged"
    services.payment_failed(session, intent, failure_message(status, intent.provider_ref))
    return "failed"
