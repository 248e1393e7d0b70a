"""QR codes of public pages, for packaging labels and posters: pure functions, no request, no database.

Error correction Q (25 % of the code words can be lost): labels on bottles and bags get scratched, wet and
folded, and the bigger symbol costs nothing on paper. The quiet zone is 4 modules, the minimum of
ISO/IEC 18004; phones fail to find a code printed closer to other ink.
"""

from __future__ import annotations

import io

import segno

ERROR_LEVEL = "q"
QUIET_ZONE = 4  # modules, ISO/IEC 18004
# ?size= of a PNG -> pixels per module. "s" is for a small sticker, "l" for an A4 poster.
PNG_SCALES = {"s": 4, "m": 8, "l": 16}
DEFAULT_SIZE = "m"


def make(url: str) -> segno.QRCode:
    """The symbol: a full QR (never Micro QR, which few phone cameras read), at a fixed level."""
    # boost_error=False: the level stays Q whatever the URL's length, so a printed label and the test agree.
    return segno.make(url, error=ERROR_LEVEL, micro=False, boost_error=False)


def qr_svg(url: str, *, scale: int = 8, border: int = QUIET_ZONE, dark: str = "#000", light: str = "#fff") -> bytes:
    """A standalone SVG with a viewBox (it scales to any print size) and no external resources."""
    code = make(url)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=scale, border=border, dark=dark, light=light, xmldecl=True,
              svgns=True, svgclass=None, lineclass=None, title=url, omitsize=True)
    # segno writes either a size or a viewBox; a print file wants both (a natural size, and scaling).
    width, height = code.symbol_size(scale=scale, border=border)
    return out.getvalue().replace(b"<svg ", f'<svg width="{width}" height="{height}" '.encode(), 1)


def inline_svg(url: str, *, scale: int = 8) -> str:
    """The SVG element to place in an HTML page (no XML declaration), our own markup: safe to inline."""
    out = io.BytesIO()
    make(url).save(out, kind="svg", scale=scale, border=QUIET_ZONE, dark="#000", light="#fff", xmldecl=False,
                   svgns=True, svgclass="qr", lineclass=None, omitsize=True)
    return out.getvalue().decode("utf-8").strip()


def qr_png(url: str, *, scale: int = PNG_SCALES[DEFAULT_SIZE], border: int = QUIET_ZONE) -> bytes:
    """A black-and-white PNG, ``scale`` pixels per module (whole pixels keep the edges sharp in print)."""
    out = io.BytesIO()
    make(url).save(out, kind="png", scale=scale, border=border, dark="#000", light="#fff")
    return out.getvalue()


def side_modules(url: str, border: int = QUIET_ZONE) -> int:
    """Width of the symbol in modules, quiet zone included (the PNG is this times the scale, square)."""
    width, _height = make(url).symbol_size(scale=1, border=border)
    return int(width)
