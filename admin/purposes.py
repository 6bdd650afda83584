"""``/admin/purposes/``: each property's purposes and vendors. Editors change a purpose's texts,
legal basis, Consent Mode types, opt-out categories, the other ad and shop platforms' signals
it grants, and its order, add purposes, and add, edit or
delete vendors with their cookies. Purposes are never deleted here (receipts name them), and
essential purposes come only from the property's definition. Every change is audited and
changes the banner at once (``config_version``)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import selectinload

from admin import bp
from admin.guard import commit_audited
from admin.guard import requires
from consent_service.errors import ValidationFailed
from consent_service.extensions import current_session
from consent_service.extensions import db
from consent_service.jurisdictions.rules import OPT_OUT_CATEGORIES
from consent_service.models import Property
from consent_service.models import Purpose
from consent_service.models import Vendor
from consent_service.properties.catalogue import CONSENT_MODE_TYPES
from consent_service.properties.catalogue import COOKIE_FIELDS
from consent_service.properties.catalogue import LEGAL_BASES
from consent_service.properties.catalogue import MAX_COOKIES
from consent_service.properties.catalogue import PurposeChange
from consent_service.properties.catalogue import VendorChange
from consent_service.properties.catalogue import add_purpose
from consent_service.properties.catalogue import add_vendor
from consent_service.properties.catalogue import delete_vendor
from consent_service.properties.catalogue import edit_purpose
from consent_service.properties.catalogue import edit_vendor
from consent_service.properties.catalogue import locales
from consent_service.properties.catalogue import next_position
from consent_service.properties.catalogue import purpose_snapshot
from consent_service.properties.catalogue import vendor_snapshot
from consent_service.properties.platforms import PLATFORMS
from consent_service.properties.platforms import SALE_OF_DATA_CATEGORIES
from consent_service.properties.platforms import parse_signal_choices
from consent_service.staff.accounts import Permission

CHOICES = {
    "legal_bases": LEGAL_BASES,
    "consent_mode_types": CONSENT_MODE_TYPES,
    "opt_out_categories": OPT_OUT_CATEGORIES,
    "platforms": list(PLATFORMS.values()),
    "sale_of_data_categories": SALE_OF_DATA_CATEGORIES,
}


@bp.get("/purposes/")
@requires(Permission.VIEW)
def purposes() -> ResponseReturnValue:
    return _overview()


@bp.post("/purposes/<int:property_id>/add")
@requires(Permission.EDIT)
def purpose_add(property_id: int) -> ResponseReturnValue:
    prop = _property(property_id)
    session = current_session()
    key = request.form.get("key", "").strip()
    name = request.form.get("name", "").strip()
    change = PurposeChange(
        texts={prop.default_locale: {"name": name}},
        legal_basis="consent",
        consent_mode=[],
        opt_out_categories=[],
        position=next_position(prop),
    )
    try:
        purpose = add_purpose(session, prop, key, change)
    except ValidationFailed as exc:
        db.session.rollback()
        form = {"property_id": property_id, "key": key, "name": name}
        return _overview(error=exc.detail, form=form), 422
    commit_audited(
        "purpose.added",
        target_type="purpose",
        target_id=str(purpose.id),
        before=None,
        after={"property": prop.key, **purpose_snapshot(purpose)},
        message=f"Added the purpose {purpose.key}. Add its texts in the other languages.",
    )
    return redirect(url_for("admin.purpose_edit", purpose_id=purpose.id))


@bp.get("/purposes/<int:purpose_id>")
@requires(Permission.VIEW)
def purpose_edit(purpose_id: int) -> ResponseReturnValue:
    purpose = _purpose(purpose_id)
    return _purpose_page(purpose, purpose_snapshot(purpose))


@bp.post("/purposes/<int:purpose_id>")
@requires(Permission.EDIT)
def purpose_save(purpose_id: int) -> ResponseReturnValue:
    purpose = _purpose(purpose_id)
    prop = purpose.property
    form = request.form
    texts = {
        locale: {
            "name": form.get(f"name_{locale}", ""),
            "description": form.get(f"description_{locale}", ""),
        }
        for locale in locales(prop)
    }
    position_raw = form.get("position", "").strip()
    try:
        position = int(position_raw)
    except ValueError:
        position = -1  # refused below, with the range
    change = PurposeChange(
        texts=texts,
        legal_basis=form.get("legal_basis", ""),
        consent_mode=form.getlist("consent_mode"),
        opt_out_categories=form.getlist("opt_out_categories"),
        position=position,
        platform_signals=parse_signal_choices(form.getlist("platform_signals")),
    )
    session = current_session()
    before = purpose_snapshot(purpose)
    try:
        edit_purpose(session, purpose, change)
    except ValidationFailed as exc:
        db.session.rollback()
        shown: dict[str, object] = {
            "texts": texts,
            "legal_basis": change.legal_basis,
            "consent_mode": change.consent_mode,
            "opt_out_categories": change.opt_out_categories,
            "platform_signals": change.platform_signals,
            "position": position_raw,
        }
        return _purpose_page(_purpose(purpose_id), shown, error=exc.detail), 422
    commit_audited(
        "purpose.edited",
        target_type="purpose",
        target_id=str(purpose.id),
        before={"property": prop.key, **before},
        after={"property": prop.key, **purpose_snapshot(purpose)},
        message=f"Saved the purpose {purpose.key}; the banner shows it now.",
    )
    return redirect(url_for("admin.purposes"))


@bp.get("/purposes/<int:property_id>/vendors/new")
@requires(Permission.EDIT)
def vendor_new(property_id: int) -> ResponseReturnValue:
    prop = _property(property_id)
    empty = {"key": "", "name": "", "country": "", "privacy_policy_url": "", "purposes": []}
    return _vendor_page(prop, None, {**empty, "cookies": []})


@bp.post("/purposes/<int:property_id>/vendors/new")
@requires(Permission.EDIT)
def vendor_create(property_id: int) -> ResponseReturnValue:
    prop = _property(property_id)
    key = request.form.get("key", "").strip()
    change = _vendor_change()
    session = current_session()
    try:
        vendor = add_vendor(session, prop, key, change)
    except ValidationFailed as exc:
        db.session.rollback()
        shown = _vendor_shown(change, key)
        return _vendor_page(_property(property_id), None, shown, error=exc.detail), 422
    commit_audited(
        "vendor.added",
        target_type="vendor",
        target_id=str(vendor.id),
        before=None,
        after={"property": prop.key, **vendor_snapshot(vendor)},
        message=f"Added the vendor {vendor.name}; the banner lists it now.",
    )
    return redirect(url_for("admin.purposes"))


@bp.get("/vendors/<int:vendor_id>")
@requires(Permission.VIEW)
def vendor_edit(vendor_id: int) -> ResponseReturnValue:
    vendor = _vendor(vendor_id)
    shown = vendor_snapshot(vendor)
    shown["country"] = vendor.country or ""
    shown["privacy_policy_url"] = vendor.privacy_policy_url or ""
    return _vendor_page(vendor.property, vendor, shown)


@bp.post("/vendors/<int:vendor_id>")
@requires(Permission.EDIT)
def vendor_save(vendor_id: int) -> ResponseReturnValue:
    vendor = _vendor(vendor_id)
    prop = vendor.property
    change = _vendor_change()
    session = current_session()
    before = vendor_snapshot(vendor)
    try:
        edit_vendor(session, vendor, change)
    except ValidationFailed as exc:
        db.session.rollback()
        vendor = _vendor(vendor_id)
        shown = _vendor_shown(change, vendor.key)
        return _vendor_page(vendor.property, vendor, shown, error=exc.detail), 422
    commit_audited(
        "vendor.edited",
        target_type="vendor",
        target_id=str(vendor.id),
        before={"property": prop.key, **before},
        after={"property": prop.key, **vendor_snapshot(vendor)},
        message=f"Saved the vendor {vendor.name}; the banner shows it now.",
    )
    return redirect(url_for("admin.purposes"))


@bp.post("/vendors/<int:vendor_id>/delete")
@requires(Permission.EDIT)
def vendor_delete(vendor_id: int) -> ResponseReturnValue:
    vendor = _vendor(vendor_id)
    session = current_session()
    before = {"property": vendor.property.key, **vendor_snapshot(vendor)}
    name = vendor.name
    delete_vendor(session, vendor)
    commit_audited(
        "vendor.deleted",
        target_type="vendor",
        target_id=str(vendor_id),
        before=before,
        after=None,
        message=f"Deleted the vendor {name}; the banner no longer lists it.",
    )
    return redirect(url_for("admin.purposes"))


# --- helpers -------------------------------------------------------------------------------


def _overview(*, error: str | None = None, form: dict[str, object] | None = None) -> str:
    properties = current_session().scalars(
        sa.select(Property)
        .order_by(Property.key)
        .options(
            selectinload(Property.purposes),
            selectinload(Property.vendors).selectinload(Vendor.purposes),
        )
    )
    return render_template(
        "admin/purposes.html", properties=list(properties), error=error, form=form or {}
    )


def _purpose_page(purpose: Purpose, shown: dict[str, object], *, error: str | None = None) -> str:
    return render_template(
        "admin/purpose_edit.html",
        purpose=purpose,
        prop=purpose.property,
        locales=locales(purpose.property),
        shown=shown,
        error=error,
        **CHOICES,
    )


def _vendor_change() -> VendorChange:
    form = request.form
    try:
        rows = min(int(form.get("cookie_rows", "0")), MAX_COOKIES + 1)
    except ValueError:
        rows = 0
    cookies = [
        {field: form.get(f"cookie_{field}_{index}", "") for field in COOKIE_FIELDS}
        for index in range(max(rows, 0))
    ]
    country = form.get("country", "").strip().upper()
    url = form.get("privacy_policy_url", "").strip()
    return VendorChange(
        name=form.get("name", ""),
        country=country or None,
        privacy_policy_url=url or None,
        purposes=form.getlist("purposes"),
        cookies=cookies,
    )


def _vendor_shown(change: VendorChange, key: str) -> dict[str, object]:
    return {
        "key": key,
        "name": change.name,
        "country": change.country or "",
        "privacy_policy_url": change.privacy_policy_url or "",
        "purposes": change.purposes,
        "cookies": [row for row in change.cookies if any(v.strip() for v in row.values())],
    }


def _vendor_page(
    prop: Property, vendor: Vendor | None, shown: dict[str, object], *, error: str | None = None
) -> str:
    return render_template(
        "admin/vendor_edit.html",
        prop=prop,
        vendor=vendor,
        shown=shown,
        cookie_fields=COOKIE_FIELDS,
        error=error,
    )


def _property(property_id: int) -> Property:
    prop = current_session().get(Property, property_id)
    if prop is None:
        abort(404, "No property has this id.")
    return prop


def _purpose(purpose_id: int) -> Purpose:
    purpose = current_session().get(Purpose, purpose_id)
    if purpose is None:
        abort(404, "No purpose has this id.")
    return purpose


def _vendor(vendor_id: int) -> Vendor:
    vendor = current_session().get(Vendor, vendor_id)
    if vendor is None:
        abort(404, "No vendor has this id.")
    return vendor
