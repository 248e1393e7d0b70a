"""gunicorn.conf.py: the settings read from the environment, and a real gunicorn serving with it."""

from __future__ import annotations

import os
import runpy
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "gunicorn.conf.py"


def tiny_app() -> Flask:
    """The smallest app with our observability: what gunicorn serves in the test below."""
    from service.core import observability

    app = Flask(__name__)
    app.config.update(LOG_FORMAT="json", REDIS_URL="")

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    observability.init_app(app)  # its outbox probe finds no database: reported as xaso_outbox_up 0
    return app


def settings(monkeypatch, **env) -> dict:
    for name in ("PORT", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONFIG))


def test_settings_from_the_environment(monkeypatch):
    defaults = settings(monkeypatch)
    assert defaults["bind"] == "0.0.0.0:8000"
    assert 3 <= defaults["workers"] <= 8
    assert defaults["worker_class"] == "gthread" and defaults["threads"] == 4
    assert defaults["timeout"] == 30 and defaults["graceful_timeout"] == 30 and defaults["keepalive"] == 5
    assert defaults["max_requests"] == 2000 and defaults["max_requests_jitter"] > 0
    assert defaults["accesslog"] is None and defaults["preload_app"] is False
    custom = settings(monkeypatch, PORT="9123", WEB_CONCURRENCY="3", FORWARDED_ALLOW_IPS="10.0.0.0/8")
    assert custom["bind"] == "0.0.0.0:9123"
    assert custom["workers"] == 3
    assert custom["forwarded_allow_ips"] == "10.0.0.0/8"


def test_child_exit_marks_the_worker_dead(monkeypatch, tmp_path):
    calls = []
    from prometheus_client import multiprocess

    monkeypatch.setattr(multiprocess, "mark_process_dead", calls.append)
    config = settings(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    config["on_starting"](None)
    assert (tmp_path / "metrics").is_dir()

    class Worker:
        pid = 4242

    config["child_exit"](None, Worker())
    assert calls == [4242]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        return response.status, response.read().decode()


def test_gunicorn_serves_health_and_summed_metrics(tmp_path):
    port = _free_port()
    env = {**os.environ, "WEB_CONCURRENCY": "2", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"),
           "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), "--bind", f"127.0.0.1:{port}",
         "tests.core.test_gunicorn:tiny_app()"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _ = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start")
                time.sleep(0.2)
        assert status == 200
        for _ in range(9):
            assert _get(f"http://127.0.0.1:{port}/healthz")[0] == 200
        status, body = _get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        samples = [s for family in text_string_to_metric_families(body) for s in family.samples]
        served = sum(s.value for s in samples if s.name == "xaso_http_requests_total"
                     and s.labels["route"] == "/healthz")
        assert served == 10  # every worker's count, summed from PROMETHEUS_MULTIPROC_DIR
        assert [s.value for s in samples if s.name == "xaso_outbox_up"] == [0]
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert b"Booting worker" in output
