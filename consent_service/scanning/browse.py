"""The browser: Debian's Chromium driven by Playwright (sync API), one fresh context per
(region, situation), instrumented to say who set what.

A :class:`Visitor` is one context: it loads pages (:meth:`Visitor.load`), clicks the widget's
own buttons as a person would (:meth:`Visitor.choose`, :meth:`Visitor.withdraw`), and hands
back a :class:`RawPage` per load: the browser's cookie jar, the page's storage keys, the
requests it made, the writes an init script saw (``document.cookie`` and ``Storage.setItem``,
each with the script URL from its stack), the ``Set-Cookie`` headers of responses, the
Consent Mode commands in ``dataLayer`` and the GPP ``ping``. Turning that into an
observation is ``record.py``'s job.

GPC on means what a browser with GPC sends: ``navigator.globalPrivacyControl`` true (an init
script; Chromium has no switch for it) and ``Sec-GPC: 1`` on every request.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
GPC_ON = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"
BINDING = "__consentScanRecord"
# Wraps the cookie and storage setters of every frame before any page script runs, and reports
# each write (name only, never the value) with the first http(s) script URL on the stack.
INSTRUMENT = """
(() => {
  const report = (entry) => {
    try { window.__BINDING__(entry); } catch (error) { /* the binding is gone: unloading */ }
  };
  const caller = () => {
    const lines = String(new Error().stack || '').split('\\n').slice(2);
    for (const line of lines) {
      const found = line.match(/(https?:\\/\\/[^\\s()]+?):\\d+:\\d+/);
      if (found) return found[1];
    }
    return null;
  };
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  Object.defineProperty(Document.prototype, 'cookie', {
    configurable: true, enumerable: cookie.enumerable,
    get() { return cookie.get.call(this); },
    set(value) {
      const text = String(value);
      const removal = /;\\s*max-age\\s*=\\s*(0|-)/i.test(text) ||
        /;\\s*expires\\s*=\\s*thu, 01 jan 1970/i.test(text);
      report({ kind: 'cookie', name: text.split('=')[0].trim(), removal,
               script: caller(), frame: location.href });
      cookie.set.call(this, value);
    }
  });
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (key, value) {
    let area = 'session';
    try { if (this === window.localStorage) area = 'local'; } catch (error) { area = 'local'; }
    report({ kind: area, name: String(key), removal: false, script: caller(),
             frame: location.href });
    return setItem.apply(this, arguments);
  };
})();
""".replace("__BINDING__", BINDING)
CONSENT_MODE = """() => {
  const layer = window.dataLayer;
  if (!Array.isArray(layer)) return null;
  const state = {};
  const updated = new Set();
  let seen = false;
  layer.forEach((entry) => {
    if (!entry || typeof entry !== 'object' || entry[0] !== 'consent') return;
    const kind = entry[1];
    const values = entry[2] || {};
    if ((kind !== 'default' && kind !== 'update') || values.region) return;
    seen = true;
    Object.keys(values).forEach((key) => {
      if (typeof values[key] !== 'string') return;
      if (kind === 'default' && updated.has(key)) return;
      state[key] = values[key];
      if (kind === 'update') updated.add(key);
    });
  });
  return seen ? state : null;
}"""
GPP_PING = """() => typeof window.__gpp !== 'function' ? null : new Promise((resolve) => {
  const timer = setTimeout(() => resolve(null), 1000);
  try {
    window.__gpp('ping', (data) => { clearTimeout(timer); resolve(data || null); });
  } catch (error) { clearTimeout(timer); resolve(null); }
}) """
STORAGE_KEYS = """() => {
  const keys = (area) => { try { return Object.keys(window[area]); } catch (e) { return []; } };
  return { origin: location.origin, local: keys('localStorage'), session: keys('sessionStorage') };
}"""
# The page's own links, not the widget's (its policy links are the service's pages).
LINKS = """() => Array.from(document.querySelectorAll('a[href]'))
  .filter((a) => !a.closest('.cw')).map((a) => a.href)"""
HAS_WIDGET = "() => !!document.querySelector('script[src*=\"/v1/widget.js\"]')"
# The widget's own cookies (the choice, the consent token), named as widget.js names them.
WIDGET_COOKIES = """() => {
  const tag = document.querySelector('script[data-property][src*="/v1/widget.js"]');
  if (!tag) return [];
  const property = tag.getAttribute('data-property');
  const named = (attribute, fallback) => {
    const name = tag.getAttribute(attribute);
    return name && /^[A-Za-z0-9_-]{1,64}$/.test(name) ? name : fallback;
  };
  return [named('data-cookie', 'consent_' + property),
    named('data-token-cookie', 'consent_token_' + property)];
}"""
WIDGET_APPLIED = "() => !!window.consent && window.consent.get() !== null"
DECISIONS = "() => window.consent && window.consent.get ? window.consent.get() : null"


class BrowserUnavailable(Exception):
    """The browser cannot be started (not installed, or it would not launch)."""


class PageProblem(Exception):
    """This page could not be scanned in this context; the message says why, for a person."""


@dataclasses.dataclass(frozen=True)
class Write:
    """A ``document.cookie`` or ``Storage.setItem`` write an init script saw."""

    kind: str  # "cookie", "local" or "session"
    name: str
    removal: bool
    script: str | None
    frame: str


@dataclasses.dataclass(frozen=True)
class Request:
    url: str
    resource_type: str
    frame: str | None


@dataclasses.dataclass
class RawPage:
    """One page load in one context, as the browser saw it."""

    url: str
    status: int | None
    widget: bool
    jurisdiction: str | None
    decisions: dict[str, bool] | None
    cookies: list[dict[str, Any]]
    storage: dict[str, Any]
    requests: list[Request]
    consent_mode: dict[str, str] | None
    gpp: dict[str, Any] | None
    links: list[str]
    widget_cookies: list[str]
    # The context's writes and Set-Cookie headers so far (oldest first): cookies in the jar
    # may come from an earlier page of the same context.
    writes: list[Write]
    set_cookies: list[tuple[str, str]]  # (cookie name, response URL)
    # For the ``withdrawn`` situation: the jar right after the withdrawal settled, before
    # the reload that ``cookies`` is from.
    after_withdrawal: list[dict[str, Any]] | None = None


@dataclasses.dataclass(frozen=True)
class Timing:
    """How long a page may take (seconds): to load, then to go quiet (no request in flight
    for ``idle``), for the widget to apply a decision, and for the service to record a
    choice."""

    page: float = 20.0
    quiet: float = 3.0
    idle: float = 0.25
    widget: float = 5.0
    choice: float = 10.0


class Browser:
    """A launched Chromium; :meth:`visitor` opens a fresh context."""

    def __init__(self, playwright: Any, browser: Any) -> None:
        self._playwright = playwright
        self._browser = browser

    @property
    def version(self) -> str:
        return str(self._browser.version)

    @contextlib.contextmanager
    def visitor(
        self, *, gpc: bool, timing: Timing, service: str, region_token: str
    ) -> Iterator[Visitor]:
        """A fresh context whose calls to the consent service at ``service`` (its banner and
        its consents) carry ``region_token`` as their ``region`` parameter."""
        context = self._browser.new_context(
            extra_http_headers={"Sec-GPC": "1"} if gpc else None,
            service_workers="block",
        )
        try:
            _route_region(context, service, region_token)
            yield Visitor(context, gpc=gpc, timing=timing)
        finally:
            context.close()


def _route_region(context: Any, service: str, token: str) -> None:
    """Give the widget's region-dependent calls the scan token, as the widget does with a
    page's own ``?region=``. Added on the way out, never to the page's URL: the token stays
    out of the shop's logs and of the Referer third parties get."""
    # A pattern, not a callable: the browser then pauses only these calls, not every request.
    endpoints = re.compile(re.escape(service.rstrip("/")) + r"/v1/(banner|consents)(\?.*)?$")

    def add_token(route: Any) -> None:
        parts = urllib.parse.urlsplit(route.request.url)
        query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, True) if k != "region"]
        query.append(("region", token))
        route.continue_(url=parts._replace(query=urllib.parse.urlencode(query)).geturl())

    context.route(endpoints, add_token)


