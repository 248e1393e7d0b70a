"""The one upload service of every domain: store an image once, make its variants, attach it to objects.

Durability: the upload is safely stored before the caller's transaction commits, either as
finished variants (inline processing, the embedded default) or as a private copy of the upload
with an outbox message that makes the variants later (background processing). Variant keys are
content-addressed, so a file written for a transaction that rolled back is merely unused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.core.errors import Invalid, NotFound
from service.db import PLATFORM, scoped
from service.jobs import outbox
from service.media import images
from service.media.models import AssetStatus, MediaAsset, MediaAttachment
from service.media.storage import Storage

PROCESS_TOPIC = "media.process"
EXTENSIONS = {"webp": "webp", "jpeg": "jpg"}


@dataclass(frozen=True)
class UploadPolicy:
    max_bytes: int
    max_pixels: int
    max_per_owner: int
    process_inline: bool

    @classmethod
    def from_config(cls, config: Any) -> UploadPolicy:
        return cls(max_bytes=int(config["MEDIA_MAX_BYTES"]), max_pixels=int(config["MEDIA_MAX_PIXELS"]),
                   max_per_owner=int(config["MEDIA_MAX_PER_OWNER"]),
                   process_inline=config.get("MEDIA_PROCESSING", "inline") == "inline")


def _asset_key(tenant_id: int, digest: str) -> str:
    return f"m/{tenant_id}/{digest[:2]}/{digest}"


def _incoming_key(tenant_id: int, digest: str) -> str:
    return f"incoming/{tenant_id}/{digest}"


def variant_key(asset_key: str, width: int, fmt: str) -> str:
    return f"{asset_key}/{width}.{EXTENSIONS[fmt]}"


SHARE_ROLE = "share"


def share_key(asset_key: str) -> str:
    width, height = images.SHARE_SIZE
    return f"{asset_key}/share-{width}x{height}.jpg"


# -- uploading ----------------------------------------------------------------------------

def upload(session: Session, storage: Storage, policy: UploadPolicy, data: bytes, filename: str = "",
           user_id: int | None = None) -> MediaAsset:
    """Check and store an image of the session's commune; the same bytes uploaded again give the same asset."""
    try:
        return _upload(session, storage, policy, data, filename, user_id)
    except images.ImageRejected as rejected:
        rejected.param = rejected.param or "file"  # what the uploader sent, in forms and the API alike
        raise


def _upload(session: Session, storage: Storage, policy: UploadPolicy, data: bytes, filename: str,
            user_id: int | None) -> MediaAsset:
    probe = images.probe(data, max_bytes=policy.max_bytes, max_pixels=policy.max_pixels)
    digest = hashlib.sha256(data).hexdigest()
    existing = _by_hash(session, digest)
    if existing is not None:
        return _reuse(existing)
    asset = MediaAsset(content_hash=digest, key="", original_format=probe.format, original_name=filename[-200:],
                       bytes=len(data), uploaded_by_user_id=user_id, status=AssetStatus.PROCESSING)
    try:
        with session.begin_nested():  # two identical uploads at once: the second finds the first's row
            session.add(asset)
            session.flush()
    except IntegrityError:
        existing = _by_hash(session, digest)
        if existing is None:  # pragma: no cover - the constraint that failed names this very row
            raise
        return _reuse(existing)
    asset.key = _asset_key(asset.tenant_id, digest)
    if policy.process_inline:
        _make_variants(storage, asset, data, policy.max_pixels)
    else:
        storage.put(_incoming_key(asset.tenant_id, digest), data, images.FORMATS[probe.format], public=False)
        outbox.enqueue(session, PROCESS_TOPIC, {"asset_id": asset.id, "max_pixels": policy.max_pixels},
                       tenant_id=asset.tenant_id)
    return asset


def _by_hash(session: Session, digest: str) -> MediaAsset | None:
    return session.scalars(select(MediaAsset).where(MediaAsset.content_hash == digest)).first()


