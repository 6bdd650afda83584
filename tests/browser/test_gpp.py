"""The GPP CMP API (v1.1) as vendors meet it in a real browser (issue #16 item 1): through a
stub the shop puts first, from an iframe on another origin by postMessage, with a vendor's
listener that throws, with every layer's display status, and read back by IAB's own decoder.

The shop pages here are served by a small server of their own on loopback (another origin than
the service's), the way a shop embeds the widget; the vendor's frame comes from a third origin.
IAB's own stub (@iabgpp/stub) is not published on npm, so the stub these pages put first is
ours (gpp-stub.js), which the Node tests show IAB's CMP takes over as it takes over IAB's.
"""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from tests.browser.test_cross_origin import allow_origin
from widget.assets import ESBUILD
from widget.assets import SOURCE_DIR

pytestmark = pytest.mark.browser

REPOSITORY = Path(__file__).resolve().parents[2]
IAB_LIBRARY = REPOSITORY / "node_modules" / "@iabgpp" / "cmpapi"
OPT_OUT_LINK = "Do Not Sell or Share My Personal Information"

# What a shop's stub file does with gpp-stub.js: define it and run it, before any tag.
STUB_SOURCE = (SOURCE_DIR / "gpp-stub.js").read_text(encoding="utf-8")
STUB_SCRIPT = f"(function () {{\n{STUB_SOURCE}\ninstallGppStub();\n}})();\n"

# A vendor's page script: registers through __gpp (the stub's, or the widget's placeholder)
# before the widget is there, and records what it hears. `?throwing=1` adds a listener with a bug.
VENDOR_ON_PAGE = """
window.gppEvents = [];
window.gppStubPing = null;
__gpp('ping', (data) => { window.gppStubPing = data; });
if (location.search.includes('throwing=1')) {
  __gpp('addEventListener', (event) => {
    if (event.eventName !== 'listenerRegistered') throw new Error('vendor bug: ' + event.eventName);
  });
}
__gpp('addEventListener', (event, success) => {
  window.gppEvents.push({ name: event.eventName, data: event.data, success,
    gppString: event.pingData.gppString, status: event.pingData.cmpStatus });
});
window.customAnswer = null;
__gpp('vendorCommand', (data, success) => { window.customAnswer = [data, success]; });
"""

# A vendor in an iframe: finds the page that has the __gppLocator frame (possibly only after a
# while: the stub runs in the head, the CMP later), then calls by postMessage and keeps replies.
VENDOR_FRAME = """<!doctype html><html><head><meta charset="utf-8"><title>vendor</title>
<link rel="icon" href="data:,">
<script>
window.replies = [];
window.addEventListener('message', (event) => {
  const data = typeof event.data === 'string' ? JSON.parse(event.data) : event.data;
  if (data && data.__gppReturn) window.replies.push(data.__gppReturn);
});
function locate() {
  for (let w = window; ; w = w.parent) {
    try { if (w.frames.__gppLocator) return w; } catch (e) {}
    if (w === window.top) return null;
  }
}
let tries = 0;
(function call() {
  const cmp = locate();
  if (!cmp) return tries++ < 500 && setTimeout(call, 10);
  cmp.postMessage(JSON.stringify({ __gppCall: { command: 'addEventListener', callId: 'events',
    version: '1.1' } }), '*');
  window.ask = (command, parameter, callId) => cmp.postMessage({ __gppCall: { command,
    parameter, callId, version: '1.1' } }, '*');
  window.ask('ping', null, 'ping');
})();
</script></head><body>a vendor's frame</body></html>"""


def shop_page(service: str, frame_url: str, query: dict[str, list[str]]) -> str:
    stub = '<script src="/gpp-stub.js"></script>' if query.get("stub") == ["1"] else ""
    vendor = '<script src="/vendor.js"></script>' if query.get("vendor") == ["1"] else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A shop</title>
