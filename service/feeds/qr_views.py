"""Printable QR codes (SVG, PNG) of a commune, its products and homestays, and posters."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("qr", __name__)
