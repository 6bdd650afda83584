"""What the admin's Scans page shows of a property's stored compliance scans, and its one
change: declaring a finding's Open Cookie Database suggestion in the vendor list.

* :func:`scans_overview`: the property's latest finished scans, each one's signature checked
  now (:func:`signature_problem`: bytes, hash, JWS against the published keys); the newest
  result for every region and
  situation those scans covered, what the newest scan asking for it could not scan; and each
  undeclared cookie, storage key or host found there once, with whether the vendor list
  declares it by now.
* :func:`planned_scans`: the deployment's schedule for the property (an environment
  setting, so the page shows it and does not edit it).
* :func:`declare_finding`: one ``undeclared`` finding of a verified report, with the purpose
  an editor chose, added to the vendor list (``properties.declarations``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import hashlib
import json
import uuid
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.errors import ConsentServiceError
from consent_service.errors import FieldError
from consent_service.errors import ValidationFailed
from consent_service.infra.signing import InvalidReceiptSignature
from consent_service.infra.signing import b64url_decode
from consent_service.infra.signing import verify_jws
from consent_service.models import Property
from consent_service.models import ScanReport
from consent_service.models import Vendor
from consent_service.properties.declarations import FIRST_PARTY
from consent_service.properties.declarations import CookieDeclaration
from consent_service.properties.declarations import Declared
from consent_service.properties.declarations import Seen
from consent_service.properties.declarations import declare_cookie
from consent_service.properties.declarations import declaring_vendor
from consent_service.properties.declarations import duration_from_words
from consent_service.scanning.report import Finding
from consent_service.scanning.report import FindingKind
from consent_service.scanning.report import ScanReportData
from consent_service.scanning.report import Severity
from consent_service.scanning.report import Situation
from consent_service.scanning.report import Unscanned
from consent_service.scanning.run import default_regions
from consent_service.scanning.storage import REPORT_TYP
from consent_service.scanning.storage import CellResult
from consent_service.scanning.storage import InvalidScanReport
from consent_service.scanning.storage import StoredScan
from consent_service.scanning.storage import latest_per_cell
from consent_service.scanning.storage import parse_report
from consent_service.scanning.storage import verify_report
from consent_service.self_service.proof import decoded_payload
from consent_service.settings import ScheduledScan

# Scans the page lists: the trend's length, and how far back a region's last result is found.
HISTORY = 20
SITUATION_ORDER = tuple(s.value for s in Situation)
DOWNLOAD_SCHEMA = "consent-service/signed-scan-report/v1"
HOW_TO_VERIFY = (
    "'report' is the scan report exactly as it was signed: a JSON text (parse it to read it). "
    "Its UTF-8 bytes hash (SHA-256, hex) to 'report_sha256'. 'jws' is a compact JWS (RFC 7515, "
    "alg Ed25519, typ scan-report+jws): take the key whose 'kid' matches its header from the "
    "JWKS at 'jwks_url' and check the signature over the ASCII bytes '<header>.<payload>' (the "
    "first two dot-separated parts). Its payload ('signed' here, decoded) names the same "
    "'report_sha256' and 'scan_id', so a report changed in any byte no longer matches."
)


class UnknownScanFinding(ConsentServiceError):
    """No such finding in the property's stored scans. Admin only: no problem type."""

    code = "unknown-scan-finding"
    title = "No such scan finding"
    status = HTTPStatus.NOT_FOUND


@dataclasses.dataclass(frozen=True)
class ScanLine:
    """A stored scan as the history lists it: its row, what it covered (read from the report's
    JSON without building the typed report, which is what costs), and what checking its
    signature said (None: it verifies)."""

    row: ScanReport
    pages: int
    regions: tuple[str, ...]
    situations: tuple[str, ...]
    unscanned: tuple[Unscanned, ...]
    observed: frozenset[tuple[str, str]]  # the (region, situation) cells it observed
    problem: str | None

    @property
    def finished(self) -> bool:
        """A report was stored (not a scan still running, or one that failed before one)."""
        return self.row.report_json is not None

    @property
    def verified(self) -> bool:
        return self.finished and self.problem is None


