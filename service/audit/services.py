"""The audit trail: who did what, for whom."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.models import AuditEntry
from service.core.pagination import Page, paginate
from service.tenants.services import Actor


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def record(
    session: Session,
    actor: Actor,
    action: str,
    obj: Any,
    changes: dict[str, Any] | None = None,
    on_behalf_of_seller_id: int | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_user_id=actor.user.id if actor.user else None,
        actor_role=actor.role_name,
        on_behalf_of_seller_id=on_behalf_of_seller_id,
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=getattr(obj, "id", None),
        changes={key: [_plain(v) for v in pair] if isinstance(pair, list) else _plain(pair)
                 for key, pair in (changes or {}).items()},
    )
    session.add(entry)
    return entry


def list_entries(
    session: Session,
    *,
    seller_id: int | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    page: int | None = None,
    per_page: int | None = None,
) -> Page[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    if seller_id is not None:
        stmt = stmt.where(AuditEntry.on_behalf_of_seller_id == seller_id)
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    return paginate(session, stmt, page, per_page)
