"""Cross-cutting web pieces: error handlers, template helpers, health and media routes."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, abort, current_app, request, send_file
from flask_babel import gettext
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from service.core.api import handle_app_error, http_error_body, render_error
from service.core.clock import format_local
from service.core.colors import readable_brand
from service.core.errors import AppError
from service.core.i18n import current_language, localized
from service.core.money import format_vnd
from service.db import TenantScopeError, get_session
from service.media.storage import PUBLIC_CACHE_CONTROL, InvalidMediaKey, LocalStorage

health_bp = Blueprint("health", __name__)
media_bp = Blueprint("media", __name__)
PUBLIC_MAX_AGE = 365 * 24 * 3600


@health_bp.get("/healthz")
def healthz() -> Any:
    return {"status": "ok"}


@health_bp.get("/readyz")
def readyz() -> Any:
    try:
        get_session().execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return {"status": "unavailable", "error": type(exc).__name__}, 503
    return {"status": "ok"}


# Only types our pipeline stores; anything else goes out as opaque bytes (never as HTML or SVG script).
MEDIA_TYPES = {
    ".webp": "image/webp",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".avif": "image/avif",
}


@media_bp.get("/media/<path:key>")
def media(key: str) -> Any:
    """Public local media. Keys are names, not paths: traversal and the private area are 404, like a miss."""
    storage = LocalStorage(current_app.config["MEDIA_ROOT"])
    try:
        path = storage.public_path(key)
    except InvalidMediaKey:
        abort(404)
    if not path.is_file():
        abort(404)
    mimetype = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
    # Conditional: ETag and Last-Modified answer revalidations with 304 (and Range requests work).
    response = send_file(path.absolute(), mimetype=mimetype, max_age=PUBLIC_MAX_AGE, conditional=True, etag=True)
    response.headers["Cache-Control"] = PUBLIC_CACHE_CONTROL
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def url_with(**changes: Any) -> str:
    """The current URL with some query arguments replaced (None removes one)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value if isinstance(value, list) else [value]
    query = urlencode(args, doseq=True)
    return request.path + ("?" + query if query else "")


def init_app(app: Flask) -> None:
    app.register_error_handler(AppError, handle_app_error)

    @app.errorhandler(TenantScopeError)
    def _scope_error(error: TenantScopeError) -> Any:
        # A bug, not user error: log it and answer as a server error, never leak data.
        app.logger.error("tenant scope violation: %s", error)
        return render_error(500, {"error": {"type": "api_error", "code": "internal_error",
                                            "message": "Internal error", "param": None}})

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        return render_error(error.code or 500, http_error_body(error))

    app.jinja_env.filters["vnd"] = format_vnd
    app.jinja_env.filters["localtime"] = format_local
    app.jinja_env.filters["readable_brand"] = readable_brand
    app.jinja_env.globals.update(loc=localized, lang=current_language, url_with=url_with, _=gettext)

    @app.context_processor
    def _template_context() -> dict[str, Any]:
        from service.tenants.web import current_actor, current_tenant, current_user

        return {"tenant": current_tenant(), "current_user": current_user(), "actor": current_actor}
