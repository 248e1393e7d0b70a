"""SMS: queued with the transaction, sent by the outbox relay to an HTTP gateway (a real local server)
or written as text files; a gateway failure is retried later, never lost."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from service import create_app
from service.core.errors import Invalid
from service.jobs import outbox
from service.jobs.models import OutboxMessage
from service.notifications.sms import MAX_LENGTH, TOPIC, queue_sms, sms_folder
from tests.conftest import app_config


def _relay(app, db_session):
    with app.app_context():
        return outbox.drain(db_session, topics=[TOPIC])


class Gateway:
    """A minimal SMS gateway: records JSON bodies and bearer tokens, answers with ``status``."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.status = 200
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.received.append((self.headers.get("Authorization", ""), json.loads(body)))
                self.send_response(gateway.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    server = Gateway()
    yield server
    server.close()


@pytest.fixture
def gateway_app(database_url, tmp_path, gateway) -> Iterator[Flask]:
    app = create_app(app_config(database_url, tmp_path, SMS_GATEWAY_URL=gateway.url, SMS_GATEWAY_TOKEN="tok-123",
                                OUTBOX_DELIVERY="worker"))
    with app.app_context():
        yield app


def test_text_file_is_written_after_commit_with_the_normalised_number(app, db_session):
    queue_sms(db_session, to="0905 123 456", text="Mã   xác minh\nXaSo: 123456", tenant_id=None)
    db_session.commit()
    with app.app_context():
        folder = sms_folder()
    assert not list(folder.glob("*.txt"))
    report = _relay(app, db_session)
    assert report.delivered == 1
    [path] = folder.glob("*.txt")
    assert path.read_text(encoding="utf-8") == "To: +84905123456\n\nMã xác minh XaSo: 123456\n"


def test_rolled_back_sms_is_never_sent(app, db_session):
    queue_sms(db_session, to="0905123456", text="never", tenant_id=None)
    db_session.rollback()
    assert _relay(app, db_session).delivered == 0


def test_wrong_numbers_are_refused_when_queued(app, db_session):
    with pytest.raises(Invalid):
        queue_sms(db_session, to="12345", text="x", tenant_id=None)


def test_long_texts_are_cut_to_three_parts(app, db_session):
    message = queue_sms(db_session, to="0905123456", text="a" * 1000, tenant_id=None)
    assert len(message.payload["text"]) == MAX_LENGTH
    assert message.payload["text"].endswith("…")


def test_gateway_gets_json_with_the_bearer_token(gateway_app, gateway):
    from service.db import get_session

    with gateway_app.test_request_context():
        session = get_session()
        queue_sms(session, to="+84 905-123-456", text="Phản ánh CT-R261128-AAAAA: đã xử lý xong", tenant_id=None)
        session.commit()
        assert _relay(gateway_app, session).delivered == 1
    [(authorization, body)] = gateway.received
    assert authorization == "Bearer tok-123"
    assert body["to"] == "+84905123456"
    assert body["text"] == "Phản ánh CT-R261128-AAAAA: đã xử lý xong"
    assert body["id"]  # lets the gateway drop a retry it already sent


def test_gateway_failure_is_retried_not_lost(gateway_app, gateway):
    from service.db import get_session

    gateway.status = 503
    with gateway_app.test_request_context():
        session = get_session()
        queue_sms(session, to="0905123456", text="retry me", tenant_id=None)
        session.commit()
        report = _relay(gateway_app, session)
        assert (report.delivered, report.retried) == (0, 1)
        message = session.scalars(select(OutboxMessage).where(OutboxMessage.topic == TOPIC)).one()
        assert message.attempts == 1 and message.delivered_at is None
    assert len(gateway.received) == 1
