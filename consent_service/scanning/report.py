"""A scan report's typed structure and its one JSON form (what is hashed, signed and stored).

A report is made of :class:`Observation` s (what one page did in one region and situation:
cookies, storage keys, requests to other sites, the Consent Mode and GPP state it showed),
:class:`Finding` s (what the judge concluded, each with its evidence) and :class:`Unscanned`
entries (what could not be scanned, and why). :meth:`ScanReportData.to_json` gives the JSON
object that ``storage.store_report`` serialises canonically (sorted keys, UTF-8), hashes and
signs; :meth:`ScanReportData.from_json` reads it back. Times are RFC 3339 UTC strings with
milliseconds; no request URL carries query values (only the parameter names).

Vocabulary shared with the admin's Scans page:

* :class:`Situation`: ``first_visit`` (no action), ``rejected`` (after "reject all" / "opt
  out"), ``accepted`` (after "accept all"), ``gpc`` (Global Privacy Control on, no action),
  and ``withdrawn`` (after accepting, the choice withdrawn through the widget and the first
  page reloaded: part of the ``accepted`` run).
* :class:`FindingKind` and its :data:`SEVERITY`: ``before_consent``, ``after_refusal``,
  ``not_cleared`` and ``signal_mismatch`` are violations; ``undeclared`` (a cookie, storage
  key or host the vendor list does not name) is a warning, with a suggestion from the Open
  Cookie Database where it knows the name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from consent_service.infra.times import rfc3339_millis

SCHEMA = "consent-service/scan-report/v1"


class Situation(enum.StrEnum):
    FIRST_VISIT = "first_visit"
    REJECTED = "rejected"
    ACCEPTED = "accepted"
    GPC = "gpc"
    WITHDRAWN = "withdrawn"


# The situations a scan runs unless told otherwise; ``withdrawn`` is the last step of the
# ``accepted`` run (same browser context), on the page where the banner was answered.
DEFAULT_SITUATIONS = (
    Situation.FIRST_VISIT,
    Situation.REJECTED,
    Situation.ACCEPTED,
    Situation.WITHDRAWN,
    Situation.GPC,
)


class FindingKind(enum.StrEnum):
    # Non-essential cookie / storage / request before any choice where the law wants opt-in.
    BEFORE_CONSENT = "before_consent"
    # Non-essential cookie / storage / request after a refusal, an opt-out or under GPC.
    AFTER_REFUSAL = "after_refusal"
    # A cookie, storage key or third-party host that no vendor of the property declares.
    UNDECLARED = "undeclared"
    # A declared vendor cookie still set after the choice was withdrawn (and the page reloaded).
    NOT_CLEARED = "not_cleared"
    # The page's Consent Mode or GPP / GPC state disagrees with the service's decision.
    SIGNAL_MISMATCH = "signal_mismatch"


class Severity(enum.StrEnum):
    VIOLATION = "violation"
    WARNING = "warning"


SEVERITY: Mapping[FindingKind, Severity] = {
    FindingKind.BEFORE_CONSENT: Severity.VIOLATION,
    FindingKind.AFTER_REFUSAL: Severity.VIOLATION,
    FindingKind.NOT_CLEARED: Severity.VIOLATION,
    FindingKind.SIGNAL_MISMATCH: Severity.VIOLATION,
    FindingKind.UNDECLARED: Severity.WARNING,
}


@dataclasses.dataclass(frozen=True)
class CookieRecord:
    """A cookie in the browser's jar after the page settled."""

    name: str
    domain: str  # as the jar has it: ``shop.example`` (host-only) or ``.shop.example``
    path: str
    third_party: bool  # its domain is not the scanned page's site
    expires: str | None  # RFC 3339; None for a session cookie
    http_only: bool
    secure: bool
    same_site: str
    # "response" (a Set-Cookie header), "script" (document.cookie) or "unknown" (neither seen:
    # set by a frame or a service worker the scanner does not instrument).
    set_by: str
    # The response's URL (no query values) or the script's URL from the setter's stack.
    source: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CookieRecord:
        return cls(**_fields(cls, data))


