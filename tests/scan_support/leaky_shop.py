"""A deliberately leaky shop, and a stand-in third party, served on loopback for the scanner.

The shop listens on 127.0.0.1 and embeds the widget of the live consent service; the ad
vendor "PixelCo" listens on 127.0.0.2, another site to the browser. The shop's pages plant
four faults (see ``leaky-shop/property.toml``):

1. PixelCo's pixel on every page, without a ``data-consent`` tag;
2. ReTrack's tag waits for analytics, but sets its cookie ``rt_uid`` again on withdrawal;
3. ``heatmap.js`` sets ``_hjSessionUser_123``, which no vendor declares (Hotjar, says the
   Open Cookie Database);
4. GpcBlind's sharing script is tagged ``analytics``, which GPC does not switch off.

Besides: ``/plain`` has no widget, ``/slow`` never finishes loading (an image that never
arrives), and ``/clean`` is a page with the widget and nothing else.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from consent_service.demo import load_property_dir
from consent_service.extensions import db
from consent_service.models import Property

HERE = Path(__file__).resolve().parent
PROPERTY_DIR = HERE / "leaky-shop"
PROPERTY = "leaky-shop"
GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
# What each fault leaves behind, as the scanner names it.
PIXEL_HOST = "127.0.0.2"
RETRACK_COOKIE = "rt_uid"
UNDECLARED_COOKIE = "_hjSessionUser_123"
GPCBLIND_COOKIE = "gb_id"

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Leaky Outfitters: {title}</title>
  <link rel="icon" href="data:,">
  {widget}
</head>
<body>
  <h1>{title}</h1>
  <nav><a href="/">Home</a> <a href="/about">About</a> <a href="#top">Top</a>
    <a href="{elsewhere}/">A partner</a></nav>
  {body}
</body>
</html>
"""
WIDGET = '<script src="{service}/v1/widget.js" data-property="leaky-shop" async></script>'
LEAKS = """
  <!-- Fault 1: the ad pixel, untagged. -->
  <img src="{pixel}/px.gif?uid=42&amp;page={title}" alt="" width="1" height="1">
  <!-- Fault 2: tagged, but it sets its cookie again on withdrawal. -->
  <script type="text/plain" data-consent="analytics" src="/static/retrack.js"></script>
  <!-- Fault 3: an untagged script whose cookie no vendor declares. -->
  <script src="/static/heatmap.js"></script>
  <!-- Fault 4: a sharing script tagged with a purpose GPC does not switch off. -->
  <script type="text/plain" data-consent="analytics" src="/static/gpcblind.js"></script>
"""


class StaticServer(ThreadingHTTPServer):
    """Serves fixed routes; a route "hang" never answers while the tests run."""

    daemon_threads = True

    def __init__(self, host: str, routes: dict[str, Any], stopping: threading.Event) -> None:
        self.routes = routes
        self.stopping = stopping
        super().__init__((host, 0), _Handler)
        self.origin = f"http://{host}:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: StaticServer

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        route = self.server.routes.get(path)
        if route == "hang":
            # Never answers while the test runs: the page that uses it never finishes loading.
            self.server.stopping.wait(120)
            return
        if route is None:
            self.send_error(404)
            return
        content_type, body = route
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class LeakyShop:
    """The shop (127.0.0.1) and PixelCo (127.0.0.2), both on free ports."""

    def __init__(self, service_url: str) -> None:
        self._stopping = threading.Event()
        self.pixel = StaticServer("127.0.0.2", {"/px.gif": ("image/gif", GIF)}, self._stopping)
        routes: dict[str, Any] = {}
        self.shop = StaticServer("127.0.0.1", routes, self._stopping)
        self.url = self.shop.origin
        widget = WIDGET.format(service=service_url)

        def page(title: str, *, with_widget: bool = True, body: str = "") -> tuple[str, bytes]:
            html = PAGE.format(
                title=title,
                widget=widget if with_widget else "",
                body=body,
                elsewhere=self.pixel.origin,
            )
            return "text/html; charset=utf-8", html.encode()

        leaks = LEAKS.replace("{pixel}", self.pixel.origin)
        routes["/"] = page("Home", body=leaks.replace("{title}", "home"))
        routes["/about"] = page("About", body=leaks.replace("{title}", "about"))
        routes["/plain"] = page("No widget", with_widget=False)
        routes["/clean"] = page("Clean")
        routes["/slow"] = page("Slow", body='<img src="/hang.gif" alt="">')
        routes["/hang.gif"] = "hang"
        for name in ("retrack.js", "heatmap.js", "gpcblind.js"):
            source = (HERE / "static" / name).read_bytes()
            routes[f"/static/{name}"] = ("text/javascript", source)
        self._threads = [
            threading.Thread(target=server.serve_forever, daemon=True)
            for server in (self.shop, self.pixel)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        for server in (self.shop, self.pixel):
            server.shutdown()
            server.server_close()


def load_leaky_property(app: Any, origins: list[str]) -> None:
    """Create the leaky shop's property in ``app``'s database (once), allowing ``origins``."""
    with app.app_context():
        session = db.session()
        load_property_dir(session, PROPERTY_DIR, served_origins=origins)
        session.commit()
        prop = session.scalar(sa.select(Property).where(Property.key == PROPERTY))
        assert prop is not None
        db.session.remove()
