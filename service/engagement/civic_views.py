"""Public pages of announcements and questions (Q&A)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("civic", __name__, url_prefix="/c/<commune>")
