"""A seller's dashboard: its own at /c/<commune>/admin/, and any seller's for staff at
/c/<commune>/admin/sellers/<id>/dashboard (routed by catalog_admin, next to the seller's other pages)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import render_template

from service.catalog.models import Seller
from service.dashboard import seller as dashboard
from service.db import get_session
from service.tenants.admin import product_counts
from service.tenants.web import current_actor


def seller_dashboard() -> Any:
    """Rendered by ``tenant_admin.home`` for a seller: only the sellers its account sells for."""
    user = current_actor().user
    sellers = dashboard.sellers_of_account(get_session(), user.id) if user is not None else []
    products = product_counts(get_session(), current_actor())
    return _render(sellers, for_staff=False, product_counts=products)


def seller_dashboard_for_staff(seller: Seller) -> Any:
    """What ``seller`` sees on its home, for the commune's staff (the caller checks the role)."""
    return _render([seller], for_staff=True)


def _render(sellers: Sequence[Seller], *, for_staff: bool, product_counts: dict[str, int] | None = None) -> Any:
    session = get_session()
    ids = [seller.id for seller in sellers]
    return render_template(
        "admin/dashboard/seller.html", sellers=sellers, for_staff=for_staff,
        parts=dashboard.parts_to_fulfil(session, ids), to_fulfil=dashboard.count_to_fulfil(session, ids),
        counts=dashboard.status_counts(session, ids), low_stock=dashboard.low_stock(session, ids),
        threshold=dashboard.LOW_STOCK_THRESHOLD, payouts=dashboard.payouts(session, sellers),
        payout_rows=dashboard.PAYOUT_ROWS_SHOWN,
        qr_codes={seller.id: dashboard.seller_qr(seller) for seller in sellers}, product_counts=product_counts)
