"""Payments fixtures: the VNPay simulator and our app, each served over real HTTP on a free loopback port.

Nothing of ours is patched: our ``requests`` client talks to the simulator, and the simulator's IPN
reaches our app, exactly as over the internet. The ``app`` of this folder is the usual test app, with
VNPay pointed at the simulator.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote_plus, urljoin

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from service import create_app
from service.db import Scope, database
from service.payments import services
from service.payments.models import PaymentEvent, PaymentIntent
from service.payments.vnpay_sandbox import API_PATH, PAY_PATH, Ledger, create_sandbox_app
from tests.conftest import app_config
from tests.live import serving

TMN_CODE = "XASOTEST"
HASH_SECRET = "TESTHASHSECRET0123456789ABCDEFGH"
# A commune with a merchant account of its own.
COMMUNE_TMN_CODE = "CAMTHANH"
COMMUNE_HASH_SECRET = "COMMUNESECRET9876543210ZYXWVUTSR"


@dataclass
class Sandbox:
    url: str
    ledger: Ledger

    @property
    def pay_url(self) -> str:
        return self.url + PAY_PATH

    @property
    def api_url(self) -> str:
        return self.url + API_PATH


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """One simulator for the session (transaction references never repeat, so tests cannot collide)."""
    sandbox_app = create_sandbox_app({TMN_CODE: HASH_SECRET, COMMUNE_TMN_CODE: COMMUNE_HASH_SECRET}, timeout=10)
    with serving(sandbox_app) as url:
        yield Sandbox(url=url, ledger=sandbox_app.extensions["vnpay_sandbox"])


@pytest.fixture
def app(database_url: str, tmp_path: Path, sandbox: Sandbox) -> Iterator[Flask]:
    application = create_app(app_config(
        database_url, tmp_path, VNPAY_TMN_CODE=TMN_CODE, VNPAY_HASH_SECRET=HASH_SECRET,
        VNPAY_PAY_URL=sandbox.pay_url, VNPAY_API_URL=sandbox.api_url, VNPAY_TIMEOUT=10,
    ))
    yield application
    database(application).engine.dispose()


@pytest.fixture
def live(app: Flask) -> Iterator[str]:
    """Our app over HTTP: the base URL VNPay's IPN and the buyer's browser come back to."""
    with serving(app) as url:
        yield url


# -- helpers ------------------------------------------------------------------------------------

def hand_sign(params: Mapping[str, str], secret: str) -> str:
    """VNPay's signature written out independently of service.payments.vnpay."""
    data = "&".join(f"{key}={quote_plus(value)}" for key, value in sorted(params.items())
                    if key.startswith("vnp_") and key not in ("vnp_SecureHash", "vnp_SecureHashType") and value)
    return hmac.new(secret.encode(), data.encode(), hashlib.sha512).hexdigest()


def ipn_params(txn_ref: str, amount: int, *, code: str = "00", status: str = "00", secret: str = HASH_SECRET,
               tmn_code: str = TMN_CODE) -> dict[str, str]:
    """What VNPay sends for a payment result (amount in đồng; VNPay counts hundredths)."""
    params = {"vnp_Amount": str(amount * 100), "vnp_BankCode": "NCB", "vnp_BankTranNo": "VNP14999999",
              "vnp_CardType": "ATM", "vnp_OrderInfo": "Thanh toan don hang CT-0001", "vnp_PayDate": "20250101120500",
              "vnp_ResponseCode": code, "vnp_TmnCode": tmn_code, "vnp_TransactionNo": "14999999",
              "vnp_TransactionStatus": status, "vnp_TxnRef": txn_ref}
    params["vnp_SecureHash"] = hand_sign(params, secret)
    return params


def create_vnpay_intent(app: Flask, tenant_id: int, base_url: str, *, amount: int = 150_000,
                        locale: str = "vn") -> PaymentIntent:
    """A VNPay intent the way checkout makes one (the order is left out: the provider does not need it)."""
    with app.app_context(), database(app).session(Scope(tenant_id)) as session:
        intent = services.create_intent(
            session, amount=amount, payment_method="vnpay", description="Đơn hàng CT-0001",
            metadata={"order_number": "CT-0001", "order_url": "/c/cam-thanh/orders/secret-link"},
            context={"return_url": f"{base_url}/payments/vnpay/return", "ip_address": "203.0.113.7",
                     "locale": locale, "commune_slug": "cam-thanh", "order_number": "CT-0001"})
        session.commit()
        return intent


def load_intent(app: Flask, tenant_id: int, public_id: str) -> PaymentIntent:
    with app.app_context(), database(app).session(Scope(tenant_id)) as session:
        return services.get_intent(session, public_id)


def event_types(app: Flask, tenant_id: int) -> list[str]:
    with app.app_context(), database(app).session(Scope(tenant_id)) as session:
        return list(session.scalars(select(PaymentEvent.type).order_by(PaymentEvent.id)))


def send_ipn(live: str, params: Mapping[str, str]) -> dict[str, str]:
    response = requests.get(f"{live}/payments/vnpay/ipn", params=params, timeout=10)
    assert response.status_code == 200
    return dict(response.json())


def choose_at_bank(pay_url: str, action: str = "pay", *, skip_ipn: bool = False) -> str:
    """Be the buyer at VNPay: open the pay page, press a button (plain HTML form); return the redirect target."""
    page = requests.get(pay_url, timeout=10)
    assert page.status_code == 200, page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    form = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert token and form
    data = {"token": token.group(1), "action": action} | ({"skip_ipn": "1"} if skip_ipn else {})
    response = requests.post(urljoin(pay_url, form.group(1)), data=data, allow_redirects=False, timeout=20)
    assert response.status_code == 302, response.text
    return response.headers["Location"]