@dataclasses.dataclass(frozen=True)
class Cell:
    """One region and situation: the newest result (None: never scanned), and what the newest
    scan that asked for it could not scan there."""

    region: str
    situation: str
    result: CellResult | None
    gaps: tuple[Unscanned, ...]

    @property
    def violations(self) -> int:
        return self._count(Severity.VIOLATION)

    @property
    def warnings(self) -> int:
        return self._count(Severity.WARNING)

    @property
    def state(self) -> str:
        """``violations``, ``warnings``, ``clean`` or ``unscanned``."""
        if self.result is None:
            return "unscanned"
        if self.violations:
            return "violations"
        return "warnings" if self.warnings else "clean"

    def _count(self, severity: Severity) -> int:
        found = self.result.findings if self.result else ()
        return sum(1 for f in found if f.severity == severity)


@dataclasses.dataclass(frozen=True)
class Undeclared:
    """A cookie, storage key or host the vendor list did not name, as first found in the
    newest results: the finding (``index`` in its scan's report) and every cell it was in."""

    scan_id: uuid.UUID
    index: int
    finding: Finding
    cells: tuple[tuple[str, str], ...]
    declared_by: Vendor | None  # the vendor that declares it now (since the scan)


@dataclasses.dataclass(frozen=True)
class ScansOverview:
    history: list[ScanLine]  # newest first
    scans: list[StoredScan]  # the reports read back: those holding some cell's newest result
    regions: list[str]
    situations: list[str]
    cells: dict[tuple[str, str], Cell]
    undeclared: list[Undeclared]

    @property
    def finished(self) -> list[ScanLine]:
        return [line for line in self.history if line.finished]

    def cell(self, region: str, situation: str) -> Cell:
        return self.cells[(region, situation)]

    def findings(self) -> list[tuple[Cell, list[tuple[int, Finding]]]]:
        """Each cell with findings, in grid order, with each finding's index in its report."""
        shown = []
        positions = _positions(self.scans)
        for region in self.regions:
            for situation in self.situations:
                cell = self.cells[(region, situation)]
                if cell.result is None or not cell.result.findings:
                    continue
                shown.append((cell, [(positions[id(f)], f) for f in cell.result.findings]))
        return shown

    def problem_of(self, scan_id: uuid.UUID) -> str | None:
        """Why that scan's report does not verify (None: it does)."""
        return next((line.problem for line in self.history if line.row.id == scan_id), None)


@dataclasses.dataclass(frozen=True)
class PlannedScan:
    """One of the property's scheduled scans (``CONSENT_SCAN_SCHEDULE``), the regions it will
    cover, and from when it is due (None: no scan yet, so at the worker's next round)."""

    scan: ScheduledScan
    regions: tuple[str, ...]
    due: dt.datetime | None


def planned_scans(
    prop: Property,
    schedule: Sequence[ScheduledScan],
    history: Sequence[ScanLine],
    *,
    now: dt.datetime,
) -> list[PlannedScan]:
    """The deployment's schedule for ``prop``: the worker starts a scan once the property's
    last scan (of any kind, ``history`` newest first) started longer ago than ``every``."""
    last = history[0].row.started_at if history else None
    return [
        PlannedScan(
            scan=entry,
            regions=entry.regions or default_regions(on=now.date()),
            due=last + entry.every if last else None,
        )
        for entry in schedule
        if entry.property == prop.key
    ]


def scans_overview(
    session: Session, prop: Property, public_keys: Mapping[str, str], *, limit: int = HISTORY
) -> ScansOverview:
    """Everything the Scans page shows of ``prop``; ``public_keys`` as the JWKS publishes.

    Every listed scan's signature is checked, but only the reports that hold some cell's
    newest result are read back into typed reports: a 10-page scan of 5 regions and 5
    situations is megabytes of JSON, and building it is what a page of 20 scans would spend
    its time on."""
    rows = session.scalars(
        sa.select(ScanReport)
        .where(ScanReport.property_id == prop.id)
        .order_by(ScanReport.started_at.desc(), ScanReport.id.desc())
        .limit(limit)
    )
    history = [_line(row, public_keys) for row in rows]
    newest: dict[tuple[str, str], int] = {}
    for position, line in enumerate(history):
        for cell in line.observed:
            newest.setdefault(cell, position)
    scans = [
        StoredScan(history[i].row, report)
        for i in sorted(set(newest.values()))
        if (report := _read(history[i].row)) is not None
    ]
    regions = _ordered(
        r for line in history for r in (*line.regions, *sorted(c[0] for c in line.observed))
    )
    situations = _ordered(
        x for line in history for x in (*line.situations, *sorted(c[1] for c in line.observed))
    )
    situations.sort(key=lambda x: SITUATION_ORDER.index(x) if x in SITUATION_ORDER else 99)
    results = latest_per_cell(scans)
    cells = {
        (r, s): Cell(r, s, results.get((r, s)), _gaps(history, r, s))
        for r in regions
        for s in situations
    }
    vendors = list(session.scalars(sa.select(Vendor).where(Vendor.property_id == prop.id)))
    undeclared = _undeclared(scans, cells.values(), vendors)
    return ScansOverview(history, scans, regions, situations, cells, undeclared)


