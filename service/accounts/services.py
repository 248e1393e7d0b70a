"""Accounts: passwords (argon2), sign-in, API tokens."""

from __future__ import annotations

import hashlib
import os
import secrets

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.accounts.models import ApiToken, User
from service.core.errors import Conflict, Invalid
from service.db import utcnow


def _make_hasher() -> PasswordHasher:
    """Argon2id with RFC 9106's low-memory profile; ARGON2_PROFILE=CHEAPEST speeds up test suites.

    Hashes made with other parameters are upgraded at the next sign-in (check_needs_rehash).
    """
    return PasswordHasher.from_parameters(getattr(profiles, os.environ.get("ARGON2_PROFILE", "RFC_9106_LOW_MEMORY")))


_hasher = _make_hasher()
MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "xs_"
# Verifying against a real hash when the e-mail is unknown keeps sign-in timing uniform.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"Password must have at least {MIN_PASSWORD_LENGTH} characters.", param="password")
    return _hasher.hash(password)


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    phone: str = "",
    is_platform_admin: bool = False,
) -> User:
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise Invalid("Enter a valid e-mail address.", param="email")
    if not name.strip():
        raise Invalid("Name is required.", param="name")
    if find_user(session, email) is not None:
        raise Conflict("An account with this e-mail already exists.", param="email", code="email_taken")
    user = User(
        email=email,
        name=name.strip(),
        phone=phone.strip(),
        password_hash=hash_password(password),
        is_platform_admin=is_platform_admin,
    )
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def authenticate(session: Session, email: str, password: str) -> User | None:
    user = find_user(session, email)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, name: str = "") -> str:
    """Create an API token; the plain value is returned once and never stored."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name[:80], token_hash=_digest(plain), prefix=plain[:12]))
    session.flush()
    return plain


def user_for_token(session: Session, plain: str) -> User | None:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(plain)))
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    token.last_used_at = utcnow()
    return token.user
