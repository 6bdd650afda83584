"""Findings: what a cell's observations (one region, one situation, every page) show against
the service's decisions and the property's vendor list. Pure: no browser, no database.

``expected`` is what the service decides for the cell's visitor, per purpose
(``decisions.rule.Decision``): from the receipts the scan's clicks recorded, through the same
look-up integrations use, or, before any choice, from the rule itself. A thing is allowed when
a purpose it serves is essential or allowed; a declared vendor's cookie, storage key or host
serves the vendor's purposes (the widget clears a vendor's cookies when none of them is
granted, so the same reading); anything undeclared is a warning, suggested a vendor and
purpose by the Open Cookie Database, and also a violation when that purpose is refused.

A refused thing found before any choice is ``before_consent``; after a refusal, an opt-out
or under GPC, ``after_refusal``; a declared vendor's cookie still there after a withdrawal
(right after it, or after the reload) is ``not_cleared``. Each finding is reported once per
cell, on the first page it was seen, its evidence naming every page.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from consent_service.decisions.rule import Decision
from consent_service.decisions.rule import Reason
from consent_service.scanning.ocd import CATEGORY_PURPOSES
from consent_service.scanning.ocd import ESSENTIAL_CATEGORIES
from consent_service.scanning.ocd import CookieDatabase
from consent_service.scanning.ocd import Entry
from consent_service.scanning.report import SEVERITY
from consent_service.scanning.report import Finding
from consent_service.scanning.report import FindingKind
from consent_service.scanning.report import Observation
from consent_service.scanning.report import Situation
from consent_service.scanning.report import Suggestion

# Reasons that mean "never validly asked": a refused thing then is before consent.
_NOT_ASKED = frozenset(
    {Reason.NO_RECORD, Reason.EXPIRED, Reason.STALE_POLICY, Reason.MATERIAL_CHANGE}
)
USNAT_OPT_OUTS = {
    "sale": "SaleOptOut",
    "sharing": "SharingOptOut",
    "targeted_advertising": "TargetedAdvertisingOptOut",
}
# Granted by the widget's own Consent Mode default, whatever the purposes say.
_ALWAYS_GRANTED = frozenset({"security_storage"})


@dataclasses.dataclass(frozen=True)
class PurposeInfo:
    key: str
    essential: bool
    opt_out_categories: frozenset[str]
    consent_mode: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class CookiePattern:
    name: str  # as declared: ``*`` matches any run of characters
    domain: str  # "first-party", or the third party's domain (``.facebook.com``)

    def matches(self, name: str, domain: str | None, third_party: bool) -> bool:
        if not fnmatch.fnmatchcase(name, self.name):
            return False
        if domain is None or not self.domain:
            return True
        if self.domain == "first-party":
            return not third_party
        wanted = self.domain.lstrip(".").lower()
        found = domain.lstrip(".").lower()
        return found == wanted or found.endswith("." + wanted)


@dataclasses.dataclass(frozen=True)
class VendorInfo:
    key: str
    name: str
    purposes: tuple[str, ...]
    cookies: tuple[CookiePattern, ...]

    @property
    def hosts(self) -> tuple[str, ...]:
        """The third-party domains its cookies are declared on: its requests go there."""
        return tuple(
            sorted({c.domain.lstrip(".").lower() for c in self.cookies if _is_domain(c.domain)})
        )

    def serves_host(self, host: str) -> bool:
        return any(host == d or host.endswith("." + d) for d in self.hosts)


@dataclasses.dataclass(frozen=True)
class PropertyFacts:
    """What judging needs of a property: its purposes (in order) and vendors."""

    key: str
    purposes: tuple[PurposeInfo, ...]
    vendors: tuple[VendorInfo, ...]

    @property
    def widget_storage_keys(self) -> frozenset[str]:
        return frozenset({f"consent_receipt_{self.key}", f"consent_identified_{self.key}"})


def _is_domain(domain: str) -> bool:
    return bool(domain) and domain != "first-party"


@dataclasses.dataclass
class _Collector:
    """Findings of one cell, one per (kind, subject), pages gathered into the evidence."""

    region: str
    situation: str
    found: dict[tuple[str, str, str, str | None], Finding] = dataclasses.field(default_factory=dict)

    def add(
        self,
        kind: FindingKind,
        page: str,
        subject_type: str,
        subject: str,
        message: str,
        evidence: dict[str, Any],
        *,
        purpose: str | None = None,
        vendor: str | None = None,
        suggestion: Suggestion | None = None,
    ) -> None:
        key = (kind.value, subject_type, subject, vendor)
        held = self.found.get(key)
        if held is not None:
            if page not in held.evidence["pages"]:
                held.evidence["pages"].append(page)
            return
        self.found[key] = Finding(
            kind=kind.value,
            severity=SEVERITY[kind].value,
            region=self.region,
            situation=self.situation,
            url=page,
            subject_type=subject_type,
            subject=subject,
            purpose=purpose,
            vendor=vendor,
            message=message,
            evidence={**_plain(evidence), "pages": [page]},
            suggestion=suggestion,
        )


def judge_cell(
    facts: PropertyFacts,
    observations: Sequence[Observation],
    expected: Sequence[Mapping[str, Decision]],
    *,
    database: CookieDatabase,
) -> list[Finding]:
    """Findings of one (region, situation): ``observations`` its pages in order, ``expected``
    the service's decisions for each of them (a choice recorded on one page changes them)."""
    if not observations:
        return []
    first = observations[0]
    collector = _Collector(first.region, first.situation)
    for observation, decisions in zip(observations, expected, strict=True):
        judge = _PageJudge(facts, observation, decisions, database, collector)
        judge.cookies()
        judge.storage()
        judge.requests()
        if observation.widget:
            judge.signals()
    return list(collector.found.values())


