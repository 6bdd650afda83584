"""The scanner's judge, recorder and helpers, on observations made by hand (no browser)."""

from __future__ import annotations

import datetime as dt

import pytest

from consent_service.cli.scan import exit_status
from consent_service.decisions.rule import Decision
from consent_service.decisions.rule import Reason
from consent_service.scanning import ocd
from consent_service.scanning.judge import CookiePattern
from consent_service.scanning.judge import PropertyFacts
from consent_service.scanning.judge import PurposeInfo
from consent_service.scanning.judge import VendorInfo
from consent_service.scanning.judge import judge_cell
from consent_service.scanning.record import site_of
from consent_service.scanning.report import CookieRecord
from consent_service.scanning.report import Observation
from consent_service.scanning.report import RequestRecord
from consent_service.scanning.report import ScanReportData
from consent_service.scanning.report import StorageRecord
from consent_service.scanning.report import Unscanned
from consent_service.settings import Settings
from consent_service.settings import SettingsError

PAGE = "https://shop.example/"
FACTS = PropertyFacts(
    key="shop",
    purposes=(
        PurposeInfo("necessary", True, frozenset(), ("security_storage",)),
        PurposeInfo("analytics", False, frozenset(), ("analytics_storage",)),
        PurposeInfo(
            "advertising",
            False,
            frozenset({"sale", "sharing", "targeted_advertising"}),
            ("ad_storage",),
        ),
    ),
    vendors=(
        VendorInfo("shop", "The Shop", ("necessary",), (CookiePattern("sid", "first-party"),)),
        VendorInfo(
            "ga", "Google Analytics", ("analytics",), (CookiePattern("_ga*", "first-party"),)
        ),
        VendorInfo("ads", "AdCo", ("advertising",), (CookiePattern("ad", ".ads.example"),)),
    ),
)


@pytest.fixture(scope="module")
def database() -> ocd.CookieDatabase:
    return ocd.parse(ocd.SHIPPED.read_text(encoding="utf-8"))


def _decisions(reason: Reason, **allowed: bool) -> dict[str, Decision]:
    every = {"necessary": True, "analytics": False, "advertising": False, **allowed}
    return {
        key: Decision(value, Reason.ESSENTIAL if key == "necessary" else reason, key)
        for key, value in every.items()
    }


def _cookie(name: str, *, domain: str = "shop.example", third_party: bool = False) -> CookieRecord:
    return CookieRecord(
        name=name,
        domain=domain,
        path="/",
        third_party=third_party,
        expires=None,
        http_only=False,
        secure=False,
        same_site="Lax",
        set_by="script",
        source="https://shop.example/tag.js",
    )


def _page(
    url: str = PAGE,
    *,
    situation: str = "first_visit",
    cookies=(),
    storage=(),
    requests=(),
    decisions=None,
    consent_mode=None,
    gpp=None,
    gpc=False,
    jurisdiction="FR",
    after_withdrawal=(),
) -> Observation:
    return Observation(
        url=url,
        region=jurisdiction,
        situation=situation,
        jurisdiction=jurisdiction,
        widget=True,
        decisions=decisions,
        gpc=gpc,
        cookies=tuple(cookies),
        storage=tuple(storage),
        requests=tuple(requests),
        consent_mode=consent_mode,
        gpp=gpp,
        widget_cookies=("shop_consent", "shop_token"),
        after_withdrawal=tuple(after_withdrawal),
    )


def _judge(database, *pages: Observation, expected: dict[str, Decision]):
    return judge_cell(FACTS, pages, [expected] * len(pages), database=database)


def test_a_declared_non_essential_cookie_before_any_choice_is_before_consent(database):
    found = _judge(
        database,
        _page(cookies=[_cookie("_ga"), _cookie("sid"), _cookie("shop_consent")]),
        expected=_decisions(Reason.NO_RECORD),
    )
    assert [(f.kind, f.subject, f.vendor, f.purpose) for f in found] == [
        ("before_consent", "_ga", "ga", "analytics")
    ]
    assert found[0].severity == "violation"
    assert found[0].evidence["decision"] == {
        "purpose": "analytics",
        "allowed": False,
        "reason": "no_record",
    }


def test_the_same_cookie_after_a_refusal_is_after_refusal_and_after_a_grant_nothing(database):
    refused = _judge(
        database,
        _page(situation="rejected", cookies=[_cookie("_ga")]),
        expected=_decisions(Reason.DENIED),
    )
    assert [f.kind for f in refused] == ["after_refusal"]
    granted = _judge(
        database,
        _page(situation="accepted", cookies=[_cookie("_ga")]),
        expected=_decisions(Reason.GRANTED, analytics=True, advertising=True),
    )
    assert granted == []


