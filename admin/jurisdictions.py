"""``/admin/jurisdictions/``: a property's stricter-than-the-law settings per jurisdiction.
The form offers only what could be stricter and the domain refuses anything laxer."""

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
from consent_service.errors import ValidationFailed
from consent_service.extensions import current_session
from consent_service.extensions import db
from consent_service.jurisdictions.rulebook import rulebook
from consent_service.jurisdictions.rules import MAX_REASK_FLOOR_MONTHS
from consent_service.jurisdictions.rules import Regime
from consent_service.models import Property
from consent_service.models.base import utcnow
from consent_service.properties.jurisdiction_overrides import FIRST_LAYER_CHOICES
from consent_service.properties.jurisdiction_overrides import MAX_CONSENT_LIFETIME_DAYS
from consent_service.properties.jurisdiction_overrides import Override
from consent_service.properties.jurisdiction_overrides import apply_overrides
from consent_service.properties.jurisdiction_overrides import set_override
from consent_service.staff.accounts import Permission


@bp.get("/jurisdictions/")
@requires(Permission.VIEW)
def jurisdictions() -> ResponseReturnValue:
    return _page(chosen_property())


@bp.post("/jurisdictions/")
@requires(Permission.EDIT)
def jurisdiction_save() -> ResponseReturnValue:
    prop = chosen_property()
    code = request.form.get("code", "")
    regime = request.form.get("regime", "")
    lifetime = request.form.get("consent_lifetime_days", "").strip()
    floor = request.form.get("reask_floor_months", "").strip()
    layer = request.form.get("first_layer", "").strip()
    regimes = [r.value for r in Regime]
    if regime and regime not in regimes:
        error = f"There is no regime {regime!r}; choose one of {', '.join(regimes)}."
        return _page(prop, error=error), 422
    # ASCII digits only: int() also reads "²" or "٣", and a number this long is no lifetime.
    if lifetime and not _whole_number(lifetime):
        error = (
            f"The consent lifetime is a whole number of days, 1 to {MAX_CONSENT_LIFETIME_DAYS:,}."
        )
        return _page(prop, error=error), 422
    if floor and not _whole_number(floor):
        error = f"The re-ask floor is a whole number of months, 0 to {MAX_REASK_FLOOR_MONTHS}."
        return _page(prop, error=error), 422
    override = Override(
        regime=Regime(regime) if regime else None,
        honours_gpc=True if request.form.get("honours_gpc") == "on" else None,
        first_layer=tuple(b.strip() for b in layer.split(",")) if layer else None,
        consent_lifetime_days=int(lifetime) if lifetime else None,
        reask_floor_months=int(floor) if floor else None,
    )
    session = current_session()
    before = dict((prop.jurisdiction_overrides or {}).get(code, {}))
    try:
        set_override(session, prop, code, override)
    except ValidationFailed as exc:
        db.session.rollback()
        return _page(prop, error=exc.detail), 422
    commit_audited(
        "jurisdiction.overridden",
        target_type="property",
        target_id=f"{prop.key}:{code}"[:64],
        before=before or None,
        after=override.stored() or None,
        message=f"Saved the settings for {code}.",
    )
    return redirect(url_for("admin.jurisdictions", property=prop.key))


def _whole_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 9


def _page(prop: Property, *, error: str | None = None) -> str:
    today = utcnow().date()
    overrides = prop.jurisdiction_overrides or {}
    rows = [
        (rule.on(today), apply_overrides(rule.on(today), overrides), code in overrides)
        for code, rule in sorted(rulebook().items())
        if rule.effective_from <= today
    ]
    return render_template(
        "admin/jurisdictions.html",
        prop=prop,
        properties=list(current_session().scalars(sa.select(Property.key).order_by(Property.key))),
        rows=rows,
        regimes=[r.value for r in Regime],
        layers=[", ".join(layer) for layer in FIRST_LAYER_CHOICES],
        error=error,
    )
