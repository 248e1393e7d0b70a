"""Signing in for admin tests, and small page helpers."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.accounts.models import User
from service.db import PLATFORM, scoped
from tests.factories import login


def sign_in(client: FlaskClient, db_session: Session, email: str) -> User:
    """Sign in through /login when that page exists, else by writing the session cookie."""
    with scoped(db_session, PLATFORM):
        user = db_session.scalar(select(User).where(User.email == email))
    assert user is not None, email
    app = client.application
    if "accounts.login" in app.view_functions:
        response = login(client, email)
        assert response.status_code in (302, 303), response.status_code
        with client.session_transaction() as session:
            assert session.get("uid") == user.id
    else:
        with client.session_transaction() as session:
            session["uid"] = user.id
            session["pwv"] = user.password_hash[-12:]
    return user


def count(db_session: Session, model: Any) -> int:
    db_session.expire_all()
    with scoped(db_session, PLATFORM):
        return db_session.scalar(select(func.count()).select_from(model)) or 0


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))
