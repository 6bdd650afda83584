"""The Scans page in a real browser: axe-core finds nothing on it, the grid reads as a table,
an editor adds a suggestion to the vendor list with the keyboard-reachable form, the signed
report downloads, and on a phone's width nothing but the tables scrolls sideways. On a
property of its own, so the demo shop's banner (which other browser tests share) never
changes."""

from __future__ import annotations

import json
import uuid

import pytest

from consent_service.extensions import db
from consent_service.models import Property
from consent_service.models import Purpose
from tests.browser.admin_support import admin_account
from tests.browser.admin_support import no_violations
from tests.browser.admin_support import sign_in
from tests.browser.test_admin_layout import _overflow
from tests.browser.test_admin_layout import _too_wide
from tests.scan_support.reports import cookie
from tests.scan_support.reports import gap
from tests.scan_support.reports import observation
from tests.scan_support.reports import report
from tests.scan_support.reports import store
from tests.scan_support.reports import suggestion
from tests.scan_support.reports import undeclared_cookie

pytestmark = pytest.mark.browser


def _scanned_property(live_server) -> str:
    """A property with one purpose and one stored scan: an undeclared Hotjar cookie in FR, a
    page that could not be scanned in US-CA."""
    key = f"scanned-{uuid.uuid4().hex[:8]}"
    hj = cookie("_hjSessionUser_7")
    with live_server.app.app_context():
        session = db.session()
        prop = Property(key=key, name="Scanned shop")
        session.add(prop)
        session.flush()
        session.add(
            Purpose(
                property_id=prop.id,
                key="analytics",
                essential=False,
                legal_basis="consent",
                texts={"en": {"name": "Analytics"}},
                consent_mode=["analytics_storage"],
                opt_out_categories=[],
                position=0,
            )
        )
        session.commit()
        data = report(
            [observation("FR", "first_visit", cookies=[hj]), observation("GB", "first_visit")],
            [
                undeclared_cookie(
                    "FR", "first_visit", hj, suggestion("Hotjar", "_hjSessionUser_", wildcard=True)
                )
            ],
            regions=("FR", "GB", "US-CA"),
            unscanned=[gap(None, "the browser could not reach the page", "US-CA")],
            property_key=key,
        )
        store(session, live_server.app.extensions["receipt_issuer"], data)
        db.session.remove()
    return key


def test_an_editor_reads_the_scans_and_adds_a_suggestion(shop, live_server):
    key = _scanned_property(live_server)
    page = shop().page
    sign_in(page, live_server.url, *admin_account(live_server, "editor"))
    page.get_by_role("navigation", name="Admin sections").get_by_role("link", name="Scans").click()
    page.wait_for_url("**/admin/scans/")
    page.get_by_label("Property").select_option(key)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**/admin/scans/?property={key}")
    grid = page.get_by_role("table", name="Regions down, situations across")
    assert grid.get_by_role("row", name="FR").get_by_role("link").inner_text() == "warnings"
    assert "could not reach the page" in grid.get_by_role("row", name="US-CA").inner_text()
    no_violations(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="signed JSON").click()
    signed = json.loads(download.value.path().read_text())
    assert signed["signed"]["property"] == key

    assert page.get_by_label("Purpose of _hjSessionUser_7").input_value() == "analytics"
    page.get_by_role("button", name="Add _hjSessionUser_7 to vendor list").click()
    page.wait_for_url(f"**/admin/scans/?property={key}")
    assert "Added _hjSessionUser_7 to the vendor list" in page.get_by_role("status").inner_text()
    assert page.get_by_role("link", name="Hotjar").is_visible()
    no_violations(page)
    # On a phone, wide tables scroll inside their own box: the page itself does not.
    page.set_viewport_size({"width": 375, "height": 667})
    page.reload()
    assert _overflow(page) <= 0, _too_wide(page)
    no_violations(page)
