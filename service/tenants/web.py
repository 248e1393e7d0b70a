"""Per-request tenancy: the commune comes from the Host header or the /c/<slug>/ prefix.

This is the only place a request picks its commune; the data layer (service.db) then
scopes every query to it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, g, redirect, request, session, url_for
from werkzeug.wrappers import Request

from service.accounts.models import User
from service.accounts.services import user_for_token
from service.core.errors import NotFound
from service.db import PLATFORM, Scope, database, get_session, set_scope
from service.tenants.models import Tenant
from service.tenants.services import ANONYMOUS, Actor, actor_for, tenant_by_host, tenant_by_slug

COMMUNE_ARG = "commune"


class TenantHostMiddleware:
    """Serve a commune on its own host: cam-thanh.xaso.vn/products -> /c/cam-thanh/products."""

    def __init__(self, app: Flask) -> None:
        self.flask_app = app
        self.wsgi_app = app.wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        # Platform paths keep their meaning on a commune's host (probes and scrapers ask any host).
        if not path.startswith(("/c/", "/api/", "/static/", "/media/", "/healthz", "/readyz", "/metrics",
                                "/robots.txt")):
            slug = self._slug_for_host(Request(environ).host)
            if slug:
                environ["PATH_INFO"] = f"/c/{slug}{path}"
        return self.wsgi_app(environ, start_response)

    def _slug_for_host(self, host: str) -> str | None:
        base = self.flask_app.config["TENANT_BASE_DOMAIN"]
        bare = host.split(":", 1)[0].lower().rstrip(".")
        if not base or bare == base or bare in ("127.0.0.1", "localhost"):
            return None
        if bare.endswith("." + base):
            # The sub-domain is the slug; an unknown one then answers 404 like an unknown /c/<slug>/.
            return bare[: -len(base) - 1]
        with database(self.flask_app).session() as db_session:
            tenant = tenant_by_host(db_session, bare, base)
            return tenant.slug if tenant else None


def current_tenant() -> Tenant | None:
    return g.get("tenant")


def require_tenant() -> Tenant:
    tenant = current_tenant()
    if tenant is None:
        raise NotFound("No such commune.", param=COMMUNE_ARG)
    return tenant


def current_user() -> User | None:
    return g.get("user")


def current_actor() -> Actor:
    actor = g.get("actor")
    if actor is None:
        actor = actor_for(get_session(), current_user()) if current_user() else ANONYMOUS
        g.actor = actor
    return actor


def _load_user() -> None:
    db_session = get_session()
    user: User | None = None
    if request.path.startswith("/api/"):
        # The API authenticates by bearer token only, so it needs no CSRF token.
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            user = user_for_token(db_session, header[7:].strip())
    else:
        user_id = session.get("uid")
        if user_id is not None:
            user = db_session.get(User, user_id)
            if user is None or not user.is_active or session.get("pwv") != user.password_hash[-12:]:
                session.clear()
                user = None
    g.user = user


def init_app(app: Flask) -> None:
    app.wsgi_app = TenantHostMiddleware(app)  # type: ignore[method-assign]

    @app.url_value_preprocessor
    def _resolve_commune(endpoint: str | None, values: dict[str, Any] | None) -> None:
        db_session = get_session()
        slug = (values or {}).pop(COMMUNE_ARG, None)
        if slug is None:
            set_scope(db_session, PLATFORM)
            return
        tenant = tenant_by_slug(db_session, slug)
        if tenant is None:
            raise NotFound("No such commune.", param=COMMUNE_ARG)
        g.tenant = tenant
        set_scope(db_session, Scope(tenant.id))

    @app.before_request
    def _authenticate() -> None:
        if request.endpoint in ("static", "health.healthz", "health.readyz"):
            return
        _load_user()

    @app.url_defaults
    def _default_commune(endpoint: str, values: dict[str, Any]) -> None:
        tenant = current_tenant()
        if tenant is not None and COMMUNE_ARG not in values and app.url_map.is_endpoint_expecting(
            endpoint, COMMUNE_ARG
        ):
            values[COMMUNE_ARG] = tenant.slug


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Pages only: send anonymous visitors to the sign-in page and back."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def commune_member_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Admin pages: signed in and holding a role in this commune; others get a 404."""

    @login_required
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        actor = current_actor()
        if current_tenant() is None or (actor.role is None and not actor.is_platform_admin):
            raise NotFound("No such page.")
        return view(*args, **kwargs)

    return wrapper
