"""A shop on its own origin whose pages carry each platform's snippet as the vendor documents
it, pointed at a recording stand-in (``vendor_standins/``) served from another loopback port:
nothing leaves the machine and no vendor's script is loaded. The snippets are written here
from each vendor's documentation of what they do (queue, adopt a queue, or return early);
the comments name the behaviour each one reproduces."""

from __future__ import annotations

import http.server
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.browser.conftest import Shop

STANDINS = Path(__file__).resolve().parent / "vendor_standins"

# Each platform's tag as the shop puts it in its page (``{vendor}``: the stand-ins' URL).
SNIPPETS: dict[str, str] = {
    # Microsoft UET: the flat uetq array first, then bat.js, which takes it over as
    # `new UET({ ti, q: uetq })` and pushes 'pageLoad'.
    "microsoft_uet": """<script>
  window.uetq = window.uetq || [];
  (function () {
    var tag = document.createElement('script');
    tag.async = true;
    tag.src = '{vendor}/bat.js';
    tag.onload = function () {
      window.uetq = new UET({ ti: '000000', q: window.uetq });
      window.uetq.push('pageLoad');
    };
    document.head.appendChild(tag);
  })();
</script>""",
    # Microsoft Clarity: a queueing function unless window.clarity exists, then the tag.
    "microsoft_clarity": """<script>
  (function (c, name) {
    c[name] = c[name] || function () { (c[name].q = c[name].q || []).push(arguments); };
    var tag = document.createElement('script');
    tag.async = true;
    tag.src = '{vendor}/clarity.js';
    document.head.appendChild(tag);
  })(window, 'clarity');
</script>""",
    # Meta pixel base code: returns early when fbq exists; else fbq queues until fbevents.js
    # loads. Meta's GDPR guide adds the revoke before init.
    "meta_pixel": """<script>
  (function (w) {
    if (w.fbq) return;
    var fbq = w.fbq = function () {
      fbq.callMethod ? fbq.callMethod.apply(fbq, arguments) : fbq.queue.push(arguments);
    };
    fbq.queue = [];
    fbq.loaded = true;
    var tag = document.createElement('script');
    tag.async = true;
    tag.src = '{vendor}/fbevents.js';
    document.head.appendChild(tag);
  })(window);
  fbq('consent', 'revoke');
  fbq('init', '000000');
  fbq('track', 'PageView');
</script>""",
    # TikTok pixel: adopts window.ttq if it is an array already, queues [method, ...args]
    # for each method until events.js loads.
    "tiktok_pixel": """<script>
  (function (w) {
    var ttq = w.ttq = w.ttq || [];
    ['page', 'track', 'holdConsent', 'grantConsent', 'revokeConsent'].forEach(function (m) {
      ttq[m] = function () { ttq.push([m].concat(Array.prototype.slice.call(arguments))); };
    });
    ttq.load = function () {
      var tag = document.createElement('script');
      tag.async = true;
      tag.src = '{vendor}/tiktok-events.js';
      document.head.appendChild(tag);
    };
    ttq.load('000000');
    ttq.page();
  })(window);
</script>""",
    # Amazon: the consent library (amzn-consent.js), loaded asynchronously before the Ad Tag.
    "amazon_ads": '<script async src="{vendor}/amzn-consent.js"></script>',
    # A Shopify theme: the storefront's Shopify.loadFeatures is on the page.
    "shopify": '<script src="{vendor}/shopify-storefront.js"></script>',
    # WordPress: the WP Consent API plugin's script, which WordPress prints in the footer.
    "wp_consent": '<script src="{vendor}/wp-consent-api.js"></script>',
    # Google's standard gtag.js snippet, ungated ("advanced" consent mode).
    "google": """<script async src="{vendor}/gtag.js?id=G-000000"></script>
<script>
  window.dataLayer = window.dataLayer || [];
  function gtag() { dataLayer.push(arguments); }
  gtag('js', new Date());
  gtag('config', 'G-000000');
</script>""",
}
EVERY_PLATFORM = (
    "microsoft_uet",
    "microsoft_clarity",
    "meta_pixel",
    "tiktok_pixel",
    "amazon_ads",
    "shopify",
    "wp_consent",
)

