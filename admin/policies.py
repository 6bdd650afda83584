"""``/admin/policies/``: policy documents and their versions: write a draft (Markdown, with a
sanitised preview), compare any two versions side by side, and publish — a publisher's step,
after a confirmation that says what will happen. Every change is audited; published versions
are read-only (the database refuses changes to them too)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from admin import bp
from admin.guard import CONTENT_SECURITY_POLICY
from admin.guard import commit_audited
from admin.guard import relax_security_headers
from admin.guard import requires
from consent_service.documents.diff import diff_versions
from consent_service.documents.impact import material_change_impact
from consent_service.documents.rendering import render_policy
from consent_service.documents.versions import create_draft
from consent_service.documents.versions import current_version
from consent_service.documents.versions import edit_draft
from consent_service.documents.versions import publish
from consent_service.errors import ValidationFailed
from consent_service.extensions import current_session
from consent_service.messaging.campaigns import count_recipients
from consent_service.models import PolicyDocument
from consent_service.models import PolicyVersion
from consent_service.models import Property
from consent_service.models import Purpose
from consent_service.models import VersionStatus
from consent_service.models.base import utcnow
from consent_service.staff.accounts import Permission

MAX_BODY = 200_000
EDITOR_CONTENT_SECURITY_POLICY = f"{CONTENT_SECURITY_POLICY}; script-src 'self'; connect-src 'self'"


@bp.get("/policies/")
@requires(Permission.VIEW)
def policies() -> ResponseReturnValue:
    session = current_session()
    documents = session.execute(
        sa.select(PolicyDocument, Property.key)
        .join(Property, Property.id == PolicyDocument.property_id)
        .order_by(Property.key, PolicyDocument.key)
    ).all()
    return render_template("admin/policies.html", documents=documents)


@bp.post("/policies/preview")
@requires(Permission.VIEW)
def policy_preview() -> ResponseReturnValue:
    """The editor's live preview: the same sanitised rendering as the Preview button."""
    body = request.form.get("body", "")
    if len(body) > MAX_BODY:
        abort(413)
    return render_policy(body, demote=2), 200, {"Content-Type": "text/html; charset=utf-8"}


@bp.get("/policies/<int:document_id>/new")
@requires(Permission.EDIT)
def policy_new(document_id: int) -> ResponseReturnValue:
    document = _document(document_id)
    current = current_version(current_session(), document.id)
    return _editor(document, None, body=current.body if current else "", material=False)


@bp.post("/policies/<int:document_id>/new")
@requires(Permission.EDIT)
def policy_create(document_id: int) -> ResponseReturnValue:
    document = _document(document_id)
    form = _form(document)
    if request.form.get("action") == "preview" or form.error:
        return form.editor(document, None), 422 if form.error else 200
    session = current_session()
    try:
        version = create_draft(
            session,
            document,
            form.body,
            material=form.material,
            change_summary=form.change_summary,
            effective_at=form.effective_at,
            affected_purposes=form.affected_purposes,
        )
    except ValidationFailed as exc:
        return form.refused(document, None, exc), 422
    session.flush()
    _commit_audited(version, "policy.draft_created", None, "Draft saved.")
    return redirect(url_for("admin.policy_version", version_id=version.id))


@bp.get("/policies/versions/<int:version_id>")
@requires(Permission.VIEW)
def policy_version(version_id: int) -> ResponseReturnValue:
    version = _version(version_id)
    if version.status is VersionStatus.DRAFT:
        return _editor(
            version.document,
            version,
            body=version.body,
            material=version.material,
            effective_at=version.effective_at.date().isoformat() if version.effective_at else "",
            summaries=dict(version.change_summary or {}),
            affected=list(version.affected_purposes or []),
        )
    return render_template(
        "admin/policy_version.html",
        version=version,
        document=version.document,
        preview=Markup(render_policy(version.body, demote=2)),  # sanitised by render_policy
        others=_others(version),
        previous=_previous(version),
    )