def test_a_third_party_request_of_a_refused_vendor_is_found_once_per_cell(database):
    pixel = RequestRecord("t.ads.example", "/px.gif", ("uid",), "image", PAGE)
    found = _judge(
        database,
        _page(requests=[pixel]),
        _page("https://shop.example/about", requests=[pixel]),
        expected=_decisions(Reason.NO_RECORD),
    )
    assert [(f.kind, f.subject_type, f.subject, f.vendor) for f in found] == [
        ("before_consent", "request", "t.ads.example", "ads")
    ]
    assert found[0].evidence["pages"] == [PAGE, "https://shop.example/about"]
    assert found[0].evidence["request"]["query_keys"] == ["uid"]


def test_undeclared_things_get_a_suggestion_and_a_violation_when_its_purpose_is_refused(database):
    found = _judge(
        database,
        _page(
            cookies=[_cookie("_gcl_au")],
            storage=[StorageRecord("local", "mystery-key", "https://shop.example", None)],
        ),
        expected=_decisions(Reason.NO_RECORD),
    )
    by_kind = {(f.kind, f.subject): f for f in found}
    undeclared = by_kind[("undeclared", "_gcl_au")]
    assert undeclared.severity == "warning"
    assert undeclared.suggestion is not None
    assert (undeclared.suggestion.vendor, undeclared.suggestion.category) == (
        "Google",
        "Marketing",
    )
    # Marketing maps to the property's advertising purpose: refused before any choice.
    assert by_kind[("before_consent", "_gcl_au")].purpose == "advertising"
    assert by_kind[("undeclared", "mystery-key")].suggestion is None
    assert set(by_kind) == {
        ("undeclared", "_gcl_au"),
        ("before_consent", "_gcl_au"),
        ("undeclared", "mystery-key"),
    }


def test_a_declared_cookie_left_after_withdrawal_is_not_cleared(database):
    found = _judge(
        database,
        _page(situation="withdrawn", cookies=[], after_withdrawal=[_cookie("_ga_X1")]),
        expected=_decisions(Reason.DENIED),
    )
    assert [(f.kind, f.subject) for f in found] == [("not_cleared", "_ga_X1")]
    assert found[0].evidence["after_withdrawal"] is True
    assert found[0].evidence["after_reload"] is False


def test_signals_that_disagree_with_the_decision_are_mismatches(database):
    usnat = [
        {"SaleOptOut": 2, "SharingOptOut": 2, "TargetedAdvertisingOptOut": 2},
        {"SubsectionType": 1, "Gpc": False},
    ]
    page = _page(
        situation="gpc",
        gpc=True,
        jurisdiction="US-CA",
        decisions={"necessary": True, "analytics": True, "advertising": True},
        consent_mode={"analytics_storage": "granted", "ad_storage": "granted"},
        gpp={"parsedSections": {"usnat": usnat}},
    )
    found = _judge(
        database, page, expected=_decisions(Reason.GPC, analytics=True, advertising=False)
    )
    assert {(f.kind, f.subject_type, f.subject) for f in found} == {
        ("signal_mismatch", "widget", "advertising"),
        ("signal_mismatch", "consent_mode", "ad_storage"),
        ("signal_mismatch", "gpp", "usnat.Gpc"),
        ("signal_mismatch", "gpp", "usnat.SaleOptOut"),
        ("signal_mismatch", "gpp", "usnat.SharingOptOut"),
        ("signal_mismatch", "gpp", "usnat.TargetedAdvertisingOptOut"),
    }


def test_signals_that_agree_are_not_findings(database):
    usnat = [
        {"SaleOptOut": 1, "SharingOptOut": 1, "TargetedAdvertisingOptOut": 1},
        {"SubsectionType": 1, "Gpc": True},
    ]
    page = _page(
        situation="gpc",
        gpc=True,
        jurisdiction="US-CA",
        decisions={"necessary": True, "analytics": True, "advertising": False},
        consent_mode={
            "analytics_storage": "granted",
            "ad_storage": "denied",
            "security_storage": "granted",
            "ad_personalization": "denied",
        },
        gpp={"parsedSections": {"usnat": usnat}},
    )
    assert _judge(database, page, expected=_decisions(Reason.GPC, analytics=True)) == []


@pytest.mark.parametrize(
    ("host", "site"),
    [
        ("www.shop.example", "shop.example"),
        ("shop.example", "shop.example"),
        ("a.b.shop.co.uk", "shop.co.uk"),
        ("127.0.0.2", "127.0.0.2"),
        ("localhost", "localhost"),
        (".Tracker.Example.", "tracker.example"),
    ],
)
def test_site_of(host, site):
    assert site_of(host) == site


