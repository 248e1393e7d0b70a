"""Absolute URLs of public pages (feeds, sitemaps, e-mails, QR codes): PUBLIC_BASE_URL + path.

Pages served to a browser use relative links; anything read elsewhere (a marketplace, a mail client,
a printed poster) needs the site's public address, which the request may not know (behind a proxy, or
no request at all in the CLI).
"""

from __future__ import annotations

from flask import current_app


def public_url(path: str) -> str:
    """``/c/cam-thanh/products/x`` -> ``https://xaso.vn/c/cam-thanh/products/x`` (absolute URLs pass through)."""
    if path.startswith(("http://", "https://")):
        return path
    return f"{current_app.config['PUBLIC_BASE_URL']}/{path.lstrip('/')}"


def commune_url(slug: str, path: str = "") -> str:
    """A commune's page: ``commune_url("cam-thanh", "/products")``."""
    return public_url(f"/c/{slug}{path}")
