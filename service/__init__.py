"""XaSo: the digital commune. ``create_app`` builds the Flask application."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from service import db
from service.config import load_config


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    config = load_config(overrides)
    root = Path(__file__).resolve().parent.parent
    app = Flask(
        __name__,
        instance_path=config["INSTANCE_PATH"],
        template_folder=str(root / "frontend_templates"),
        static_folder=str(root / "frontend_templates" / "static"),
        static_url_path="/static",
    )
    app.config.update(config)

    import service.models  # noqa: F401  (every model registered before first use)
    from service.core import i18n, observability, web
    from service.core.security import csrf, limiter
    from service.jobs import delivery
    from service.media import web as media_web
    from service.tenants import web as tenancy

    db.init_app(app)
    delivery.init_app(app)  # after the database: its teardown runs before the session closes
    i18n.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    tenancy.init_app(app)
    web.init_app(app)
    media_web.init_app(app)
    observability.init_app(app)
    _register_blueprints(app)
    if app.config.get("VNPAY_SANDBOX"):
        from service.payments.vnpay_sandbox import mount

        mount(app)  # VNPay's side of the protocol at /vnpay-sandbox: `make run` pays offline
    return app


def _register_blueprints(app: Flask) -> None:
    from service.core.api import Api
    from service.core.security import csrf
    from service.core.web import health_bp, media_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(media_bp)

    api = Api(app)
    app.extensions["xaso_api"] = api
    from service.accounts import api as accounts_api
    from service.accounts import views as accounts_views
    from service.catalog import admin as catalog_admin
    from service.catalog import api as catalog_api
    from service.catalog import views as catalog_views
    from service.orders import admin as orders_admin
    from service.orders import views as orders_views
    from service.payments import api as payments_api
    from service.payments import vietqr_views, webhooks_api
    from service.search import api as search_api
    from service.search import views as search_views
    from service.tenants import admin as tenants_admin
    from service.tenants import api as tenants_api
    from service.tenants import views as tenants_views

    for module in (accounts_api, tenants_api, catalog_api, search_api, payments_api, webhooks_api):
        for blueprint in module.blueprints():
            csrf.exempt(blueprint)  # bearer-token API: no cookies, so no CSRF
            api.register_blueprint(blueprint)
    for module in (tenants_views, accounts_views, catalog_views, tenants_admin, catalog_admin, search_views,
                   vietqr_views):
        for blueprint in module.blueprints():
            app.register_blueprint(blueprint)
    app.register_blueprint(orders_views.bp)
    from service.payments import vnpay_views

    csrf.exempt(vnpay_views.bp)  # VNPay's server and the buyer's redirect carry no CSRF token
    app.register_blueprint(vnpay_views.bp)
    app.register_blueprint(orders_admin.orders_admin)
    from service.tourism import admin as tourism_admin
    from service.tourism import explore as tourism_explore
    from service.tourism import ical_views as tourism_ical
    from service.tourism import views as tourism_views

    app.register_blueprint(tourism_views.bp)
    app.register_blueprint(tourism_admin.stays_admin)
    app.register_blueprint(tourism_explore.bp)
    app.register_blueprint(tourism_ical.bp)  # GET only: the export feed, fetched by other channels' servers
    _register_engagement(app)
    _register_feeds(app)
    from service.dashboard import views as dashboard_views

    app.register_blueprint(dashboard_views.bp)


def _register_engagement(app: Flask) -> None:
    from service.core.security import csrf
    from service.engagement import (
        admin,
        civic_admin,
        civic_views,
        hub,
        open311,
        open311_admin,
        poll_admin,
        poll_views,
        views,
    )

    csrf.exempt(open311.bp)  # Open311 clients post with an API key, not a browser session
    for blueprint in (hub.bp, views.bp, civic_views.bp, poll_views.bp, open311.bp, admin.reports_admin,
                      civic_admin.civic_admin, poll_admin.polls_admin, open311_admin.open311_admin):
        app.register_blueprint(blueprint)


def _register_feeds(app: Flask) -> None:
    from service.feeds import admin as feeds_admin
    from service.feeds import qr_views, seo
    from service.feeds import views as feed_views

    app.register_blueprint(feed_views.bp)  # GET only, read by marketplaces' servers
    for blueprint in (feeds_admin.feeds_admin, seo.bp, qr_views.bp):
        app.register_blueprint(blueprint)
