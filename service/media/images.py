"""The Pillow pipeline (pure: bytes in, variants out; no database, no storage, no Flask).

- ``probe(data, *, max_bytes, max_pixels) -> Probe``: refuse what is not a real JPEG/PNG/WebP
  (judged by content, never the file name), too many bytes, too many pixels (checked from
  the header, before decoding: decompression bombs), or damaged/truncated data. Raises
  ``ImageRejected`` (an ``Invalid`` with a code and a clear, user-facing message).
- ``process(data, *, widths=VARIANT_WIDTHS, max_pixels) -> Processed``: decode, apply EXIF
  orientation, convert to sRGB (ICC profiles, CMYK), strip ALL metadata (EXIF incl. GPS, XMP,
  ICC, comments), and encode one WebP and one JPEG per width (never upscaled: widths wider
  than the image collapse into one variant at the image's own width). Transparency is kept
  in WebP and flattened onto white in JPEG. ``Processed.share`` is the picture links show when shared
  (OpenGraph, Zalo, Facebook): the upright sRGB image cover-cropped to ``SHARE_SIZE`` (1200 x 630), JPEG.

Cost is dominated by a 12 MP phone JPEG, so the work is ordered to touch as few pixels as
possible: JPEGs are decoded at a reduced DCT scale when the largest variant allows it, that
variant is resized once from the decoded image, and only then rotated and colour-converted;
each smaller variant is resized from the previous one.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

from PIL import Image, ImageChops, ImageCms, UnidentifiedImageError

from service.core.errors import Invalid

VARIANT_WIDTHS: tuple[int, ...] = (320, 800, 1600)
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}

WEBP_QUALITY = 80
SHARE_SIZE = (1200, 630)  # what Facebook and Zalo show in a link preview (1.91:1)
SHARE_QUALITY = 85
JPEG_QUALITY = 82
# libwebp's effort level: 2 encodes ~3x faster than the default 4 for about 1% more bytes.
WEBP_METHOD = 2

_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
# What Pillow's decoders raise on broken input (zlib and struct errors escape from some plugins).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)
# EXIF orientation -> the transpose that shows the stored pixels upright (as ImageOps.exif_transpose).
_UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90}
_SWAPS_SIDES = {5, 6, 7, 8}
_ORIENTATION_TAG = 0x0112
_ALPHA_MODES = {"LA": "L", "RGBA": "RGB", "PA": "P"}
_PROFILE_MODES = {"RGB": "RGB ", "L": "GRAY", "CMYK": "CMYK"}  # image mode -> ICC colour space it needs


class ImageRejected(Invalid):
    """codes: unsupported_image, image_too_large (bytes), image_too_many_pixels, image_damaged."""

    code = "unsupported_image"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(message, param=param, code=code)
        if status:
            self.status = status


@dataclass(frozen=True)
class Probe:
    format: str  # "JPEG" | "PNG" | "WEBP"
    width: int  # as stored (before EXIF orientation)
    height: int


@dataclass(frozen=True)
class Variant:
    width: int
    height: int
    format: str  # "webp" | "jpeg"
    content_type: str  # "image/webp" | "image/jpeg"
    data: bytes


@dataclass(frozen=True)
class Processed:
    width: int  # upright (after EXIF orientation)
    height: int
    has_alpha: bool
    variants: list[Variant]  # ordered by width, then webp before jpeg
    share: Variant | None = None  # SHARE_SIZE, cover-cropped: for link previews, never in a srcset


def probe(data: bytes, *, max_bytes: int, max_pixels: int) -> Probe:
    """Check an upload without keeping any pixels: cheap enough to run in the request."""
    if len(data) > max_bytes:
        raise ImageRejected(f"This file is too large ({_megabytes(len(data))}); the limit is "
                            f"{_megabytes(max_bytes)}.", code="image_too_large", status=413)
    with _open(data, max_pixels) as image:
        result = Probe(format=_format(image), width=image.width, height=image.height)
        if result.format == "JPEG":
            image.draft(None, (1, 1))  # 1/8 scale still reads every byte, so truncation shows
        _load(image)
    return result


def process(data: bytes, *, widths: Sequence[int] = VARIANT_WIDTHS, max_pixels: int,
            share: bool = True) -> Processed:
    with _open(data, max_pixels) as image:
        stored_size = image.size
        box = _draft(image, widths) if _format(image) == "JPEG" else None
        _load(image)
        orientation = _orientation(image)  # PNG and WebP may carry EXIF after the pixels: read it now
        upright_width, upright_height = _rotated(stored_size, orientation)
        targets = _target_widths(widths, upright_width)
        largest = _size_for(targets[-1], upright_width, upright_height)
        first = _resize(_normalise_mode(image), _rotated(largest, orientation), box)
        if orientation in _UPRIGHT:
            first = first.transpose(_UPRIGHT[orientation])
        first = _drop_opaque_alpha(_to_srgb(first, image.info.get("icc_profile")))
    first.info = {}  # EXIF (GPS), XMP, ICC, comments: nothing the decoder read reaches an output
    variants: list[Variant] = []
    current = first
    for width in reversed(targets):  # each variant from the previous, larger one
        current = _resize(current, _size_for(width, upright_width, upright_height))
        variants[:0] = [_encode_webp(current), _encode_jpeg(current)]
    return Processed(width=upright_width, height=upright_height, has_alpha=first.mode == "RGBA", variants=variants,
                     share=_encode_share(first) if share else None)


# -- reading ---------------------------------------------------------------------------------------


@contextmanager
def _open(data: bytes, max_pixels: int) -> Iterator[Image.Image]:
    """Identify the format and read the header; no pixel is decoded here."""
    try:
        image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(max_pixels) from exc
    except UnidentifiedImageError as exc:
        if data.startswith(_MAGIC) or data[8:12] == b"WEBP":
            raise _damaged() from exc
        raise ImageRejected("This file is not a JPEG, PNG or WebP image.", code="unsupported_image") from exc
    except _DECODE_ERRORS as exc:
        raise _damaged() from exc
    with image:
        if image.width * image.height > max_pixels:
            raise _too_many_pixels(max_pixels, image.size)
        yield image


def _format(image: Image.Image) -> str:
    # Multi-picture JPEGs (many Android phones) open as MPO; the first picture is a plain JPEG.
    return "JPEG" if image.format == "MPO" else str(image.format)


def _load(image: Image.Image) -> None:
    try:
        image.load()
    except _DECODE_ERRORS as exc:
        raise _damaged() from exc


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_ORIENTATION_TAG, 1)
    except _DECODE_ERRORS:  # broken EXIF costs the rotation, not the upload
        return 1
    return value if isinstance(value, int) else 1


def _draft(image: Image.Image, widths: Sequence[int]) -> tuple[float, float, float, float] | None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale while the result stays at least as large as the
    largest variant: scaled DCT decoding is far cheaper than decoding 12 MP and resizing, and its
    error is well below the encoder's own at our qualities. JPEG's EXIF precedes the pixels, so
    the orientation is known here. Returns the decoded image's box in the scaled coordinates."""
    orientation = _orientation(image)
    upright_width, upright_height = _rotated(image.size, orientation)
    largest = _size_for(_target_widths(widths, upright_width)[-1], upright_width, upright_height)
    drafted = image.draft(None, _rotated(largest, orientation))
    return drafted[1] if drafted else None


