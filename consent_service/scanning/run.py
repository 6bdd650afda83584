"""One scan, start to end: check the URLs, open the browser, visit every page in every region
and situation (each a fresh browser context), observe, judge, and give the report.

Pages: the start URLs, then the same-origin links the first cell finds (not the widget's own
links), up to ``pages``; every other cell visits that same list. A start URL outside the
property's origins (and the service's own, where its demo lives) is not visited.

Each context's calls to the consent service carry a signed scan token (``token.py``) naming
its region; the pages are loaded as they are.

Situations: ``first_visit`` and ``gpc`` load the pages without acting (GPC on for ``gpc``:
where the law honours it, the widget records the signal by itself); ``rejected`` and
``accepted`` first answer the banner on the first page that shows it, then load every page;
``withdrawn`` follows ``accepted`` in the same context: withdraw through the widget's own
button, read the cookie jar, reload, observe.

What could not be scanned (a page that fails, the widget missing, no browser, the time
limit) is listed in the report with the reason, and the rest goes on. The session is only
read, in short transactions (each ended before the browser moves on); nothing is written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import urllib.parse
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.decisions.lookups import look_up
from consent_service.decisions.rule import Decision
from consent_service.decisions.rule import decide
from consent_service.documents.versions import current_version
from consent_service.infra.urls import origin_of
from consent_service.integrations.subject_refs import SubjectRef
from consent_service.jurisdictions.rulebook import jurisdiction_for_region
from consent_service.jurisdictions.rulebook import rulebook
from consent_service.jurisdictions.rules import REGION_PATTERN
from consent_service.jurisdictions.rules import Regime
from consent_service.models import PolicyDocument
from consent_service.models.base import utcnow
from consent_service.properties.jurisdiction_overrides import apply_overrides
from consent_service.properties.lookup import ConsentContext
from consent_service.properties.lookup import consent_context
from consent_service.properties.lookup import get_property
from consent_service.scanning import ocd
from consent_service.scanning.browse import Browser
from consent_service.scanning.browse import BrowserUnavailable
from consent_service.scanning.browse import PageProblem
from consent_service.scanning.browse import RawPage
from consent_service.scanning.browse import Timing
from consent_service.scanning.browse import Visitor
from consent_service.scanning.browse import open_browser
from consent_service.scanning.judge import CookiePattern
from consent_service.scanning.judge import PropertyFacts
from consent_service.scanning.judge import PurposeInfo
from consent_service.scanning.judge import VendorInfo
from consent_service.scanning.judge import judge_cell
from consent_service.scanning.record import observe
from consent_service.scanning.report import DEFAULT_SITUATIONS
from consent_service.scanning.report import Finding
from consent_service.scanning.report import Observation
from consent_service.scanning.report import ScanReportData
from consent_service.scanning.report import Situation
from consent_service.scanning.report import Unscanned
from consent_service.scanning.report import sorted_findings
from consent_service.scanning.token import UNKNOWN
from consent_service.scanning.token import sign_scan_region
from consent_service.settings import Settings

DEFAULT_PAGES = 10
# The regions that show a regime best, most telling first; the rulebook has the last word.
PREFERRED_REGIONS = {
    "opt_in_eu": ("FR", "DE"),
    "gb": ("GB",),
    "opt_out_gpc": ("US-CA", "US-CO"),
    "opt_out_no_gpc": ("US-VA", "US-UT"),
}
NO_WIDGET = (
    "the consent widget is not on this page, or it did not apply a decision: nothing on it "
    "asks, records or blocks"
)
_SKIPPED_LINKS = (".pdf", ".zip", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".mp4")


@dataclasses.dataclass(frozen=True)
class ScanRequest:
    """What to scan. ``regions``: ISO codes (``US-CA``) or ``unknown``; None: the defaults."""

    property_key: str
    urls: tuple[str, ...]
    regions: tuple[str, ...] | None = None
    situations: tuple[Situation, ...] = DEFAULT_SITUATIONS
    pages: int = DEFAULT_PAGES
    timing: Timing = dataclasses.field(default_factory=Timing)
    trigger: str = "cli"
    # The whole scan's limit: what is left when it runs out is reported as not scanned.
    time_limit: dt.timedelta | None = None


@dataclasses.dataclass(frozen=True)
class ScanEnvironment:
    """Where the scan runs: the app's secret (scan tokens), the service's public URL, the
    browser, and the instance folder (the Open Cookie Database copy in force)."""

    secret_key: str
    base_url: str
    browser: str
    instance_path: Path

    @classmethod
    def from_settings(cls, config: Settings) -> ScanEnvironment:
        return cls(
            secret_key=config.secret_key,
            base_url=config.base_url,
            browser=config.scan_browser,
            instance_path=config.instance_path,
        )


def default_regions(*, on: dt.date) -> tuple[str, ...]:
    """One region per regime the rulebook has: an opt-in EU state, GB, a US state with an
    opt-out and a GPC duty, one with an opt-out and no GPC duty, and the unknown fallback."""
    codes = sorted(code for code in rulebook() if REGION_PATTERN.fullmatch(code))

    def first(preferred: Sequence[str], fits: Callable[[str], bool]) -> str | None:
        return next((c for c in (*preferred, *codes) if fits(c)), None)

    def rule_is(code: str, regime: Regime, gpc: bool | None = None) -> bool:
        rule = jurisdiction_for_region(code, on=on)
        return (
            rule.code == code and rule.regime is regime and (gpc is None or rule.honours_gpc is gpc)
        )

    chosen = [
        first(PREFERRED_REGIONS["opt_in_eu"], lambda c: rule_is(c, Regime.OPT_IN)),
        first(PREFERRED_REGIONS["gb"], lambda c: c == "GB" and c in codes),
        first(
            PREFERRED_REGIONS["opt_out_gpc"],
            lambda c: c.startswith("US-") and rule_is(c, Regime.OPT_OUT, True),
        ),
        first(
            PREFERRED_REGIONS["opt_out_no_gpc"],
            lambda c: c.startswith("US-") and rule_is(c, Regime.OPT_OUT, False),
        ),
    ]
    return (*dict.fromkeys(c for c in chosen if c), UNKNOWN)


def load_facts(session: Session, property_key: str) -> PropertyFacts:
    prop = get_property(session, property_key, with_catalogue=True)
    return PropertyFacts(
        key=prop.key,
        purposes=tuple(
            PurposeInfo(
                key=p.key,
                essential=p.essential,
                opt_out_categories=frozenset(p.opt_out_categories or ()),
                consent_mode=tuple(p.consent_mode or ()),
            )
            for p in prop.purposes
        ),
        vendors=tuple(
            VendorInfo(
                key=v.key,
                name=v.name,
                purposes=tuple(
                    p.key for p in sorted(v.purposes, key=lambda p: (p.position, p.key))
                ),
                cookies=tuple(
                    CookiePattern(str(c.get("name", "")), str(c.get("domain", "")))
                    for c in (v.cookies or ())
                    if c.get("name")
                ),
            )
            for v in prop.vendors
        ),
    )


def policy_versions(session: Session, property_id: int, *, now: dt.datetime) -> dict[str, int]:
    """{document key: number of the version in effect}, for every published document."""
    versions = {}
    documents = session.scalars(
        sa.select(PolicyDocument).where(PolicyDocument.property_id == property_id)
    )
    for document in documents:
        version = current_version(session, document.id, now=now)
        if version is not None and version.number is not None:
            versions[document.key] = version.number
    return versions


class _Scan:
    """The state of one scan while it runs."""

    def __init__(
        self,
        session: Session,
        request: ScanRequest,
        env: ScanEnvironment,
        clock: Callable[[], dt.datetime],
        should_stop: Callable[[], bool],
    ) -> None:
        self.should_stop = should_stop
        self.session = session
        self.request = request
        self.env = env
        self.clock = clock
        self.started = clock()
        self.deadline = (
            time.monotonic() + request.time_limit.total_seconds() if request.time_limit else None
        )
        self.context = consent_context(session, request.property_key, now=self.started)
        self.facts = load_facts(session, request.property_key)
        self.versions = policy_versions(session, self.context.property_id, now=self.started)
        session.rollback()  # end the read: the browser takes minutes
        self.origins = {*self.context.allowed_origins, origin_of(env.base_url)}
        self.database = ocd.load(env.instance_path)
        self.regions = request.regions or default_regions(on=self.started.date())
        self.pages: list[str] = []
        self.discovering = True
        self.observations: list[Observation] = []
        self.findings: list[Finding] = []
        self.unscanned: list[Unscanned] = []
        self.browser_version = ""

    def out_of_time(self) -> bool:
        """The time limit ran out, or whoever runs the scan asked it to stop."""
        if self.should_stop():
            return True
        return self.deadline is not None and time.monotonic() >= self.deadline

    def skip(self, url: str | None, region: str | None, situation: str | None, why: str) -> None:
        self.unscanned.append(Unscanned(url=url, region=region, situation=situation, reason=why))

    def skip_cell(self, region: str, situation: Situation, why: str) -> None:
        """A whole cell not scanned (and ``withdrawn`` with ``accepted``, its first part)."""
        self.skip(None, region, situation.value, why)
        if situation is Situation.ACCEPTED and Situation.WITHDRAWN in self.request.situations:
            self.skip(None, region, Situation.WITHDRAWN.value, why)

    def start_urls(self) -> list[str]:
        valid = []
        for url in dict.fromkeys(self.request.urls):
            parts = urllib.parse.urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                self.skip(url, None, None, "not an http(s) URL")
            elif origin_of(url) not in self.origins:
                self.skip(
                    url,
                    None,
                    None,
                    f"{origin_of(url)} is not one of the property's origins "
                    f"({', '.join(sorted(self.context.allowed_origins)) or 'none'}): "
                    "only the property's own pages are scanned",
                )
            else:
                valid.append(_without_fragment(url))
        return valid[: self.request.pages]

    def add_links(self, raw: RawPage) -> None:
        for link in raw.links:
            if len(self.pages) >= self.request.pages:
                return
            parts = urllib.parse.urlsplit(link)
            if parts.scheme not in ("http", "https") or origin_of(link) not in self.origins:
                continue
            if parts.path.lower().endswith(_SKIPPED_LINKS):
                continue
            page = _without_region(_without_fragment(link))
            if page not in self.pages:
                self.pages.append(page)

    # --- cells ----------------------------------------------------------------------------

    def cells(self) -> Iterator[tuple[str, Situation]]:
        for region in self.regions:
            for situation in self.request.situations:
                if situation is not Situation.WITHDRAWN:
                    yield region, situation

    def run_cell(self, browser: Browser, region: str, situation: Situation) -> None:
        gpc = situation is Situation.GPC
        token = sign_scan_region(self.env.secret_key, None if region == UNKNOWN else region)
        withdraw = (
            situation is Situation.ACCEPTED and Situation.WITHDRAWN in self.request.situations
        )
        cell: list[tuple[Observation, Mapping[str, Decision]]] = []
        with browser.visitor(
            gpc=gpc, timing=self.request.timing, service=self.env.base_url, region_token=token
        ) as visitor:
            chosen_on: str | None = None
            if situation in (Situation.REJECTED, Situation.ACCEPTED):
                chosen_on = self.choose(visitor, region, situation)
                if chosen_on is None:
                    if withdraw:
                        why = "nothing was accepted, so nothing could be withdrawn"
                        self.skip(None, region, Situation.WITHDRAWN.value, why)
                    return
            index = 0
            while index < len(self.pages):
                page = self.pages[index]
                index += 1
                observed = self.visit(visitor, page, region, situation, gpc)
                if observed is not None:
                    cell.append(observed)
            self.judge(cell)
            if withdraw and chosen_on is not None:
                self.withdrawn(visitor, chosen_on, region)

    def choose(self, visitor: Visitor, region: str, situation: Situation) -> str | None:
        """Answer the banner on the first page that shows it; that page, or None."""
        method = "accept_all" if situation is Situation.ACCEPTED else "reject_all"
        reasons = []
        for page in self.pages:
            if self.out_of_time():
                break
            try:
                raw = visitor.load(page)
                if not raw.widget:
                    reasons.append(f"{page}: no widget")
                    continue
                visitor.choose(method)
            except PageProblem as problem:
                reasons.append(f"{page}: {problem}")
                continue
            return page
        why = "; ".join(reasons) or self.time_limit_reason()
        self.skip(
            None, region, situation, f"no page let the scan {method.replace('_', ' ')}: {why}"
        )
        return None

    def visit(
        self,
        visitor: Visitor,
        page: str,
        region: str,
        situation: Situation,
        gpc: bool,
    ) -> tuple[Observation, Mapping[str, Decision]] | None:
        if self.out_of_time():
            self.skip(page, region, situation, self.time_limit_reason())
            return None
        try:
            raw = visitor.load(page)
        except PageProblem as problem:
            self.skip(page, region, situation, str(problem))
            return None
        if self.discovering:
            self.add_links(raw)
        if not raw.widget:
            self.skip(page, region, situation, NO_WIDGET)
        observation = observe(
            raw, region=region, situation=situation.value, gpc=gpc, service=self.env.base_url
        )
        self.observations.append(observation)
        return observation, self.expected(region, gpc, visitor.receipts)

    def withdrawn(self, visitor: Visitor, page: str, region: str) -> None:
        situation = Situation.WITHDRAWN
        if self.out_of_time():
            self.skip(page, region, situation, self.time_limit_reason())
            return
        try:
            visitor.load(page)
            visitor.withdraw()
            visitor.settle()
            lingering = visitor.cookies()
            raw = visitor.load(page)
        except PageProblem as problem:
            self.skip(page, region, situation, str(problem))
            return
        raw = dataclasses.replace(raw, after_withdrawal=lingering)
        observation = observe(
            raw, region=region, situation=situation.value, gpc=False, service=self.env.base_url
        )
        self.observations.append(observation)
        self.judge([(observation, self.expected(region, False, visitor.receipts))])

    def judge(self, cell: Sequence[tuple[Observation, Mapping[str, Decision]]]) -> None:
        self.findings.extend(
            judge_cell(
                self.facts,
                [observation for observation, _ in cell],
                [expected for _, expected in cell],
                database=self.database,
            )
        )

    def expected(
        self, region: str, gpc: bool, receipts: Sequence[Mapping[str, Any]]
    ) -> dict[str, Decision]:
        """The service's decisions for this visitor now: from their receipts when the scan's
        clicks (or the widget, for GPC) recorded any, else from the rule for the region."""
        now = self.clock()
        try:
            if receipts:
                return _looked_up(self.session, self.context, receipts[-1], now, gpc)
            jurisdiction = apply_overrides(
                jurisdiction_for_region(None if region == UNKNOWN else region, on=now.date()),
                self.context.overrides,
            )
            return {
                p.key: decide(
                    p.facts,
                    jurisdiction,
                    None,
                    last_material_version=p.changed_in,
                    gpc_on_record=False,
                    now=now,
                    live_gpc=gpc,
                )
                for p in self.context.purposes
            }
        finally:
            self.session.rollback()

    def time_limit_reason(self) -> str:
        if self.should_stop():
            return "the scan was stopped (its worker is shutting down)"
        limit = self.request.time_limit
        minutes = limit.total_seconds() / 60 if limit else 0
        return f"the scan's time limit ({minutes:g} min) had run out"

    def report(self, finished: dt.datetime) -> ScanReportData:
        return ScanReportData(
            property_key=self.request.property_key,
            config_version=self.context.config_version,
            policy_versions=self.versions,
            trigger=self.request.trigger,
            started_at=self.started,
            finished_at=finished,
            urls=tuple(self.request.urls),
            pages=tuple(self.pages),
            regions=tuple(self.regions),
            situations=tuple(s.value for s in self.request.situations),
            observations=tuple(self.observations),
            findings=sorted_findings(self.findings),
            unscanned=tuple(self.unscanned),
            scanner={
                "browser": self.browser_version or None,
                "cookie_database": ocd.source(self.env.instance_path),
                "page_timeout_seconds": self.request.timing.page,
                "pages_limit": self.request.pages,
                "time_limit_seconds": (
                    self.request.time_limit.total_seconds() if self.request.time_limit else None
                ),
            },
        )


def _looked_up(
    session: Session,
    context: ConsentContext,
    receipt: Mapping[str, Any],
    now: dt.datetime,
    gpc: bool,
) -> dict[str, Decision]:
    ref = SubjectRef("visitor", str(receipt["visitor_id"]))
    answers = look_up(session, context, [ref], context.purposes, vault=None, now=now, live_gpc=gpc)
    return {answer.decision.purpose: answer.decision for answer in answers}


def run_scan(
    session: Session,
    request: ScanRequest,
    env: ScanEnvironment,
    *,
    clock: Callable[[], dt.datetime] = utcnow,
    should_stop: Callable[[], bool] = lambda: False,
) -> ScanReportData:
    """Scan and judge ``request``'s pages; the report (not stored: ``storage.store_report``).
    UnknownProperty if there is no such property; every other failure is in the report.
    ``should_stop`` is asked before each page: True ends the scan there (what is left is
    reported as not scanned)."""
    scan = _Scan(session, request, env, clock, should_stop)
    scan.pages = scan.start_urls()
    if scan.pages:
        try:
            with open_browser(env.browser) as browser:
                scan.browser_version = browser.version
                for region, situation in scan.cells():
                    if scan.out_of_time():
                        scan.skip_cell(region, situation, scan.time_limit_reason())
                        continue
                    scan.run_cell(browser, region, situation)
                    scan.discovering = False
        except BrowserUnavailable as problem:
            for page in scan.pages:
                scan.skip(page, None, None, str(problem))
    return scan.report(clock())


def _without_region(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, True) if k != "region"]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def _without_fragment(url: str) -> str:
    return urllib.parse.urldefrag(url)[0]