def test_the_cookie_database_matches_names_exactly_then_by_the_longest_prefix(database):
    assert len(database) > 2000
    assert database.by_name("_ga").platform == "Google Analytics"
    prefixed = database.by_name("_ga_DEMO42")
    assert (prefixed.name, prefixed.wildcard) == ("_ga_", True)
    assert database.by_name("_hjSessionUser_123").platform == "Hotjar"
    assert database.by_name("certainly-not-a-known-cookie") is None
    assert database.by_host("px.ads.linkedin.com").platform == "LinkedIn"
    assert database.by_host("127.0.0.2") is None


def test_an_incomplete_or_foreign_cookie_database_is_refused():
    text = ocd.SHIPPED.read_text(encoding="utf-8")
    with pytest.raises(ocd.InvalidCookieDatabase, match="columns"):
        ocd.parse("name,category\n_ga,Analytics\n")
    with pytest.raises(ocd.InvalidCookieDatabase, match="only 3 entries"):
        ocd.parse("\n".join(text.splitlines()[:4]))
    header, first, *rest = text.splitlines()
    bad = first.replace(",Functional,", ",Tasty,", 1)
    with pytest.raises(ocd.InvalidCookieDatabase, match="line 2: unknown category 'Tasty'"):
        ocd.parse("\n".join([header, bad, *rest]))


def test_installing_a_cookie_database_checks_it_before_replacing(tmp_path):
    now = dt.datetime(2026, 12, 15, tzinfo=dt.UTC)
    broken = tmp_path / "broken.csv"
    broken.write_text("not,a,database\n", encoding="utf-8")
    with pytest.raises(ocd.InvalidCookieDatabase):
        ocd.install_database(tmp_path, str(broken), now=now)
    assert ocd.database_path(tmp_path) == ocd.SHIPPED
    installed = ocd.install_database(tmp_path, str(ocd.SHIPPED), now=now)
    assert ocd.database_path(tmp_path) == tmp_path / ocd.INSTANCE_FILE == installed.path
    assert installed.sha256 == ocd.SHIPPED_SOURCE["sha256"]
    assert ocd.source(tmp_path)["source"] == str(ocd.SHIPPED)
    assert len(ocd.load(tmp_path)) == installed.entries


def test_the_scan_schedule_setting_is_checked(tmp_path):
    base = {"CONSENT_INSTANCE_PATH": str(tmp_path)}
    entry = '{"property": "shop", "urls": ["https://shop.example/"], "every_hours": 6}'
    settings = Settings.from_env({**base, "CONSENT_SCAN_SCHEDULE": f"[{entry}]"})
    (scan,) = settings.scan_schedule
    assert (scan.property, scan.urls, scan.every) == (
        "shop",
        ("https://shop.example/",),
        dt.timedelta(hours=6),
    )
    assert (scan.pages, scan.time_limit, scan.regions) == (10, dt.timedelta(minutes=30), ())
    for bad, message in (
        ("{}", "JSON list"),
        ('[{"property": "shop"}]', "urls"),
        ('[{"property": "shop", "urls": ["ftp://x"]}]', "urls"),
        ('[{"property": "shop", "urls": ["https://a/"], "pages": 0}]', "pages"),
        ('[{"property": "shop", "urls": ["https://a/"], "colour": 1}]', "keys"),
    ):
        with pytest.raises(SettingsError, match=message):
            Settings.from_env({**base, "CONSENT_SCAN_SCHEDULE": bad})


def _report(*severities: str, unscanned: bool = False) -> ScanReportData:
    findings = judge_cell(
        FACTS,
        [_page(cookies=[_cookie("_ga")], storage=[StorageRecord("local", "k", PAGE, None)])],
        [_decisions(Reason.NO_RECORD)],
        database=ocd.CookieDatabase([]),
    )
    kept = tuple(f for f in findings if f.severity in severities)
    now = dt.datetime(2026, 12, 15, tzinfo=dt.UTC)
    gap = (Unscanned(PAGE, None, None, "timeout"),) if unscanned else ()
    return ScanReportData(
        "shop",
        1,
        {},
        "cli",
        now,
        now,
        (PAGE,),
        (PAGE,),
        ("FR",),
        ("first_visit",),
        (),
        kept,
        gap,
        {},
    )


def test_the_exit_status_follows_fail_on():
    violation, warning = _report("violation", "warning"), _report("warning")
    assert exit_status(violation, "violation") == 1
    assert exit_status(warning, "violation") == 0
    assert exit_status(warning, "warning") == 1
    assert exit_status(violation, "never") == 0
    assert exit_status(_report(unscanned=True), "violation") == 3
    assert exit_status(_report(unscanned=True), "never") == 0