@bp.post("/policies/versions/<int:version_id>")
@requires(Permission.EDIT)
def policy_save(version_id: int) -> ResponseReturnValue:
    version = _version(version_id)
    if version.status is not VersionStatus.DRAFT:
        abort(409, "a published version is read-only; create a new draft instead")
    form = _form(version.document)
    if request.form.get("action") == "preview" or form.error:
        return form.editor(version.document, version), 422 if form.error else 200
    session = current_session()
    before = _audited(version)
    try:
        edit_draft(
            session,
            version,
            body=form.body,
            material=form.material,
            change_summary=form.change_summary,
            effective_at=form.effective_at,
            affected_purposes=form.affected_purposes,
        )
    except ValidationFailed as exc:  # refused before anything changed
        return form.refused(version.document, version, exc), 422
    _commit_audited(version, "policy.draft_edited", before, "Draft saved.")
    return redirect(url_for("admin.policy_version", version_id=version.id))


@bp.get("/policies/versions/<int:version_id>/diff")
@requires(Permission.VIEW)
def policy_diff(version_id: int) -> ResponseReturnValue:
    new = _version(version_id)
    against = request.args.get("against", type=int)
    old = _version(against) if against else _previous(new)
    if old is None:
        abort(404)
    if old.document_id != new.document_id or old.id == new.id:
        abort(404)
    diff = diff_versions(_property_of(new.document).key, new.document, old, new)
    return render_template("admin/policy_diff.html", diff=diff, old=old, new=new)


@bp.get("/policies/versions/<int:version_id>/publish")
@requires(Permission.PUBLISH)
def policy_confirm_publish(version_id: int) -> ResponseReturnValue:
    version = _draft(version_id)
    return render_template(
        "admin/policy_publish.html",
        version=version,
        document=version.document,
        current=current_version(current_session(), version.document_id),
        recipients=_notice_recipients(version) if version.material else 0,
        impact=material_change_impact(current_session(), version, now=utcnow())
        if version.material
        else None,
    )


@bp.post("/policies/versions/<int:version_id>/publish")
@requires(Permission.PUBLISH)
def policy_publish(version_id: int) -> ResponseReturnValue:
    version = _draft(version_id)
    before = _audited(version)
    publish(current_session(), version)
    _commit_audited(version, "policy.published", before, f"Published version {version.number}.")
    return redirect(url_for("admin.policy_version", version_id=version.id))


# --- helpers -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DraftForm:
    body: str
    material: bool
    effective_raw: str
    summaries: dict[str, str]
    effective_at: dt.datetime | None
    error: str | None
    affected_purposes: list[str] = dataclasses.field(default_factory=list)

    def editor(self, document: PolicyDocument, version: PolicyVersion | None) -> str:
        return _editor(
            document,
            version,
            body=self.body,
            material=self.material,
            effective_at=self.effective_raw,
            summaries=self.summaries,
            error=self.error,
            affected=self.affected_purposes,
        )

    def refused(
        self, document: PolicyDocument, version: PolicyVersion | None, exc: ValidationFailed
    ) -> str:
        """The editor again, as submitted, saying why the domain refused it."""
        return dataclasses.replace(self, error=_sentence(exc.detail)).editor(document, version)

    @property
    def change_summary(self) -> dict[str, str]:
        return {locale: text for locale, text in self.summaries.items() if text}


def _form(document: PolicyDocument) -> DraftForm:
    body = request.form.get("body", "")
    material = request.form.get("material") == "on"
    effective_raw = request.form.get("effective_at", "").strip()
    summaries = {
        locale: request.form.get(f"summary_{locale}", "").strip() for locale in _locales(document)
    }
    error = None
    effective_at = None
    if not body.strip():
        error = "The policy text is empty."
    elif len(body) > MAX_BODY:
        error = f"The policy text is longer than {MAX_BODY:,} characters."
    if effective_raw:
        try:
            effective_at = dt.datetime.fromisoformat(effective_raw).replace(tzinfo=dt.UTC)
        except ValueError:
            error = error or "The effective date is not a date (YYYY-MM-DD)."
    if material and not any(summaries.values()):
        error = error or "A material change needs a change summary: customers are emailed it."
    affected = request.form.getlist("affected_purposes")
    return DraftForm(body, material, effective_raw, summaries, effective_at, error, affected)