def _reuse(asset: MediaAsset) -> MediaAsset:
    if asset.status == AssetStatus.FAILED:
        raise images.ImageRejected(asset.error or "This image could not be processed.", param="file",
                                   code="image_damaged")
    return asset


def _make_variants(storage: Storage, asset: MediaAsset, data: bytes, max_pixels: int) -> None:
    processed = images.process(data, max_pixels=max_pixels)
    variants: list[dict[str, Any]] = []
    for variant in processed.variants:
        key = variant_key(asset.key, variant.width, variant.format)
        storage.put(key, variant.data, variant.content_type)
        variants.append({"width": variant.width, "height": variant.height, "format": variant.format, "key": key,
                         "bytes": len(variant.data)})
    if processed.share is not None:  # link previews only: picture() leaves it out of every srcset
        share = processed.share
        key = share_key(asset.key)
        storage.put(key, share.data, share.content_type)
        variants.append({"width": share.width, "height": share.height, "format": share.format, "key": key,
                         "bytes": len(share.data), "role": SHARE_ROLE})
    asset.width, asset.height = processed.width, processed.height
    asset.variants = variants
    asset.status = AssetStatus.READY
    asset.error = ""


@outbox.handler(PROCESS_TOPIC)
def _process_in_background(session: Session, payloads: list[dict[str, Any]]) -> None:
    from service.media.storage import get_storage

    storage = get_storage()
    with scoped(session, PLATFORM):
        for payload in payloads:
            asset = session.get(MediaAsset, int(payload["asset_id"]))
            if asset is None or asset.status != AssetStatus.PROCESSING:
                continue  # deleted meanwhile, or a retry of work already done
            incoming = _incoming_key(asset.tenant_id, asset.content_hash)
            try:
                _make_variants(storage, asset, storage.get(incoming), int(payload["max_pixels"]))
            except images.ImageRejected as rejected:  # a bad file stays bad: no retry, the seller is told
                asset.status = AssetStatus.FAILED
                asset.error = rejected.message[:300]
            storage.delete(incoming)  # it may hold the uploader's GPS position: never keep it
            session.flush()


# -- attaching ----------------------------------------------------------------------------

def attachments(session: Session, owner_type: str, owner_id: int) -> list[MediaAttachment]:
    return list(session.scalars(select(MediaAttachment).where(
        MediaAttachment.owner_type == owner_type, MediaAttachment.owner_id == owner_id)
        .order_by(MediaAttachment.position, MediaAttachment.id)))


def get_attachment(session: Session, owner_type: str, owner_id: int, asset_id: int) -> MediaAttachment:
    attachment = session.scalars(select(MediaAttachment).where(
        MediaAttachment.owner_type == owner_type, MediaAttachment.owner_id == owner_id,
        MediaAttachment.asset_id == asset_id)).first()
    if attachment is None:
        raise NotFound("No such image.", param="image_id")
    return attachment


def attach(session: Session, policy: UploadPolicy, owner_type: str, owner_id: int,
           asset: MediaAsset) -> MediaAttachment:
    """Show an asset on an object, last in order (an image already shown stays where it is)."""
    current = attachments(session, owner_type, owner_id)
    for attachment in current:
        if attachment.asset_id == asset.id:
            return attachment
    check_room(session, policy, owner_type, owner_id)
    attachment = MediaAttachment(owner_type=owner_type, owner_id=owner_id, asset=asset, position=len(current))
    session.add(attachment)
    session.flush()
    return attachment


def check_room(session: Session, policy: UploadPolicy, owner_type: str, owner_id: int) -> None:
    if count_attached(session, owner_type, owner_id) >= policy.max_per_owner:
        raise Invalid(f"At most {policy.max_per_owner} images; remove one first.", param="file",
                      code="too_many_images")


