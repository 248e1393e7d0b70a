"""Logs: JSON lines in production (one object per line, for the cluster's log collector), text in development.

Every record made while a request is served carries its request id (``flask.g.request_id``), so the
access line and any other log of that request can be joined.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler

ACCESS_LOGGER = "xaso.access"
REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_ENVIRON = "xaso.request_id"
# An incoming id is kept only if it is short and plain: it goes into logs and a response header.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Attributes every LogRecord has: anything else on a record came from ``extra=`` and is logged as a field.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def request_id() -> str:
    """This request's id: the caller's X-Request-ID when sane, else a new one. Stable for the request."""
    current = g.get("request_id")
    if current is None:
        environ = request.environ
        current = environ.get(_REQUEST_ID_ENVIRON)
        if current is None:
            incoming = request.headers.get(REQUEST_ID_HEADER, "")
            current = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
            environ[_REQUEST_ID_ENVIRON] = current
        g.request_id = current
    return str(current)


class RequestIdFilter(logging.Filter):
    """Puts ``request_id`` on every record (None outside a request), for both formats."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id() if has_request_context() else None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def make_handler(log_format: str) -> logging.Handler:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RequestIdFilter())
    handler._xaso = True  # type: ignore[attr-defined]  # ours: replaced, never stacked, when apps are rebuilt
    return handler


def configure(app: Flask) -> None:
    """One handler on the root logger in the configured format; tests keep pytest's own capture."""
    logging.getLogger("xaso").setLevel(logging.INFO)
    if app.testing:
        return
    root = logging.getLogger()
    for existing in [h for h in root.handlers if getattr(h, "_xaso", False)]:
        root.removeHandler(existing)
    root.addHandler(make_handler(str(app.config.get("LOG_FORMAT", "json"))))
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    app.logger.removeHandler(default_handler)  # records reach the root handler: once, in our format


def access_fields(status: int, duration_ms: float) -> dict[str, Any]:
    """The access line's fields. The path only: query strings carry feed tokens and VNPay's signed parameters."""
    from service.tenants.web import current_tenant, current_user

    tenant = current_tenant()
    user = current_user()
    return {
        "method": request.method,
        "path": request.path,
        "status": status,
        "duration_ms": round(duration_ms, 2),
        "remote_addr": request.remote_addr,
        "commune": tenant.slug if tenant is not None else None,
        "user_id": user.id if user is not None else None,
    }


def log_access(status: int, duration_ms: float) -> None:
    fields = access_fields(status, duration_ms)
    logging.getLogger(ACCESS_LOGGER).info(
        "%s %s %s %.1fms", fields["method"], fields["path"], status, duration_ms,
        extra={**fields, "request_id": request_id()},
    )