def _sentence(detail: str) -> str:
    return detail[:1].upper() + detail[1:] + ("" if detail.endswith(".") else ".")


def _editor(
    document: PolicyDocument,
    version: PolicyVersion | None,
    *,
    body: str,
    material: bool,
    effective_at: str = "",
    summaries: dict[str, str] | None = None,
    error: str | None = None,
    affected: list[str] | None = None,
) -> str:
    # The editor alone may run a script, and only the admin's own live-preview file.
    relax_security_headers(EDITOR_CONTENT_SECURITY_POLICY, "DENY")
    return render_template(
        "admin/policy_editor.html",
        document=document,
        version=version,
        body=body,
        material=material,
        effective_at=effective_at or "",
        summaries=summaries or {},
        locales=_locales(document),
        purposes=_purposes(document),
        affected=affected or [],
        preview=Markup(render_policy(body, demote=2)),  # sanitised by render_policy
        others=_others(version) if version else [],
        previous=_previous(version) if version else None,
        error=error,
    )


def _locales(document: PolicyDocument) -> list[str]:
    prop = _property_of(document)
    return list(dict.fromkeys([prop.default_locale, *(prop.locales or [])]))


def _purposes(document: PolicyDocument) -> list[tuple[str, str]]:
    """The property's purposes as (key, name in its default language), for the editor."""
    locale = _property_of(document).default_locale
    rows = current_session().scalars(
        sa.select(Purpose)
        .where(Purpose.property_id == document.property_id)
        .order_by(Purpose.position)
    )
    return [(p.key, (p.texts or {}).get(locale, {}).get("name") or p.key) for p in rows]


def _property_of(document: PolicyDocument) -> Property:
    prop = current_session().get(Property, document.property_id)
    assert prop is not None  # a document's property is a foreign key
    return prop


def _others(version: PolicyVersion) -> list[PolicyVersion]:
    """The versions to compare ``version`` with, newest first (the likeliest choice on top)."""
    return [v for v in reversed(version.document.versions) if v.id != version.id]


def _previous(version: PolicyVersion) -> PolicyVersion | None:
    """What a reader compares ``version`` with first: the published version before it (for a
    draft, the one in force), else any earlier draft. Not version 1, which the form offered."""
    earlier = [v for v in reversed(version.document.versions) if v.id < version.id]
    published = [v for v in earlier if v.status is not VersionStatus.DRAFT]
    return next(iter(published or earlier), None)


def _document(document_id: int) -> PolicyDocument:
    document = current_session().get(PolicyDocument, document_id)
    if document is None:
        abort(404)
    return document


def _version(version_id: int) -> PolicyVersion:
    version = current_session().get(PolicyVersion, version_id)
    if version is None:
        abort(404)
    return version


def _draft(version_id: int) -> PolicyVersion:
    version = _version(version_id)
    if version.status is not VersionStatus.DRAFT:
        abort(409, f"version {version.number} is already published")
    return version


def _notice_recipients(version: PolicyVersion) -> int:
    return count_recipients(current_session(), version.document.property_id)


def _commit_audited(
    version: PolicyVersion, action: str, before: dict[str, object] | None, message: str
) -> None:
    """Audit ``action`` on ``version`` (its state before, and now), commit, tell the admin."""
    commit_audited(
        action,
        target_type="policy_version",
        target_id=str(version.id),
        before=before,
        after=_audited(version),
        message=message,
    )


def _audited(version: PolicyVersion) -> dict[str, object]:
    return {
        "document": version.document.key,
        "status": str(version.status),
        "number": version.number,
        "material": version.material,
        "affected_purposes": list(version.affected_purposes or []),
        "sha256": version.sha256,
        "effective_at": version.effective_at.isoformat() if version.effective_at else None,
        "change_summary": dict(version.change_summary or {}),
    }
