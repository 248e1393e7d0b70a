"""Load test: the app under gunicorn on loopback, driven by locust, next to a bare Flask endpoint.

The database (a temporary SQLite file, then BENCH_DATABASE_URL when set: an empty PostgreSQL) is
migrated and given the demo communes, one demo product gets a stock that never runs out, and
gunicorn serves ``bench.load_app:app`` with the repository's ``gunicorn.conf.py`` (production settings) and
the same workers/threads for every scenario. The baseline is ``bench.bare_app:app`` (a Flask app with one
endpoint returning a small JSON body) under the same gunicorn settings, measured in the same run.
Each scenario is a separate headless locust run (a subprocess: locust's gevent patching stays out of
this process) of BENCH_LOAD_SECONDS with BENCH_USERS users and no think time; figures come from its
final JSON stats. The checkout scenario makes a complete cash-on-delivery order per iteration (cart add + checkout).
Benchmark configuration, not production: CSRF and rate limiting are off (see ``bench/load_app.py``).

Settings: BENCH_WORKERS (2), BENCH_THREADS (4), BENCH_USERS (8), BENCH_LOAD_SECONDS (15).
The load generator runs on the same machine as gunicorn and takes CPU from it: compare ratios, not
absolute rates.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench import on_each_database

ROOT = Path(__file__).resolve().parent.parent
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
USERS = int(os.environ.get("BENCH_USERS", "8"))
SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "15"))
COMMUNE = "cam-thanh"
STOCK = 1_000_000_000  # the checkout scenario never sells out
BUYER_NAME = "Khách thử tải"  # the checkout scenario's orders, told apart from the demo's
# (label, locust user class, request names reported)
SCENARIOS = [
    ("commune home", "HomeUser", ["home"]),
    ("product list", "ProductListUser", ["product list"]),
    ("product page", "ProductPageUser", ["product page"]),
    ("search", "SearchUser", ["search"]),
    ("checkout", "CheckoutUser", ["cart add", "checkout (COD order)"]),
]


@dataclass
class Figures:
    name: str
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p95_ms: float


class ServerFailed(RuntimeError):
    """gunicorn did not start (or not in time); its output is in the message."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gunicorn_command(app: str, port: int, workers: int = WORKERS, threads: int = THREADS) -> list[str]:
    """The same gunicorn settings for the baseline and the app: the repository's production config file,
    with the loopback port, workers and threads given on the command line (which takes precedence)."""
    command = [sys.executable, "-m", "gunicorn"]
    config = ROOT / "gunicorn.conf.py"
    if config.exists():
        command += ["-c", str(config)]
    else:  # the production settings that matter here
        command += ["--worker-class", "gthread", "--timeout", "30", "--keep-alive", "5"]
    return command + ["--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads),
                      "--log-level", "warning", app]


def server_environment(url: str, tmp: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-load", "XASO_INSTANCE_PATH": str(tmp),
            "MEDIA_ROOT": str(tmp / "media"), "OUTBOX_DELIVERY": "inline", "LOG_FORMAT": "text",
            "REDIS_URL": "", "RATELIMIT_STORAGE_URI": "memory://", "SESSION_COOKIE_SECURE": "0",
            "PUBLIC_BASE_URL": "http://127.0.0.1", "PYTHONPATH": str(ROOT)}


class Server:
    """gunicorn in a subprocess; ``with Server(...) as base_url:`` waits for /healthz and stops it after."""

    def __init__(self, app: str, env: dict[str, str], log: Path, startup_seconds: float = 60,
                 workers: int = WORKERS, threads: int = THREADS) -> None:
        self.port = free_port()
        self.command = gunicorn_command(app, self.port, workers, threads)
        self.env, self.log, self.startup_seconds = env, log, startup_seconds
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> str:
        base = f"http://127.0.0.1:{self.port}"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=out,
                                            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.startup_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerFailed(f"gunicorn exited {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return base
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise ServerFailed(f"gunicorn did not answer /healthz in {self.startup_seconds:.0f} s: "
                           f"{self.log.read_text()[-2000:]}")

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def prepare(url: str, tmp: Path) -> dict[str, str]:
    """Migrate, load the demo, index it, and give one published product of the commune a bottomless stock.
    Returns the locust environment naming that product."""
    from sqlalchemy import select

    from service import create_app
    from service.catalog.models import Product, ProductStatus
    from service.db import PLATFORM, Scope, database, scoped
    from service.demo import load_demo
    from service.jobs import outbox
    from service.media.storage import get_storage
    from service.migrate import upgrade
    from service.tenants.models import Tenant

    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-load", "INSTANCE_PATH": str(tmp),
                      "MEDIA_ROOT": str(tmp / "media")})
    db = database(app)
    with app.app_context(), db.session(PLATFORM) as session:
        load_demo(session, get_storage())
        session.commit()
        outbox.drain(session)  # the search index and the rest of the demo's outbox, as a worker would
        tenant = session.scalars(select(Tenant).where(Tenant.slug == COMMUNE)).one()
        with scoped(session, Scope(tenant.id)):
            product = session.scalars(select(Product).where(Product.status == ProductStatus.PUBLISHED)
                                      .order_by(Product.id)).first()
            assert product is not None, "the demo commune has no published product"
            product.stock = STOCK
            names = {"BENCH_COMMUNE": COMMUNE, "BENCH_PRODUCT_SLUG": product.slug,
                     "BENCH_PRODUCT_ID": str(product.id), "BENCH_BUYER_NAME": BUYER_NAME}
        session.commit()
    db.engine.dispose()
    return names