def _normalise_mode(image: Image.Image) -> Image.Image:
    """Bring every decoded mode to L, LA, RGB, RGBA or CMYK (what resizing and ICC transforms handle)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit samples: Pillow's convert("L") clips instead of scaling, so scale 0..65535 first.
        return image.convert("I").point(lambda value: value * (1 / 257)).convert("L")
    if "transparency" in image.info and image.mode in ("P", "L", "RGB", "1"):
        return image.convert("RGBA")
    if image.mode in ("P", "PA"):
        return image.convert("RGBA" if image.mode == "PA" else "RGB")
    if image.mode == "1":
        return image.convert("L")
    return image if image.mode in ("L", "LA", "RGB", "RGBA", "CMYK") else image.convert("RGB")


# -- pixels ----------------------------------------------------------------------------------------


def _target_widths(widths: Sequence[int], image_width: int) -> list[int]:
    """Ascending, never wider than the image (all the wider ones become one at the image's width)."""
    return sorted({min(width, image_width) for width in widths if width > 0} or {image_width})


def _size_for(width: int, image_width: int, image_height: int) -> tuple[int, int]:
    return width, max(1, round(image_height * width / image_width))


def _rotated(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """Stored size <-> upright size (the same swap both ways)."""
    return (size[1], size[0]) if orientation in _SWAPS_SIDES else size


def _resize(image: Image.Image, size: tuple[int, int],
            box: tuple[float, float, float, float] | None = None) -> Image.Image:
    if image.size == size and box is None:
        return image
    # reducing_gap: a cheap integer reduce() first when shrinking a lot, then LANCZOS on the rest.
    return image.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)


def _to_srgb(image: Image.Image, profile: bytes | None) -> Image.Image:
    """RGB or RGBA in sRGB: through the embedded ICC profile when it fits the pixels, else
    Pillow's conversion (plain RGB/greyscale is assumed sRGB, as browsers do)."""
    alpha = image.getchannel("A") if image.mode in _ALPHA_MODES else None
    colour = image.convert(_ALPHA_MODES[image.mode]) if alpha else image
    transform = _transform(profile, colour.mode) if profile else None
    converted = ImageCms.applyTransform(colour, transform) if transform else colour.convert("RGB")
    assert converted is not None  # applyTransform returns None only with inPlace=True
    if alpha:
        converted.putalpha(alpha)
    return converted


@lru_cache(maxsize=16)
def _transform(profile: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A transform from ``profile`` to sRGB, or None when it is not worth one: an unreadable or
    mismatched profile (e.g. an RGB profile on a CMYK JPEG) is ignored, and a profile that maps
    colours onto themselves (sRGB under another name) would only cost time.
    Cached: phones send the same few profiles, and building one takes milliseconds."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        if _PROFILE_MODES.get(mode) != source.profile.xcolor_space:
            return None
        transform = ImageCms.buildTransform(source, _srgb_profile(), mode, "RGB")  # perceptual intent
        if mode == "RGB" and _is_identity(transform):
            return None
    except (OSError, ValueError, ImageCms.PyCMSError):
        return None
    return transform


@lru_cache(maxsize=1)
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _is_identity(transform: ImageCms.ImageCmsTransform) -> bool:
    cube = Image.new("RGB", (64, 8))
    cube.putdata([(red * 36, green * 36, blue * 36) for blue in range(8) for red in range(8) for green in range(8)])
    converted = ImageCms.applyTransform(cube, transform)
    assert converted is not None
    per_band = cast(tuple[tuple[int, int], ...], ImageChops.difference(cube, converted).getextrema())
    return all(high <= 1 for _, high in per_band)


def _drop_opaque_alpha(image: Image.Image) -> Image.Image:
    """An alpha channel that is 255 everywhere (common in screenshots) is no transparency."""
    if image.mode == "RGBA" and image.getchannel("A").getextrema() == (255, 255):
        return image.convert("RGB")
    return image


# -- writing ---------------------------------------------------------------------------------------


def _encode_webp(image: Image.Image) -> Variant:
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
    return Variant(image.width, image.height, "webp", FORMATS["WEBP"], buffer.getvalue())


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode == "RGBA":
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        return flat
    return image


def _encode_jpeg(image: Image.Image, quality: int = JPEG_QUALITY) -> Variant:
    image = _flatten(image)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
    return Variant(image.width, image.height, "jpeg", FORMATS["JPEG"], buffer.getvalue())


def _encode_share(image: Image.Image) -> Variant:
    """Scale to cover SHARE_SIZE (small photos are enlarged: previews want exactly this size), then
    crop the middle."""
    target_width, target_height = SHARE_SIZE
    scale = max(target_width / image.width, target_height / image.height)
    scaled = _resize(image, (max(target_width, round(image.width * scale)),
                             max(target_height, round(image.height * scale))))
    left = (scaled.width - target_width) // 2
    top = (scaled.height - target_height) // 2
    return _encode_jpeg(scaled.crop((left, top, left + target_width, top + target_height)), SHARE_QUALITY)


# -- errors ----------------------------------------------------------------------------------------


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB"  # binary megabytes, as phones and file managers count them


def _too_many_pixels(max_pixels: int, size: tuple[int, int] | None = None) -> ImageRejected:
    found = f" ({size[0]} x {size[1]} pixels)" if size else ""
    return ImageRejected(f"This image is too big{found}; the limit is {max_pixels / 1_000_000:.0f} megapixels.",
                         code="image_too_many_pixels")


def _damaged() -> ImageRejected:
    return ImageRejected("This image is damaged or incomplete. Please upload it again.", code="image_damaged")
