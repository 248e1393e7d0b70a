"""A seller's own dashboard at /c/<commune>/admin/: orders to fulfil, low stock, payouts owed, VietQR."""

from __future__ import annotations

from typing import Any

from flask import render_template


def seller_dashboard() -> Any:
    """Rendered by ``tenant_admin.home`` for a seller (helper B builds this)."""
    return render_template("admin/dashboard/seller.html")
