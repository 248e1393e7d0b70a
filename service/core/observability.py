"""Operating XaSo: Prometheus metrics, structured logs with a request id, security headers, proxies.

* ``/metrics``: request count and latency by method, route template and status class, requests in
  flight, and, read at scrape time, the outbox (pending and dead messages per topic, lag) and the RQ
  queues. Under gunicorn with ``PROMETHEUS_MULTIPROC_DIR`` set, every worker's numbers are summed
  (prometheus_client's multiprocess mode; see gunicorn.conf.py).
* One access log line per request (service/core/logs.py) with the request id, also sent back in
  ``X-Request-ID``.
* Security headers on every response, without replacing one a view set itself.
* ``TRUSTED_PROXIES`` hops of X-Forwarded-For/-Proto/-Host are believed (ProxyFix), so rate limits key
  on the client's address and HTTPS is recognised behind the ingress.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import time
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from werkzeug.middleware.proxy_fix import ProxyFix

from service.core import logs

log = logging.getLogger("xaso.observability")

_START_ENVIRON = "xaso.started"
UNMATCHED_ROUTE = "<unmatched>"  # 404s and 405s: one label value, never the raw path (cardinality)

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Multiprocess metrics live in files there; a missing directory would fail the first request.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

# Module-level: prometheus_client's multiprocess mode needs one set of metrics per process, and tests
# build many apps in one process. Registered with no registry: each scrape assembles its own (below).
REQUESTS = Counter("xaso_http_requests", "HTTP requests answered.", ["method", "route", "status"], registry=None)
LATENCY = Histogram(
    "xaso_http_request_duration_seconds", "Time to answer an HTTP request (until the body starts).",
    ["method", "route", "status"], registry=None,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
IN_FLIGHT = Gauge("xaso_http_requests_in_flight", "HTTP requests being served.", registry=None,
                  multiprocess_mode="livesum")


# ---------------------------------------------------------------------------
# Metrics read at scrape time


class JobsCollector(Collector):
    """The outbox and the RQ queues, read when Prometheus scrapes. A database or Redis that is down
    shows as ``*_up 0``: /metrics answers anyway."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._outbox()
        if self.app.config.get("REDIS_URL"):
            yield from self._rq(str(self.app.config["REDIS_URL"]))

    def _outbox(self) -> Iterable[GaugeMetricFamily]:
        from service.db import PLATFORM, database, utcnow
        from service.jobs import outbox

        up = GaugeMetricFamily("xaso_outbox_up", "1 when the outbox could be read at this scrape.")
        pending = GaugeMetricFamily("xaso_outbox_pending_messages", "Outbox messages not delivered yet.",
                                    labels=["topic"])
        dead = GaugeMetricFamily("xaso_outbox_dead_messages", "Outbox messages given up on (dead letters).",
                                 labels=["topic"])
        lag = GaugeMetricFamily("xaso_outbox_lag_seconds",
                                "How long the oldest message that is due has waited for delivery (0: none).")
        try:
            session = database(self.app).session(PLATFORM)
            try:
                if session.get_bind().dialect.name == "postgresql":
                    from sqlalchemy import text

                    session.execute(text("SET LOCAL statement_timeout = 2000"))  # a scrape never hangs
                now = utcnow()
                rows = outbox.status(session)
                oldest = outbox_oldest_due(session, now)
            finally:
                session.close()
        except Exception as exc:  # noqa: BLE001 - the endpoint must answer whatever the database does
            log.warning("metrics: outbox unavailable: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        for topic, waiting, failed in rows:
            pending.add_metric([topic], waiting)
            dead.add_metric([topic], failed)
        lag.add_metric([], max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
        yield from (up, pending, dead, lag)

    def _rq(self, url: str) -> Iterable[GaugeMetricFamily]:
        up = GaugeMetricFamily("xaso_rq_up", "1 when Redis answered at this scrape.")
        length = GaugeMetricFamily("xaso_rq_queue_length", "Jobs waiting in an RQ queue.", labels=["queue"])
        failed = GaugeMetricFamily("xaso_rq_failed_jobs", "Jobs in an RQ queue's failed registry.",
                                   labels=["queue"])
        try:
            from redis import Redis
            from rq import Queue

            connection = Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
            names = {str(self.app.config.get("JOB_QUEUE", "xaso"))}
            names.update(queue.name for queue in Queue.all(connection=connection))
            counts = []
            for name in sorted(names):
                queue = Queue(name, connection=connection)
                counts.append((name, queue.count, queue.failed_job_registry.count))
        except Exception as exc:  # noqa: BLE001 - Redis down must not take /metrics down
            log.warning("metrics: redis unavailable: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        for name, waiting, failures in counts:
            length.add_metric([name], waiting)
            failed.add_metric([name], failures)
        yield from (up, length, failed)


def outbox_oldest_due(session: Any, now: Any) -> Any:
    """``available_at`` of the oldest pending message that is due: how far the relay is behind."""
    from sqlalchemy import func, select

    from service.jobs.models import OutboxMessage

    return session.execute(
        select(func.min(OutboxMessage.available_at)).where(
            OutboxMessage.delivered_at.is_(None), OutboxMessage.dead_at.is_(None), OutboxMessage.available_at <= now)
    ).scalar()


def scrape_registry(app: Flask) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # every worker's files, summed
    else:
        for metric in (REQUESTS, LATENCY, IN_FLIGHT):
            registry.register(metric)
    registry.register(JobsCollector(app))
    return registry


def metrics_view() -> Any:
    token = str(current_app.config.get("METRICS_TOKEN") or "")
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return Response("unauthorized\n", 401, {"WWW-Authenticate": "Bearer", "Content-Type": "text/plain"})
    body = generate_latest(scrape_registry(current_app._get_current_object()))  # type: ignore[attr-defined]
    return Response(body, 200, {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})


# ---------------------------------------------------------------------------
# Security headers


def csp_nonce() -> str:
    """This response's script nonce: ``<script nonce="{{ csp_nonce() }}">`` lets an inline script run."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return str(nonce)


def _origin(url: str) -> str | None:
    parts = urlsplit(url or "")
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def media_origins(config: Any) -> list[str]:
    """Where pictures may come from besides us: the S3 public base (a CDN) or S3 itself (presigned URLs)."""
    origins = [_origin(config.get("S3_PUBLIC_BASE_URL", "")), _origin(config.get("S3_ENDPOINT_URL", ""))]
    bucket = config.get("S3_BUCKET", "")
    if bucket:
        endpoint = urlsplit(config.get("S3_ENDPOINT_URL", ""))
        if endpoint.netloc:  # virtual-hosted style on a custom endpoint
            origins.append(f"{endpoint.scheme}://{bucket}.{endpoint.netloc}")
        else:
            origins.append(f"https://{bucket}.s3.{config.get('S3_REGION', 'ap-southeast-1')}.amazonaws.com")
            origins.append(f"https://{bucket}.s3.amazonaws.com")
    return sorted({origin for origin in origins if origin})


def _policy(directives: dict[str, list[str]]) -> str:
    return "; ".join(" ".join([name, *values]) for name, values in directives.items())


class SecurityHeaders:
    """The headers every response gets unless the view chose its own (QR SVGs set a sandbox CSP,
    Open311 sets CORS)."""

    def __init__(self, app: Flask) -> None:
        config = app.config
        images = ["'self'", "data:", *media_origins(config)]
        # Checkout answers a form post with a redirect to VNPay: form-action covers that redirect.
        forms = ["'self'", *filter(None, [_origin(config.get("VNPAY_PAY_URL", ""))])]
        self.page = {
            "default-src": ["'self'"],
            "img-src": images,
            "script-src": ["'self'"],
            # Pages carry style attributes (a commune's brand colour) and small <style> blocks.
            "style-src": ["'self'", "'unsafe-inline'"],
            "object-src": ["'none'"],
            "base-uri": ["'self'"],
            "form-action": forms,
            "frame-ancestors": ["'none'"],
        }
        # The API's Swagger UI (/api/docs) is flask-smorest's page: the swagger-ui files from a CDN and
        # one inline script it writes itself (no user content on that page).
        cdn = _origin(str(config.get("OPENAPI_SWAGGER_UI_URL", "")))
        extra = [cdn] if cdn else []
        self.docs_path = (str(config.get("OPENAPI_URL_PREFIX") or "").rstrip("/")
                          + str(config.get("OPENAPI_SWAGGER_UI_PATH") or "/docs")) if cdn else None
        self.docs_policy = _policy({
            **self.page,
            "img-src": [*images, *extra],
            "script-src": ["'self'", *extra, "'unsafe-inline'"],
            "style-src": ["'self'", *extra, "'unsafe-inline'"],
        })
        self.static = {
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "strict-origin-when-cross-origin",
            # The report form fills its position from the phone's location.
            "Permissions-Policy": "geolocation=(self), camera=(), microphone=(), payment=()",
            "X-Frame-Options": "DENY",
            "Cross-Origin-Opener-Policy": "same-origin",
        }
        self.hsts = f"max-age={int(config.get('HSTS_SECONDS', 31536000))}"

    def content_security_policy(self) -> str:
        if self.docs_path and request.path == self.docs_path:
            return self.docs_policy
        directives = dict(self.page)
        directives["script-src"] = [*self.page["script-src"], f"'nonce-{csp_nonce()}'"]
        return _policy(directives)

    def apply(self, response: Response) -> None:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", self.content_security_policy())
        for name, value in self.static.items():
            headers.setdefault(name, value)
        if request.is_secure:  # after ProxyFix: the scheme the client used
            headers.setdefault("Strict-Transport-Security", self.hsts)


# ---------------------------------------------------------------------------
# Wiring


class _InFlight:
    """Outermost WSGI layer: counts requests in flight and starts the clock before anything else runs."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ[_START_ENVIRON] = time.perf_counter()
        IN_FLIGHT.inc()
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            IN_FLIGHT.dec()


def route_label() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED_ROUTE


def init_app(app: Flask) -> None:
    logs.configure(app)
    trusted = int(app.config.get("TRUSTED_PROXIES", 0) or 0)
    if trusted > 0:
        # Outside the commune-host rewrite, so it sees the client's X-Forwarded-Host.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=trusted, x_host=trusted)  # type: ignore[method-assign]
    app.wsgi_app = _InFlight(app.wsgi_app)  # type: ignore[method-assign]
    security = SecurityHeaders(app)
    app.extensions["xaso_security_headers"] = security
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])

    def _request_id_first() -> None:
        logs.request_id()

    app.before_request_funcs.setdefault(None, []).insert(0, _request_id_first)

    @app.after_request
    def _observe(response: Response) -> Response:
        started = request.environ.get(_START_ENVIRON)
        elapsed = time.perf_counter() - started if started is not None else 0.0
        status = response.status_code
        labels = (request.method, route_label(), f"{status // 100}xx")
        try:
            REQUESTS.labels(*labels).inc()
            LATENCY.labels(*labels).observe(elapsed)
        except Exception:  # noqa: BLE001 - a metric never fails a request
            log.exception("request metrics failed")
        response.headers.setdefault(logs.REQUEST_ID_HEADER, logs.request_id())
        security.apply(response)
        try:
            logs.log_access(status, elapsed * 1000)
        except Exception:  # noqa: BLE001 - a log line never fails a request
            log.exception("access log failed")
        return response

