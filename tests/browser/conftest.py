"""Browser fixtures: Debian's Chromium driven by Playwright against the real app.

Browser tests run when TEST_BROWSER=1 (``make test-browser``), so the two suite passes of
``make test`` do not run them again. They skip when /usr/bin/chromium is missing, except in
CI, where a missing browser is a failure: a green CI must have run them.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import pytest

from consent_service.scanning.browse import CHROMIUM_ARGS
from consent_service.scanning.browse import GPC_ON
from tests.browser.live_server import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
# Chromium is launched as the compliance scanner launches it (CHROMIUM_ARGS); GPC_ON is what a
# browser with GPC on exposes to pages (Chromium has no GPC switch).

# Every consent:change the widget dispatches, from the very first one.
RECORD_CHANGES = (
    "window.__changes = [];"
    "document.addEventListener('consent:change', (e) => window.__changes.push(e.detail));"
)
CONSENT_COOKIE = "nw_consent"  # named by the demo tag's data-cookie, as the cookie policy lists it
# The consent token's cookie: the demo tag names none, so the widget's default.
TOKEN_COOKIE = "consent_token_demo-shop"
# What the widget itself keeps once a choice is recorded: the choice, and the consent token.
WIDGET_COOKIES = {CONSENT_COOKIE, TOKEN_COOKIE}


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if os.environ.get("TEST_BROWSER") != "1":
        pytest.skip("browser tests run with TEST_BROWSER=1: make test-browser")
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_server(chromium: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("browser-instance"))
    yield server
    server.stop()


@dataclass
class Shop:
    """One visitor (a fresh browser context) on the demo shop."""

    page: Any
    url: str
    problems: list[str] = field(default_factory=list)

    def visit(self, query: str = "", *, origin: str | None = None) -> None:
        """Opens the demo shop, by default on the service's own origin."""
        self.page.goto(f"{origin or self.url}/demo/{query}")
        self.page.wait_for_function("() => window.consent && window.consent.get() !== null")

    def reload(self) -> None:
        self.page.reload()
        self.page.wait_for_function("() => window.consent && window.consent.get() !== null")

    @property
    def banner(self) -> Any:
        return self.page.locator("#cw-banner")

    @property
    def preferences(self) -> Any:
        return self.page.locator("dialog.cw-prefs")

    @property
    def reopen(self) -> Any:
        return self.page.locator("button.cw-reopen")

    def click(self, name: str) -> None:
        """Clicks the widget's button of that name in the top-most open layer."""
        layer = self.preferences if self.preferences.count() else self.banner
        layer.get_by_role("button", name=name, exact=True).click()
        if name == "Choose purposes":
            self.preferences.wait_for()  # a second file, fetched on first use

    def reopen_preferences(self) -> None:
        """Uses the persistent "privacy choices" button and waits for the layer it opens."""
        self.reopen.click()
        self.preferences.wait_for()

    def choose_and_wait(self, name: str) -> dict[str, Any]:
        """Clicks a choice button and waits until the service has recorded it."""
        return self.recorded(lambda: self.click(name))

    def recorded(self, action: Callable[[], None]) -> dict[str, Any]:
        """Runs ``action`` and returns the payload of the receipt it led to. Waits for a new
        receipt id: refusals apply before the service answers, still under the old one."""
        previous = self.page.evaluate("(window.__changes.slice(-1)[0] || {}).receiptId || null")
        action()
        self.page.wait_for_function(
            "(previous) => window.__changes.some((c) => c.receiptId && c.receiptId !== previous)",
            arg=previous,
        )
        return self.receipt_payload()

    def ran(self, tag: str) -> bool:
        return bool(self.page.evaluate(f"document.documentElement.hasAttribute('data-ran-{tag}')"))

    def cookie_names(self) -> set[str]:
        return {cookie["name"] for cookie in self.page.context.cookies()}

    def consent_calls(self) -> list[list[Any]]:
        """The Consent Mode commands pushed so far, in order."""
        return list(
            self.page.evaluate(
                "dataLayer.filter((e) => e[0] === 'consent').map((e) => Array.from(e))"
            )
        )

    def data_layer(self) -> list[Any]:
        return list(self.page.evaluate("dataLayer.map((e) => (e[0] ? Array.from(e) : e))"))

    def receipt_payload(self) -> dict[str, Any]:
        """The payload of the receipt the widget kept for the visitor to download."""
        jws = self.page.evaluate("localStorage.getItem('consent_receipt_demo-shop')")
        segment = jws.split(".")[1]
        payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * 4))
        return payload

    def gpp_ping(self) -> dict[str, Any]:
        """The GPP API's ping once its signal is ready: a consumer waits for ``signalStatus``
        'ready' (GPP 1.1), since ``widget-gpp.js`` loads after the banner's answer and a
        choice being recorded holds the signal back; before that the string may be empty."""
        # Both the stub and the CMP answer a ping at once, inside the call.
        self.page.wait_for_function(
            "() => { let ready = false; "
            "__gpp('ping', (data) => { ready = data.signalStatus === 'ready'; }); return ready; }"
        )
        result: dict[str, Any] = self.page.evaluate(
            "new Promise((resolve) => __gpp('ping', resolve))"
        )
        return result


@pytest.fixture
def shop(chromium: Any, live_server: LiveServer) -> Iterator[Callable[..., Shop]]:
    """Makes visitors; afterwards fails the test if a page logged an error or a CSP violation,
    unless the test expected them (``expect_errors=True``)."""
    opened: list[tuple[Any, Shop, bool]] = []

    def visitor(*, gpc: bool = False, expect_errors: bool = False) -> Shop:
        # Reduced motion: no animation is mid-way when axe measures contrast.
        context = chromium.new_context(reduced_motion="reduce")
        context.add_init_script(RECORD_CHANGES)
        if gpc:
            context.add_init_script(GPC_ON)
        page = context.new_page()
        page.set_default_timeout(5000)
        visitor_shop = Shop(page=page, url=live_server.url)
        page.on(
            "console",
            lambda message: message.type == "error" and visitor_shop.problems.append(message.text),
        )
        page.on("pageerror", lambda error: visitor_shop.problems.append(str(error)))
        opened.append((context, visitor_shop, expect_errors))
        return visitor_shop

    yield visitor
    for context, visitor_shop, expect_errors in opened:
        context.close()
        if not expect_errors:
            assert visitor_shop.problems == [], visitor_shop.problems


# Werkzeug's development server (the live server here) leaves a static file's handle to the
# garbage collector when the browser drops the connection mid-response, as it does when a
# page navigates away while its stylesheet is still loading. That is the test server's
# socket handling, not the app's; every other unraisable exception still fails the test.
_DROPPED_STATIC_FILE = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <_io.FileIO name='[^']*/static/:"
    "pytest.PytestUnraisableExceptionWarning"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(_DROPPED_STATIC_FILE)
