"""Public pages of polls: vote once per account or verified phone, see results."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("polls", __name__, url_prefix="/c/<commune>/polls")
