"""E-mails: queued with the transaction, sent by the outbox relay to a real SMTP server (aiosmtpd) or
written as .eml files; the buyer's order e-mails in Vietnamese and English."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select

from service.db import PLATFORM, Scope, scoped, utcnow
from service.jobs import outbox
from service.jobs.models import OutboxMessage
from service.notifications.email import KINDS, TOPIC, mail_folder, order_email, queue_email
from service.orders.models import FulfilmentStatus, Order, OrderLine, OrderStatus, PaymentMethod, SellerOrder

SUBJECT = "Cẩm Thanh: đã nhận đơn hàng CT-261127-AB12X"
BODY = "Xin chào chị Lan,\n\nCảm ơn chị đã đặt nước mắm Tư Tài.\n"


def _relay(app, db_session, **kwargs):
    with app.app_context():
        return outbox.drain(db_session, topics=[TOPIC], **kwargs)


def _eml_files(app):
    folder = mail_folder(app)
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def _parse(data: bytes) -> EmailMessage:
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _queue(db_session, to="lan@example.vn", subject=SUBJECT, body=BODY):
    return queue_email(db_session, to=to, subject=subject, body=body, tenant_id=None)


# -- queueing and the .eml fallback ---------------------------------------------------------------

def test_eml_is_written_by_the_relay_after_commit_only(app, db_session):
    _queue(db_session, to="rolled-back@example.vn")
    db_session.rollback()
    _queue(db_session)
    assert _eml_files(app) == []  # queued, not sent
    db_session.commit()
    assert _eml_files(app) == []  # committed, waiting for the relay
    report = _relay(app, db_session)
    assert (report.delivered, report.retried) == (1, 0)
    [path] = _eml_files(app)
    message = _parse(path.read_bytes())
    assert message["To"] == "lan@example.vn" and message["Subject"] == SUBJECT
    assert message["From"] == app.config["MAIL_FROM"] and message["Message-ID"].startswith("<")
    assert message.get_content() == BODY
    assert message.get_content_charset() == "utf-8"
    assert _relay(app, db_session).handled == 0 and len(_eml_files(app)) == 1  # delivered once
    assert not list(mail_folder(app).glob(".*.tmp"))


def test_queue_refuses_what_is_not_one_address(db_session):
    for bad in ("", "lan", "lan@example.vn, boss@example.vn", "lan@example.vn\r\nBcc: x@example.vn",
                "Lan <lan@example.vn>"):
        with pytest.raises(ValueError):
            _queue(db_session, to=bad)
    message = _queue(db_session, subject="Một\r\nBcc: x@example.vn")
    assert message.payload["subject"] == "Một Bcc: x@example.vn"  # one line: no header injection


# -- SMTP ------------------------------------------------------------------------------------------

@dataclass
class Mailbox:
    port: int
    envelopes: list = field(default_factory=list)
    logins: list = field(default_factory=list)


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.box.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    box = Mailbox(port=_free_port())

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"xaso", b"p@ss:w/rd")
        box.logins.append((mechanism, ok))
        return AuthResult(success=ok)

    controller = Controller(_Handler(box), hostname="127.0.0.1", port=box.port, authenticator=authenticate,
                            auth_require_tls=False)
    controller.start()
    yield box
    controller.stop()


def test_smtp_delivers_to_a_real_server_with_the_urls_credentials(app, db_session, smtp_server):
    app.config["SMTP_URL"] = f"smtp://xaso:p%40ss%3Aw%2Frd@127.0.0.1:{smtp_server.port}"
    _queue(db_session)
    db_session.commit()
    assert smtp_server.envelopes == []
    report = _relay(app, db_session)
    assert (report.delivered, report.retried) == (1, 0)
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["lan@example.vn"] and envelope.mail_from == "no-reply@xaso.vn"
    assert smtp_server.logins and all(ok for _, ok in smtp_server.logins)
    message = _parse(envelope.original_content)
    assert message["Subject"] == SUBJECT and message.get_content().replace("\r\n", "\n") == BODY  # CRLF on the wire
    assert _eml_files(app) == []  # with SMTP there is no file


def test_smtp_refusals_and_outages_are_retried(app, db_session, smtp_server):
    app.config["SMTP_URL"] = f"smtp://xaso:wrong@127.0.0.1:{smtp_server.port}"
    _queue(db_session)
    db_session.commit()
    start = utcnow()
    assert _relay(app, db_session, now=start).retried == 1
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{_free_port()}"  # nobody listens there
    report = _relay(app, db_session, now=start + outbox.backoff(1))
    assert (report.delivered, report.retried) == (0, 1)
    db_session.expire_all()
    message = db_session.scalars(select(OutboxMessage).where(OutboxMessage.topic == TOPIC)).one()
    assert message.attempts == 2 and message.last_error and message.delivered_at is None
    assert smtp_server.envelopes == [] and _eml_files(app) == []
    app.config["SMTP_URL"] = f"smtp://xaso:p%40ss%3Aw%2Frd@127.0.0.1:{smtp_server.port}"
    report = _relay(app, db_session, now=start + outbox.backoff(1) + outbox.backoff(2))
    assert report.delivered == 1 and len(smtp_server.envelopes) == 1


# -- order e-mails -----------------------------------------------------------------------------------

def make_order(db_session, commune, sellers, *, language="vi", method=PaymentMethod.COD,
               status=OrderStatus.PLACED) -> Order:
    with scoped(db_session, Scope(commune.id)):
        order = Order(number="CT-261127-AB12X", secret=secrets.token_urlsafe(32), payment_method=method,
                      status=status, buyer_name="Nguyễn Thị Lan", buyer_phone="0905 123 456",
                      buyer_email="lan@example.vn", province="Quảng Nam", district="TP. Hội An",
                      ward="Cẩm Thanh", street="12 Thôn 2", language=language, subtotal=0, shipping_fee=30_000,
                      total=0, expires_at=None)
        lines = {sellers[0]: [("Nước mắm cá cơm", "chai 500 ml", 150_000, 2)],
                 sellers[1]: [("Giỏ tre", "", 45_000, 1), ("Rổ mây", "cái", 80_000, 3)]}
        for seller_id, items in lines.items():
            part = SellerOrder(seller_id=seller_id, subtotal=0, status=FulfilmentStatus.CONFIRMED,
                               tracking_note="Viettel Post 123456789")
            part.lines = [OrderLine(title=title, unit=unit, unit_price=price, quantity=quantity,
                                    line_total=price * quantity) for title, unit, price, quantity in items]
            part.subtotal = sum(line.line_total for line in part.lines)
            order.parts.append(part)
        order.subtotal = sum(part.subtotal for part in order.parts)
        order.total = order.subtotal + order.shipping_fee
        db_session.add(order)
        db_session.flush()
        return order


@pytest.mark.parametrize("kind", KINDS)
def test_order_emails_in_vietnamese_have_the_order_lines_total_and_link(app, db_session, world, kind):
    order = make_order(db_session, world.a, [world.a.sellers["own"], world.a.sellers["other"]])
    with app.app_context():
        subject, body = order_email(order, kind)
    assert subject.startswith("Cẩm Thanh: ") and order.number in subject and "\n" not in subject
    assert body.startswith("Xin chào Nguyễn Thị Lan,\n")
    assert "2 × Nước mắm cá cơm (chai 500 ml): 300.000 ₫" in body
    assert "3 × Rổ mây (cái): 240.000 ₫" in body and "1 × Giỏ tre: 45.000 ₫" in body
    assert "Cơ sở Tư Tài Cẩm Thanh" in body and "HTX Rau Cẩm Thanh" in body
    assert "Tổng cộng: 615.000 ₫" in body  # 300.000 + 45.000 + 240.000 + 30.000 shipping
    assert f"http://127.0.0.1:5000/c/cam-thanh/orders/{order.secret}" in body
    assert "12 Thôn 2, Cẩm Thanh, TP. Hội An, Quảng Nam" in body
    assert "\n\n\n" not in body and body.endswith("XaSo\n")
    assert "Hello" not in body and "Total" not in body


def test_order_emails_in_english_and_the_public_base_url(app, db_session, world):
    app.config["PUBLIC_BASE_URL"] = "https://xaso.vn"
    order = make_order(db_session, world.a, [world.a.sellers["own"], world.a.sellers["other"]], language="en")
    with app.app_context():
        subjects = {kind: order_email(order, kind)[0] for kind in KINDS}
        _, body = order_email(order, "paid")
    assert subjects == {"placed": "Cẩm Thanh: we received your order CT-261127-AB12X",
                        "paid": "Cẩm Thanh: payment received for order CT-261127-AB12X",
                        "shipped": "Cẩm Thanh: order CT-261127-AB12X is on its way",
                        "delivered": "Cẩm Thanh: order CT-261127-AB12X delivered",
                        "canceled": "Cẩm Thanh: order CT-261127-AB12X was canceled"}
    assert body.startswith("Hello Nguyễn Thị Lan,\n") and "Total: 615.000 ₫" in body
    assert f"https://xaso.vn/c/cam-thanh/orders/{order.secret}" in body
    assert "Payment: cash on delivery" in body and "Xin chào" not in body


def test_a_parcel_email_lists_only_that_sellers_part(app, db_session, world):
    order = make_order(db_session, world.a, [world.a.sellers["own"], world.a.sellers["other"]])
    with app.app_context():
        _, body = order_email(order, "shipped", part=order.parts[1])
    assert "HTX Rau Cẩm Thanh đã gửi hàng cho bạn." in body and "Viettel Post 123456789" in body
    assert "Giỏ tre" in body and "Nước mắm" not in body
    assert "Giá trị kiện hàng: 285.000 ₫" in body and "Tổng cộng" not in body
    assert "Hãy chuẩn bị tiền mặt" in body  # cash on delivery


def test_placed_email_tells_how_to_pay_a_held_order(app, db_session, world):
    order = make_order(db_session, world.a, [world.a.sellers["own"], world.a.sellers["other"]],
                       method=PaymentMethod.VIETQR, status=OrderStatus.AWAITING_PAYMENT)
    order.expires_at = utcnow().replace(year=2026, month=11, day=27, hour=3, minute=30, second=0, microsecond=0)
    with app.app_context():
        _, body = order_email(order, "placed")
    assert "đến 27/11/2026 10:30 (giờ Việt Nam)" in body and "quét mã VietQR" in body
    assert "Thanh toán: chuyển khoản ngân hàng (VietQR)" in body


def test_an_order_email_goes_out_through_the_outbox(app, db_session, world):
    order = make_order(db_session, world.a, [world.a.sellers["own"], world.a.sellers["other"]])
    with app.app_context():
        subject, body = order_email(order, "delivered")
        queue_email(db_session, to=order.buyer_email, subject=subject, body=body, tenant_id=order.tenant_id)
    db_session.commit()
    _relay(app, db_session)
    [path] = _eml_files(app)
    message = _parse(path.read_bytes())
    assert message["Subject"] == subject and message.get_content() == body
    with scoped(db_session, PLATFORM):
        queued = db_session.scalars(select(OutboxMessage).where(OutboxMessage.topic == TOPIC)).one()
    assert queued.tenant_id == world.a.id and queued.delivered_at is not None
