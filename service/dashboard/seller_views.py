"""A seller's own dashboard at /c/<commune>/admin/: orders to fulfil, low stock, payouts owed, VietQR."""

from __future__ import annotations

from typing import Any

from flask import render_template

from service.dashboard import seller as dashboard
from service.db import get_session
from service.tenants.web import current_actor


def seller_dashboard() -> Any:
    """Rendered by ``tenant_admin.home`` for a seller: only the sellers its account sells for."""
    session = get_session()
    user = current_actor().user
    sellers = dashboard.sellers_of_account(session, user.id) if user is not None else []
    ids = [seller.id for seller in sellers]
    return render_template(
        "admin/dashboard/seller.html", sellers=sellers,
        parts=dashboard.parts_to_fulfil(session, ids), to_fulfil=dashboard.count_to_fulfil(session, ids),
        counts=dashboard.status_counts(session, ids), low_stock=dashboard.low_stock(session, ids),
        threshold=dashboard.LOW_STOCK_THRESHOLD, payouts=dashboard.payouts(session, sellers),
        payout_rows=dashboard.PAYOUT_ROWS_SHOWN,
        qr_codes={seller.id: dashboard.seller_qr(seller) for seller in sellers})