# Each platform's consent calls as compact strings, from the stand-ins' log (window.__vendorLog).
TRACE_SCRIPT = """
window.__consentTrace = () => {
  const trace = { uet: [], uetLoaded: 0, clarity: [], clarityLoaded: 0, fbq: [], fbqInit: 0,
    ttq: [], ttqPage: 0, amzn: [], amznLoaded: 0, shopify: [], storefront: 0, wp: [], gtag: [] };
  const word = (granted) => (granted ? 'allow' : 'deny');
  (window.__vendorLog || []).forEach(([vendor, ...call]) => {
    if (vendor === 'uet') {
      if (call[0] === 'consent') trace.uet.push(call[1] + ':' + call[2].ad_storage);
      if (call[0] === 'pageLoad') trace.uetLoaded += 1;
    } else if (vendor === 'clarity') {
      if (call[0] === 'consentv2') {
        trace.clarity.push(call[1].ad_Storage + '/' + call[1].analytics_Storage);
      }
      if (call[0] === '(loaded)') trace.clarityLoaded += 1;
    } else if (vendor === 'fbq') {
      if (call[0] === 'consent') trace.fbq.push(call[1]);
      if (call[0] === 'init') trace.fbqInit += 1;
    } else if (vendor === 'ttq') {
      if (/Consent$/.test(call[0])) trace.ttq.push(call[0]);
      if (call[0] === 'page') trace.ttqPage += 1;
    } else if (vendor === 'amzn') {
      const d = call[0];
      if (d === '(loaded)') trace.amznLoaded += 1;
      else {
        trace.amzn.push([d.countryCode, word(d.enableAdStorage), word(d.enableUserData)].join(':'));
      }
    } else if (vendor === 'shopify') {
      if (call[0] === '(storefront)') trace.storefront += 1;
      else if (call[0] === 'loadFeatures') trace.shopify.push('loadFeatures:' + call[1][0].name);
      else {
        const c = call[1];
        trace.shopify.push(['analytics', 'marketing', 'preferences', 'sale_of_data']
          .map((key) => key + '=' + word(c[key])).join(' '));
      }
    } else if (vendor === 'wp') {
      trace.wp.push(call.join(':'));
    } else if (vendor === 'gtag') {
      trace.gtag.push(call[0].map((entry) => entry.join(' ')));
    }
  });
  return trace;
};
"""


class Site:
    """An HTTP server of its own on 127.0.0.1, in a thread, answering the paths it is given
    (the query string is ignored)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.pages: dict[str, tuple[bytes, str]] = {}
        handler = self._handler()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def serve(self, path: str, body: str, content_type: str) -> str:
        self.pages[path] = (body.encode("utf-8"), content_type)
        return self.url + path

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
        self._server.server_close()

    def _handler(self) -> Callable[..., http.server.BaseHTTPRequestHandler]:
        pages = self.pages

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = pages.get(urllib.parse.urlsplit(self.path).path)
                if found is None:
                    self.send_error(404)
                    return
                body, content_type = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: the test's own assertions say what happened

        return Handler


def vendor_site() -> Site:
    """The stand-ins, as if from each vendor's CDN (another origin than shop and service)."""
    site = Site()
    for script in STANDINS.glob("*.js"):
        site.serve(f"/{script.name}", script.read_text(encoding="utf-8"), "text/javascript")
    return site


def shop_page(
    service: str,
    vendor: str,
    snippets: tuple[str, ...],
    *,
    stub: bool = True,
    property_key: str = "demo-shop",
    before_widget: str = "",
    widget_tags: int = 1,
) -> str:
    """A shop's page: the stub first (unless ``stub`` is False), the platforms' snippets
    (WordPress's in the footer, as WordPress prints it), ``before_widget``, then the widget's
    async tag (``widget_tags`` times: a page may carry it twice)."""
    head = [f'<script src="{vendor}/record.js"></script>']
    if stub:
        head.append(f'<script src="{service}/v1/stub.js?property={property_key}"></script>')
    head += [
        SNIPPETS[name].replace("{vendor}", vendor) for name in snippets if name != "wp_consent"
    ]
    if before_widget:
        head.append(before_widget)
    head += [
        f'<script src="{service}/v1/widget.js" data-property="{property_key}" '
        'data-cookie="nw_consent" async></script>'
    ] * widget_tags
    footer = SNIPPETS["wp_consent"].replace("{vendor}", vendor) if "wp_consent" in snippets else ""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<title>A shop with ad tags</title>\n<link rel="icon" href="data:,">\n'
        + "\n".join(head)
        + "\n</head>\n<body>\n<h1>A shop with ad tags</h1>\n"
        + footer
        + "\n</body>\n</html>\n"
    )


def open_shop(visitor: Shop, url: str) -> None:
    """Opens a shop page in the visitor's browser and waits for the widget's decisions."""
    visitor.page.context.add_init_script(TRACE_SCRIPT)
    visitor.page.goto(url)
    visitor.page.wait_for_function(
        "() => window.consent && window.consent.get && window.consent.get() !== null"
    )


def settle(visitor: Shop, **at_least: int) -> dict[str, Any]:
    """The platforms' consent calls once each named one has at least that many (the stand-ins
    load asynchronously, and some platforms are told once their script is there)."""
    visitor.page.wait_for_function(
        """(wanted) => { const trace = __consentTrace();
          return Object.entries(wanted).every(([key, count]) =>
            (Array.isArray(trace[key]) ? trace[key].length : trace[key]) >= count); }""",
        arg=at_least,
    )
    trace: dict[str, Any] = visitor.page.evaluate("__consentTrace()")
    return trace


def vendor_log(visitor: Shop, vendor: str) -> list[list[Any]]:
    entries = visitor.page.evaluate("window.__vendorLog")
    return [entry[1:] for entry in entries if entry[0] == vendor]
