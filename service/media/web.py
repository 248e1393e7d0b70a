"""Showing media on pages and in the API: responsive pictures for asset keys, looked up once per request."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, g
from werkzeug.datastructures import FileStorage

from service.core.errors import Invalid
from service.db import get_session
from service.media.models import MediaAsset
from service.media.services import Picture, UploadPolicy, assets_by_key, picture
from service.media.storage import get_storage

_CACHE = "xaso_media_assets"


def _known() -> dict[str, MediaAsset | None]:
    known: dict[str, MediaAsset | None] | None = g.get(_CACHE)
    if known is None:
        known = {}
        setattr(g, _CACHE, known)
    return known


def prefetch(keys: Iterable[str | None]) -> str:
    """Load the assets of a page's images in one query (returns '' so templates can call it inline)."""
    known = _known()
    missing = {key for key in keys if key and key not in known}
    if missing:
        found = assets_by_key(get_session(), missing)
        for key in missing:
            known[key] = found.get(key)
    return ""


def picture_for(key: str | None) -> Picture | None:
    """The variants behind a key; None for a legacy single file or an image still processing."""
    if not key:
        return None
    prefetch([key])
    asset = _known().get(key)
    return picture(get_storage(), asset) if asset is not None else None


def media_url(key: str | None, at_least: int = 800) -> str | None:
    """One URL for a key: its JPEG variant at least this wide, else the file itself."""
    if not key:
        return None
    found = picture_for(key)
    return found.src(at_least) if found else get_storage().url(key)


def read_upload(file: FileStorage | None, policy: UploadPolicy) -> bytes:
    """The uploaded bytes, reading no more than one byte past the limit (the pipeline refuses that one)."""
    if file is None or not file.filename:
        raise Invalid("Choose a photo to upload.", param="file", code="file_missing")
    data = file.stream.read(policy.max_bytes + 1)
    if not data:
        raise Invalid("The file is empty.", param="file", code="file_missing")
    return data


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(media_prefetch=prefetch, picture_for=picture_for, media_url=media_url)
