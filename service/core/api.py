"""The flask-smorest Api, with our error shape for every HTTP error."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, render_template, request
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.spec.plugins import integerconverter2paramschema
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import IntegerConverter, Map
from werkzeug.routing import ValidationError as RouteValueError

from service.core.errors import AppError, Invalid, error_body

ERROR_TYPES = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}
# Row ids are BIGINT (SQLite's INTEGER has the same range): a larger number cannot name a row, and the
# database driver would refuse to bind it (a 500). Ids beyond it are refused up front instead.
MAX_ID = 2**63 - 1


class RowId(fields.Integer):
    """A row id in a body or query string: 1 to MAX_ID (documented as the schema's bounds)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class IdConverter(IntegerConverter):
    """``<id:name>`` in a route: a row id, 1 to MAX_ID; other numbers answer 404 like a missing row."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)

    def to_python(self, value: str) -> Any:
        try:
            return super().to_python(value)
        except RouteValueError:
            # Not werkzeug's "no rule matches": that would turn into a 405 when a sibling rule of the
            # same path has other methods.
            raise NotFound("No such object.") from None


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


class ApiBlueprint(SmorestBlueprint):
    """Operations reading a JSON body also document the 400 its parser answers when the body is not JSON."""

    def arguments(self, schema: Any, *, location: str = "json", **kwargs: Any) -> Any:
        parse = super().arguments(schema, location=location, **kwargs)
        if location != "json":
            return parse

        def decorator(func: Any) -> Any:
            return self.alt_response(400, response="BAD_REQUEST")(parse(func))

        return decorator


class Api(SmorestApi):
    ERROR_SCHEMA = ErrorSchema
    # No catch-all "default" response: each operation lists the errors it can give, so that clients (and
    # schemathesis' status code check) can rely on the list.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def init_app(self, app: Any, *, spec_kwargs: Any = None) -> None:
        app.url_map.converters["id"] = IdConverter
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.register_converter(IdConverter, integerconverter2paramschema)

    def handle_http_exception(self, error: HTTPException) -> Any:
        response, status = render_error(error.code or 500, http_error_body(error))
        if isinstance(response, Response):
            for name, value in (error.get_headers() or []):
                if name.lower() not in ("content-type", "content-length"):
                    response.headers[name] = value
        return response, status


def handle_app_error(error: AppError) -> Any:
    return render_error(error.status, error.to_dict())