def move(session: Session, owner_type: str, owner_id: int, asset_id: int, position: int) -> list[MediaAttachment]:
    """Put one image at a position (0 = the cover), the others keep their order around it."""
    current = attachments(session, owner_type, owner_id)
    moving = get_attachment(session, owner_type, owner_id, asset_id)
    ordered = [attachment for attachment in current if attachment.id != moving.id]
    ordered.insert(max(0, min(position, len(ordered))), moving)
    _renumber(ordered)
    return ordered


def detach(session: Session, owner_type: str, owner_id: int, asset_id: int) -> list[MediaAttachment]:
    attachment = get_attachment(session, owner_type, owner_id, asset_id)
    session.delete(attachment)
    session.flush()
    remaining = attachments(session, owner_type, owner_id)
    _renumber(remaining)
    return remaining


def _renumber(ordered: list[MediaAttachment]) -> None:
    for position, attachment in enumerate(ordered):
        attachment.position = position


def set_alt(asset: MediaAsset, alt_vi: str | None = None, alt_en: str | None = None) -> dict[str, list[str]]:
    changes: dict[str, list[str]] = {}
    for field, value in (("alt_vi", alt_vi), ("alt_en", alt_en)):
        if value is not None and value.strip() != getattr(asset, field):
            changes[field] = [getattr(asset, field), value.strip()[:300]]
            setattr(asset, field, value.strip()[:300])
    return changes


def cover_key(session: Session, owner_type: str, owner_id: int) -> str | None:
    first = attachments(session, owner_type, owner_id)
    return first[0].asset.key if first else None


def count_attached(session: Session, owner_type: str, owner_id: int) -> int:
    return int(session.scalar(select(func.count(MediaAttachment.id)).where(
        MediaAttachment.owner_type == owner_type, MediaAttachment.owner_id == owner_id)) or 0)


# -- showing ------------------------------------------------------------------------------

def assets_by_key(session: Session, keys: Iterable[str | None]) -> dict[str, MediaAsset]:
    """The assets behind these keys (cover keys of a page of products, images of search hits): one query."""
    wanted = sorted({key for key in keys if key})
    if not wanted:
        return {}
    return {asset.key: asset for asset in session.scalars(select(MediaAsset).where(MediaAsset.key.in_(wanted)))}


@dataclass(frozen=True)
class Source:
    url: str
    width: int


@dataclass(frozen=True)
class Picture:
    """What a page needs for a responsive <picture>: WebP and JPEG sources by width."""

    webp: list[Source]
    jpeg: list[Source]
    width: int
    height: int

    def srcset(self, fmt: str) -> str:
        return ", ".join(f"{source.url} {source.width}w" for source in getattr(self, fmt))

    def src(self, at_least: int = 800) -> str:
        """The JPEG for browsers without srcset: the smallest one at least this wide."""
        fitting = [source for source in self.jpeg if source.width >= at_least]
        return (fitting[0] if fitting else self.jpeg[-1]).url


def share_variant(asset: MediaAsset) -> dict[str, Any] | None:
    """What a link preview shows: the share crop, else (photos uploaded before it existed) the widest JPEG."""
    if not asset.is_ready or not asset.variants:
        return None
    for variant in asset.variants:
        if variant.get("role") == SHARE_ROLE:
            return variant
    jpegs = [variant for variant in asset.variants if variant.get("format") == "jpeg" and not variant.get("role")]
    return max(jpegs, key=lambda v: int(v["width"])) if jpegs else None


def picture(storage: Storage, asset: MediaAsset) -> Picture | None:
    if not asset.is_ready or not asset.variants:
        return None
    by_format: dict[str, list[Source]] = {"webp": [], "jpeg": []}
    for variant in sorted(asset.variants, key=lambda v: v["width"]):
        if variant.get("role"):  # the share image (a crop) is no width of the photo
            continue
        by_format[variant["format"]].append(Source(storage.url(variant["key"]), int(variant["width"])))
    return Picture(webp=by_format["webp"], jpeg=by_format["jpeg"], width=int(asset.width or 0),
                   height=int(asset.height or 0))