@contextlib.contextmanager
def open_browser(executable: str) -> Iterator[Browser]:
    """Start Playwright and the browser at ``executable``; BrowserUnavailable if it cannot."""
    if not Path(executable).is_file():
        raise BrowserUnavailable(
            f"no browser at {executable}: install Debian's chromium (apt-get install chromium) "
            "or set CONSENT_SCAN_BROWSER to a Chromium executable"
        )
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=executable, args=list(CHROMIUM_ARGS)
            )
        except PlaywrightError as exc:
            message = str(exc).splitlines()[0]
            raise BrowserUnavailable(f"{executable} would not start: {message}") from None
        try:
            yield Browser(playwright, browser)
        finally:
            browser.close()


class Visitor:
    """One browser context: one visitor with their own cookie jar and storage."""

    def __init__(self, context: Any, *, gpc: bool, timing: Timing) -> None:
        self._context = context
        self._timing = timing
        self._writes: list[Write] = []
        self._responses: list[Any] = []  # whose Set-Cookie headers are not read yet
        self._unread: list[Any] = []  # not looked at for the banner or a receipt yet
        self._set_cookies: list[tuple[str, str]] = []
        self._requests: list[Request] = []
        self._banner: dict[str, Any] | None = None
        # The payload of every receipt the service recorded for this visitor, oldest first.
        self.receipts: list[dict[str, Any]] = []
        context.expose_binding(BINDING, self._on_write)
        context.add_init_script(INSTRUMENT)
        if gpc:
            context.add_init_script(GPC_ON)
        self._in_flight: set[Any] = set()
        self.page = self._new_page()

    def _new_page(self) -> Any:
        page = self._context.new_page()
        page.set_default_timeout(self._timing.page * 1000)
        page.on("request", self._on_request)
        page.on("response", self._on_response)
        page.on("requestfinished", self._on_done)
        page.on("requestfailed", self._on_done)
        return page

    def _on_write(self, _source: Any, entry: dict[str, Any]) -> None:
        self._writes.append(
            Write(
                kind=str(entry.get("kind")),
                name=str(entry.get("name")),
                removal=bool(entry.get("removal")),
                script=entry.get("script") or None,
                frame=str(entry.get("frame")),
            )
        )

    def _on_request(self, request: Any) -> None:
        self._in_flight.add(request)
        frame = request.frame.url if _has_frame(request) else None
        self._requests.append(Request(request.url, request.resource_type, frame))

    def _on_done(self, request: Any) -> None:
        self._in_flight.discard(request)

    def _on_response(self, response: Any) -> None:
        self._responses.append(response)
        self._unread.append(response)

    def _read_answers(self) -> None:
        """Keep the banner and every receipt the service answered with since the last call."""
        unread, self._unread = self._unread, []
        for response in unread:
            if self._banner is None and "/v1/banner" in response.url and response.ok:
                with contextlib.suppress(PlaywrightError, ValueError):
                    self._banner = response.json()
            elif _recorded_choice(response):
                with contextlib.suppress(PlaywrightError, ValueError):
                    self.receipts.append(response.json().get("payload") or {})

    def _collect_set_cookies(self, jar: list[dict[str, Any]]) -> None:
        """Take the responses since the last call and, when ``jar`` holds a cookie no script
        wrote and no response named yet, read their ``Set-Cookie`` headers (each read is a
        round trip to the browser, so only then)."""
        self._read_answers()
        responses, self._responses = self._responses, []
        if not self._unattributed(jar):
            return
        for response in responses:
            try:
                headers = response.headers_array()
            except PlaywrightError:  # the page or frame is gone: its headers went with it
                continue
            for header in headers:
                if header["name"].lower() == "set-cookie":
                    for line in header["value"].split("\n"):
                        name = line.split("=", 1)[0].strip()
                        if name:
                            self._set_cookies.append((name, response.url))

    def _unattributed(self, jar: list[dict[str, Any]]) -> bool:
        written = {w.name for w in self._writes if w.kind == "cookie" and not w.removal}
        named = {name for name, _ in self._set_cookies}
        return any(
            c["name"] not in named and (c.get("httpOnly") or c["name"] not in written) for c in jar
        )

    def load(self, url: str) -> RawPage:
        """Open ``url`` and wait until it settled; PageProblem if it cannot be scanned."""
        self._requests = []
        try:
            response = self.page.goto(url, wait_until="load", timeout=self._timing.page * 1000)
        except PlaywrightTimeout:
            self._abandon()
            raise PageProblem(
                f"the page did not finish loading within {self._timing.page:g} s"
            ) from None
        except PlaywrightError as exc:
            self._abandon()
            raise PageProblem(f"the page could not be opened: {_first_line(exc)}") from None
        if response is not None and response.status >= 400:
            raise PageProblem(f"the page answered HTTP {response.status}")
        widget = self._settle()
        return self._snapshot(url, response.status if response is not None else None, widget)

    def _settle(self) -> bool:
        """Wait for the widget to apply a decision (when the page has it), then for quiet
        (the tags it activated load). True: the widget applied a decision."""
        widget = False
        if self.page.evaluate(HAS_WIDGET):
            try:
                self.page.wait_for_function(WIDGET_APPLIED, timeout=self._timing.widget * 1000)
                widget = True
            except PlaywrightError:  # timed out or navigated away: no decision applied
                widget = False
        self._quiet()
        return widget

    def _quiet(self) -> None:
        """Wait until no request has been in flight for ``Timing.idle`` seconds, at most
        ``Timing.quiet`` (a page that keeps polling never goes quiet)."""
        deadline = time.monotonic() + self._timing.quiet
        idle_since = time.monotonic()
        while time.monotonic() < deadline:
            if self._in_flight:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= self._timing.idle:
                return
            self.page.wait_for_timeout(50)  # lets Playwright deliver the page's events

    def _abandon(self) -> None:
        """Leave a page that would not load for a fresh tab of the same visitor (same
        context: cookies and storage stay), so nothing of it interferes with the next."""
        with contextlib.suppress(PlaywrightError):
            self.page.close()
        self._in_flight.clear()
        self.page = self._new_page()

    def _snapshot(self, url: str, status: int | None, widget: bool) -> RawPage:
        jar = list(self._context.cookies())
        self._collect_set_cookies(jar)
        page = self.page
        gpp = page.evaluate(GPP_PING)
        banner = self._banner or {}
        jurisdiction = (banner.get("jurisdiction") or {}).get("code") if widget else None
        return RawPage(
            url=url,
            status=status,
            widget=widget,
            jurisdiction=jurisdiction,
            decisions=page.evaluate(DECISIONS) if widget else None,
            cookies=jar,
            storage=dict(page.evaluate(STORAGE_KEYS)),
            requests=list(self._requests),
            consent_mode=page.evaluate(CONSENT_MODE),
            gpp=gpp if isinstance(gpp, dict) else None,
            links=[str(link) for link in page.evaluate(LINKS)],
            widget_cookies=page.evaluate(WIDGET_COOKIES),
            writes=list(self._writes),
            set_cookies=list(self._set_cookies),
        )

    def choose(self, method: str) -> dict[str, Any]:
        """Answer the banner with ``method`` (``accept_all``, ``reject_all``) through its
        first layer, or its preferences layer where the first layer does not offer it; the
        recorded receipt's payload. PageProblem if there is no banner to answer."""
        texts, first_layer = self._banner_texts()
        if method in first_layer:
            layer = self.page.locator("#cw-banner")
        else:
            self.page.locator("#cw-banner").get_by_role(
                "button", name=texts["customize"], exact=True
            ).click()
            layer = self.page.locator("dialog.cw-prefs")
        return self._recorded(layer, texts[method])

    def withdraw(self) -> dict[str, Any]:
        """Withdraw through the widget's persistent button and its preferences layer."""
        texts, _ = self._banner_texts()
        reopen = self.page.locator("button.cw-reopen")
        try:
            reopen.click(timeout=self._timing.widget * 1000)
        except PlaywrightError:  # hidden or missing
            raise PageProblem("the widget shows no button to change one's choice") from None
        return self._recorded(self.page.locator("dialog.cw-prefs"), texts["reject_all"])

    def cookies(self) -> list[dict[str, Any]]:
        return list(self._context.cookies())

    def settle(self) -> None:
        self._quiet()

    def _banner_texts(self) -> tuple[dict[str, str], list[str]]:
        self._read_answers()
        if not self._banner:
            raise PageProblem("the widget showed no banner to answer")
        texts = self._banner.get("texts") or {}
        return texts, list((self._banner.get("jurisdiction") or {}).get("first_layer") or [])

    def _recorded(self, layer: Any, button_name: str) -> dict[str, Any]:
        timeout = self._timing.choice * 1000
        try:
            with self.page.expect_response(_is_consent_post, timeout=timeout) as answer:
                layer.get_by_role("button", name=button_name, exact=True).click(timeout=timeout)
        except PlaywrightError as exc:  # no such button, or no answer in time
            raise PageProblem(f"the choice could not be made: {_first_line(exc)}") from None
        response = answer.value
        if not response.ok:
            raise PageProblem(f"the service refused the choice: HTTP {response.status}")
        self._quiet()  # the widget applies the answer: tags it activates load
        self._read_answers()  # keeps the receipt
        return self.receipts[-1] if self.receipts else {}


def _is_consent_post(response: Any) -> bool:
    return "/v1/consents" in response.url and response.request.method == "POST"


def _recorded_choice(response: Any) -> bool:
    return bool(_is_consent_post(response) and response.status == 201)


def _has_frame(request: Any) -> bool:
    try:
        return request.frame is not None
    except PlaywrightError:  # a service worker's request has no frame
        return False


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def without_query(url: str) -> str:
    """``url`` without its query and fragment: a recorded URL keeps no parameter values."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
