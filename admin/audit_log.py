"""``/admin/audit/``: browse the audit log with filters, page by page, and export it."""

from __future__ import annotations

import datetime as dt

from flask import Response
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest

from admin import bp
from admin.guard import requires
from consent_service.extensions import current_session
from consent_service.infra.audit import AuditFilter
from consent_service.infra.audit import distinct_actions
from consent_service.infra.audit import export_csv
from consent_service.infra.audit import export_json
from consent_service.infra.audit import iter_entries
from consent_service.infra.audit import list_entries
from consent_service.staff.accounts import Permission

PER_PAGE = 50
FILTER_FIELDS = ("actor", "action", "target_type", "target_id", "since", "until")


@bp.get("/audit/")
@requires(Permission.VIEW_AUDIT)
def audit() -> ResponseReturnValue:
    filters = _filters()
    page = list_entries(current_session(), filters, page=_page_number(), per_page=PER_PAGE)
    query = {name: request.args.get(name, "") for name in FILTER_FIELDS}
    return render_template(
        "admin/audit.html",
        page=page,
        query=query,
        active={name: value for name, value in query.items() if value},
        actions=distinct_actions(current_session()),
    )


@bp.get("/audit/export.csv")
@requires(Permission.VIEW_AUDIT)
def audit_csv() -> ResponseReturnValue:
    body = export_csv(iter_entries(current_session(), _filters()))
    return _download(body, "text/csv; charset=utf-8", "csv")


@bp.get("/audit/export.json")
@requires(Permission.VIEW_AUDIT)
def audit_json() -> ResponseReturnValue:
    body = export_json(iter_entries(current_session(), _filters()))
    return _download(body, "application/json", "json")


def _download(body: str, mimetype: str, extension: str) -> Response:
    response = Response(body, content_type=mimetype)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    response.headers["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{extension}"'
    return response


def _filters() -> AuditFilter:
    args = request.args
    return AuditFilter(
        actor=args.get("actor", "").strip() or None,
        action=args.get("action", "").strip() or None,
        target_type=args.get("target_type", "").strip() or None,
        target_id=args.get("target_id", "").strip() or None,
        since=_date("since"),
        until=_date("until"),
    )


def _date(name: str) -> dt.date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"'{name}' must be a date like 2026-11-23.") from None


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1
