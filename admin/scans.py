"""``/admin/scans/``: a property's compliance scans. The newest result for each region and
situation (clean, violations, warnings, could not scan), the findings with their evidence,
the counts of every stored scan as a trend, each report's signature checked on display and
downloadable as signed JSON; and, for editors, "add to vendor list" from a finding's Open
Cookie Database suggestion (audited, bumps ``config_version`` like any vendor edit). Scans
themselves run from the CLI (``consent-service scan``) or the worker's schedule."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import sqlalchemy as sa
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from werkzeug.wrappers import Response

from admin import bp
from admin.chosen_property import chosen_property
from admin.guard import commit_audited
from admin.guard import requires
from consent_service.consent.jwks import published_keys
from consent_service.errors import ValidationFailed
from consent_service.extensions import current_session
from consent_service.extensions import db
from consent_service.extensions import settings
from consent_service.models import Property
from consent_service.models import ScanReport
from consent_service.models.base import utcnow
from consent_service.properties.catalogue import vendor_snapshot
from consent_service.staff.accounts import Permission
from consent_service.staff.scans import ScanLine
from consent_service.staff.scans import UnknownScanFinding
from consent_service.staff.scans import declare_finding
from consent_service.staff.scans import planned_scans
from consent_service.staff.scans import scans_overview
from consent_service.staff.scans import signed_download
from consent_service.staff.svg_charts import Series
from consent_service.staff.svg_charts import line_chart

SITUATION_NAMES = {
    "first_visit": "First visit, no choice",
    "rejected": "After reject all / opt out",
    "accepted": "After accept all",
    "withdrawn": "After withdrawing",
    "gpc": "With GPC on",
}
STATE_NAMES = {
    "clean": "clean",
    "violations": "violations",
    "warnings": "warnings",
    "unscanned": "could not scan",
}


@bp.get("/scans/")
@requires(Permission.VIEW)
def scans() -> ResponseReturnValue:
    return _page(chosen_property())


@bp.post("/scans/declare")
@requires(Permission.EDIT)
def scans_declare() -> ResponseReturnValue:
    prop = chosen_property()
    form = request.form
    purpose = form.get("purpose", "").strip()
    try:
        scan_id = uuid.UUID(form.get("scan", ""))
        index = int(form.get("finding", ""))
    except ValueError:
        abort(404, "No such finding: the form names no scan and finding.")
    session = current_session()
    try:
        finding, declaration, declared = declare_finding(
            session, prop, scan_id, index, purpose, public_keys=_keys()
        )
    except UnknownScanFinding as exc:
        db.session.rollback()
        abort(404, exc.detail)
    except ValidationFailed as exc:
        db.session.rollback()
        return _page(prop, error=exc.detail, chosen={(scan_id, index): purpose})
    vendor = declared.vendor
    commit_audited(
        "vendor.added" if declared.created else "vendor.edited",
        target_type="vendor",
        target_id=str(vendor.id),
        before={"property": prop.key, **declared.before} if declared.before else None,
        after={
            "property": prop.key,
            **vendor_snapshot(vendor),
            "declared_from_scan": {
                "scan": str(scan_id),
                "finding": index,
                "subject": finding.subject,
                "cookie": declaration.cookie(),
            },
        },
        message=(
            f"Added {finding.subject} to the vendor list as {declaration.name!r} of "
            f"{vendor.name} ({declaration.purpose}); the banner lists it now. The next scan "
            "judges it as declared."
        ),
    )
    return redirect(url_for("admin.scans", property=prop.key))


@bp.get("/scans/<uuid:scan_id>/report.json")
@requires(Permission.VIEW)
def scan_download(scan_id: uuid.UUID) -> ResponseReturnValue:
    row = current_session().get(ScanReport, scan_id)
    if row is None or row.jws is None:
        abort(404, "No finished scan has this id.")
    body = json.dumps(signed_download(row, base_url=settings().base_url), indent=2) + "\n"
    response = Response(body, mimetype="application/json")
    stamp = row.started_at.strftime("%Y%m%dT%H%MZ")
    response.headers["Content-Disposition"] = f'attachment; filename="scan-{stamp}-{row.id}.json"'
    return response


def _keys() -> dict[str, str]:
    return published_keys(current_session(), settings().signing_keys)


def _page(
    prop: Property,
    *,
    error: str | None = None,
    chosen: dict[tuple[uuid.UUID, int], str] | None = None,
) -> tuple[str, int] | str:
    session = current_session()
    overview = scans_overview(session, prop, _keys())
    now = utcnow()
    planned = planned_scans(prop, settings().scan_schedule, overview.history, now=now)
    html = render_template(
        "admin/scans.html",
        prop=prop,
        properties=list(session.scalars(sa.select(Property.key).order_by(Property.key))),
        overview=overview,
        planned=planned,
        now=now,
        purposes=sorted(prop.purposes, key=lambda p: p.position),
        situation_names=SITUATION_NAMES,
        state_names=STATE_NAMES,
        trend=_trend(overview.history),
        error=error,
        chosen=chosen or {},
    )
    return (html, 422) if error else html


def _trend(history: list[ScanLine]) -> Markup:
    """Violations, warnings and what could not be scanned, per scan, oldest first."""
    if not history:
        return Markup("")
    lines = list(reversed(history))

    def points(count: Callable[[ScanReport], int]) -> tuple[float | None, ...]:
        # A scan without a report (running, or failed before one) is a gap, not a zero.
        return tuple(float(count(line.row)) if line.finished else None for line in lines)

    series = [
        Series("violations", points(lambda row: row.violations)),
        Series("warnings", points(lambda row: row.warnings)),
        Series("could not scan", points(lambda row: len(row.unscanned))),
    ]
    days = [line.row.started_at.date() for line in lines]
    title = f"Findings per scan, the last {len(lines)} scans"
    description = (
        f"{title}, oldest first: violations, warnings and pages or regions that could not be "
        "scanned. The table below lists the same numbers."
    )
    # line_chart escapes every text it is given; the result is safe markup.
    return Markup(line_chart("trend", title, days, series, percent=False, description=description))
