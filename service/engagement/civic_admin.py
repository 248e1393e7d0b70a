"""Staff write announcements and answer questions."""

from __future__ import annotations

from flask import Blueprint

from service.tenants.admin import ADMIN_PREFIX, admin_labels

civic_admin = Blueprint("civic_admin", __name__, url_prefix=ADMIN_PREFIX)
civic_admin.context_processor(admin_labels)
