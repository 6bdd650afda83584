"""The preferences page's downloads: one receipt (the JWS as signed, or JSON with its decoded
payload), all of them, and everything held about the person. Only the signed-in person's:
another person's receipt id answers 404, exactly like one that does not exist."""

from __future__ import annotations

import json
import uuid

from werkzeug.wrappers import Response

from consent_service.extensions import current_session
from consent_service.extensions import settings
from consent_service.extensions import vault
from consent_service.models.base import utcnow
from consent_service.preferences import bp
from consent_service.preferences.page import needs_fresh_sign_in
from consent_service.preferences.page import person_subjects
from consent_service.preferences.page import signed_in
from consent_service.preferences.view import attachment
from consent_service.preferences.view import page_locale
from consent_service.preferences.view import render
from consent_service.preferences.view import texts
from consent_service.self_service.access import Access
from consent_service.self_service.export import export_person
from consent_service.self_service.proof import proof_bundle
from consent_service.self_service.proof import receipt_jws
from consent_service.self_service.proof import receipts_jws


def _json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


@bp.get("/preferences/receipts/<uuid:receipt_id>.<any(jws, json):fmt>")
@signed_in
def preferences_receipt_download(access: Access, receipt_id: uuid.UUID, fmt: str) -> Response:
    jws = receipt_jws(current_session(), person_subjects(access), receipt_id)
    if jws is None:
        return render("message.html", status=404, heading=texts(page_locale()).not_found)
    if fmt == "jws":
        return attachment(jws, f"receipt-{receipt_id}.jws", "application/jose")
    bundle = proof_bundle([jws], base_url=settings().base_url, now=utcnow())
    return attachment(_json(bundle), f"receipt-{receipt_id}.json", "application/json")


@bp.get("/preferences/receipts.json")
@signed_in
def preferences_receipts_download(access: Access) -> Response:
    jws_list = receipts_jws(current_session(), person_subjects(access))
    bundle = proof_bundle(jws_list, base_url=settings().base_url, now=utcnow())
    return attachment(_json(bundle), "consent-receipts.json", "application/json")


@bp.get("/preferences/export.json")
@signed_in
def preferences_export(access: Access) -> Response:
    if needs_fresh_sign_in(access):
        heading = texts(page_locale()).fresh_sign_in_needed
        return render("message.html", status=403, heading=heading, body=None)
    data = export_person(
        current_session(),
        vault(),
        access,
        base_url=settings().base_url,
        now=utcnow(),
    )
    return attachment(_json(data), "my-data.json", "application/json")
