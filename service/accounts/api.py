"""JSON API: API tokens and the signed-in user."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint

from service.accounts.schemas import MeOutSchema, TokenInSchema, TokenOutSchema
from service.accounts.services import authenticate, issue_token
from service.core.errors import Unauthenticated
from service.core.security import limiter
from service.db import get_session
from service.tenants.api import API_PREFIX, BEARER, api_blueprint, errors, require_user
from service.tenants.services import communes_of

blp = api_blueprint("api_auth", __name__, API_PREFIX, "API tokens and the signed-in user")


def _login_rate_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


@blp.route("/auth/tokens", methods=["POST"])
@blp.arguments(TokenInSchema)
@blp.response(201, TokenOutSchema)
@errors(blp, 401, 429)
@limiter.limit(_login_rate_limit, methods=["POST"], deduct_when=lambda response: response.status_code != 201)
def create_token(data: dict[str, Any]) -> Any:
    """Exchange an e-mail and password for an API token

    The token is shown once; keep it secret. Failed attempts are rate-limited like the sign-in
    form (`LOGIN_RATE_LIMIT`), answering 429 once exhausted.
    """
    session = get_session()
    user = authenticate(session, data["email"], data["password"])
    if user is None:
        raise Unauthenticated("Wrong e-mail or password.", code="invalid_credentials")
    token = issue_token(session, user, data.get("name") or "api")
    session.commit()
    return {"token": token, "user": user}


@blp.route("/me")
@blp.response(200, MeOutSchema)
@blp.doc(security=BEARER)
@errors(blp, 401)
def me() -> Any:
    """The signed-in user and their role in each commune"""
    user = require_user()
    communes = [
        {"slug": tenant.slug, "name": tenant.name, "role": role.value, "url": f"/c/{tenant.slug}/",
         "api_url": f"/api/v1/communes/{tenant.slug}"}
        for tenant, role in communes_of(get_session(), user)
    ]
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "phone": user.phone,
        "is_platform_admin": user.is_platform_admin,
        "communes": communes,
    }


def blueprints() -> list[Blueprint]:
    return [blp]
