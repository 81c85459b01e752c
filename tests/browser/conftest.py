"""The whole product in a real chromium: a live Parley stack per test and Playwright's sync API.

Playwright runs in the test's own thread and owns its event loop there, so these tests and fixtures
are plain sync functions: no ``db`` fixture, no asyncio. The server is a separate process; tests
seed it with ``stack.manage`` and read its database with ``stack.shell``.

Set PARLEY_SCREENSHOTS=1 to (re)write the screenshots in docs/images/ from the embedded-backend run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.support import services
from tests.support.live import ROOT, LiveStack

CHROMIUM = os.environ.get("PARLEY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
# Generous: two cores are shared with the server, its worker and sometimes other suites.
TIMEOUT_MS = 15_000
SCREENSHOTS_DIR = ROOT / "docs" / "images"

expect.set_options(timeout=TIMEOUT_MS)

BACKENDS = [
    pytest.param("embedded", id="embedded"),
    # Skips locally without Redis; fails under CI=true, where the services must be there.
    pytest.param("services", id="services", marks=[services.needs_redis(), pytest.mark.services]),
]


def pytest_collection_modifyitems(config, items):
    """Every browser test runs on the embedded default; on PostgreSQL + Redis only those marked
    ``both_backends``: the paths where the backend changes what happens (the channel layer carrying
    events between agents and visitors, reconnects, locking). The non-browser suite runs in full on
    both. PARLEY_BROWSER_BACKENDS=all runs every test on both."""
    if os.environ.get("PARLEY_BROWSER_BACKENDS") == "all":
        return
    kept, dropped = [], []
    for item in items:
        on_services = getattr(item, "callspec", None) and item.callspec.params.get("stack") == "services"
        (dropped if on_services and item.get_closest_marker("both_backends") is None else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    # Fixtures read this to attach server logs to a failing test's report.
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(params=BACKENDS)
def stack(request, tmp_path):
    """A seeded Parley (`seed_demo`) serving web and worker in one process; ``stack.url`` is its base."""
    if request.param == "services":
        live = LiveStack(tmp_path, redis_url=services.redis_url(), database_url=os.environ.get("DATABASE_URL"))
    else:
        live = LiveStack(tmp_path)
    live.backend = request.param
    # @pytest.mark.server_env(NAME="value"): settings of this test's server, e.g. a tighter limit.
    marker = request.node.get_closest_marker("server_env")
    if marker is not None:
        live.env.update(marker.kwargs)
    try:
        live.manage("seed_demo")
        live.url = live.start("web,worker")
        yield live
    finally:
        live.stop()
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            report.sections.append(("server log", live.logs()))


# Runs in every frame before the page's own scripts (outside the page's Content-Security-Policy): a
# violation blocks a script, a style or a request silently, so every one is reported as a console error.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`csp-violation: ${event.effectiveDirective} blocked ${event.blockedURI || "inline"} `
    + `(${event.sourceFile || location.href}:${event.lineNumber})`);
}, true);
"""


class Contexts:
    """Opens isolated browser contexts (one per person) and remembers what went wrong in their pages."""

    def __init__(self, browser: Browser, base_url: str):
        self.browser = browser
        self.base_url = base_url
        self.opened: list[BrowserContext] = []
        self.page_errors: list[str] = []
        self.csp_violations: list[str] = []

    def new_page(self, **options) -> Page:
        """``options`` go to ``browser.new_context``: a person may have a phone (viewport) or a language (locale)."""
        context = self.browser.new_context(**{"base_url": self.base_url, "viewport": VIEWPORT, **options})
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        self.opened.append(context)
        page = context.new_page()
        # Uncaught exceptions in the page or its frames, e.g. the widget iframe.
        page.on("pageerror", lambda error: self.page_errors.append(f"{page.url}: {error}"))
        page.on("console", self._note_csp_violation)
        return page

    def _note_csp_violation(self, message) -> None:
        if message.text.startswith("csp-violation:"):
            self.csp_violations.append(message.text)

    def close(self) -> None:
        for context in self.opened:
            context.close()


@pytest.fixture
def people(browser, stack):
    """``people.new_page()`` gives each person their own context: own cookies, own localStorage."""
    contexts = Contexts(browser, stack.url)
    yield contexts
    contexts.close()
    assert not contexts.page_errors, "uncaught errors in the pages:\n" + "\n".join(contexts.page_errors)
    # A blocked script or style breaks a page without an error of its own (docs/decisions.md D17).
    assert not contexts.csp_violations, "Content-Security-Policy violations:\n" + "\n".join(contexts.csp_violations)


# The console's pictures in the docs: a laptop screen, and (as name-phone.png) a phone, of the same moment.
LAPTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
CONSOLE_SCREENS = ("console", "settings", "two-factor")


@pytest.fixture
def screenshot(stack):
    """``screenshot(page, "name")`` writes docs/images/name.png when PARLEY_SCREENSHOTS=1 (embedded run only).

    A console screen taken at desktop size is taken at 1,440x900, and again at phone width as
    name-phone.png; the page goes back to its own size afterwards. Pages a test already made small
    (a phone, a tablet) and the widget on the demo site are taken as they are."""
    enabled = os.environ.get("PARLEY_SCREENSHOTS") == "1" and stack.backend == "embedded"

    def shoot(page: Page, path: Path) -> None:
        page.wait_for_timeout(300)  # the layout settles after a resize
        # No blinking caret or half-run transition in the picture.
        page.screenshot(path=path, animations="disabled", caret="hide")

    def take(page: Page, name: str) -> Path | None:
        if not enabled:
            return None
        SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS_DIR / f"{name}.png"
        own = page.viewport_size
        if not name.startswith(CONSOLE_SCREENS) or own is None or own["width"] < VIEWPORT["width"]:
            shoot(page, path)
            return path
        # A phone's layout hides what a laptop's shows (the actions bar), which takes the focus away:
        # the test goes on with the focus where it was.
        focused = page.evaluate_handle("document.activeElement")
        try:
            page.set_viewport_size(LAPTOP)
            shoot(page, path)
            page.set_viewport_size(PHONE)
            shoot(page, SCREENSHOTS_DIR / f"{name}-phone.png")
        finally:
            page.set_viewport_size(own)
            focused.evaluate("node => node && node.focus && node.focus()")
        return path

    return take
