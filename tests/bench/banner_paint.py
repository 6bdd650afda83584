"""How soon the banner is on screen after widget.js arrives, and whether anything shifts.

``python -m tests.bench.banner_paint`` (part of ``make bench``): the real app on loopback,
Debian's chromium through Playwright, a fresh visitor each run. Prints the median and worst
time from the moment widget.js finished downloading to the banner being in the document and
visible, and the page's cumulative layout shift. Budget (issue 3): under 100 ms, no shift.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from tests.browser.conftest import CHROMIUM
from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.live_server import LiveServer

RUNS = 15
# Installed before any page script: notes when the banner appears and every layout shift.
OBSERVE = """
window.__shift = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__shift += entry.value;
}).observe({type: 'layout-shift', buffered: true});
new MutationObserver((records, observer) => {
  const banner = document.getElementById('cw-banner');
  if (banner && !banner.hidden && banner.getBoundingClientRect().height > 0) {
    window.__bannerAt = performance.now();
    observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true, attributes: true});
"""
MEASURE = """() => {
  const script = performance.getEntriesByType('resource')
    .find((e) => e.name.includes('/v1/widget.js'));
  const config = performance.getEntriesByType('resource')
    .find((e) => e.name.includes('/v1/banner?'));
  return {loaded: script.responseEnd, asked: config.startTime, answered: config.responseEnd,
          shown: window.__bannerAt, shift: window.__shift};
}"""


def main() -> None:
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium (banner paint not measured)")
        return
    from playwright.sync_api import sync_playwright

    server = LiveServer(Path(tempfile.mkdtemp(prefix="consent-paint-")))
    delays: list[float] = []
    shifts: list[float] = []
    phases: list[tuple[float, float, float]] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for _ in range(RUNS):
                context = browser.new_context()
                page = context.new_page()
                page.add_init_script(OBSERVE)
                page.goto(f"{server.url}/demo/?region=FR")
                page.wait_for_function("() => window.__bannerAt !== undefined")
                page.wait_for_timeout(300)  # let late shifts, if any, be recorded
                seen = page.evaluate(MEASURE)
                delays.append(seen["shown"] - seen["loaded"])
                phases.append(
                    (
                        seen["asked"] - seen["loaded"],
                        seen["answered"] - seen["asked"],
                        seen["shown"] - seen["answered"],
                    )
                )
                shifts.append(seen["shift"])
                context.close()
            browser.close()
    finally:
        server.stop()
    print(
        f"banner visible after widget.js loaded: median {statistics.median(delays):.0f} ms, "
        f"worst {max(delays):.0f} ms over {RUNS} fresh visitors (budget < 100 ms); "
        f"cumulative layout shift: worst {max(shifts):.3f} (budget 0)"
    )
    start, fetch, render = (statistics.median(p[i] for p in phases) for i in range(3))
    print(
        f"  median phases: script loaded -> config requested {start:.0f} ms, config round "
        f"trip {fetch:.0f} ms, answer -> banner visible {render:.0f} ms"
    )


if __name__ == "__main__":
    main()
