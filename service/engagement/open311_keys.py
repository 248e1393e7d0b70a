"""API keys of Open311 client apps: issued by staff, shown once, kept only as a SHA-256 hash.

A key belongs to one commune (the data layer scopes the lookup), so another commune's key is
simply unknown here. Keys are long random strings, so a plain hash (no salt, no slow KDF) is
enough and lets a request find its key with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import Invalid, NotFound
from service.db import utcnow
from service.engagement.models import Open311Key

KEY_MARK = "x311_"  # tells a leaked key apart from other secrets (secret scanners, logs)
NAME_MAX = 120


def _digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def create_key(session: Session, name: str) -> tuple[Open311Key, str]:
    """A new key for the client app ``name``; the plaintext is returned once and never stored."""
    name = " ".join((name or "").split())
    if not name:
        raise Invalid("Name the app that will use this key.", param="name", code="required")
    if len(name) > NAME_MAX:
        raise Invalid("The name is too long (120 characters at most).", param="name", code="too_long")
    plaintext = KEY_MARK + secrets.token_urlsafe(32)
    key = Open311Key(name=name, key_hash=_digest(plaintext), key_prefix=plaintext[:12], is_active=True,
                     created_at=utcnow())
    session.add(key)
    session.flush()
    return key, plaintext


def list_keys(session: Session) -> list[Open311Key]:
    return list(session.scalars(select(Open311Key).order_by(Open311Key.is_active.desc(),
                                                            Open311Key.created_at.desc(), Open311Key.id.desc())))


def key_by_id(session: Session, key_id: int) -> Open311Key:
    key = session.scalars(select(Open311Key).where(Open311Key.id == key_id)).first()
    if key is None:
        raise NotFound("No such API key.", param="key_id")
    return key


def revoke_key(session: Session, key_id: int) -> Open311Key:
    """Stop a key working at once (idempotent); the row stays for the audit trail."""
    key = key_by_id(session, key_id)
    key.is_active = False
    session.flush()
    return key


def key_for(session: Session, plaintext: str | None) -> Open311Key | None:
    """The active key of this commune matching ``plaintext``, marked as used; None if unknown or revoked."""
    if not plaintext:
        return None
    digest = _digest(plaintext.strip())
    key = session.scalars(select(Open311Key).where(Open311Key.key_hash == digest)).first()
    if key is None or not hmac.compare_digest(key.key_hash, digest) or not key.is_active:
        return None
    key.last_used_at = utcnow()
    return key
