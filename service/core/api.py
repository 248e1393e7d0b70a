"""The flask-smorest Api, with our error shape for every HTTP error."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, render_template, request
from flask_smorest import Api as SmorestApi
from marshmallow import Schema, ValidationError, fields
from werkzeug.exceptions import HTTPException

from service.core.errors import AppError, Invalid, error_body

ERROR_TYPES = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}


class ErrorDetailSchema(Schema):
    type = fields.String(required=True)
    code = fields.String(required=True)
    message = fields.String(required=True)
    param = fields.String(allow_none=True)


class ErrorSchema(Schema):
    error = fields.Nested(ErrorDetailSchema, required=True)


# Blueprints outside /api/ whose clients are programs (marketplace feeds): errors as JSON there too.
JSON_ERROR_BLUEPRINTS: set[str] = set()


def is_api_request() -> bool:
    return request.path.startswith("/api/") or request.blueprint in JSON_ERROR_BLUEPRINTS


def _first_field(messages: Any, path: tuple[str, ...] = ()) -> tuple[str | None, str]:
    """Walk webargs' {location: {field: [msg]}} down to the first field and message."""
    if isinstance(messages, dict) and messages:
        key, value = next(iter(messages.items()))
        return _first_field(value, (*path, str(key)))
    if isinstance(messages, list) and messages:
        return _first_field(messages[0], path)
    return (".".join(path) or None), str(messages)


def load_or_invalid(schema: Schema, data: Any) -> dict[str, Any]:
    """Load input that arrives beside what flask-smorest parses (form fields of a file upload)."""
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as error:
        param, message = _first_field(error.messages)
        raise Invalid(f"{param}: {message}" if param else message, param=param) from error
    return loaded


def _validation_detail(error: HTTPException) -> tuple[str | None, str]:
    messages = (getattr(error, "data", None) or {}).get("messages") or {}
    if isinstance(messages, dict) and len(messages) == 1:
        # drop the location level ("json", "query", ...)
        messages = next(iter(messages.values()))
    return _first_field(messages)


def http_error_body(error: HTTPException) -> dict[str, Any]:
    status = error.code or 500
    if status == 422:
        param, message = _validation_detail(error)
        text = f"{param}: {message}" if param else message
        return error_body("invalid_request_error", "invalid_value", text, param)
    type_ = ERROR_TYPES.get(status, "invalid_request_error" if status < 500 else "api_error")
    code = (error.name or "error").lower().replace(" ", "_")
    return error_body(type_, code, error.description or error.name, None)


def render_error(status: int, body: dict[str, Any]) -> tuple[Response | str, int]:
    if is_api_request():
        return jsonify(body), status
    return render_template("errors/error.html", status=status, message=body["error"]["message"]), status


class Api(SmorestApi):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        response, status = render_error(error.code or 500, http_error_body(error))
        if isinstance(response, Response):
            for name, value in (error.get_headers() or []):
                if name.lower() not in ("content-type", "content-length"):
                    response.headers[name] = value
        return response, status


def handle_app_error(error: AppError) -> Any:
    return render_error(error.status, error.to_dict())