def declare_finding(
    session: Session,
    prop: Property,
    scan_id: uuid.UUID,
    index: int,
    purpose: str,
    *,
    public_keys: Mapping[str, str],
) -> tuple[Finding, CookieDeclaration, Declared]:
    """Declare finding ``index`` of scan ``scan_id`` (an ``undeclared`` one with a suggestion,
    from a report that verifies) as its suggested vendor's cookie serving ``purpose``; the
    caller audits and commits. UnknownScanFinding, or ValidationFailed saying why not."""
    row = session.get(ScanReport, scan_id)
    if row is None or row.property_id != prop.id or row.report_json is None:
        raise UnknownScanFinding(f"{prop.key} has no finished scan {scan_id}")
    try:
        report = verify_report(row, public_keys)
    except InvalidScanReport as exc:
        refused = f"the stored report does not verify ({exc.detail}), so nothing is taken from it"
        raise ValidationFailed(refused, errors=[FieldError("/scan", refused)]) from None
    if not 0 <= index < len(report.findings):
        raise UnknownScanFinding(f"scan {scan_id} has no finding {index}")
    finding = report.findings[index]
    declaration = declaration_for(finding, purpose)
    return finding, declaration, declare_cookie(session, prop, declaration, seen_in(finding))


def declaration_for(finding: Finding, purpose: str) -> CookieDeclaration:
    """The vendor-list row a finding's suggestion makes: the database's name pattern (a
    wildcard entry is a prefix: ``_ga_`` -> ``_ga_*``), on the page's own site or the third
    party's domain, its lifetime and description."""
    suggestion = finding.suggestion
    if finding.kind != FindingKind.UNDECLARED or suggestion is None:
        detail = (
            f"the finding about {finding.subject} is not an undeclared thing with a suggestion "
            "from the Open Cookie Database; add it on the Purposes & vendors page"
        )
        raise ValidationFailed(detail, errors=[FieldError("/finding", detail)])
    seen = seen_in(finding)
    name = suggestion.pattern
    if suggestion.wildcard and not name.endswith("*"):
        name += "*"
    if seen.host is None and not fnmatch.fnmatchcase(seen.name, name):
        name = seen.name  # the database matched it in another case: declare what was seen
    return CookieDeclaration(
        vendor_name=suggestion.vendor,
        purpose=purpose,
        name=name,
        domain=seen.host or (seen.domain if seen.third_party and seen.domain else FIRST_PARTY),
        duration=duration_from_words(suggestion.retention),
        description=suggestion.description
        or f"{suggestion.category} ({suggestion.vendor}), as the Open Cookie Database says",
    )


def seen_in(finding: Finding) -> Seen:
    """What a finding is about, as a vendor list would declare it."""
    evidence: Mapping[str, Any] = finding.evidence
    if finding.subject_type == "request":
        return Seen(
            host=_without_port(str(evidence.get("request", {}).get("host", finding.subject)))
        )
    cookie = evidence.get("cookie") if finding.subject_type == "cookie" else None
    if isinstance(cookie, Mapping):
        return Seen(
            name=finding.subject,
            domain=str(cookie.get("domain") or "") or None,
            third_party=bool(cookie.get("third_party")),
        )
    return Seen(name=finding.subject)


