"""The compliance scanner in Debian's chromium against pages this suite serves: the demo shop
(clean in every default region and situation), the leaky shop (each planted fault found,
nothing else), bad pages (each reported, the rest scanned), and a scheduled scan."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.api.webhook_schemas import ScanCompletedEventSchema
from consent_service.consent.jwks import published_keys
from consent_service.extensions import db
from consent_service.extensions import receipt_issuer
from consent_service.extensions import settings
from consent_service.models import ConsentReceipt
from consent_service.models import OutboxMessage
from consent_service.models import ScanReport
from consent_service.models.base import utcnow
from consent_service.scanning.browse import Timing
from consent_service.scanning.report import DEFAULT_SITUATIONS
from consent_service.scanning.report import Situation
from consent_service.scanning.run import NO_WIDGET
from consent_service.scanning.run import ScanEnvironment
from consent_service.scanning.run import ScanRequest
from consent_service.scanning.run import default_regions
from consent_service.scanning.run import run_scan
from consent_service.scanning.schedule import ScanSchedule
from consent_service.scanning.storage import verify_report
from consent_service.settings import ScheduledScan
from tests.browser.conftest import CHROMIUM
from tests.browser.live_server import LiveServer
from tests.scan_support.leaky_shop import GPCBLIND_COOKIE
from tests.scan_support.leaky_shop import PIXEL_HOST
from tests.scan_support.leaky_shop import RETRACK_COOKIE
from tests.scan_support.leaky_shop import SESSION_COOKIE
from tests.scan_support.leaky_shop import UNDECLARED_COOKIE
from tests.scan_support.leaky_shop import LeakyShop
from tests.scan_support.leaky_shop import load_leaky_property
from tests.webhook_receiver import register

pytestmark = pytest.mark.browser
QUICK = Timing(page=8, quiet=2, widget=5, choice=8)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A consent service of the scans' own (its database gathers their receipts)."""
    if os.environ.get("TEST_BROWSER") != "1":
        pytest.skip("browser tests run with TEST_BROWSER=1: make test-browser")
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    server = LiveServer(tmp_path_factory.mktemp("scan-instance"))
    yield server
    server.stop()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def leaky(service: LiveServer) -> Iterator[LeakyShop]:
    shop = LeakyShop(service.url)
    shop.unreachable = f"http://127.0.0.1:{_closed_port()}"  # type: ignore[attr-defined]
    load_leaky_property(service.app, [shop.url, shop.unreachable])  # type: ignore[attr-defined]
    yield shop
    shop.stop()


