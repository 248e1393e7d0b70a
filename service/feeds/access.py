"""Who may fetch a commune's feeds: anyone, or whoever holds its feed token (only the hash is kept)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import Forbidden
from service.feeds.models import FeedAccess, FeedSettings

TOKEN_PREFIX = "xfeed_"


def settings_for(session: Session, *, create: bool = False) -> FeedSettings:
    """The session's commune's settings. Without a row: the defaults (public, postal preset), stored only
    when ``create`` (the admin saving them); reading a feed writes nothing."""
    settings = session.scalars(select(FeedSettings)).first()
    if settings is None:
        settings = FeedSettings(access=FeedAccess.PUBLIC, csv_preset="postmart", csv_columns=[], token_hash="",
                                token_prefix="")
        if create:
            session.add(settings)
            session.flush()
    return settings


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(settings: FeedSettings) -> str:
    """Issue a new feed token (the old one stops working) and require it; the caller shows it once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    settings.token_hash = _digest(token)
    settings.token_prefix = token[: len(TOKEN_PREFIX) + 4]
    settings.access = FeedAccess.TOKEN
    return token


def check_access(settings: FeedSettings, token: str | None) -> None:
    """Public feeds pass; token feeds need the current token (compared in constant time)."""
    if settings.access == FeedAccess.PUBLIC:
        return
    if not token or not settings.token_hash or not hmac.compare_digest(_digest(token), settings.token_hash):
        raise Forbidden("This feed needs its token: add ?token=… to the URL.", code="feed_token_required")
