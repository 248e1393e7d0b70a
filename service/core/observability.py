"""Operating XaSo: Prometheus metrics, structured logs with a request id, security headers, proxies."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """(filled by the issue-9 work)"""
