"""Scan reports: stored with their hash and a JWS over it, verified, listed, claimed."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from joserfc import jws
from joserfc.jwk import KeySet

from consent_service.consent.jwks import published_keys
from consent_service.extensions import receipt_issuer
from consent_service.extensions import settings
from consent_service.models import OutboxMessage
from consent_service.models import Property
from consent_service.models import ScanReport
from consent_service.scanning.report import Finding
from consent_service.scanning.report import FindingKind
from consent_service.scanning.report import ScanReportData
from consent_service.scanning.report import Suggestion
from consent_service.scanning.report import Unscanned
from consent_service.scanning.storage import REPORT_TYP
from consent_service.scanning.storage import InvalidScanReport
from consent_service.scanning.storage import claim_scheduled_scan
from consent_service.scanning.storage import latest_per_cell
from consent_service.scanning.storage import latest_reports
from consent_service.scanning.storage import store_report
from consent_service.scanning.storage import verify_report
from tests.scan_support.reports import PAGE
from tests.scan_support.reports import cookie
from tests.scan_support.reports import observation
from tests.webhook_receiver import register

NOW = dt.datetime(2026, 12, 15, 9, 0, tzinfo=dt.UTC)


def _report(at: dt.datetime = NOW, *, regions=("FR",), unscanned=()) -> ScanReportData:
    observations = tuple(observation(r, "first_visit", cookies=[cookie("_ga")]) for r in regions)
    finding = Finding(
        kind=FindingKind.BEFORE_CONSENT,
        severity="violation",
        region=regions[0],
        situation="first_visit",
        url=PAGE,
        subject_type="cookie",
        subject="_ga",
        purpose="analytics",
        vendor=None,
        message="cookie _ga (analytics) was set before any choice",
        evidence={"cookie": {"name": "_ga"}},
        suggestion=Suggestion(
            vendor="Google Analytics",
            category="Analytics",
            purpose="analytics",
            description="ID used to identify users",
            retention="2 years",
            pattern="_ga",
            wildcard=False,
        ),
    )
    return ScanReportData(
        property_key="demo-shop",
        config_version=3,
        policy_versions={"privacy-policy": 2},
        trigger="cli",
        started_at=at,
        finished_at=at + dt.timedelta(minutes=2),
        urls=(PAGE,),
        pages=(PAGE,),
        regions=tuple(regions),
        situations=("first_visit",),
        observations=observations,
        findings=(finding,),
        unscanned=tuple(unscanned),
        scanner={"browser": "chromium test"},
    )


def _demo_id(session) -> int:
    return session.scalar(sa.select(Property.id).where(Property.key == "demo-shop"))


def test_a_stored_report_verifies_and_reads_back_as_it_was(app, session) -> None:
    report = _report()
    row = store_report(session, report, issuer=receipt_issuer(), now=NOW)
    session.commit()
    keys = published_keys(session, settings().signing_keys)
    assert verify_report(row, keys) == report
    assert (row.status, row.violations, row.warnings, row.observed) == ("completed", 1, 0, 1)
    assert row.counts["before_consent"] == 1 and row.counts["undeclared"] == 0
    # The JWS verifies with an independent JOSE library against the published keys.
    key_set = KeySet.import_key_set(app.test_client().get("/.well-known/jwks.json").get_json())
    verified = jws.deserialize_compact(row.jws, key_set, algorithms=["Ed25519"])
    assert verified.headers()["typ"] == REPORT_TYP
    assert json.loads(verified.payload)["report_sha256"] == row.report_sha256


def test_a_changed_report_or_a_foreign_signature_fails_verification(app, session) -> None:
    row = store_report(session, _report(), issuer=receipt_issuer(), now=NOW)
    keys = published_keys(session, settings().signing_keys)
    original = row.report_json
    row.report_json = original.replace('"_ga"', '"_gb"')
    with pytest.raises(InvalidScanReport, match="does not match its hash"):
        verify_report(row, keys)
    row.report_json = original
    other = store_report(
        session, _report(NOW + dt.timedelta(days=1)), issuer=receipt_issuer(), now=NOW
    )
    row.jws = other.jws
    with pytest.raises(InvalidScanReport, match="another report"):
        verify_report(row, keys)
    with pytest.raises(InvalidScanReport, match="unknown key"):
        verify_report(other, {})


def test_the_status_says_what_could_not_be_scanned(app, session) -> None:
    gap = Unscanned(url="http://shop.test/never", region=None, situation=None, reason="timeout")
    row = store_report(session, _report(unscanned=(gap,)), issuer=receipt_issuer(), now=NOW)
    assert row.status == "partial"
    assert row.unscanned == [
        {"url": "http://shop.test/never", "region": None, "situation": None, "reason": "timeout"}
    ]
    empty = _report()
    empty = ScanReportData(
        **{**empty.__dict__, "observations": (), "findings": (), "unscanned": (gap,)}
    )
    assert store_report(session, empty, issuer=receipt_issuer(), now=NOW).status == "failed"


def test_latest_per_cell_takes_each_region_from_the_newest_scan_that_covered_it(
    app, session
) -> None:
    older = store_report(session, _report(regions=("FR", "GB")), issuer=receipt_issuer(), now=NOW)
    newer = store_report(
        session,
        _report(NOW + dt.timedelta(hours=1), regions=("FR",)),
        issuer=receipt_issuer(),
        now=NOW,
    )
    scans = latest_reports(session, _demo_id(session))
    assert [s.row.id for s in scans] == [newer.id, older.id]
    cells = latest_per_cell(scans)
    assert cells[("FR", "first_visit")].scan_id == newer.id
    assert cells[("GB", "first_visit")].scan_id == older.id
    assert [f.subject for f in cells[("FR", "first_visit")].findings] == ["_ga"]
    assert cells[("GB", "first_visit")].findings == ()


def test_storing_emits_scan_completed_with_the_counts(app, session) -> None:
    register(app, session, "https://hooks.example/scans", ("scan.completed",))
    row = store_report(session, _report(), issuer=receipt_issuer(), now=NOW)
    message = session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.event_type == "scan.completed")
    ).one()
    body = json.loads(message.payload)
    assert body["type"] == "scan.completed"
    assert body["data"]["scan_id"] == str(row.id)
    assert body["data"]["counts"]["before_consent"] == 1
    assert (body["data"]["violations"], body["data"]["warnings"]) == (1, 0)
    assert "findings" not in body["data"]


def test_a_scheduled_scan_is_claimed_once_and_finished_on_its_row(app, session) -> None:
    prop = _demo_id(session)
    every, stale = dt.timedelta(hours=24), dt.timedelta(minutes=30)
    claim = claim_scheduled_scan(
        session, prop, config_version=3, every=every, stale_after=stale, now=NOW
    )
    assert claim is not None
    # One scan at a time, and not again before the interval is over.
    again = NOW + dt.timedelta(minutes=1)
    assert (
        claim_scheduled_scan(
            session, prop, config_version=3, every=every, stale_after=stale, now=again
        )
        is None
    )
    report = ScanReportData(**{**_report().__dict__, "trigger": "schedule"})
    row = store_report(session, report, issuer=receipt_issuer(), now=NOW, scan_id=claim)
    assert (row.id, row.status, row.trigger) == (claim, "completed", "schedule")
    assert (
        claim_scheduled_scan(
            session, prop, config_version=3, every=every, stale_after=stale, now=again
        )
        is None
    )
    later = NOW + every + dt.timedelta(seconds=1)
    assert claim_scheduled_scan(
        session, prop, config_version=3, every=every, stale_after=stale, now=later
    )
    with pytest.raises(ValueError, match="not a running scan"):
        store_report(session, report, issuer=receipt_issuer(), now=NOW, scan_id=claim)


def test_a_dead_workers_claim_stops_blocking_after_the_stale_limit(app, session) -> None:
    prop = _demo_id(session)
    every, stale = dt.timedelta(hours=1), dt.timedelta(minutes=30)
    dead = claim_scheduled_scan(
        session, prop, config_version=3, every=every, stale_after=stale, now=NOW
    )
    later = NOW + dt.timedelta(hours=2)
    fresh = claim_scheduled_scan(
        session, prop, config_version=3, every=every, stale_after=stale, now=later
    )
    assert fresh is not None
    assert session.get(ScanReport, dead).status == "failed"
