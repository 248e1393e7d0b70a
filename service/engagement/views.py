"""Public pages of field reports: file one, follow it by its tracking code, the list and the map."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/c/<commune>/reports")
