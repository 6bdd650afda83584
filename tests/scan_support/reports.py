"""Helpers for the Scans page's tests (no tests here): scan reports built from typed records
and stored through the scanner's own ``store_report`` (signed, as a real scan is), and the
text of an HTML table's cells, to read the page as a person would."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

from consent_service.scanning.report import SEVERITY
from consent_service.scanning.report import CookieRecord
from consent_service.scanning.report import Finding
from consent_service.scanning.report import FindingKind
from consent_service.scanning.report import Observation
from consent_service.scanning.report import RequestRecord
from consent_service.scanning.report import ScanReportData
from consent_service.scanning.report import StorageRecord
from consent_service.scanning.report import Suggestion
from consent_service.scanning.report import Unscanned
from consent_service.scanning.storage import store_report

NOW = dt.datetime(2026, 12, 15, 9, 0, tzinfo=dt.UTC)
SHOP = "http://shop.test:8000"
PAGE = f"{SHOP}/"
CART = f"{SHOP}/cart"


def cookie(name: str, *, domain: str = "shop.test", third_party: bool = False) -> CookieRecord:
    return CookieRecord(
        name=name,
        domain=domain,
        path="/",
        third_party=third_party,
        expires="2027-12-15T09:00:00.000Z",
        http_only=False,
        secure=False,
        same_site="Lax",
        set_by="script",
        source=f"{SHOP}/static/tracker.js",
    )


def observation(region: str, situation: str, url: str = PAGE, **records) -> Observation:
    return Observation(
        url=url,
        region=region,
        situation=situation,
        jurisdiction=region,
        widget=True,
        decisions={"necessary": True, "analytics": situation == "accepted"},
        gpc=situation == "gpc",
        cookies=tuple(records.get("cookies", ())),
        storage=tuple(records.get("storage", ())),
        requests=tuple(records.get("requests", ())),
        consent_mode={"analytics_storage": "denied"},
        gpp=None,
    )


def finding(
    kind: FindingKind,
    region: str,
    situation: str,
    subject_type: str,
    subject: str,
    evidence: dict,
    *,
    url: str = PAGE,
    purpose: str | None = None,
    vendor: str | None = None,
    suggestion: Suggestion | None = None,
    message: str | None = None,
) -> Finding:
    return Finding(
        kind=kind.value,
        severity=SEVERITY[kind].value,
        region=region,
        situation=situation,
        url=url,
        subject_type=subject_type,
        subject=subject,
        purpose=purpose,
        vendor=vendor,
        message=message or f"{subject_type} {subject}: {kind.value}",
        evidence={**evidence, "pages": [url]},
        suggestion=suggestion,
    )


def suggestion(
    vendor: str,
    pattern: str,
    *,
    category: str = "Analytics",
    purpose: str | None = "analytics",
    retention: str = "1 year",
    wildcard: bool = False,
    description: str = "",
) -> Suggestion:
    return Suggestion(
        vendor=vendor,
        category=category,
        purpose=purpose,
        description=description or f"A {category} cookie of {vendor}",
        retention=retention,
        pattern=pattern,
        wildcard=wildcard,
    )


def undeclared_cookie(region: str, situation: str, record: CookieRecord, hint) -> Finding:
    return finding(
        FindingKind.UNDECLARED,
        region,
        situation,
        "cookie",
        record.name,
        {"cookie": record.__dict__},
        purpose=hint.purpose if hint else None,
        suggestion=hint,
    )


def undeclared_host(region: str, situation: str, request: RequestRecord, hint) -> Finding:
    return finding(
        FindingKind.UNDECLARED,
        region,
        situation,
        "request",
        request.host,
        {"request": {**request.__dict__, "query_keys": list(request.query_keys)}},
        suggestion=hint,
    )


def undeclared_storage(region: str, situation: str, record: StorageRecord, hint) -> Finding:
    return finding(
        FindingKind.UNDECLARED,
        region,
        situation,
        "storage",
        record.key,
        {"storage": record.__dict__},
        suggestion=hint,
    )


def report(
    observations,
    findings=(),
    *,
    at: dt.datetime = NOW,
    unscanned=(),
    regions=None,
    situations=None,
    property_key: str = "demo-shop",
) -> ScanReportData:
    observations = tuple(observations)
    return ScanReportData(
        property_key=property_key,
        config_version=3,
        policy_versions={"privacy-policy": 2},
        trigger="cli",
        started_at=at,
        finished_at=at + dt.timedelta(minutes=2),
        urls=(PAGE,),
        pages=tuple(dict.fromkeys(o.url for o in observations)) or (PAGE,),
        regions=tuple(regions or dict.fromkeys(o.region for o in observations)),
        situations=tuple(situations or dict.fromkeys(o.situation for o in observations)),
        observations=observations,
        findings=tuple(findings),
        unscanned=tuple(unscanned),
        scanner={"browser": "chromium (test)"},
    )


def store(session, issuer, data: ScanReportData):
    """Stored and signed by the scanner's own function, committed."""
    row = store_report(session, data, issuer=issuer, now=data.finished_at)
    session.commit()
    return row


def gap(url: str | None, reason: str, region: str | None = None, situation: str | None = None):
    return Unscanned(url=url, region=region, situation=situation, reason=reason)


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self._stack: list[dict] = []
        self._cell: list[str] | None = None
        self._in_caption = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            table = {"attrs": dict(attrs), "caption": "", "rows": []}
            self.tables.append(table)
            self._stack.append(table)
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr" and self._stack:
            self._stack[-1]["rows"].append([])
        elif tag in ("td", "th") and self._stack:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag):
        if tag == "table" and self._stack:
            self._stack.pop()
        elif tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None and self._stack:
            self._stack[-1]["rows"][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._in_caption and self._stack:
            self._stack[-1]["caption"] += data
        elif self._cell is not None:
            self._cell.append(data)


def table(html: str, caption_start: str) -> list[list[str]]:
    """The rows (cells as text) of the table whose caption starts with ``caption_start``."""
    parser = _Tables()
    parser.feed(html)
    for found in parser.tables:
        if " ".join(found["caption"].split()).startswith(caption_start):
            return found["rows"]
    raise AssertionError(f"no table captioned {caption_start!r}")


def grid(html: str) -> dict[tuple[str, str], str]:
    """{(region, situation heading): cell text} of the page's grid."""
    rows = table(html, "Regions down")
    heading, body = rows[0], rows[1:]
    return {(row[0], heading[i]): row[i] for row in body for i in range(1, len(row))}
