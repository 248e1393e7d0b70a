"""``Idempotency-Key`` for POST endpoints, as Stripe has it.

A client that did not hear back (timeout, dropped connection) sends the same request again
with the same key and gets the first answer, without the work being done twice:

* same key, same method, path and body: the stored status and body, with
  ``Idempotent-Replayed: true``, and no new side effect;
* same key, another path or body: 409 ``idempotency_error`` / ``idempotency_key_in_use``;
* 2xx and 4xx answers are stored (a validation error replays as the same error); 5xx answers
  are not, so a retry after a crash runs the request again;
* keys belong to a commune (``IdempotencyRecord`` is tenant-owned) and live 24 hours.

Concurrency: the key's row is inserted *first*, in the same transaction as the work, and the
whole is committed once. The unique (tenant_id, key) constraint makes a second request with the
same key wait on that row (PostgreSQL's index lock, SQLite's single writer) until the first
commits; its insert then fails and it replays the stored answer. Nothing is ever visible
half-done, and a first request that dies leaves no row behind, so its retry runs afresh.
The work runs in a savepoint, so a 4xx undoes it while keeping the key's row for the answer.

The decorated view must not commit: the decorator does, once the answer is stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, jsonify, make_response, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from service.core.api import http_error_body
from service.core.errors import AppError, Conflict
from service.db import get_session, utcnow
from service.payments.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
TTL = timedelta(hours=24)
IN_PROGRESS = 0  # status_code of a row whose request has not finished (only seen if a view commits early)
PATH_LENGTH = 300  # IdempotencyRecord.request_path

View = TypeVar("View", bound=Callable[..., Any])

# For the OpenAPI document of every decorated operation.
HEADER_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "description": (f"Any unique string up to {MAX_KEY_LENGTH} characters (a UUID, say). Sending the same "
                    "request again with the same key within 24 hours returns the first response, with "
                    f"`{REPLAYED_HEADER}: true`, and does nothing twice; the same key with another body "
                    "answers 409."),
    "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
}


class IdempotencyError(Conflict):
    type = "idempotency_error"
    code = "idempotency_key_in_use"


class InvalidIdempotencyKey(AppError):
    status = 400
    code = "idempotency_key_invalid"


def idempotent(authorize: Callable[[], object] | None = None) -> Callable[[View], View]:
    """Make a tenant-scoped POST view honour ``Idempotency-Key``.

    Put it right under ``@blp.route`` (above ``@blp.arguments``, whose validation errors it
    stores too). ``authorize`` runs first and its errors are never stored: someone who may not
    make the request must not be able to occupy, or read, a key.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if authorize is not None:
                authorize()
            session = get_session()
            key = request.headers.get(HEADER)
            if key is None:
                return _run(session, view, args, kwargs)
            _check_key(key)
            fingerprint = request_fingerprint()
            claimed = _claim(session, key, fingerprint)
            if isinstance(claimed, Response):
                return claimed
            return _run_and_store(session, claimed, view, args, kwargs)

        apidoc = getattr(wrapper, "_apidoc", None)
        wrapper._apidoc = dict(apidoc or {})  # type: ignore[attr-defined]  # own copy: wraps() shares the dict
        manual = dict(wrapper._apidoc.get("manual_doc", {}))  # type: ignore[attr-defined]
        manual["parameters"] = [*manual.get("parameters", []), HEADER_PARAMETER]
        wrapper._apidoc["manual_doc"] = manual  # type: ignore[attr-defined]
        return cast(View, wrapper)

    return decorator


def request_fingerprint() -> str:
    """SHA-256 of method, path with query and body; JSON bodies compared by content, not spacing or key order."""
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except ValueError:
        body = raw
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.full_path.rstrip("?").encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def purge_expired(session: Session, older_than: timedelta = TTL) -> int:
    """Delete records past their lifetime, in the session's scope (PLATFORM: every commune).

    Lookups already ignore expired rows; this only keeps the table small, so run it with the
    periodic jobs. The caller commits.
    """
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - older_than))
    return int(getattr(result, "rowcount", 0) or 0)


# ---------------------------------------------------------------------------


def _check_key(key: str) -> None:
    if not key.strip():
        raise InvalidIdempotencyKey(f"The {HEADER} header is empty.", param=HEADER)
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidIdempotencyKey(f"The {HEADER} header is longer than {MAX_KEY_LENGTH} characters.",
                                    param=HEADER)


def _claim(session: Session, key: str, fingerprint: str) -> IdempotencyRecord | Response:
    """Our own new row for the key, or the answer to give at once (a replay, or an error)."""
    for _attempt in range(2):
        record = session.scalars(select(IdempotencyRecord).where(IdempotencyRecord.key == key)).first()
        if record is not None and record.created_at < utcnow() - TTL:
            session.delete(record)  # expired: the key is free again
            session.flush()
            record = None
        if record is not None:
            return _answer_from(record, fingerprint)
        try:
            with session.begin_nested():
                record = IdempotencyRecord(key=key, request_path=request.path[:PATH_LENGTH], request_hash=fingerprint,
                                           status_code=IN_PROGRESS, response_body="")
                session.add(record)
        except IntegrityError:
            continue  # another request with this key committed meanwhile: read its row
        return record
    raise IdempotencyError("A request with this Idempotency-Key is being processed; retry later.", param=HEADER)


def _answer_from(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.request_hash != fingerprint:
        where = "another endpoint" if record.request_path != request.path[:PATH_LENGTH] else "other parameters"
        raise IdempotencyError(f"This Idempotency-Key was already used with {where}; send a new key for a new "
                               "request.", param=HEADER)
    if record.status_code == IN_PROGRESS:
        raise IdempotencyError("A request with this Idempotency-Key is being processed; retry later.", param=HEADER)
    response = Response(record.response_body, status=record.status_code, mimetype="application/json")
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _run(session: Session, view: Callable[..., Any], args: Any, kwargs: Any) -> Response:
    """Without a key: the work, committed if it succeeded."""
    try:
        response = make_response(view(*args, **kwargs))
    except BaseException:
        session.rollback()
        raise
    if response.status_code < 400:
        session.commit()
    else:
        session.rollback()
    return response


def _run_and_store(session: Session, record: IdempotencyRecord, view: Callable[..., Any], args: Any,
                   kwargs: Any) -> Response:
    try:
        with session.begin_nested():  # undone on any error; the key's row (outside it) stays
            response = make_response(view(*args, **kwargs))
            if response.status_code >= 400:
                raise _Answered(response)
    except _Answered as answered:
        response = answered.response
    except AppError as error:
        response = _error_response(error.status, error.to_dict())
    except HTTPException as error:
        if (error.code or 500) >= 500:
            session.rollback()
            raise
        response = _error_response(error.code or 400, http_error_body(error))
    except BaseException:
        session.rollback()  # a 5xx: nothing stored, the retry runs again
        raise
    if response.status_code >= 500:
        session.rollback()
        return response
    record.status_code = response.status_code
    record.response_body = response.get_data(as_text=True)
    session.commit()
    return response


class _Answered(Exception):
    """A view returned an error response rather than raising: undo its work all the same."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def _error_response(status: int, body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response
