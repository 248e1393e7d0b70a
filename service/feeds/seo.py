"""Sitemaps (an index and per-commune sitemaps) and robots.txt."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("seo", __name__)