<link rel="icon" href="data:,">
{stub}{vendor}
<script src="{service}/v1/widget.js" data-property="demo-shop" async></script>
</head><body><h1>A shop</h1>
<iframe title="vendor" src="{frame_url}"></iframe></body></html>"""


@dataclass
class Shop:
    origin: str  # the shop's pages
    vendor_origin: str  # the vendor's frame: another origin


@pytest.fixture(scope="module")
def shop_site(live_server: Any) -> Iterator[Shop]:
    """The shop's own server on a loopback port: its pages as 127.0.0.1, the vendor's frame as
    localhost (two origins); the property allows the shop's."""

    class Pages(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/shop.html":
                frame = f"{site.vendor_origin}/frame.html"
                body, kind = shop_page(live_server.url, frame, parse_qs(parts.query)), "text/html"
            elif parts.path == "/frame.html":
                body, kind = VENDOR_FRAME, "text/html"
            elif parts.path == "/gpp-stub.js":
                body, kind = STUB_SCRIPT, "text/javascript"
            elif parts.path == "/vendor.js":
                body, kind = VENDOR_ON_PAGE, "text/javascript"
            else:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    port = server.server_address[1]
    site = Shop(origin=f"http://127.0.0.1:{port}", vendor_origin=f"http://localhost:{port}")
    allow_origin(live_server, site.origin)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def open_shop(visitor: Any, site: Shop, query: str) -> None:
    visitor.page.goto(f"{site.origin}/shop.html?{query}")
    visitor.page.wait_for_function("() => window.consent && window.consent.get() !== null")


def wait_ready(page: Any) -> dict[str, Any]:
    """The CMP's ping once it is loaded and its signal ready (the CMP arrives after the banner)."""
    page.wait_for_function(
        "() => { let d; __gpp('ping', (p) => { d = p; });"
        " return d && d.cmpStatus === 'loaded' && d.signalStatus === 'ready'; }"
    )
    return dict(visitor_ping(page))


def visitor_ping(page: Any) -> Any:
    return page.evaluate("new Promise((resolve) => __gpp('ping', resolve))")


def event_names(page: Any) -> list[str]:
    return [
        e["name"] + (f":{e['data']}" if isinstance(e["data"], str) else "")
        for e in page.evaluate("window.gppEvents")
    ]


def test_listeners_registered_through_the_stub_hear_the_cmp_load_and_get_ready(shop, shop_site):
    visitor = shop()
    open_shop(visitor, shop_site, "stub=1&vendor=1&region=US-CA")
    ping = wait_ready(visitor.page)
    assert visitor.page.evaluate("window.gppStubPing.cmpStatus") == "stub"  # answered at once
    names = event_names(visitor.page)
    assert names[0] == "listenerRegistered"
    for expected in ("cmpStatus:loaded", "sectionChange:usnat", "signalStatus:ready"):
        assert expected in names, names
    assert names.index("cmpStatus:loaded") < names.index("signalStatus:ready")
    assert names.index("sectionChange:usnat") < names.index("signalStatus:ready")
    assert "cmpDisplayStatus:visible" in names  # the banner shows
    last = visitor.page.evaluate("window.gppEvents.slice(-1)[0]")
    assert last["gppString"] == ping["gppString"] == "DBABLA~CVQqAAAAAACA.QA"
    # A command the stub queued is answered once the CMP is there (not one it knows).
    assert visitor.page.evaluate("window.customAnswer") == [None, False]


@pytest.mark.parametrize("stub", ["1", "0"], ids=["shop-stub", "no-stub"])
def test_a_vendor_frame_on_another_origin_calls_by_postmessage(shop, shop_site, stub):
    visitor = shop()
    open_shop(visitor, shop_site, f"stub={stub}&region=US-CA")
    wait_ready(visitor.page)
    frame = visitor.page.frame(url=f"{shop_site.vendor_origin}/frame.html")
    frame.wait_for_function(
        "() => window.replies.some((r) => r.callId === 'events'"
        " && r.returnValue.eventName === 'signalStatus' && r.returnValue.data === 'ready')"
        " || window.replies.some((r) => r.callId === 'events'"
        " && r.returnValue.pingData.signalStatus === 'ready')"
    )
    assert frame.evaluate("window.replies.find((r) => r.callId === 'ping').success") is True

    visitor.banner.get_by_role("button", name=OPT_OUT_LINK).click()
    visitor.preferences.wait_for()
    payload = visitor.choose_and_wait("Save my choices")
    assert payload["decisions"]["advertising"] == "denied"
    frame.wait_for_function(
        "() => window.replies.some((r) => r.callId === 'events'"
        " && r.returnValue.eventName === 'signalStatus' && r.returnValue.data === 'ready'"
        " && r.returnValue.pingData.parsedSections.usnat[0].SaleOptOut === 1)"
    )
    frame.evaluate("window.ask('getField', 'usnat.SaleOptOut', 'field')")
    frame.wait_for_function("() => window.replies.some((r) => r.callId === 'field')")
    field = frame.evaluate("window.replies.find((r) => r.callId === 'field')")
    assert field == {"returnValue": 1, "success": True, "callId": "field"}


def test_a_throwing_listener_blocks_neither_the_opt_out_nor_the_others(shop, shop_site):
    visitor = shop(expect_errors=True)  # the vendor's exception is reported on the console
    open_shop(visitor, shop_site, "stub=1&vendor=1&throwing=1&region=US-CA")
    wait_ready(visitor.page)
    visitor.banner.get_by_role("button", name=OPT_OUT_LINK).click()
    visitor.preferences.wait_for()
    payload = visitor.choose_and_wait("Save my choices")  # the POST happened
    assert payload["decisions"]["marketing"] == payload["decisions"]["advertising"] == "denied"
    ping = wait_ready(visitor.page)
    assert ping["gppString"] == "DBABLA~CVQVAAAAAACA.QA"  # opted out of sale, sharing, ads
    assert ping["parsedSections"]["usnat"][0]["SaleOptOut"] == 1
    # The well-behaved listener heard the change after the broken one threw.
    last = visitor.page.evaluate("window.gppEvents.slice(-1)[0]")
    assert (last["name"], last["gppString"]) == ("signalStatus", ping["gppString"])
    assert any("vendor bug" in problem for problem in visitor.problems), visitor.problems


def test_every_layer_reports_its_display_and_holds_the_signal_while_open(shop, shop_site):
    visitor = shop()
    open_shop(visitor, shop_site, "stub=1&vendor=1&region=US-CA")
    wait_ready(visitor.page)
    visitor.choose_and_wait("Accept all")
    wait_ready(visitor.page)
    before = len(visitor.page.evaluate("window.gppEvents"))
    visitor.reopen_preferences()
    assert visitor_ping(visitor.page)["cmpDisplayStatus"] == "visible"
    assert visitor_ping(visitor.page)["signalStatus"] == "not ready"
    visitor.page.keyboard.press("Escape")  # closed without an answer
    visitor.preferences.wait_for(state="detached")
    names = event_names(visitor.page)[before:]
    assert names == [
        "signalStatus:not ready",
        "cmpDisplayStatus:visible",
        "cmpDisplayStatus:hidden",
        "signalStatus:ready",
    ]


def test_when_the_gpp_bundle_cannot_load_the_banner_works_and_gpp_fails_closed(shop, shop_site):
    visitor = shop(expect_errors=True)  # the browser logs the failed load
    visitor.page.route("**/v1/widget-gpp.js", lambda route: route.abort("connectionrefused"))
    open_shop(visitor, shop_site, "stub=1&region=US-CA")
    assert visitor.banner.is_visible()
    payload = visitor.choose_and_wait("Opt out")
    assert payload["method"] == "reject_all"
    ping = visitor_ping(visitor.page)
    # The stub stays: never "ready", so vendors that wait for the signal do nothing.
    assert (ping["cmpStatus"], ping["signalStatus"]) == ("stub", "not ready")


def iab_decode(gpp_string: str) -> dict[str, Any]:
    """The usnat section as IAB's own library reads the string (Node, @iabgpp/cmpapi)."""
    script = (
        "const { GppModel } = require('@iabgpp/cmpapi');"
        "const model = new GppModel(process.argv[1]);"
        "console.log(JSON.stringify({ ids: model.getHeader().SectionIds,"
        " usnat: model.getSection('usnat') }));"
    )
    done = subprocess.run(
        ["node", "-e", script, gpp_string],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    decoded: dict[str, Any] = json.loads(done.stdout)
    return decoded


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize(
    ("region", "gpc", "opted_out"),
    [("US-CA", False, 2), ("US-CA", True, 1), ("US-VA", True, 2), ("US-TX", True, 1)],
)
def test_the_page_string_reads_the_same_with_iabs_library(shop, region, gpc, opted_out):
    if not IAB_LIBRARY.exists():
        if ESBUILD.exists():
            pytest.fail("node_modules has no @iabgpp/cmpapi: npm ci")
        pytest.skip("node_modules is missing: npm ci (make test-js installs it)")
    visitor = shop(gpc=gpc)
    visitor.visit(f"?region={region}")
    ping = wait_ready(visitor.page)
    core, gpc_segment = ping["parsedSections"]["usnat"]
    decoded = iab_decode(ping["gppString"])
    assert decoded["ids"] == [7] == ping["applicableSections"]
    for field, value in core.items():
        assert decoded["usnat"][field] == value, field
    assert decoded["usnat"]["Gpc"] is gpc_segment["Gpc"] is gpc
    assert decoded["usnat"]["Version"] == 2
    assert decoded["usnat"]["SaleOptOut"] == opted_out


def test_outside_the_us_no_section_applies(shop):
    visitor = shop()
    visitor.visit("?region=DE")
    ping = wait_ready(visitor.page)
    assert ping["applicableSections"] == [-1]
    assert ping["gppString"] == "" and ping["parsedSections"] == {}
