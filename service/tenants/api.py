"""JSON API: communes (public list and branding), plus helpers every API module shares.

Tenant-scoped resources live under ``/api/v1/communes/<commune>/...``; the app pops and
resolves ``commune`` (service.tenants.web), so views never receive it.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from flask.blueprints import BlueprintSetupState
from flask_smorest import Blueprint

from service.accounts.models import User
from service.audit.services import record
from service.core.api import ApiBlueprint
from service.core.errors import NotFound, Unauthenticated
from service.db import get_session
from service.tenants.schemas import BrandingInSchema, TenantListSchema, TenantOutSchema
from service.tenants.services import Actor, list_tenants, update_branding
from service.tenants.web import COMMUNE_ARG, current_actor, current_user, require_tenant

API_PREFIX = "/api/v1"
COMMUNE_PREFIX = f"{API_PREFIX}/communes/<{COMMUNE_ARG}>"
SECURITY_SCHEME = "bearerAuth"
BEARER: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]
# Documented on every tenant-scoped route (smorest adds the bare parameter; this adds the words).
COMMUNE_PARAMETER = {
    "in": "path",
    "name": COMMUNE_ARG,
    "required": True,
    "description": "The commune's slug, e.g. `cam-thanh`.",
    "schema": {"type": "string"},
}


def _register_security_scheme(state: BlueprintSetupState) -> None:
    api = state.app.extensions.get("xaso_api")
    if api is not None and SECURITY_SCHEME not in api.spec.components.security_schemes:
        api.spec.components.security_scheme(SECURITY_SCHEME, {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from `POST /api/v1/auth/tokens` (`xs_...`).",
        })


def api_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    """A smorest blueprint that also declares the bearer security scheme in the spec."""
    blueprint = ApiBlueprint(name, import_name, url_prefix=url_prefix, description=description)
    blueprint.record_once(_register_security_scheme)
    return blueprint


def errors(blueprint: Blueprint, *codes: int) -> Callable[[Any], Any]:
    """Document error responses (all share the error schema)."""

    def decorator(func: Any) -> Any:
        for code in codes:
            func = blueprint.alt_response(code, response=HTTPStatus(code).name)(func)
        return func

    return decorator


def require_user() -> User:
    user = current_user()
    if user is None:
        raise Unauthenticated("Send a valid API token: Authorization: Bearer xs_...")
    return user


def member_actor(not_found: NotFound | None = None) -> Actor:
    """The signed-in actor, who must hold a role in the URL's commune.

    Others get a 404, as if the thing did not exist: a commune's private data is not
    even acknowledged to outsiders.
    """
    require_user()
    actor = current_actor()
    if actor.role is None and not actor.is_platform_admin:
        raise not_found or NotFound("Not found.")
    return actor


blp = api_blueprint("api_communes", __name__, f"{API_PREFIX}/communes", "Communes and their branding")


@blp.route("")
@blp.response(200, TenantListSchema)
def list_communes() -> Any:
    """List the communes on the platform"""
    return {"data": list_tenants(get_session())}


@blp.route(f"/<{COMMUNE_ARG}>", parameters=[COMMUNE_PARAMETER])
@blp.response(200, TenantOutSchema)
@errors(blp, 404)
def get_commune() -> Any:
    """A commune's public branding"""
    return require_tenant()


@blp.route(f"/<{COMMUNE_ARG}>", methods=["PATCH"], parameters=[COMMUNE_PARAMETER], endpoint="patch_commune")
@blp.arguments(BrandingInSchema)
@blp.response(200, TenantOutSchema)
@blp.doc(security=BEARER)
@errors(blp, 401, 403, 404)
def patch_commune(data: dict[str, Any]) -> Any:
    """Change a commune's branding (commune admins)"""
    tenant = require_tenant()
    actor = member_actor(NotFound("No such commune.", param=COMMUNE_ARG))
    actor.require(actor.is_admin, "Only the commune's administrators can change its branding.")
    session = get_session()
    changes = update_branding(session, tenant, data)
    if changes:
        record(session, actor, "tenant.branding_updated", tenant, changes)
    session.commit()
    return tenant


def blueprints() -> list[Blueprint]:
    return [blp]
