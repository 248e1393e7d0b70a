"""Staff manage the API keys that let Open311 client apps post requests."""

from __future__ import annotations

from flask import Blueprint

from service.tenants.admin import ADMIN_PREFIX, admin_labels

open311_admin = Blueprint("open311_admin", __name__, url_prefix=ADMIN_PREFIX)
open311_admin.context_processor(admin_labels)
