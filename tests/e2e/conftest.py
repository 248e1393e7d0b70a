"""Browser tests: the demo served over real HTTP, walked by headless Chromium (Debian's package, driven by
Playwright), with axe-core checking each public page.

One app, one server and one browser for all of tests/e2e (closed after its last test, so no Playwright event
loop outlives it): the walks each open a fresh browser context (cookies, JavaScript on or off) against the same
demo data, and never depend on one another.

Chromium is /usr/bin/chromium (or E2E_CHROMIUM), axe-core is tests/e2e/node_modules (`make e2e-deps`
installs both). Without them the tests skip with the reason, unless REQUIRE_E2E=1 (CI) makes that a failure.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright

from service import create_app
from service.db import PLATFORM, database
from service.demo import load_demo
from service.media.storage import LocalStorage
from service.migrate import upgrade
from service.payments.vnpay_sandbox import API_PATH, PAY_PATH, SANDBOX_PREFIX
from tests.conftest import app_config
from tests.live import serving

HERE = Path(__file__).resolve().parent
CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS", str(HERE / "artifacts")))
# Quiet, offline Chromium: no updates, sync or first-run pages; --no-sandbox because CI runs as root.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# What a failed check, a missing element or a slow page may take before the walk fails.
TIMEOUT_MS = 10_000
BLOCKING_IMPACTS = {"serious", "critical"}


expect.set_options(timeout=TIMEOUT_MS)


def _unavailable(reason: str) -> None:
    if os.environ.get("REQUIRE_E2E") == "1":
        pytest.fail(f"{reason} (REQUIRE_E2E=1: the browser tests must run; `make e2e-deps` installs it)")
    pytest.skip(f"{reason}: run `make e2e-deps` to install it")


@pytest.fixture(scope="package")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    """The demo communes on a fresh SQLite database, served on a free port; VNPay is the built-in simulator,
    reached through the server's own base URL (the port is known only once serving)."""
    root = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{root / 'e2e.db'}"
    upgrade(url)
    app = create_app(app_config(url, root, VNPAY_SANDBOX=True, WTF_CSRF_ENABLED=True))
    with app.app_context(), database(app).session(PLATFORM) as session:
        load_demo(session, LocalStorage(Path(app.config["MEDIA_ROOT"])))
        session.commit()
    with serving(app) as base_url:
        app.config.update(PUBLIC_BASE_URL=base_url, VNPAY_PAY_URL=base_url + SANDBOX_PREFIX + PAY_PATH,
                          VNPAY_API_URL=base_url + SANDBOX_PREFIX + API_PATH)
        yield app, base_url
    database(app).engine.dispose()


@pytest.fixture(scope="package")
def base_url(live_app: tuple[Flask, str]) -> str:
    return live_app[1]


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        _unavailable(f"Chromium not found at {CHROMIUM}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="package")
def axe_source() -> str:
    if not AXE.exists():
        _unavailable(f"axe-core not found at {AXE}")
    return AXE.read_text()


@dataclass
class Walk:
    """A browser context walking the site: screenshots of each step, axe-core run on each public page."""

    page: Page
    base_url: str
    artifacts: Path
    axe_source: str | None
    problems: list[str] = field(default_factory=list)
    steps: int = 0

    def goto(self, path: str) -> None:
        response = self.page.goto(self.base_url + path)
        assert response is not None and response.ok, f"GET {path}: {response and response.status}"

    def step(self, name: str, audit: bool = True) -> None:
        """Screenshot the page as it is now, and (JavaScript on) check its accessibility."""
        self.steps += 1
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(self.artifacts / f"{self.steps:02d}-{name}.png"), full_page=True)
        if audit and self.axe_source is not None:
            self.problems.extend(axe_violations(self.page, self.axe_source))

    def assert_accessible(self) -> None:
        assert not self.problems, "axe-core found serious or critical violations:\n" + "\n".join(self.problems)


def axe_violations(page: Page, axe_source: str) -> list[str]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{page.url}: {violation['id']} ({violation['impact']}): {violation['help']} — "
            + "; ".join(" ".join(node["target"]) for node in violation["nodes"][:8])
            for violation in result["violations"] if violation.get("impact") in BLOCKING_IMPACTS]


def _artifact_dir(request: pytest.FixtureRequest) -> Path:
    """One folder per test, emptied first: a rerun leaves no stale steps behind."""
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    return folder


@pytest.fixture
def walk(browser: Browser, base_url: str, axe_source: str, request: pytest.FixtureRequest) -> Iterator[Walk]:
    """JavaScript on. bypass_csp lets axe-core be injected despite our Content-Security-Policy."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    yield Walk(context.new_page(), base_url, _artifact_dir(request), axe_source)
    context.close()


@pytest.fixture
def plain_walk(browser: Browser, base_url: str, request: pytest.FixtureRequest) -> Iterator[Walk]:
    """JavaScript off, a phone-sized window: the pages must work as plain HTML forms and links."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    context.set_default_timeout(TIMEOUT_MS)
    yield Walk(context.new_page(), base_url, _artifact_dir(request), None)
    context.close()
