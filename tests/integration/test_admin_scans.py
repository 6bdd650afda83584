"""The admin's Scans page: the newest result per region and situation, findings with their
evidence, the trend, signatures checked on display, the signed download (verified with an
independent JOSE library against the published JWKS), and "add to vendor list" from a
suggestion: audited, bumping the configuration, refused with a clear form error (nothing
changed) for bad input, and not open to a viewer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import uuid

import pytest
import sqlalchemy as sa
from joserfc import jws
from joserfc.jwk import KeySet

from consent_service.consent.jwks import published_keys
from consent_service.extensions import settings
from consent_service.models import Property
from consent_service.models import ScanReport
from consent_service.models import Vendor
from consent_service.models.base import utcnow
from consent_service.scanning.report import FindingKind
from consent_service.scanning.report import RequestRecord
from consent_service.scanning.report import ScanReportData
from consent_service.scanning.report import StorageRecord
from consent_service.scanning.run import default_regions
from consent_service.scanning.storage import REPORT_TYP
from consent_service.scanning.storage import InvalidScanReport
from consent_service.scanning.storage import claim_scheduled_scan
from consent_service.scanning.storage import mark_failed
from consent_service.scanning.storage import verify_report
from consent_service.settings import ScheduledScan
from consent_service.staff.scans import signature_problem
from tests.integration.test_admin_support import audit_entries
from tests.scan_support.reports import CART
from tests.scan_support.reports import NOW
from tests.scan_support.reports import PAGE
from tests.scan_support.reports import cookie
from tests.scan_support.reports import finding
from tests.scan_support.reports import gap
from tests.scan_support.reports import grid
from tests.scan_support.reports import observation
from tests.scan_support.reports import report
from tests.scan_support.reports import store
from tests.scan_support.reports import suggestion
from tests.scan_support.reports import table
from tests.scan_support.reports import undeclared_cookie
from tests.scan_support.reports import undeclared_host
from tests.scan_support.reports import undeclared_storage

HOTJAR = suggestion("Hotjar", "_hjSessionUser_", wildcard=True, retention="1 year")
GID = suggestion("Google Analytics", "_gid", retention="1 day")
PIXEL_HOST = "px.tracker.test:8123"
PIXEL = RequestRecord(
    host=PIXEL_HOST,
    path="/collect",
    query_keys=("uid", "ev"),
    resource_type="image",
    initiator=PAGE,
)
LEAKY = cookie("_leaky", domain=".tracker.test", third_party=True)


def _demo(session) -> Property:
    return session.scalar(sa.select(Property).where(Property.key == "demo-shop"))


def _vendors(session) -> dict[str, Vendor]:
    session.expire_all()
    return {
        v.key: v
        for v in session.scalars(sa.select(Vendor).where(Vendor.property == _demo(session)))
    }


def _leaky_shop_scan(at: dt.datetime = NOW) -> ScanReportData:
    """FR: a cookie before consent and undeclared cookies, storage and a host; GB clean; a
    page that timed out in US-CA."""
    hj = cookie("_hjSessionUser_42")
    storage = StorageRecord(
        area="local", key="_hjTLDTest", origin="http://shop.test:8000", source=None
    )
    ga = cookie("_ga")
    return report(
        [
            observation("FR", "first_visit", cookies=[ga, hj], storage=[storage], requests=[PIXEL]),
            observation("FR", "first_visit", url=CART, cookies=[ga]),
            observation("FR", "rejected"),
            observation("GB", "first_visit"),
            observation("GB", "rejected"),
            observation("US-CA", "first_visit"),
        ],
        [
            finding(
                FindingKind.BEFORE_CONSENT,
                "FR",
                "first_visit",
                "cookie",
                "_ga",
                {
                    "cookie": ga.__dict__,
                    "decision": {"purpose": "analytics", "allowed": False, "reason": "no_record"},
                },
                purpose="analytics",
                vendor="google-analytics",
                message="cookie _ga of Google Analytics 4 (analytics) before any choice",
            ),
            finding(
                FindingKind.SIGNAL_MISMATCH,
                "FR",
                "first_visit",
                "consent_mode",
                "ad_storage",
                {"consent_mode": {"ad_storage": "granted"}, "expected": "denied"},
                message="Consent Mode says ad_storage granted; the decisions make it denied",
            ),
            undeclared_cookie("FR", "first_visit", hj, HOTJAR),
            undeclared_storage("FR", "first_visit", storage, None),
            undeclared_host("FR", "first_visit", PIXEL, suggestion("Tracker Inc", "trk_id")),
            undeclared_cookie("FR", "rejected", hj, HOTJAR),
        ],
        at=at,
        situations=("first_visit", "rejected"),
        regions=("FR", "GB", "US-CA"),
        unscanned=[gap(PAGE, "the page did not finish loading in 30 s", "US-CA", "rejected")],
    )


@pytest.fixture
def leaky(session, issuer):
    return store(session, issuer, _leaky_shop_scan())


# --- the page ---------------------------------------------------------------------------------


def test_without_scans_the_page_says_how_to_run_one(viewer):
    page = viewer.get("/admin/scans/?property=demo-shop")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "No scans yet" in text
    assert "consent-service scan demo-shop" in text
    assert 'aria-current="page">Scans</a>' in text


def test_an_unknown_property_is_a_404(viewer):
    assert viewer.get("/admin/scans/?property=no-such-shop").status_code == 404


def test_the_grid_shows_each_cells_newest_result(viewer, session, issuer):
    older = report(
        [observation("FR", "first_visit"), observation("DE", "first_visit")],
        at=NOW - dt.timedelta(days=1),
    )
    store(session, issuer, older)
    store(session, issuer, _leaky_shop_scan())
    cells = grid(viewer.get("/admin/scans/?property=demo-shop").get_data(as_text=True))
    fr = cells[("FR", "First visit, no choice")]
    assert fr.startswith("violations 2 violations, 3 warnings; 2 pages, 2026-12-15 09:02 UTC")
    assert cells[("FR", "After reject all / opt out")].startswith(
        "warnings 0 violations, 1 warning"
    )
    assert cells[("GB", "First visit, no choice")].startswith("clean 0 violations, 0 warnings")
    # DE only in the day-old scan: its result stays, from that scan.
    assert cells[("DE", "First visit, no choice")].startswith("clean")
    assert "2026-12-14 09:02 UTC" in cells[("DE", "First visit, no choice")]
    unscanned = cells[("US-CA", "After reject all / opt out")]
    assert unscanned.startswith("could not scan")
    assert "the page did not finish loading in 30 s" in unscanned
    # A region the newest scan did not ask about is not "could not scan".
    assert cells[("DE", "After reject all / opt out")] == "could not scan"


def test_findings_show_their_evidence(viewer, leaky):
    html = viewer.get("/admin/scans/?property=demo-shop").get_data(as_text=True)
    rows = table(html, "Findings in FR, First visit, no choice")
    text = {row[1]: row[2] for row in rows[1:]}
    ga = text[
        "cookie _ga of Google Analytics 4 (analytics) before any choice (vendor google-analytics)"
    ]
    assert "Cookie _ga on shop.test, first-party; expires 2027-12-15T09:00:00.000Z" in ga
    assert "set by a script http://shop.test:8000/static/tracker.js" in ga
    assert "decision for analytics: denied (no_record)" in ga
    assert "Seen on 1 page: http://shop.test:8000/" in ga
    mode = text["Consent Mode says ad_storage granted; the decisions make it denied"]
    assert (
        "Consent Mode on the page: ad_storage granted; the service's decisions make it denied"
        in mode
    )
    host = text[f"request {PIXEL_HOST}: undeclared"]
    assert (
        f"Request to {PIXEL_HOST}/collect with the parameters uid, ev "
        "(their values are never kept); image" in host
    )
    storage = text["storage _hjTLDTest: undeclared"]
    assert "localStorage key _hjTLDTest of http://shop.test:8000, writer unknown" in storage
    assert [row[0] for row in rows[1:]].count("violation signal mismatch") == 1
    assert 'href="#cell-FR-first_visit"' in html


def test_undeclared_things_are_listed_once_with_their_suggestion(viewer, editor, leaky):
    html = editor.get("/admin/scans/?property=demo-shop").get_data(as_text=True)
    rows = {row[0]: row for row in table(html, "Undeclared in the latest results")[1:]}
    hj = rows["Cookie _hjSessionUser_42"]
    assert hj[1].startswith("2 results: FR (First visit, no choice), FR (After reject all")
    assert "Hotjar, Analytics (purpose analytics); name _hjSessionUser_…; kept 1 year." in hj[2]
    assert "Add _hjSessionUser_42 to vendor list" in hj[3]
    assert rows["Storage key _hjTLDTest"][2] == "Not known to it."
    assert "Add it by hand under Purposes & vendors" in rows["Storage key _hjTLDTest"][3]
    # A viewer sees the suggestions, never the form.
    seen = viewer.get("/admin/scans/?property=demo-shop").get_data(as_text=True)
    assert "Add to vendor list" not in seen.replace('<span class="visually-hidden">', "")
    assert "An editor can add it here." in seen


def test_the_trend_and_history_list_every_scan_with_its_verified_signature(viewer, session, issuer):
    for days in (2, 1):
        store(
            session,
            issuer,
            report([observation("FR", "first_visit")], at=NOW - dt.timedelta(days=days)),
        )
    store(session, issuer, _leaky_shop_scan())
    html = viewer.get("/admin/scans/?property=demo-shop").get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and 'role="img"' in html
    assert "Findings per scan, the last 3 scans" in html
    rows = table(html, "The last 3 scans, newest first")[1:]
    assert [row[0] for row in rows] == [
        "2026-12-15 09:00 UTC",
        "2026-12-14 09:00 UTC",
        "2026-12-13 09:00 UTC",
    ]
    newest = rows[0]
    assert newest[1:9] == [
        "cli",
        "partial",
        "configuration v3, privacy-policy v2",
        "2 pages \u00d7 3 regions \u00d7 2 situations",
        "2",
        "4",
        "1",
        "verified",
    ]
    assert all(row[8] == "verified" for row in rows)


def test_a_tampered_report_is_shown_as_not_verifying(viewer, session, leaky):
    session.execute(
        sa.update(ScanReport)
        .where(ScanReport.id == leaky.id)
        .values(report_json=leaky.report_json.replace("Hotjar", "Hotjaz"))
    )
    session.commit()
    html = viewer.get("/admin/scans/?property=demo-shop").get_data(as_text=True)
    row = table(html, "The last 1 scans")[1]
    assert row[8].startswith("does not verify: scan")
    assert "does not match its hash" in row[8]
    assert grid(html)[("FR", "First visit, no choice")].endswith("its report does not verify")
    assert "This scan's stored report does not verify" in html
    assert "Hotjaz" in html  # shown as stored, and said not to be what was signed


def test_the_page_refuses_exactly_what_the_scanners_verification_refuses(session, issuer, leaky):
    keys = published_keys(session, settings().signing_keys)
    other = store(session, issuer, _leaky_shop_scan(NOW + dt.timedelta(hours=1)))
    text, signature = leaky.report_json, leaky.jws
    cases = [
        (keys, text, signature),  # as stored
        (keys, text.replace("Hotjar", "Hotjaz"), signature),  # bytes changed
        (keys, text, other.jws),  # another scan's signature
        (keys, text, signature[:-4] + "AAAA"),  # a broken signature
        (keys, text, "not.a-jws"),
        ({}, text, signature),  # a key that is not published
    ]
    problems = []
    for against, leaky.report_json, leaky.jws in cases:
        try:
            verify_report(leaky, against)
            expected = None
        except InvalidScanReport as exc:
            expected = exc.detail
        problems.append(signature_problem(leaky, against))
        assert problems[-1] == expected
    assert problems[0] is None and all(problems[1:])
    session.rollback()


def test_an_unreadable_stored_report_is_listed_as_such_and_the_page_still_works(
    viewer, session, issuer, leaky
):
    broken = store(session, issuer, _leaky_shop_scan(NOW - dt.timedelta(days=1)))
    session.execute(
        sa.update(ScanReport).where(ScanReport.id == broken.id).values(report_json="{not json")
    )
    session.commit()
    html = viewer.get("/admin/scans/?property=demo-shop").get_data(as_text=True)
    rows = table(html, "The last 2 scans")[1:]
    assert rows[0][8] == "verified"
    assert rows[1][8].startswith("does not verify: scan")
    assert "does not match its hash" in rows[1][8]
    assert grid(html)[("FR", "First visit, no choice")].startswith("violations")


def test_a_running_scan_and_one_that_failed_before_a_report_are_listed_without_figures(
    viewer, session, leaky
):
    demo = _demo(session)
    every, stale = dt.timedelta(hours=1), dt.timedelta(minutes=30)
    for hours in (2, 4):  # the first failed before it had a report, the second still runs
        claim = claim_scheduled_scan(
            session,
            demo.id,
            config_version=3,
            every=every,
            stale_after=stale,
            now=NOW + dt.timedelta(hours=hours),
        )
        assert claim is not None
        if hours == 2:
            mark_failed(session, claim, now=NOW + dt.timedelta(hours=2, minutes=5))
    session.commit()
    html = viewer.get("/admin/scans/?property=demo-shop").get_data(as_text=True)
    rows = table(html, "The last 3 scans")[1:]
    assert [row[:3] for row in rows] == [
        ["2026-12-15 13:00 UTC", "schedule", "running"],
        ["2026-12-15 11:00 UTC", "schedule", "failed"],
        ["2026-12-15 09:00 UTC", "cli", "partial"],
    ]
    assert rows[0][4:] == ["—", "—", "—", "—", "nothing signed: still running", "—"]
    assert rows[1][8] == "nothing signed: it ended before it had a report"
    assert rows[2][8] == "verified"
    # The grid still shows the finished scan's results.
    assert grid(html)[("FR", "First visit, no choice")].startswith("violations")


def test_only_a_running_scan_is_not_yet_a_result(viewer, session):
    claim_scheduled_scan(
        session,
        _demo(session).id,
        config_version=3,
        every=dt.timedelta(hours=1),
        stale_after=dt.timedelta(minutes=30),
        now=NOW,
    )
    session.commit()
    html = viewer.get("/admin/scans/?property=demo-shop").get_data(as_text=True)
    assert "No scan of demo-shop has finished with a report yet" in html
    assert table(html, "The last 1 scans")[1][8] == "nothing signed: still running"


# --- the signed download ----------------------------------------------------------------------


def test_the_download_is_the_signed_report_and_verifies_with_the_jwks(app, viewer, leaky):
    answer = viewer.get(f"/admin/scans/{leaky.id}/report.json")
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    assert answer.headers["Content-Disposition"] == (
        f'attachment; filename="scan-20261215T0900Z-{leaky.id}.json"'
    )
    body = answer.get_json()
    assert body["schema"] == "consent-service/signed-scan-report/v1"
    assert body["jwks_url"].endswith("/.well-known/jwks.json")
    assert hashlib.sha256(body["report"].encode()).hexdigest() == body["report_sha256"]
    key_set = KeySet.import_key_set(app.test_client().get("/.well-known/jwks.json").get_json())
    verified = jws.deserialize_compact(body["jws"], key_set, algorithms=["Ed25519"])
    assert verified.headers()["typ"] == REPORT_TYP
    signed = json.loads(verified.payload)
    assert signed == body["signed"]
    assert (signed["report_sha256"], signed["scan_id"]) == (body["report_sha256"], str(leaky.id))
    read = ScanReportData.from_json(json.loads(body["report"]))
    assert read == _leaky_shop_scan()
    # One byte changed and the hash the signature names no longer matches.
    changed = body["report"].replace("_hjSessionUser_42", "_hjSessionUser_43")
    assert hashlib.sha256(changed.encode()).hexdigest() != signed["report_sha256"]


def test_downloading_a_scan_that_does_not_exist_is_a_404(viewer):
    assert viewer.get(f"/admin/scans/{uuid.uuid4()}/report.json").status_code == 404


# --- add to vendor list -----------------------------------------------------------------------


def _index(row: ScanReport, subject: str, kind: str = "undeclared") -> int:
    data = json.loads(row.report_json)
    return next(
        i for i, f in enumerate(data["findings"]) if f["subject"] == subject and f["kind"] == kind
    )


def _declare(client, row, subject, purpose, **extra):
    form = {"scan": str(row.id), "finding": str(_index(row, subject)), "purpose": purpose}
    return client.post("/admin/scans/declare?property=demo-shop", data={**form, **extra})


def test_an_editor_adds_a_suggestion_as_a_new_vendor_and_it_is_audited(editor, session, leaky):
    version = _demo(session).config_version
    added = _declare(editor, leaky, "_hjSessionUser_42", "analytics")
    assert added.status_code == 302
    assert added.location.endswith("/admin/scans/?property=demo-shop")
    vendor = _vendors(session)["hotjar"]
    assert vendor.name == "Hotjar"
    assert [p.key for p in vendor.purposes] == ["analytics"]
    assert vendor.cookies == [
        {
            "name": "_hjSessionUser_*",
            "domain": "first-party",
            "duration": "P1Y",
            "description": "A Analytics cookie of Hotjar",
        }
    ]
    assert _demo(session).config_version == version + 1
    [entry] = audit_entries(session, "vendor.added")
    assert entry.target_id == str(vendor.id) and entry.before is None
    assert entry.after["key"] == "hotjar"
    assert entry.after["declared_from_scan"] == {
        "scan": str(leaky.id),
        "finding": _index(leaky, "_hjSessionUser_42"),
        "subject": "_hjSessionUser_42",
        "cookie": vendor.cookies[0],
    }
    page = editor.get(added.location).get_data(as_text=True)
    assert (
        "Added _hjSessionUser_42 to the vendor list as &#39;_hjSessionUser_*&#39; of Hotjar" in page
    )
    row = {r[0]: r for r in table(page, "Undeclared in the latest results")[1:]}
    assert row["Cookie _hjSessionUser_42"][3] == "Declared now by Hotjar."
    # The banner lists it at once: the configuration moved on.
    banner = editor.client.get("/v1/banner?property=demo-shop&region=FR").get_json()
    hotjar = next(v for v in banner["vendors"] if v["key"] == "hotjar")
    assert hotjar["cookies"][0]["name"] == "_hjSessionUser_*"


def test_a_suggestion_of_a_vendor_the_list_has_joins_it(editor, session, issuer):
    gid = cookie("_gid")
    row = store(
        session,
        issuer,
        report(
            [observation("FR", "accepted", cookies=[gid])],
            [undeclared_cookie("FR", "accepted", gid, GID)],
        ),
    )
    before = [dict(c) for c in _vendors(session)["google-analytics"].cookies]
    assert _declare(editor, row, "_gid", "analytics").status_code == 302
    vendor = _vendors(session)["google-analytics"]  # "Google Analytics" makes its key
    assert vendor.name == "Google Analytics 4"
    assert vendor.cookies == [
        *before,
        {
            "name": "_gid",
            "domain": "first-party",
            "duration": "P1D",
            "description": "A Analytics cookie of Google Analytics",
        },
    ]
    [entry] = audit_entries(session, "vendor.edited")
    assert entry.before["cookies"] == before
    assert entry.after["cookies"][-1]["name"] == "_gid"


def test_a_third_party_host_is_declared_on_its_domain_with_the_chosen_purpose(
    editor, session, leaky
):
    assert _declare(editor, leaky, PIXEL_HOST, "advertising").status_code == 302
    vendor = _vendors(session)["tracker-inc"]
    assert [p.key for p in vendor.purposes] == ["advertising"]
    assert vendor.cookies[0]["name"] == "trk_id"
    assert vendor.cookies[0]["domain"] == "px.tracker.test"
    assert vendor.cookies[0]["duration"] == "P1Y"


def _unchanged(session, version: int, vendor_count: int) -> None:
    assert _demo(session).config_version == version
    assert len(_vendors(session)) == vendor_count
    assert not audit_entries(session, "vendor.added") and not audit_entries(
        session, "vendor.edited"
    )


@pytest.mark.parametrize(
    ("purpose", "message"),
    [
        ("nonsense", "&#39;nonsense&#39; is not a purpose of demo-shop"),
        ("", "choose the purpose the vendor&#39;s cookie serves"),
    ],
)
def test_a_purpose_the_property_lacks_is_a_form_error(editor, session, leaky, purpose, message):
    version, count = _demo(session).config_version, len(_vendors(session))
    refused = _declare(editor, leaky, "_hjSessionUser_42", purpose)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert message in html and 'role="alert"' in html
    assert 'aria-invalid="true"' in html
    _unchanged(session, version, count)


def test_something_declared_already_is_a_form_error(editor, session, issuer):
    ga = cookie("_ga_XYZ")
    row = store(
        session,
        issuer,
        report(
            [observation("FR", "accepted", cookies=[ga])],
            [
                undeclared_cookie(
                    "FR", "accepted", ga, suggestion("Google Analytics", "_ga_", wildcard=True)
                )
            ],
        ),
    )
    version, count = _demo(session).config_version, len(_vendors(session))
    refused = _declare(editor, row, "_ga_XYZ", "analytics")
    assert refused.status_code == 422
    assert (
        "_ga_XYZ is already declared by the vendor Google Analytics 4 (google-analytics)"
        in refused.get_data(as_text=True)
    )
    _unchanged(session, version, count)


def test_adding_the_same_suggestion_twice_refuses_the_second(editor, session, leaky):
    assert _declare(editor, leaky, "_hjSessionUser_42", "analytics").status_code == 302
    again = _declare(editor, leaky, "_hjSessionUser_42", "analytics")
    assert again.status_code == 422
    assert "already declared by the vendor Hotjar (hotjar)" in again.get_data(as_text=True)
    assert len(audit_entries(session, "vendor.added")) == 1


def test_a_finding_without_a_suggestion_or_not_undeclared_is_a_form_error(editor, session, leaky):
    version, count = _demo(session).config_version, len(_vendors(session))
    for subject, kind in (("_hjTLDTest", "undeclared"), ("_ga", "before_consent")):
        form = {
            "scan": str(leaky.id),
            "finding": str(_index(leaky, subject, kind)),
            "purpose": "analytics",
        }
        refused = editor.post("/admin/scans/declare?property=demo-shop", data=form)
        assert refused.status_code == 422
        assert "is not an undeclared thing with a suggestion" in refused.get_data(as_text=True)
    _unchanged(session, version, count)


def test_unknown_scans_and_findings_are_404(editor, session, leaky):
    other = Property(key="other-shop", name="Other shop")
    session.add(other)
    session.commit()
    cases = [
        ("demo-shop", {"scan": str(uuid.uuid4()), "finding": "0"}),
        ("demo-shop", {"scan": str(leaky.id), "finding": "999"}),
        ("demo-shop", {"scan": str(leaky.id), "finding": "-1"}),
        ("demo-shop", {"scan": "not-a-uuid", "finding": "0"}),
        ("demo-shop", {"scan": str(leaky.id), "finding": "zero"}),
        ("other-shop", {"scan": str(leaky.id), "finding": "2"}),
    ]
    for key, form in cases:
        answer = editor.post(
            f"/admin/scans/declare?property={key}", data={**form, "purpose": "analytics"}
        )
        assert answer.status_code == 404, form
    assert not audit_entries(session, "vendor.added")


def test_a_report_that_does_not_verify_is_not_acted_on(editor, session, leaky):
    index = _index(leaky, "_hjSessionUser_42")
    session.execute(
        sa.update(ScanReport)
        .where(ScanReport.id == leaky.id)
        .values(report_json=leaky.report_json.replace('"1 year"', '"1 day"'))
    )
    session.commit()
    version, count = _demo(session).config_version, len(_vendors(session))
    form = {"scan": str(leaky.id), "finding": str(index), "purpose": "analytics"}
    refused = editor.post("/admin/scans/declare?property=demo-shop", data=form)
    assert refused.status_code == 422
    assert "the stored report does not verify" in refused.get_data(as_text=True)
    _unchanged(session, version, count)


def test_a_viewer_cannot_add_and_a_form_without_its_token_changes_nothing(
    viewer, editor, session, leaky
):
    version, count = _demo(session).config_version, len(_vendors(session))
    assert _declare(viewer, leaky, "_hjSessionUser_42", "analytics").status_code == 403
    assert (
        _declare(editor, leaky, "_hjSessionUser_42", "analytics", csrf_token="forged").status_code
        == 400
    )
    _unchanged(session, version, count)


# --- the schedule (a deployment setting, shown read-only) -------------------------------------


def test_the_schedule_is_the_deployments_setting_shown_read_only(
    app, viewer, monkeypatch, session, issuer
):
    started = utcnow().replace(second=0, microsecond=0) - dt.timedelta(hours=7)
    store(session, issuer, report([observation("FR", "first_visit")], at=started))
    schedule = (
        ScheduledScan(
            property="demo-shop",
            urls=("https://shop.example/", "https://shop.example/cart"),
            every=dt.timedelta(hours=6),
            pages=5,
            time_limit=dt.timedelta(minutes=20),
        ),
        ScheduledScan(property="demo-shop", urls=("https://shop.example/de/",), regions=("DE",)),
        ScheduledScan(property="other-shop", urls=("https://other.example/",)),
    )
    configured = dataclasses.replace(app.extensions["consent_settings"], scan_schedule=schedule)
    monkeypatch.setitem(app.extensions, "consent_settings", configured)
    html = viewer.get("/admin/scans/?property=demo-shop").get_data(as_text=True)
    rows = table(html, "Scheduled scans of demo-shop")[1:]
    defaults = ", ".join(default_regions(on=utcnow().date()))
    assert rows == [
        [
            "https://shop.example/, https://shop.example/cart",
            "6 hours",
            f"{defaults} (the scanner's defaults)",
            "5 pages, 20 minutes",
            "now: at the worker's next round",  # the last scan started 7 hours ago
        ],
        [
            "https://shop.example/de/",
            "24 hours",
            "DE",
            "10 pages, 30 minutes",
            (started + dt.timedelta(hours=24)).strftime("%Y-%m-%d %H:%M UTC"),
        ],
    ]
    assert "CONSENT_SCAN_SCHEDULE" in html and "other.example" not in html
    section = html.split('id="schedule-heading"', 1)[1]
    assert "<input" not in section and "<select" not in section


def test_without_a_schedule_the_page_says_none_is_set(viewer):
    html = viewer.get("/admin/scans/?property=demo-shop").get_data(as_text=True)
    rows = table(html, "Scheduled scans of demo-shop")[1:]
    assert rows == [["None: CONSENT_SCAN_SCHEDULE names no scan of demo-shop."]]
