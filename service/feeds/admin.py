"""Staff settings of a commune's feeds: access, token, CSV layout, and the feed report."""

from __future__ import annotations

from flask import Blueprint

from service.tenants.admin import ADMIN_PREFIX, admin_labels

feeds_admin = Blueprint("feeds_admin", __name__, url_prefix=ADMIN_PREFIX)
feeds_admin.context_processor(admin_labels)
