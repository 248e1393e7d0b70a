"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py "service:create_app()"`.

Environment:
  PORT                     listen on 0.0.0.0:$PORT (default 8000)
  WEB_CONCURRENCY          worker processes (default 2 x cores + 1, at most 8)
  GUNICORN_THREADS         threads per worker (default 4; gthread workers)
  FORWARDED_ALLOW_IPS      proxies whose X-Forwarded-* gunicorn trusts (default 127.0.0.1); the app itself
                           trusts TRUSTED_PROXIES hops (werkzeug ProxyFix)
  PROMETHEUS_MULTIPROC_DIR an empty directory (an emptyDir volume in Kubernetes): every worker writes its
                           metrics there and /metrics sums them. Without it each worker would answer with its
                           own numbers only. Cleared when gunicorn starts; a dead worker's gauges are dropped.

The app writes one JSON access line per request, so gunicorn's own access log stays off.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from typing import Any


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


bind = f"0.0.0.0:{_int('PORT', 8000)}"
workers = _int("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 8))
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (a slow leak never grows forever); the jitter spreads the restarts.
max_requests = 2000
max_requests_jitter = 200
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
preload_app = False  # each worker opens its own database pool after the fork
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeats off a slow overlay disk


def on_starting(server: Any) -> None:
    """Start with an empty metrics directory: files left by an earlier run would be counted again."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone: drop its live gauges (requests in flight) from the sum."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
