"""Staff create, publish and close polls."""

from __future__ import annotations

from flask import Blueprint

from service.tenants.admin import ADMIN_PREFIX, admin_labels

polls_admin = Blueprint("polls_admin", __name__, url_prefix=ADMIN_PREFIX)
polls_admin.context_processor(admin_labels)