@dataclasses.dataclass(frozen=True)
class StorageRecord:
    """A ``localStorage`` / ``sessionStorage`` key of the page's origin."""

    area: str  # "local" or "session"
    key: str
    origin: str
    source: str | None  # the script that wrote it, from the setter's stack (None: unknown)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StorageRecord:
        return cls(**_fields(cls, data))


@dataclasses.dataclass(frozen=True)
class RequestRecord:
    """A request the page made to another site (never to its own site or the service)."""

    host: str  # with the port when it is not the scheme's default
    path: str
    query_keys: tuple[str, ...]  # the parameters' names; their values are never kept
    resource_type: str  # Playwright's: script, image, xhr, fetch, document, ...
    initiator: str | None  # the frame's URL that made it (no query values)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RequestRecord:
        fields = _fields(cls, data)
        fields["query_keys"] = tuple(fields["query_keys"])
        return cls(**fields)


@dataclasses.dataclass(frozen=True)
class Observation:
    """What one page did in one region and situation, in a fresh browser context."""

    url: str
    region: str
    situation: str
    # The jurisdiction the widget's banner answered for (None: the widget did not load).
    jurisdiction: str | None
    widget: bool  # the widget ran and applied a decision
    # The widget's decisions once the page settled (window.consent.get()).
    decisions: dict[str, bool] | None
    gpc: bool  # navigator.globalPrivacyControl was on (and Sec-GPC: 1 sent)
    cookies: tuple[CookieRecord, ...]
    storage: tuple[StorageRecord, ...]
    requests: tuple[RequestRecord, ...]
    # Consent Mode state after the page's dataLayer ``consent`` commands (default, then each
    # update); None when the page pushed none.
    consent_mode: dict[str, str] | None
    # ``__gpp('ping')``'s answer (None: no GPP API on the page).
    gpp: dict[str, Any] | None
    # The cookies the page's widget tag keeps the choice and its consent token in (its
    # ``data-cookie`` and ``data-token-cookie``, else ``consent_<property>`` and
    # ``consent_token_<property>``); empty without the widget.
    widget_cookies: tuple[str, ...] = ()
    # ``withdrawn`` only: the jar right after the withdrawal settled, before the reload that
    # ``cookies`` comes from (a tracker may set its cookie again in between).
    after_withdrawal: tuple[CookieRecord, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Observation:
        fields = _fields(cls, data)
        fields["cookies"] = tuple(CookieRecord.from_json(c) for c in fields["cookies"])
        fields["after_withdrawal"] = tuple(
            CookieRecord.from_json(c) for c in fields.get("after_withdrawal", ())
        )
        fields["storage"] = tuple(StorageRecord.from_json(s) for s in fields["storage"])
        fields["requests"] = tuple(RequestRecord.from_json(r) for r in fields["requests"])
        fields["widget_cookies"] = tuple(fields.get("widget_cookies", ()))
        return cls(**fields)


@dataclasses.dataclass(frozen=True)
class Suggestion:
    """What the Open Cookie Database says an undeclared cookie or storage key is."""

    vendor: str  # the database's "platform", e.g. "Google Analytics"
    category: str  # the database's category: Functional, Analytics, Marketing, ...
    purpose: str | None  # the property's purpose that category maps to, if any
    description: str
    retention: str
    pattern: str  # the database's cookie name (a prefix where ``wildcard``)
    wildcard: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Suggestion:
        return cls(**_fields(cls, data))


@dataclasses.dataclass(frozen=True)
class Finding:
    """One thing the judge found, with the evidence that shows it."""

    kind: str  # a FindingKind
    severity: str  # a Severity (SEVERITY[kind])
    region: str
    situation: str
    url: str
    # What it is about: "cookie", "storage", "request", "consent_mode", "gpp" or "gpc".
    subject_type: str
    subject: str  # the cookie's or key's name, the host, the signal's field
    purpose: str | None  # the non-essential purpose it serves, where known
    vendor: str | None  # the declared vendor's key, where it is one
    message: str  # one sentence a person reads
    evidence: dict[str, Any]  # the record(s) it rests on, as in the observation
    suggestion: Suggestion | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        fields = _fields(cls, data)
        if fields["suggestion"] is not None:
            fields["suggestion"] = Suggestion.from_json(fields["suggestion"])
        return cls(**fields)


@dataclasses.dataclass(frozen=True)
class Unscanned:
    """A page (or one region / situation of it, or the whole scan) that could not be scanned."""

    url: str | None
    region: str | None
    situation: str | None
    reason: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Unscanned:
        return cls(**_fields(cls, data))


@dataclasses.dataclass(frozen=True)
class ScanReportData:
    """A whole scan: what was asked, what was seen, what was found, what could not be seen."""

    property_key: str
    config_version: int
    policy_versions: dict[str, int]
    trigger: str  # a ScanTrigger
    started_at: dt.datetime
    finished_at: dt.datetime
    urls: tuple[str, ...]  # the start URLs given
    pages: tuple[str, ...]  # every page scanned (start URLs and same-site links followed)
    regions: tuple[str, ...]
    situations: tuple[str, ...]
    observations: tuple[Observation, ...]
    findings: tuple[Finding, ...]
    unscanned: tuple[Unscanned, ...]
    # What did the scanning: browser version, Open Cookie Database source, time limits.
    scanner: dict[str, Any]

    @property
    def status(self) -> str:
        """``completed``, ``partial`` or ``failed`` (a ScanStatus value)."""
        if not self.observations:
            return "failed"
        return "partial" if self.unscanned else "completed"

    @property
    def counts(self) -> dict[str, int]:
        """Findings per kind, every kind present."""
        counts = dict.fromkeys((kind.value for kind in FindingKind), 0)
        for finding in self.findings:
            counts[finding.kind] += 1
        return counts

    def count(self, severity: Severity) -> int:
        return sum(1 for finding in self.findings if finding.severity == severity)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["schema"] = SCHEMA
        data["started_at"] = rfc3339_millis(self.started_at)
        data["finished_at"] = rfc3339_millis(self.finished_at)
        data["status"] = self.status
        data["counts"] = self.counts
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScanReportData:
        if data.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} report")
        fields = _fields(cls, data)
        fields["started_at"] = _parse_time(fields["started_at"])
        fields["finished_at"] = _parse_time(fields["finished_at"])
        for name in ("urls", "pages", "regions", "situations"):
            fields[name] = tuple(fields[name])
        fields["observations"] = tuple(Observation.from_json(o) for o in fields["observations"])
        fields["findings"] = tuple(Finding.from_json(f) for f in fields["findings"])
        fields["unscanned"] = tuple(Unscanned.from_json(u) for u in fields["unscanned"])
        return cls(**fields)

    def findings_for(self, region: str, situation: str) -> list[Finding]:
        return [f for f in self.findings if f.region == region and f.situation == situation]


def _fields(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """The dataclass's own fields from ``data`` (defaults where absent); extra keys (the
    derived ``status``, ``counts``, ``schema``) are left out."""
    out: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        if field.name in data:
            out[field.name] = data[field.name]
        elif field.default is dataclasses.MISSING:
            raise ValueError(f"{cls.__name__} lacks {field.name!r}")
    return out


def _parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


def severity_of(kind: FindingKind) -> Severity:
    return SEVERITY[kind]


def sorted_findings(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """Violations first, then by region, situation, page and subject: a stable order, so two
    scans that found the same things produce the same report."""
    order = {Severity.VIOLATION.value: 0, Severity.WARNING.value: 1}
    return tuple(
        sorted(
            findings,
            key=lambda f: (order[f.severity], f.kind, f.region, f.situation, f.url, f.subject),
        )
    )
