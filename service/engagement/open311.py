"""Open311 GeoReport v2 server of a commune at /c/<slug>/open311/v2/ (JSON and XML)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("open311", __name__, url_prefix="/c/<commune>/open311")