def signed_download(row: ScanReport, *, base_url: str) -> dict[str, Any]:
    """A stored report as one file a regulator can check alone: the exact bytes that were
    hashed and signed (``report``, a JSON text), the JWS over their hash, and how to check."""
    if row.report_json is None or row.jws is None:
        raise UnknownScanFinding(f"scan {row.id} is not finished: nothing is signed")
    return {
        "schema": DOWNLOAD_SCHEMA,
        "scan_id": str(row.id),
        "jwks_url": f"{base_url}/.well-known/jwks.json",
        "how_to_verify": HOW_TO_VERIFY,
        "jws": row.jws,
        "signed": decoded_payload(row.jws),
        "report_sha256": row.report_sha256,
        "report": row.report_json,
    }


def _line(row: ScanReport, public_keys: Mapping[str, str]) -> ScanLine:
    if row.report_json is None:  # running, or failed before it had a report
        return ScanLine(row, 0, (), (), (), frozenset(), None)
    problem = signature_problem(row, public_keys)
    try:
        data = json.loads(row.report_json or "")
        observed = frozenset((o["region"], o["situation"]) for o in data["observations"])
        return ScanLine(
            row=row,
            pages=len(data["pages"]),
            regions=tuple(data["regions"]),
            situations=tuple(data["situations"]),
            unscanned=tuple(Unscanned.from_json(u) for u in data["unscanned"]),
            observed=observed,
            problem=problem,
        )
    except (ValueError, KeyError, TypeError):
        unreadable = f"scan {row.id}: the stored report is not a readable scan report"
        return ScanLine(row, 0, (), (), (), frozenset(), problem or unreadable)


def signature_problem(row: ScanReport, public_keys: Mapping[str, str]) -> str | None:
    """What ``storage.verify_report`` would refuse in a stored report (its bytes against the
    signed hash, the JWS against ``public_keys``, what the JWS names), without reading the
    report back; None when it verifies."""
    if row.report_json is None or row.jws is None or row.report_sha256 is None:
        return f"scan {row.id} is not finished: nothing is signed"
    sha256 = hashlib.sha256(row.report_json.encode()).hexdigest()
    if sha256 != row.report_sha256:
        return f"scan {row.id}: the stored report does not match its hash"
    try:
        header = json.loads(b64url_decode(row.jws.split(".", 1)[0]))
        payload = verify_jws(row.jws, public_keys)
    except (InvalidReceiptSignature, ValueError) as exc:
        return f"scan {row.id}: {exc}"
    if not isinstance(header, dict) or header.get("typ") != REPORT_TYP:
        return f"scan {row.id}: the signature is not a scan report's"
    if payload.get("report_sha256") != sha256 or payload.get("scan_id") != str(row.id):
        return f"scan {row.id}: the signature names another report"
    return None


def _read(row: ScanReport) -> ScanReportData | None:
    """The typed report, or None when the stored text is not one (it is listed as such)."""
    try:
        return parse_report(row)
    except (ValueError, KeyError, TypeError):
        return None


def _ordered(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _gaps(history: Sequence[ScanLine], region: str, situation: str) -> tuple[Unscanned, ...]:
    """What the newest scan that asked for (region, situation) could not scan of it."""
    for line in history:
        if region in line.regions and situation in line.situations:
            return tuple(
                u
                for u in line.unscanned
                if u.region in (region, None) and u.situation in (situation, None)
            )
    return ()


def _undeclared(
    scans: Sequence[StoredScan], cells: Iterable[Cell], vendors: Sequence[Vendor]
) -> list[Undeclared]:
    positions = _positions(scans)
    found: dict[tuple[str, str], Undeclared] = {}
    for cell in cells:
        if cell.result is None:
            continue
        for finding in cell.result.findings:
            if finding.kind != FindingKind.UNDECLARED:
                continue
            key = (finding.subject_type, finding.subject)
            held = found.get(key)
            where = (cell.region, cell.situation)
            if held is not None:
                found[key] = dataclasses.replace(held, cells=(*held.cells, where))
                continue
            found[key] = Undeclared(
                scan_id=cell.result.scan_id,
                index=positions[id(finding)],
                finding=finding,
                cells=(where,),
                declared_by=declaring_vendor(vendors, seen_in(finding)),
            )
    return sorted(found.values(), key=lambda u: (u.declared_by is not None, u.finding.subject))


def _positions(scans: Iterable[StoredScan]) -> dict[int, int]:
    """Each finding object's index in its own report (``latest_per_cell`` hands out the
    report's own objects), without comparing findings field by field."""
    return {id(f): i for scan in scans for i, f in enumerate(scan.report.findings)}


def _without_port(host: str) -> str:
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
