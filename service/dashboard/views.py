"""The staff dashboard at /c/<commune>/admin/ and the CSV export of each of its tables."""

from __future__ import annotations

from typing import Any

from flask import render_template


def staff_dashboard() -> Any:
    """Rendered by ``tenant_admin.home`` for commune staff (helper A builds this)."""
    return render_template("admin/dashboard/staff.html")
