"""Structured logs: one access line per request, a request id that joins every log of a request."""

from __future__ import annotations

import json
import logging
import re

import pytest

from service import create_app
from service.core import logs
from service.db import database
from tests.admin.helpers import sign_in
from tests.conftest import app_config


def access_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logs.ACCESS_LOGGER]


def as_json(record: logging.LogRecord) -> dict:
    return json.loads(logs.JsonFormatter().format(record))


def test_access_line_has_the_request_and_never_the_query_string(world, client, caplog):
    caplog.set_level(logging.INFO, logger="xaso")
    response = client.get("/c/cam-thanh/feeds/products.json?token=secret-feed-token&vnp_SecureHash=abc",
                          headers={"X-Request-ID": "edge-42.a_b"})
    assert response.headers["X-Request-ID"] == "edge-42.a_b"

    [record] = access_records(caplog)
    line = logs.JsonFormatter().format(record)
    assert "secret-feed-token" not in line and "vnp_SecureHash" not in line and "?" not in line
    entry = json.loads(line)
    assert entry["request_id"] == "edge-42.a_b"
    assert entry["method"] == "GET"
    assert entry["path"] == "/c/cam-thanh/feeds/products.json"
    assert entry["status"] == response.status_code
    assert entry["commune"] == "cam-thanh"
    assert entry["user_id"] is None
    assert entry["remote_addr"] == "127.0.0.1"
    assert entry["level"] == "INFO" and entry["logger"] == "xaso.access"
    assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry["time"])


@pytest.mark.parametrize("incoming", ["", "x" * 65, "has space", "tab\tx", "<script>", "a/b"])
def test_an_unsafe_request_id_is_replaced(app, client, caplog, incoming):
    caplog.set_level(logging.INFO, logger="xaso")
    response = client.get("/healthz", headers={"X-Request-ID": incoming} if incoming else {})
    generated = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert as_json(access_records(caplog)[-1])["request_id"] == generated


def test_every_request_gets_its_own_id(app, client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert first != second


def test_signed_in_user_is_logged(world, client, db_session, caplog):
    user = sign_in(client, db_session, world.a.users["editor"])
    caplog.set_level(logging.INFO, logger="xaso")
    client.get("/c/cam-thanh/")
    assert as_json(access_records(caplog)[-1])["user_id"] == user.id


def test_other_logs_of_a_request_carry_its_id(database_url, tmp_path):
    application = create_app(app_config(database_url, tmp_path))

    @application.get("/_log-something")
    def log_something():
        logging.getLogger("xaso.test").warning("stock low for %s", "rice")
        return "ok"

    stream_records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            stream_records.append(self.format(record))

    handler = Collect()
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RequestIdFilter())
    logger = logging.getLogger("xaso.test")
    logger.addHandler(handler)
    try:
        response = application.test_client().get("/_log-something", headers={"X-Request-ID": "abc123"})
    finally:
        logger.removeHandler(handler)
        database(application).engine.dispose()
    assert response.headers["X-Request-ID"] == "abc123"
    [line] = stream_records
    entry = json.loads(line)
    assert entry["message"] == "stock low for rice"
    assert entry["request_id"] == "abc123"
    assert entry["level"] == "WARNING"


def test_text_format_for_development():
    record = logging.LogRecord("xaso.test", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    handler = logs.make_handler("text")
    handler.filter(record)  # outside a request: no id
    assert re.search(r"INFO xaso.test \[None\] hello there$", handler.format(record))
    assert json.loads(logs.make_handler("json").format(record))["message"] == "hello there"


def test_outside_testing_one_root_handler_in_the_configured_format(database_url, tmp_path):
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    apps = [create_app(app_config(database_url, tmp_path, TESTING=False, LOG_FORMAT="json")) for _ in range(2)]
    try:
        ours = [h for h in root.handlers if getattr(h, "_xaso", False)]
        assert len(ours) == 1  # rebuilding the app replaces the handler, never stacks it
        assert isinstance(ours[0].formatter, logs.JsonFormatter)
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
        root.setLevel(level)
        for application in apps:
            database(application).engine.dispose()
