"""VNPay's two calls into XaSo, outside any /c/<commune>/ prefix (VNPay knows one URL per merchant account):

- ``GET /payments/vnpay/ipn``: VNPay's server tells us the result; the only one that changes state, in
  one transaction, answered with VNPay's JSON (``RspCode``/``Message``).
- ``GET /payments/vnpay/return``: the buyer's browser comes back; the page shows the result and never
  changes anything (its parameters are the buyer's to replay or forge).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, g, jsonify, render_template, request
from flask_babel import lazy_gettext

from service.db import get_session
from service.payments import vnpay
from service.payments.models import IntentStatus
from service.tenants.models import Tenant

log = logging.getLogger(__name__)
bp = Blueprint("vnpay", __name__)

_CARD_PROBLEM = lazy_gettext("The bank could not confirm your card or account.")
FAILURE_REASONS = {
    "24": lazy_gettext("You canceled the payment at VNPay."),
    "11": lazy_gettext("The time to pay ran out."),
    "51": lazy_gettext("The account does not have enough money."),
    "65": lazy_gettext("The account's daily limit was exceeded."),
    "75": lazy_gettext("The bank is under maintenance; please try again later."),
    "09": _CARD_PROBLEM, "10": _CARD_PROBLEM, "12": _CARD_PROBLEM, "13": _CARD_PROBLEM, "79": _CARD_PROBLEM,
}
DECLINED = lazy_gettext("The bank declined the payment.")


def blueprints() -> list[Blueprint]:
    return [bp]


@bp.get("/payments/vnpay/ipn")
def ipn() -> Any:
    session = get_session()
    params = request.args.to_dict()
    try:
        code = vnpay.handle_ipn(session, params)
        # One commit: the intent, its event, the order's update and the outbox messages land together or not at all.
        session.commit()
    except Exception:  # VNPay retries an IPN answered 99
        session.rollback()
        log.exception("vnpay ipn: answered 99 for vnp_TxnRef %r", params.get("vnp_TxnRef"))
        code = vnpay.IPN_UNKNOWN
    return jsonify({"RspCode": code, "Message": vnpay.IPN_MESSAGES[code]})


@bp.get("/payments/vnpay/return")
def return_page() -> Any:
    # Read only: nothing here commits; the session is discarded at the end of the request.
    session = get_session()
    result = vnpay.read_return(session, request.args.to_dict())
    intent = result.intent
    tenant = session.get(Tenant, intent.tenant_id) if intent is not None else None
    if tenant is not None:
        g.tenant = tenant  # the commune's header and colours
    metadata = dict(intent.metadata_ or {}) if intent is not None else {}
    return render_template(
        "payments/vnpay_return.html", outcome=_outcome(result), amount=result.amount,
        reason=FAILURE_REASONS.get(result.response_code, DECLINED),
        order_number=metadata.get("order_number"), order_url=metadata.get("order_url"),
    )


def _outcome(result: vnpay.ReturnResult) -> str:
    if not result.verified:
        return "unverified"
    if result.paid:
        succeeded = result.intent is not None and result.intent.status == IntentStatus.SUCCEEDED
        return "paid" if succeeded else "confirming"
    return "canceled" if result.response_code == "24" else "failed"
