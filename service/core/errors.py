"""One error shape for the whole application.

Services raise ``AppError`` subclasses; the API renders them as
``{"error": {"type", "code", "message", "param"}}`` with the matching 4xx, pages render a
friendly message.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status = 400
    type = "invalid_request_error"
    code = "bad_request"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        return error_body(self.type, self.code, self.message, self.param)


class NotFound(AppError):
    status = 404
    type = "invalid_request_error"
    code = "resource_missing"


class Invalid(AppError):
    status = 422
    code = "invalid_value"


class Forbidden(AppError):
    status = 403
    type = "permission_error"
    code = "forbidden"


class Unauthenticated(AppError):
    status = 401
    type = "authentication_error"
    code = "unauthenticated"


class Conflict(AppError):
    status = 409
    code = "conflict"


def error_body(type_: str, code: str, message: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"type": type_, "code": code, "message": message, "param": param}}
