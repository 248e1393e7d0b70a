"""Colours a commune picks, kept readable: the brand colour is both the header behind white text and the colour
of links on the light page, so it must contrast with both (WCAG AA: 4.5:1 for normal text)."""

from __future__ import annotations

import re

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
# The page background (site.css --bg); white contrasts more, so text on either side passes when this does.
PAGE_BACKGROUND = "#fafaf7"
AA_NORMAL_TEXT = 4.5


def _channels(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def relative_luminance(color: str) -> float:
    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in _channels(color))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def readable_brand(color: str, background: str = PAGE_BACKGROUND) -> str:
    """The colour itself when it reads well against the light page (and under white text), else the same hue
    darkened just enough. Anything that is not #rrggbb is left alone (the form validates colours)."""
    if not HEX_COLOR.match(color or ""):
        return color
    red, green, blue = _channels(color)
    candidate = color.lower()
    factor = 1.0
    # A little above 4.5: browsers blend and round, and axe-core measures what they paint.
    while contrast_ratio(candidate, background) < AA_NORMAL_TEXT + 0.1 and factor > 0:
        factor = round(factor - 0.02, 2)
        candidate = "#{:02x}{:02x}{:02x}".format(*(int(channel * factor) for channel in (red, green, blue)))
    return candidate
