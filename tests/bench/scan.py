"""How long a compliance scan takes and how much memory it needs, browser included.

``python -m tests.bench.scan`` (part of ``make bench``): the real app on loopback serving a
ten-page shop (each page with the widget, an analytics tag and an ad tag waiting for
consent, links to the others), scanned as ``consent-service scan`` does it: 10 pages x the
5 default regions x the 4 situations (first visit, rejected, accepted then withdrawn, GPC).
Prints the wall time, the CPU time of this process and of every browser process, and the
peak memory: the largest sum of PSS (proportional set size: shared pages counted once,
split between their users) over this process and all its descendants, sampled every
100 ms from /proc.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import threading
import time
from pathlib import Path

from tests.browser.conftest import CHROMIUM
from tests.browser.live_server import LiveServer
from tests.scan_support.leaky_shop import StaticServer

PAGES = 10
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop page {n}</title>
<link rel="icon" href="data:,">
<script src="{service}/v1/widget.js" data-property="demo-shop" data-cookie="nw_consent" async>
</script></head>
<body><h1>Shop page {n}</h1><nav>{links}</nav>
<p>Products, prices and a basket button, as on any shop page.</p>
<script type="text/plain" data-consent="analytics" src="/static/analytics.js"></script>
<script type="text/plain" data-consent="advertising marketing" src="/static/ad.js"></script>
</body></html>
"""
ANALYTICS = b"document.cookie = '_ga=GA1.1.' + Date.now() + '; Path=/; Max-Age=63072000';"
AD = b"document.cookie = '_fbp=fb.1.' + Date.now() + '.42; Path=/; Max-Age=7776000';"


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    """User + system time of ``pid`` and its waited-for children (Linux clock ticks)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


class _Sampler:
    """Peak PSS of the process tree, and the browser processes' CPU time seen last."""

    def __init__(self) -> None:
        self.peak_kib = 0
        self.browser_cpu: dict[int, float] = {}
        self.names: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.1):
            tree = _descendants(me)
            self.peak_kib = max(self.peak_kib, sum(_pss_kib(pid) for pid in tree))
            for pid in tree:
                if pid != me:
                    self.browser_cpu[pid] = max(self.browser_cpu.get(pid, 0.0), _cpu_seconds(pid))
                    self.names.setdefault(pid, _name(pid))

    def cpu_by_name(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for pid, seconds in self.browser_cpu.items():
            name = self.names.get(pid, "?")
            totals[name] = totals.get(name, 0.0) + seconds
        return totals


def _name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8") as comm:
            return comm.read().strip()
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=PAGES)
    arguments = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium (scan not measured)")
        return
    from consent_service.demo import load_property_dir
    from consent_service.extensions import db
    from consent_service.extensions import settings
    from consent_service.scanning.run import ScanEnvironment
    from consent_service.scanning.run import ScanRequest
    from consent_service.scanning.run import run_scan
    from tests.support import DEMO_DIR

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    service = LiveServer(Path(tempfile.mkdtemp(prefix="consent-scan-bench-")))
    routes: dict[str, object] = {
        "/static/analytics.js": ("text/javascript", ANALYTICS),
        "/static/ad.js": ("text/javascript", AD),
    }
    shop = StaticServer("127.0.0.1", routes, threading.Event())
    for n in range(arguments.pages):
        links = " ".join(f'<a href="/p/{i}">Page {i}</a>' for i in range(arguments.pages))
        html = PAGE.format(n=n, service=service.url, links=links)
        routes[f"/p/{n}"] = ("text/html; charset=utf-8", html.encode())
    threading.Thread(target=shop.serve_forever, daemon=True).start()
    try:
        with service.app.app_context():
            load_property_dir(db.session(), DEMO_DIR / "demo-shop", served_origins=[shop.origin])
            db.session.commit()
            request = ScanRequest("demo-shop", (f"{shop.origin}/p/0",), pages=arguments.pages)
            environment = ScanEnvironment.from_settings(settings())
            cpu_before = time.process_time()
            started = time.perf_counter()
            with _Sampler() as sampler:
                report = run_scan(db.session(), request, environment)
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu_before
            db.session.remove()
    finally:
        shop.shutdown()
        shop.server_close()
        service.stop()
    cells = {(o.region, o.situation) for o in report.observations}
    print(
        f"scan: {len(report.pages)} pages x {len(report.regions)} regions x "
        f"{len(report.situations)} situations (withdrawn: the last step of accepted, on one "
        f"page; {len(cells)} region/situation cells, "
        f"{len(report.observations)} page observations, status {report.status}, "
        f"{len(report.findings)} findings)"
    )
    print(
        f"scan: wall {wall:.1f} s ({wall / max(len(report.observations), 1) * 1000:.0f} ms "
        f"per observed page), CPU {cpu:.1f} s in this process + "
        f"{sum(sampler.browser_cpu.values()):.1f} s in {len(sampler.browser_cpu)} driver and "
        f"browser processes ("
        + ", ".join(f"{n} {c:.1f} s" for n, c in sorted(sampler.cpu_by_name().items()))
        + f"); peak memory {sampler.peak_kib / 1024:.0f} MiB PSS (this process and "
        "the browser's)"
    )


if __name__ == "__main__":
    main()
