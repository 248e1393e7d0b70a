"""Communes: lookup, creation, branding and memberships."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.accounts.models import User
from service.core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from service.db import PLATFORM, Scope, scoped
from service.tenants.models import STAFF_ROLES, Membership, Role, Tenant

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
RESERVED_SLUGS = frozenset({"api", "admin", "static", "media", "www", "login", "logout"})


def tenant_by_slug(session: Session, slug: str) -> Tenant | None:
    return session.scalar(select(Tenant).where(Tenant.slug == slug, Tenant.is_active.is_(True)))


def tenant_by_host(session: Session, host: str, base_domain: str) -> Tenant | None:
    host = host.split(":", 1)[0].lower().rstrip(".")
    if base_domain and host.endswith("." + base_domain):
        return tenant_by_slug(session, host[: -len(base_domain) - 1])
    return session.scalar(select(Tenant).where(Tenant.custom_domain == host, Tenant.is_active.is_(True)))


def list_tenants(session: Session) -> list[Tenant]:
    return list(session.scalars(select(Tenant).where(Tenant.is_active.is_(True)).order_by(Tenant.name)))


def create_tenant(session: Session, *, slug: str, name: str, **fields: Any) -> Tenant:
    if not SLUG_RE.match(slug) or slug in RESERVED_SLUGS:
        raise Invalid("Slug must be lower-case letters, digits and hyphens.", param="slug")
    if not name.strip():
        raise Invalid("Name is required.", param="name")
    if session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise Conflict("A commune with this slug already exists.", param="slug", code="slug_taken")
    tenant = Tenant(slug=slug, name=name.strip())
    session.add(tenant)
    update_branding(session, tenant, fields)
    session.flush()
    return tenant


BRANDING_FIELDS = ("name", "district", "province", "tagline_vi", "tagline_en", "story_vi", "story_en",
                   "primary_color", "cover_key")


def update_branding(session: Session, tenant: Tenant, fields: dict[str, Any]) -> dict[str, Any]:
    """Apply branding fields; returns the changes as {field: [old, new]} for the audit log."""
    changes: dict[str, Any] = {}
    for field, value in fields.items():
        if field not in BRANDING_FIELDS:
            raise Invalid(f"Unknown field {field}.", param=field)
        if field == "primary_color" and not COLOR_RE.match(value or ""):
            raise Invalid("Colour must look like #1f6f50.", param=field)
        if field == "name" and not (value or "").strip():
            raise Invalid("Name is required.", param=field)
        old = getattr(tenant, field)
        if old != value:
            changes[field] = [old, value]
            setattr(tenant, field, value)
    return changes


# ---------------------------------------------------------------------------
# Who is acting, with which role in the current commune


@dataclass(frozen=True)
class Actor:
    user: User | None
    role: Role | None
    is_platform_admin: bool = False

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None or self.is_platform_admin

    @property
    def is_staff(self) -> bool:
        return self.is_platform_admin or self.role in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        return self.is_platform_admin or self.role == Role.ADMIN

    @property
    def role_name(self) -> str:
        if self.role is not None:
            return self.role.value
        return "platform_admin" if self.is_platform_admin else ""

    def require(self, allowed: bool, message: str = "You do not have permission to do this.") -> None:
        if not self.is_authenticated:
            raise Unauthenticated("Sign in first.")
        if not allowed:
            raise Forbidden(message)


ANONYMOUS = Actor(user=None, role=None)
# The platform itself acting (CLI, demo loader): no person, every permission.
SYSTEM = Actor(user=None, role=None, is_platform_admin=True)


def actor_for(session: Session, user: User | None) -> Actor:
    """The user's role in the session's commune (memberships are tenant-scoped)."""
    if user is None:
        return ANONYMOUS
    membership = session.scalar(select(Membership).where(Membership.user_id == user.id))
    return Actor(user=user, role=membership.role if membership else None,
                 is_platform_admin=user.is_platform_admin)


def add_member(session: Session, tenant: Tenant, user: User, role: Role | str) -> Membership:
    try:
        role = Role(role)
    except ValueError:
        raise Invalid("Role must be admin, editor, volunteer or seller.", param="role") from None
    with scoped(session, Scope(tenant.id)):
        membership = session.scalar(select(Membership).where(Membership.user_id == user.id))
        if membership is None:
            membership = Membership(tenant_id=tenant.id, user_id=user.id, role=role)
            session.add(membership)
        else:
            membership.role = role
        session.flush()
    return membership


def communes_of(session: Session, user: User) -> list[tuple[Tenant, Role]]:
    with scoped(session, PLATFORM):
        rows = session.execute(
            select(Tenant, Membership.role)
            .join(Membership, Membership.tenant_id == Tenant.id)
            .where(Membership.user_id == user.id)
            .order_by(Tenant.name)
        ).all()
    return [(tenant, role) for tenant, role in rows]


def get_tenant_or_404(session: Session, slug: str) -> Tenant:
    tenant = tenant_by_slug(session, slug)
    if tenant is None:
        raise NotFound("No such commune.", param="commune")
    return tenant
