"""Generated placeholder images (demo covers) stored under the media root.

They are returned as JPEG bytes and uploaded through the media pipeline like any photo, so
the demo shows real variants.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from service.core.text import fold

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
             Path("/usr/share/fonts/TTF"), Path("/Library/Fonts"))
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@cache
def _font_file(bold: bool) -> Path | None:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    return None


@cache
def _font(size: int, bold: bool = True) -> Font:
    path = _font_file(bold)
    if path is not None:
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def _printable(text: str) -> str:
    """Pillow's built-in font has no Vietnamese marks: fold them away when DejaVu is missing."""
    return text if _font_file(True) is not None else fold(text).title()


def hex_to_rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


def _shade(rgb: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    """factor < 1 darkens, > 1 lightens towards white."""
    if factor <= 1:
        return (int(rgb[0] * factor), int(rgb[1] * factor), int(rgb[2] * factor))
    mix = min(factor - 1, 1)
    return tuple(int(c + (255 - c) * mix) for c in rgb)  # type: ignore[return-value]


def color_for(text: str, base: str | None = None) -> tuple[int, int, int]:
    """A distinct, stable colour per text; near the base colour's saturation when one is given."""
    digest = hashlib.sha256(text.encode()).digest()
    hue = digest[0] / 255
    saturation, value = 0.55, 0.62
    if base:
        _h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in hex_to_rgb(base)))
        saturation, value = max(0.35, min(s, 0.75)), max(0.45, min(v, 0.7))
    r, g, b = colorsys.hsv_to_rgb(hue, saturation, value)
    return int(r * 255), int(g * 255), int(b * 255)


def _gradient(size: tuple[int, int], start: tuple[int, int, int], end: tuple[int, int, int]) -> Image.Image:
    """A diagonal gradient, built from Pillow's linear ramp (fast: no per-pixel Python)."""
    ramp = Image.linear_gradient("L")  # 256×256, black at the top to white at the bottom
    mask = Image.blend(ramp, ramp.transpose(Image.Transpose.ROTATE_90), 0.5).resize(size)
    return Image.composite(Image.new("RGB", size, end), Image.new("RGB", size, start), mask)


def initials(text: str) -> str:
    words = [w for w in text.replace("-", " ").split() if w[:1].isalpha()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _jpeg(image: Image.Image) -> bytes:
    """Like a phone's photo: a JPEG that goes through the upload pipeline as any other."""
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def commune_cover(name: str, subtitle: str, color: str) -> bytes:
    """1600×900 gradient in the commune's colour with its name."""
    size = (1600, 900)
    base = hex_to_rgb(color)
    image = _gradient(size, _shade(base, 1.25), _shade(base, 0.55))
    draw = ImageDraw.Draw(image)
    # A few soft circles, like coconut fronds seen from a basket boat.
    for i in range(5):
        r = 180 + 60 * i
        x, y = 1350 - 90 * i, 120 + 110 * i
        draw.ellipse((x - r, y - r, x + r, y + r), outline=_shade(base, 1.45), width=3)
    title = _font(120)
    draw.text((100, 560), _printable(name), font=title, fill=(255, 255, 255))
    draw.text((104, 720), _printable(subtitle), font=_font(48, bold=False), fill=(240, 240, 240))
    return _jpeg(image)


def product_cover(title: str, caption: str = "", base_color: str | None = None) -> bytes:
    """800×600 card: a colour of its own, big initials, the product name."""
    size = (800, 600)
    rgb = color_for(title, base_color)
    image = _gradient(size, _shade(rgb, 1.35), _shade(rgb, 0.75))
    draw = ImageDraw.Draw(image)
    draw.ellipse((270, 70, 530, 330), fill=_shade(rgb, 0.6))
    big = _font(120)
    draw.text((400, 200), _printable(initials(title)), font=big, fill=(255, 255, 255), anchor="mm")
    font = _font(40)
    y = 380
    for line in _wrap(draw, _printable(title), font, 720)[:3]:
        draw.text((400, y), line, font=font, fill=(255, 255, 255), anchor="mt")
        y += 52
    if caption:
        draw.text((400, 570), _printable(caption), font=_font(24, bold=False), fill=(250, 250, 250), anchor="mb")
    return _jpeg(image)