class _PageJudge:
    def __init__(
        self,
        facts: PropertyFacts,
        observation: Observation,
        expected: Mapping[str, Decision],
        database: CookieDatabase,
        collector: _Collector,
    ) -> None:
        self.facts = facts
        self.page = observation
        self.expected = expected
        self.database = database
        self.out = collector
        self.essential = {p.key for p in facts.purposes if p.essential}

    def allowed(self, purpose: str) -> bool:
        decision = self.expected.get(purpose)
        return purpose in self.essential or (decision is not None and decision.allowed)

    def refusal(self, purposes: Sequence[str]) -> tuple[str, Decision | None] | None:
        """None if one of ``purposes`` allows it; else the first refused purpose and why."""
        if any(self.allowed(p) for p in purposes):
            return None
        first = purposes[0] if purposes else ""
        return first, self.expected.get(first)

    def kind_of(self, decision: Decision | None) -> FindingKind:
        if decision is None or decision.reason in _NOT_ASKED:
            return FindingKind.BEFORE_CONSENT
        return FindingKind.AFTER_REFUSAL

    # --- cookies and storage --------------------------------------------------------------

    def cookies(self) -> None:
        withdrawn = self.page.situation == Situation.WITHDRAWN
        after_reload = {(c.name, c.domain, c.path) for c in self.page.cookies}
        lingering = {(c.name, c.domain, c.path): c for c in self.page.after_withdrawal}
        every = {**lingering, **{(c.name, c.domain, c.path): c for c in self.page.cookies}}
        for identity, cookie in every.items():
            if cookie.name in self.page.widget_cookies or cookie.name in (
                f"consent_{self.facts.key}",
                f"consent_token_{self.facts.key}",
            ):
                continue  # the widget's own record of the choice and its consent token
            vendor = self.vendor_of(cookie.name, cookie.domain, cookie.third_party)
            if vendor is None:
                self.undeclared("cookie", cookie.name, {"cookie": cookie})
                continue
            refused = self.refusal(vendor.purposes)
            if refused is None:
                continue
            purpose, decision = refused
            if withdrawn:
                when = [
                    moment
                    for moment, present in (
                        ("right after the withdrawal", identity in lingering),
                        ("after reloading the page", identity in after_reload),
                    )
                    if present
                ]
                self.out.add(
                    FindingKind.NOT_CLEARED,
                    self.page.url,
                    "cookie",
                    cookie.name,
                    f"cookie {cookie.name} of {vendor.name} was still set "
                    f"{' and '.join(when)}: withdrawing consent did not clear it",
                    {
                        "cookie": cookie,
                        "after_withdrawal": identity in lingering,
                        "after_reload": identity in after_reload,
                        "decision": _decision(decision, purpose),
                    },
                    purpose=purpose,
                    vendor=vendor.key,
                )
                continue
            self.refused_thing("cookie", cookie.name, cookie, vendor, purpose, decision)

    def storage(self) -> None:
        for item in self.page.storage:
            if item.key in self.facts.widget_storage_keys:
                continue
            vendor = self.vendor_of(item.key, None, False)
            if vendor is None:
                self.undeclared("storage", item.key, {"storage": item})
                continue
            refused = self.refusal(vendor.purposes)
            if refused is not None:
                self.refused_thing("storage", item.key, item, vendor, *refused)

    def vendor_of(self, name: str, domain: str | None, third_party: bool) -> VendorInfo | None:
        for vendor in self.facts.vendors:
            if any(p.matches(name, domain, third_party) for p in vendor.cookies):
                return vendor
        return None

    # --- requests -------------------------------------------------------------------------

    def requests(self) -> None:
        for request in self.page.requests:
            host = request.host.rsplit(":", 1)[0] if ":" in request.host else request.host
            vendor = next((v for v in self.facts.vendors if v.serves_host(host)), None)
            if vendor is None:
                self.undeclared("request", request.host, {"request": request}, host=host)
                continue
            refused = self.refusal(vendor.purposes)
            if refused is not None:
                self.refused_thing("request", request.host, request, vendor, *refused)

    # --- shared ---------------------------------------------------------------------------

    def refused_thing(
        self,
        subject_type: str,
        subject: str,
        record: Any,
        vendor: VendorInfo,
        purpose: str,
        decision: Decision | None,
    ) -> None:
        kind = self.kind_of(decision)
        what = _WHAT[subject_type]
        self.out.add(
            kind,
            self.page.url,
            subject_type,
            subject,
            f"{what} {subject} of {vendor.name} ({', '.join(vendor.purposes) or 'no purpose'}) "
            f"{_WHEN[kind]}: {purpose} is {_refused(decision)}",
            {subject_type: record, "decision": _decision(decision, purpose)},
            purpose=purpose,
            vendor=vendor.key,
        )

    def undeclared(
        self, subject_type: str, subject: str, evidence: dict[str, Any], *, host: str | None = None
    ) -> None:
        entry = self.database.by_host(host) if host else self.database.by_name(subject)
        suggestion = self.suggest(entry) if entry else None
        what = _WHAT[subject_type]
        known = (
            f"; the Open Cookie Database says {suggestion.vendor} ({suggestion.category})"
            if suggestion
            else "; the Open Cookie Database does not know it"
        )
        self.out.add(
            FindingKind.UNDECLARED,
            self.page.url,
            subject_type,
            subject,
            f"{what} {subject} is not in the property's vendor list{known}",
            evidence,
            purpose=suggestion.purpose if suggestion else None,
            suggestion=suggestion,
        )
        if suggestion is None or suggestion.purpose is None or entry is None:
            return
        if entry.category in ESSENTIAL_CATEGORIES or self.allowed(suggestion.purpose):
            return
        decision = self.expected.get(suggestion.purpose)
        kind = self.kind_of(decision)
        self.out.add(
            kind,
            self.page.url,
            subject_type,
            subject,
            f"{what} {subject} (undeclared; {suggestion.category} by the Open Cookie Database) "
            f"{_WHEN[kind]}: {suggestion.purpose} is {_refused(decision)}",
            {**evidence, "decision": _decision(decision, suggestion.purpose)},
            purpose=suggestion.purpose,
            suggestion=suggestion,
        )

    def suggest(self, entry: Entry) -> Suggestion:
        offered = {p.key for p in self.facts.purposes}
        purpose = next((k for k in CATEGORY_PURPOSES.get(entry.category, ()) if k in offered), None)
        return Suggestion(
            vendor=entry.platform,
            category=entry.category,
            purpose=purpose,
            description=entry.description,
            retention=entry.retention,
            pattern=entry.name,
            wildcard=entry.wildcard,
        )

    # --- signals --------------------------------------------------------------------------

    def signals(self) -> None:
        self.widget_decisions()
        self.consent_mode()
        self.usnat()

    def widget_decisions(self) -> None:
        shown = self.page.decisions or {}
        for key, decision in self.expected.items():
            if key in shown and bool(shown[key]) != decision.allowed:
                self.mismatch(
                    "widget",
                    key,
                    f"the widget applies {key} as {_state(shown[key])}, the service decides "
                    f"{_state(decision.allowed)} ({decision.reason})",
                    {"widget": shown[key], "decision": _decision(decision, key)},
                )

    def consent_mode(self) -> None:
        state = self.page.consent_mode
        if state is None:
            return
        wanted: dict[str, str] = {}
        for purpose in self.facts.purposes:
            for kind in purpose.consent_mode:
                granted = wanted.get(kind) == "granted" or self.allowed(purpose.key)
                wanted[kind] = "granted" if granted else "denied"
        for kind in sorted({*wanted, *state}):
            # Google's tags take a type no command set as granted.
            value = state.get(kind, "granted")
            want = wanted.get(kind, "granted" if kind in _ALWAYS_GRANTED else "denied")
            if value == want or (kind not in wanted and (kind not in state or value != "granted")):
                continue
            self.mismatch(
                "consent_mode",
                kind,
                f"Consent Mode {'says' if kind in state else 'never sets, so tags take'} "
                f"{kind} {value}; the service's decisions make it {want}",
                {"consent_mode": {kind: state.get(kind)}, "expected": want},
            )

    def usnat(self) -> None:
        code = self.page.jurisdiction or ""
        gpp = self.page.gpp or {}
        section = (gpp.get("parsedSections") or {}).get("usnat")
        if not code.startswith("US") or not isinstance(section, list) or not section:
            return
        core = section[0] if isinstance(section[0], dict) else {}
        sub = section[1] if len(section) > 1 and isinstance(section[1], dict) else {}
        if bool(sub.get("Gpc")) != self.page.gpc:
            self.mismatch(
                "gpp",
                "usnat.Gpc",
                f"the GPP usnat section says Gpc {bool(sub.get('Gpc'))} while the browser "
                f"sends GPC {'on' if self.page.gpc else 'off'}",
                {"gpp": {"Gpc": sub.get("Gpc")}, "expected": self.page.gpc},
            )
        for category, field in USNAT_OPT_OUTS.items():
            carriers = [p for p in self.facts.purposes if category in p.opt_out_categories]
            want = 0 if not carriers else 2 if any(self.allowed(p.key) for p in carriers) else 1
            if core.get(field) != want:
                self.mismatch(
                    "gpp",
                    f"usnat.{field}",
                    f"the GPP usnat section says {field} {core.get(field)}; the service's "
                    f"decisions make it {want} ({_USNAT_VALUES[want]})",
                    {"gpp": {field: core.get(field)}, "expected": want},
                )

    def mismatch(
        self, subject_type: str, subject: str, message: str, evidence: dict[str, Any]
    ) -> None:
        self.out.add(
            FindingKind.SIGNAL_MISMATCH, self.page.url, subject_type, subject, message, evidence
        )


_WHAT = {"cookie": "cookie", "storage": "storage key", "request": "request to"}
_WHEN = {
    FindingKind.BEFORE_CONSENT: "before any choice",
    FindingKind.AFTER_REFUSAL: "after it was refused",
}
_USNAT_VALUES = {0: "not applicable", 1: "opted out", 2: "did not opt out"}


def _state(allowed: object) -> str:
    return "granted" if allowed else "denied"


def _refused(decision: Decision | None) -> str:
    return f"denied ({decision.reason})" if decision is not None else "not decided"


def _decision(decision: Decision | None, purpose: str) -> dict[str, Any]:
    if decision is None:
        return {"purpose": purpose, "allowed": False, "reason": None}
    return {"purpose": purpose, "allowed": decision.allowed, "reason": str(decision.reason)}


def _plain(value: Any) -> Any:
    """JSON's own types (lists, not tuples), so a report reads back equal to what was signed."""
    return json.loads(json.dumps(value, default=_default))


def _default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
