"""``consent-service scan``: the bad input that needs no browser to be told apart (unknown
property, bad options, URLs on another site, a browser that is not installed), and
``scan update-cookie-database``."""

from __future__ import annotations

import dataclasses
import json
import uuid

import pytest
import sqlalchemy as sa

from consent_service.consent.jwks import published_keys
from consent_service.extensions import settings
from consent_service.models import ScanReport
from consent_service.scanning import ocd
from consent_service.scanning.storage import verify_report


def _scan(app, *args: str):
    return app.test_cli_runner().invoke(args=["scan", *args])


def test_an_unknown_property_or_region_is_a_usage_error(app) -> None:
    unknown = _scan(app, "no-such-shop", "https://shop.example/")
    assert unknown.exit_code == 2
    assert "no property 'no-such-shop'" in unknown.output
    region = _scan(app, "demo-shop", "https://shop.example/", "--region", "Narnia")
    assert region.exit_code == 2
    assert "'Narnia' is not an ISO 3166 region" in region.output
    alone = _scan(app, "demo-shop", "https://shop.example/", "--situation", "withdrawn")
    assert alone.exit_code == 2
    assert "add accepted too" in alone.output


def test_urls_on_another_site_are_not_scanned_and_the_report_says_why(app, session) -> None:
    ran = _scan(app, "demo-shop", "https://tracker.example/page", "mailto:x@y.example", "--json")
    assert ran.exit_code == 3, ran.output
    report = json.loads(ran.stdout)
    assert report["status"] == "failed"
    reasons = {gap["url"]: gap["reason"] for gap in report["unscanned"]}
    assert (
        "https://tracker.example is not one of the property's origins"
        in reasons["https://tracker.example/page"]
    )
    assert reasons["mailto:x@y.example"] == "not an http(s) URL"
    row = session.get(ScanReport, uuid.UUID(report["scan_id"]))
    assert row.status == "failed"
    assert verify_report(row, published_keys(session, settings().signing_keys)).unscanned


def test_a_missing_browser_is_reported_per_page_and_stored(app, session, monkeypatch) -> None:
    missing = dataclasses.replace(settings(), scan_browser="/nonexistent/chromium")
    monkeypatch.setitem(app.extensions, "consent_settings", missing)
    before = session.scalar(sa.select(sa.func.count()).select_from(ScanReport))
    page = "https://shop.northwind.example/"
    ran = _scan(app, "demo-shop", page, "https://shop.northwind.example/cart")
    assert ran.exit_code == 3
    assert "failed" in ran.output and "stored as" in ran.output
    assert f"NOT SCANNED {page}: no browser at /nonexistent/chromium" in ran.stderr
    assert session.scalar(sa.select(sa.func.count()).select_from(ScanReport)) == before + 1
    row = session.scalars(sa.select(ScanReport).order_by(ScanReport.started_at.desc())).first()
    assert [gap["url"] for gap in row.unscanned] == [page, "https://shop.northwind.example/cart"]
    assert all("apt-get install chromium" in gap["reason"] for gap in row.unscanned)


def test_no_store_keeps_nothing(app, session) -> None:
    before = session.scalar(sa.select(sa.func.count()).select_from(ScanReport))
    ran = _scan(app, "demo-shop", "https://elsewhere.example/", "--no-store", "--json")
    assert json.loads(ran.stdout)["scan_id"] is None
    assert session.scalar(sa.select(sa.func.count()).select_from(ScanReport)) == before


@pytest.fixture
def instance_database(app):
    """Removes what the update installs in the (session-wide) instance folder."""
    folder = settings().instance_path
    yield folder
    for name in (ocd.INSTANCE_FILE, ocd.SOURCE_FILE):
        (folder / name).unlink(missing_ok=True)


def test_updating_the_cookie_database_checks_before_replacing(
    app, tmp_path, instance_database
) -> None:
    truncated = tmp_path / "truncated.csv"
    truncated.write_text(
        "\n".join(ocd.SHIPPED.read_text(encoding="utf-8").splitlines()[:50]), encoding="utf-8"
    )
    refused = app.test_cli_runner().invoke(
        args=["scan", "update-cookie-database", "--from", str(truncated)]
    )
    assert refused.exit_code == 1
    assert "is not a usable Open Cookie Database: only 49 entries" in refused.output
    assert ocd.database_path(instance_database) == ocd.SHIPPED
    unreadable = app.test_cli_runner().invoke(
        args=["scan", "update-cookie-database", "--from", str(tmp_path / "absent.csv")]
    )
    assert unreadable.exit_code == 1 and "could not be read" in unreadable.output
    done = app.test_cli_runner().invoke(
        args=["scan", "update-cookie-database", "--from", str(ocd.SHIPPED)]
    )
    assert done.exit_code == 0, done.output
    assert f"installed {len(ocd.load(instance_database))} entries" in done.output
    assert ocd.database_path(instance_database) == instance_database / ocd.INSTANCE_FILE
