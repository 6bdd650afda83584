"""``/admin/dashboard/``: consent rates over time, receipts per day, look-ups per integration,
and one person's verified receipt history. Read-only; looking a person up is audited."""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from admin import bp
from admin.guard import actor
from admin.guard import requires
from consent_service.errors import ConsentServiceError
from consent_service.errors import InternalError
from consent_service.extensions import committed
from consent_service.extensions import current_session
from consent_service.extensions import vault
from consent_service.infra.audit import record_as
from consent_service.integrations.subject_refs import parse_subject_ref
from consent_service.models import Property
from consent_service.models.base import utcnow
from consent_service.properties.lookup import consent_context
from consent_service.staff.accounts import Permission
from consent_service.staff.dashboard import PurposeRates
from consent_service.staff.dashboard import Window
from consent_service.staff.dashboard import consent_rates
from consent_service.staff.dashboard import lookups_per_integration
from consent_service.staff.dashboard import subject_history
from consent_service.staff.svg_charts import Series
from consent_service.staff.svg_charts import bar_chart
from consent_service.staff.svg_charts import line_chart

WINDOWS = (7, 30, 90)
MAX_JURISDICTIONS = 6


@bp.get("/dashboard/")
@requires(Permission.VIEW)
def dashboard() -> ResponseReturnValue:
    return _page()


@bp.post("/dashboard/")
@requires(Permission.VIEW)
def dashboard_subject() -> ResponseReturnValue:
    """A person's history: POST, so an email never lands in a URL or an access log."""
    return _page(subject=request.form.get("subject", "").strip())


def _page(subject: str | None = None) -> ResponseReturnValue:
    session = current_session()
    properties = list(session.scalars(sa.select(Property.key).order_by(Property.key)))
    property_key = request.values.get("property") or (properties[0] if properties else "")
    days = request.values.get("days", type=int) or 30
    days = days if days in WINDOWS else 30
    now = utcnow()
    context = consent_context(session, property_key, now=now)
    window = Window.ending(now.date(), days)
    overall = consent_rates(session, context, window)
    by_jurisdiction = consent_rates(session, context, window, by_jurisdiction=True)
    purpose = request.values.get("purpose") or (overall[0].purpose if overall else "")
    history, subject_error = None, None
    if subject:
        try:
            with committed():
                ref = parse_subject_ref(subject, "/subject")
                history = subject_history(session, vault(), context, ref)
                label = "email:<blind index>" if ref.kind == "email" else f"{ref.kind}:{ref.value}"
                record_as(
                    session,
                    actor(),
                    "subject.viewed",
                    target_type="subject",
                    target_id=label[:64],
                    before=None,
                    after={"property": property_key, "receipts": len(history)},
                )
        except InternalError:
            raise  # the service's own fault: logged, an opaque 500
        except ConsentServiceError as exc:
            subject_error = exc.detail
    receipts_per_day = [d.receipts for d in overall[0].days] if overall else []
    return render_template(
        "admin/dashboard.html",
        properties=properties,
        property_key=property_key,
        days=days,
        windows=WINDOWS,
        window=window,
        purposes=[s.purpose for s in overall],
        purpose=purpose,
        overall=overall,
        rates_chart=_rates_chart(
            "rates", f"Share of choices that granted each purpose, last {days} days", overall
        ),
        receipts_chart=Markup(
            bar_chart(
                "receipts", f"Receipts per day, last {days} days", window.days, receipts_per_day
            )
        ),
        jurisdiction_series=_top_jurisdictions(by_jurisdiction, purpose),
        jurisdiction_chart=_rates_chart(
            "jurisdictions",
            f"Share of choices that granted {purpose} by jurisdiction, last {days} days",
            _top_jurisdictions(by_jurisdiction, purpose),
            label_by_jurisdiction=True,
        ),
        usage=lookups_per_integration(session, context.property_id, window),
        subject=subject,
        history=history,
        subject_error=subject_error,
    )


def _rates_chart(
    chart_id: str, title: str, series: list[PurposeRates], *, label_by_jurisdiction: bool = False
) -> Markup:
    if not series:
        return Markup("")
    days = [d.day for d in series[0].days]
    lines = [
        Series(
            (s.jurisdiction or "all") if label_by_jurisdiction else s.purpose,
            tuple(d.rate for d in s.days),
        )
        for s in series
    ]
    # line_chart escapes every text it is given; the result is safe markup.
    return Markup(line_chart(chart_id, title, days, lines))


def _top_jurisdictions(series: list[PurposeRates], purpose: str) -> list[PurposeRates]:
    of_purpose = [s for s in series if s.purpose == purpose]
    return sorted(of_purpose, key=lambda s: s.receipts, reverse=True)[:MAX_JURISDICTIONS]
