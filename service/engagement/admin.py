"""Staff triage of field reports: assign, move through the workflow, answer; categories, departments, templates."""

from __future__ import annotations

from flask import Blueprint

from service.tenants.admin import ADMIN_PREFIX, admin_labels

reports_admin = Blueprint("reports_admin", __name__, url_prefix=ADMIN_PREFIX)
reports_admin.context_processor(admin_labels)