def _percentile(response_times: dict[int, int], count: int, fraction: float) -> float:
    """As locust computes it: the response time (ms, rounded by locust) within which ``fraction`` finished."""
    done = 0
    for milliseconds in sorted(response_times, reverse=True):
        done += response_times[milliseconds]
        if count - done <= int(count * fraction):
            return float(milliseconds)
    return 0.0


def drive(base_url: str, user_class: str, names: list[str], env: dict[str, str], tmp: Path,
          users: int = USERS, seconds: int = SECONDS) -> list[Figures]:
    """One headless locust run of ``user_class``; figures per request name from locust's final JSON stats
    (its CSV is a periodic snapshot that misses the last second of the run)."""
    prefix = tmp / f"locust-{user_class}"
    command = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
               "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds}s",
               "--stop-timeout", "5", "--host", base_url, "--json-file", str(prefix), "--only-summary",
               "--loglevel", "ERROR", "--exit-code-on-error", "0", user_class]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + 120)
    stats = Path(f"{prefix}.json")
    if done.returncode != 0 or not stats.exists():
        raise RuntimeError(f"locust failed ({done.returncode}): {done.stderr[-2000:]}")
    entries = {entry["name"]: entry for entry in json.loads(stats.read_text())}
    figures = []
    for name in names:
        entry = entries.get(name)
        if entry is None:
            figures.append(Figures(name, 0, 0, 0.0, 0.0, 0.0))
            continue
        count = int(entry["num_requests"])
        times = {int(ms): int(n) for ms, n in entry["response_times"].items()}
        window = (entry["last_request_timestamp"] or entry["start_time"]) - entry["start_time"]
        figures.append(Figures(name, count, int(entry["num_failures"]), count / window if window > 0 else 0.0,
                               _percentile(times, count, 0.5), _percentile(times, count, 0.95)))
    return figures


def measure(url: str, users: int = USERS, seconds: int = SECONDS, workers: int = WORKERS,
            threads: int = THREADS) -> tuple[Figures, list[tuple[str, Figures]]]:
    """The baseline and every scenario on one database; returns (baseline, [(scenario, figures)])."""
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        names = prepare(url, tmp)
        env = server_environment(url, tmp)
        locust_env = {**os.environ, **names, "PYTHONPATH": str(ROOT)}
        with Server("bench.bare_app:app", env, tmp / "bare.log", workers=workers, threads=threads) as base_url:
            baseline = drive(base_url, "BareUser", ["bare"], locust_env, tmp, users, seconds)[0]
        results: list[tuple[str, Figures]] = []
        with Server("bench.load_app:app", env, tmp / "app.log", workers=workers, threads=threads) as base_url:
            for label, user_class, request_names in SCENARIOS:
                for figures in drive(base_url, user_class, request_names, locust_env, tmp, users, seconds):
                    results.append((label if len(request_names) == 1 else f"{label}: {figures.name}", figures))
    return baseline, results


def _ratio(value: float, base: float) -> str:
    return f"{value / base:8.2f}" if base else f"{'-':>8}"


def report(url: str, baseline: Figures, results: list[tuple[str, Figures]], users: int = USERS,
           seconds: int = SECONDS, workers: int = WORKERS, threads: int = THREADS) -> None:
    dialect = url.split(":", 1)[0].split("+", 1)[0]
    print(f"load test on {dialect}: gunicorn {workers} workers x {threads} threads on loopback, locust {users} "
          f"users without think time, {seconds} s per scenario, load generator on the same machine "
          f"({os.cpu_count()} CPUs, 1-min load average {os.getloadavg()[0]:.1f} at the end)")
    print(f"  {'scenario':<36}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'failures':>10}{'rps x':>8}{'p95 x':>8}")
    for label, f in [("bare Flask endpoint (baseline)", baseline), *results]:
        print(f"  {label:<36}{f.rps:9.1f}{f.p50_ms:9.0f}{f.p95_ms:9.0f}{f.failures:>10}"
              f"{_ratio(f.rps, baseline.rps)}{_ratio(f.p95_ms, baseline.p95_ms)}")


def run(url: str) -> None:
    baseline, results = measure(url)
    report(url, baseline, results)


def main() -> None:
    on_each_database(run, "load")


if __name__ == "__main__":
    main()
