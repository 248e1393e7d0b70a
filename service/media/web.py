"""Showing media on pages and in the API: responsive pictures for asset keys, looked up once per request."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask, g, request
from flask_babel import lazy_gettext
from werkzeug.datastructures import FileStorage

from service.core.errors import AppError, Invalid
from service.core.urls import public_url
from service.db import get_session
from service.media.models import MediaAsset
from service.media.services import Picture, UploadPolicy, assets_by_key, picture, share_variant
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


@dataclass(frozen=True)
class ShareImage:
    """The picture of a link preview (og:image): an absolute URL and, when known, its size."""

    url: str
    width: int | None
    height: int | None


def share_image(key: str | None) -> ShareImage | None:
    """The 1200 x 630 share crop of a key; photos uploaded before it existed give their widest JPEG
    (uncropped), a legacy single file its own URL."""
    if not key:
        return None
    prefetch([key])
    asset = _known().get(key)
    variant = share_variant(asset) if asset is not None else None
    if variant is None:
        return ShareImage(public_url(get_storage().url(key)), None, None) if asset is None else None
    return ShareImage(public_url(get_storage().url(variant["key"])), int(variant["width"]), int(variant["height"]))


def share_image_url(key: str | None) -> str | None:
    found = share_image(key)
    return found.url if found else None


def read_upload(file: FileStorage | None, policy: UploadPolicy) -> bytes:
    """The uploaded bytes, reading no more than one byte past the limit (the pipeline refuses that one)."""
    if file is None or not file.filename:
        raise Invalid("Choose a photo to upload.", param="file", code="file_missing")
    data = file.stream.read(policy.max_bytes + 1)
    if not data:
        raise Invalid("The file is empty.", param="file", code="file_missing")
    return data


# The pipeline's refusals, in words for the person at the phone (translated).
UPLOAD_PROBLEMS = {
    "file_missing": lazy_gettext("Choose a photo to upload."),
    "unsupported_image": lazy_gettext("This is not a JPEG, PNG or WebP photo."),
    "image_too_large": lazy_gettext("The file is too large (at most %(mb)d MB)."),
    "image_too_many_pixels": lazy_gettext("The photo has too many pixels; send a smaller one."),
    "image_damaged": lazy_gettext("The file is damaged or incomplete; take or send the photo again."),
    "too_many_images": lazy_gettext("A listing has at most %(max)d photos; remove one first."),
}


def upload_problem(error: AppError, policy: UploadPolicy) -> str:
    message = UPLOAD_PROBLEMS.get(error.code)
    if message is None:
        return error.message
    return str(message) % {"mb": policy.max_bytes // (1024 * 1024), "max": policy.max_per_owner}


def upload_each(policy: UploadPolicy, add: Callable[[bytes, str], object]) -> tuple[int, list[str]]:
    """Several photos from one form (``file`` fields), each in its own savepoint: the good ones are kept even
    when another is refused. Returns how many were added and what went wrong with the others."""
    session = get_session()
    files: list[FileStorage | None] = [file for file in request.files.getlist("file") if file.filename] or [None]
    added, problems = 0, []
    for file in files:
        try:
            with session.begin_nested():
                add(read_upload(file, policy), file.filename or "" if file else "")
            added += 1
        except AppError as error:
            if error.status in (401, 403, 404):
                raise
            problems.append((f"{file.filename}: " if file and file.filename else "") + upload_problem(error, policy))
    return added, problems


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(media_prefetch=prefetch, picture_for=picture_for, media_url=media_url,
                                share_image=share_image)
