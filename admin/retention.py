"""``/admin/retention/``: how long each kind of personal data is kept, and a property's own
periods for the kinds that allow one (never below a legal floor)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue

from admin import bp
from admin.chosen_property import chosen_property
from admin.guard import commit_audited
from admin.guard import requires
from consent_service.errors import FieldError
from consent_service.errors import ValidationFailed
from consent_service.extensions import current_session
from consent_service.extensions import db
from consent_service.extensions import settings
from consent_service.models import Property
from consent_service.retention.schedule import DEFAULT_CODE
from consent_service.retention.schedule import RECEIPTS
from consent_service.retention.schedule import Schedule
from consent_service.retention.schedule import schedule_for
from consent_service.retention.schedule import set_property_overrides
from consent_service.staff.accounts import Permission


@bp.get("/retention/")
@requires(Permission.VIEW)
def retention() -> ResponseReturnValue:
    return _page(chosen_property())


@bp.post("/retention/")
@requires(Permission.EDIT)
def retention_save() -> ResponseReturnValue:
    prop = chosen_property()
    schedule = _schedule()
    wanted = {
        key: request.form.get(key, "").strip()
        for key, kind in schedule.kinds.items()
        if kind.per_property
    }
    before = dict(prop.retention_overrides or {})
    try:
        stored = set_property_overrides(current_session(), prop, wanted, schedule=schedule)
    except ValidationFailed as exc:
        db.session.rollback()
        return _page(prop, errors=exc.errors, entered=wanted), 422
    commit_audited(
        "retention.overridden",
        target_type="property",
        target_id=prop.key,
        before=before or None,
        after=stored or None,
        message="Saved the retention periods.",
    )
    return redirect(url_for("admin.retention", property=prop.key))


def _schedule() -> Schedule:
    return schedule_for(dict(settings().retention))


def _page(
    prop: Property,
    *,
    errors: list[FieldError] | None = None,
    entered: dict[str, str] | None = None,
) -> str:
    schedule = _schedule()
    overrides = prop.retention_overrides or {}
    limitations = sorted(
        schedule.limitations.items(), key=lambda item: (item[0] == DEFAULT_CODE, item[0])
    )
    return render_template(
        "admin/retention.html",
        prop=prop,
        properties=list(current_session().scalars(sa.select(Property.key).order_by(Property.key))),
        kinds=[k for k in schedule.kinds.values() if k.key != RECEIPTS],
        receipts=schedule.kinds[RECEIPTS],
        limitations=limitations,
        overrides=overrides,
        schedule=schedule,
        errors={e.pointer.lstrip("/"): e.detail for e in errors or []},
        error="Nothing was saved: "
        + "; ".join(f"{e.pointer.lstrip('/')}: {e.detail}" for e in errors)
        if errors
        else None,
        entered=entered if entered is not None else overrides,
    )