def _in_own_thread(work: Callable[[], Any]) -> Any:
    """Scans drive Playwright's sync API, which refuses to run in a thread whose asyncio loop
    is running; the browser tests' own Playwright session runs one in this thread. The worker
    runs scans in a thread of their own as well."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def _scan(service: LiveServer, request: ScanRequest, **options: Any):
    def scan() -> Any:
        with service.app.app_context():
            try:
                return run_scan(
                    db.session(), request, ScanEnvironment.from_settings(settings()), **options
                )
            finally:
                db.session.remove()

    return _in_own_thread(scan)


def test_the_demo_shop_is_clean_in_every_default_region_and_situation(service) -> None:
    with service.app.app_context():

        def scan() -> Any:
            with service.app.app_context():
                return service.app.test_cli_runner().invoke(
                    args=["scan", "demo-shop", f"{service.url}/demo/", "--pages", "1", "--json"]
                )

        ran = _in_own_thread(scan)
        assert ran.exit_code == 0, ran.output
        report = json.loads(ran.stdout)
        regions = default_regions(on=utcnow().date())
        assert report["regions"] == list(regions) == ["FR", "GB", "US-CA", "US-VA", "unknown"]
        assert report["situations"] == [s.value for s in DEFAULT_SITUATIONS]
        assert (report["status"], report["findings"], report["unscanned"]) == ("completed", [], [])
        cells = {(o["region"], o["situation"]) for o in report["observations"]}
        assert cells == {(r, s.value) for r in regions for s in Situation}
        assert all(o["widget"] for o in report["observations"])
        session = db.session()
        row = session.get(ScanReport, uuid.UUID(report["scan_id"]))
        assert verify_report(row, published_keys(session, settings().signing_keys))
        # The clicks were recorded as scans, each in the region it scanned.
        scanned = set(
            session.execute(
                sa.select(ConsentReceipt.region, ConsentReceipt.method).where(
                    ConsentReceipt.source == "scan"
                )
            ).all()
        )
        assert {("FR", "reject_all"), ("US-CA", "gpc"), ("US-VA", "withdrawal")} <= scanned
        assert (None, "accept_all") in scanned  # the unknown region
        db.session.remove()


def _found(report) -> dict[tuple[str, str, str, str], Any]:
    return {(f.kind, f.region, f.situation, f.subject): f for f in report.findings}


def test_every_planted_fault_of_the_leaky_shop_is_found_and_nothing_else(service, leaky) -> None:
    report = _scan(
        service,
        ScanRequest("leaky-shop", (f"{leaky.url}/",), regions=("FR", "US-CA"), timing=QUICK),
    )
    assert report.pages == (f"{leaky.url}/", f"{leaky.url}/about")  # not the partner's link
    assert report.unscanned == ()
    pixel = f"{PIXEL_HOST}:{leaky.pixel.server_address[1]}"
    # Who set what: the shop's response, a script (from the setter's stack).
    home = report.observations[0]
    cookies = {c.name: c for c in home.cookies}
    assert (cookies[SESSION_COOKIE].set_by, cookies[SESSION_COOKIE].source) == (
        "response",
        f"{leaky.url}/",
    )
    assert cookies[SESSION_COOKIE].http_only and not cookies[SESSION_COOKIE].third_party
    assert (cookies[UNDECLARED_COOKIE].set_by, cookies[UNDECLARED_COOKIE].expires is not None) == (
        "script",
        True,
    )
    found = _found(report)
    # Nothing but the four faults.
    assert {key[3] for key in found} == {pixel, RETRACK_COOKIE, UNDECLARED_COOKIE, GPCBLIND_COOKIE}
    # 1. The untagged pixel: before consent in France, after every refusal anywhere.
    assert {(k, r, s) for k, r, s, subject in found if subject == pixel} == {
        ("before_consent", "FR", "first_visit"),
        ("before_consent", "FR", "gpc"),
        ("after_refusal", "FR", "rejected"),
        ("after_refusal", "FR", "withdrawn"),
        ("after_refusal", "US-CA", "rejected"),
        ("after_refusal", "US-CA", "withdrawn"),
        ("after_refusal", "US-CA", "gpc"),
    }
    first = found[("before_consent", "FR", "first_visit", pixel)]
    assert (first.vendor, first.purpose, first.subject_type) == (
        "pixelco",
        "advertising",
        "request",
    )
    assert first.evidence["request"]["path"] == "/px.gif"
    assert first.evidence["request"]["query_keys"] == ["page", "uid"]  # never their values
    assert first.evidence["pages"] == list(report.pages)
    # 2. The tracker that sets its cookie again on withdrawal.
    for region in ("FR", "US-CA"):
        retrack = found[("not_cleared", region, "withdrawn", RETRACK_COOKIE)]
        assert retrack.evidence["after_withdrawal"] is True
        assert retrack.evidence["cookie"]["source"] == f"{leaky.url}/static/retrack.js"
    assert {k for k, _, _, s in found if s == RETRACK_COOKIE} == {"not_cleared"}
    # 3. The cookie no vendor declares: a warning wherever it is set, with a suggestion.
    undeclared = [f for key, f in found.items() if key[3] == UNDECLARED_COOKIE]
    assert {f.kind for f in undeclared} == {"undeclared"}
    assert len(undeclared) == 10  # every cell: it runs untagged
    assert undeclared[0].suggestion.vendor == "Hotjar"
    assert undeclared[0].evidence["cookie"]["source"] == f"{leaky.url}/static/heatmap.js"
    # 4. The script that ignores GPC: only where GPC must stop it.
    [gpc] = [f for key, f in found.items() if key[3] == GPCBLIND_COOKIE]
    assert (gpc.kind, gpc.region, gpc.situation) == ("after_refusal", "US-CA", "gpc")
    assert gpc.evidence["decision"] == {"purpose": "marketing", "allowed": False, "reason": "gpc"}


def test_bad_pages_are_reported_and_the_rest_is_scanned(service, leaky) -> None:
    clean, slow, plain = (f"{leaky.url}{p}" for p in ("/clean", "/slow", "/plain"))
    unreachable = f"{leaky.unreachable}/shop"
    other_site = "http://127.0.0.3:9/elsewhere"
    report = _scan(
        service,
        ScanRequest(
            "leaky-shop",
            (clean, slow, unreachable, other_site, plain),
            regions=("FR",),
            situations=(Situation.FIRST_VISIT, Situation.REJECTED),
            pages=4,
            timing=Timing(page=3, quiet=1, widget=3, choice=5),
        ),
    )
    assert report.status == "partial"
    reasons = {(u.url, u.situation): u.reason for u in report.unscanned}
    assert "is not one of the property's origins" in reasons[(other_site, None)]
    for situation in ("first_visit", "rejected"):
        assert reasons[(slow, situation)] == "the page did not finish loading within 3 s"
        assert "net::ERR_CONNECTION_REFUSED" in reasons[(unreachable, situation)]
        assert reasons[(plain, situation)] == NO_WIDGET
    observed = {(o.url, o.situation) for o in report.observations}
    assert observed == {(p, s) for p in (clean, plain) for s in ("first_visit", "rejected")}
    assert report.findings == ()


def test_a_scheduled_scan_runs_beside_the_worker_and_emits_scan_completed(service, leaky) -> None:
    entry = ScheduledScan(
        property="leaky-shop",
        urls=(f"{leaky.url}/clean",),
        regions=("FR",),
        pages=1,
        time_limit=dt.timedelta(minutes=5),
    )
    with service.app.app_context():
        session = db.session()
        register(
            service.app, session, "https://hooks.example/scans", ("scan.completed",), "leaky-shop"
        )
        session.commit()
        engine = db.engine
        schedule = ScanSchedule(
            (entry,),
            new_session=lambda: Session(bind=engine),
            environment=ScanEnvironment.from_settings(settings()),
            issuer=receipt_issuer(),
        )
        claimed = schedule.tick(session, utcnow())
        assert claimed is not None
        assert schedule.tick(session, utcnow()) is None  # one at a time
        schedule.wait(120)
        assert not schedule.running
        session.expire_all()
        row = session.get(ScanReport, claimed)
        assert (row.trigger, row.status, row.observed) == ("schedule", "completed", 5)
        assert schedule.tick(session, utcnow()) is None  # not due again for a day
        [event] = session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.event_type == "scan.completed")
        ).all()
        data = json.loads(event.payload)["data"]
        assert ScanCompletedEventSchema().validate(data) == {}
        assert (data["scan_id"], data["violations"], data["trigger"]) == (
            str(claimed),
            0,
            "schedule",
        )
        db.session.remove()


def test_a_scan_asked_to_stop_reports_every_cell_it_did_not_scan(service, leaky) -> None:
    report = _scan(
        service,
        ScanRequest("leaky-shop", (f"{leaky.url}/clean",), regions=("FR", "GB")),
        should_stop=lambda: True,
    )
    assert (report.status, report.observations, report.findings) == ("failed", (), ())
    assert {(u.region, u.situation, u.reason) for u in report.unscanned} == {
        (region, situation, "the scan was stopped (its worker is shutting down)")
        for region in ("FR", "GB")
        for situation in ("first_visit", "rejected", "accepted", "withdrawn", "gpc")
    }
