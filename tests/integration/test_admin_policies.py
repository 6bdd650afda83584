"""Policy editing in the admin: drafts with a sanitised preview, diffs, and a publish step
only a publisher can take, after a confirmation; every change audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from consent_service.models import AuditEntry
from consent_service.models import PolicyDocument
from consent_service.models import PolicyVersion
from consent_service.models import VersionStatus
from tests.integration.test_admin_support import signed_in


@pytest.fixture
def document(session):
    return session.scalar(sa.select(PolicyDocument).where(PolicyDocument.key == "privacy-policy"))


def draft_form(**overrides):
    form = {"body": "# Privacy Policy\n\nVersion 3 text.\n", "action": "save", "summary_en": ""}
    form.update(overrides)
    return form


def latest_draft(session, document):
    return session.scalars(
        sa.select(PolicyVersion)
        .where(
            PolicyVersion.document_id == document.id,
            PolicyVersion.status == VersionStatus.DRAFT,
        )
        .order_by(PolicyVersion.id.desc())
    ).first()


def test_the_policies_page_lists_every_version(editor, document):
    page = editor.get("/admin/policies/").get_data(as_text=True)
    assert "Version 1" in page and "Version 2" in page


def test_an_editor_saves_a_draft_and_the_change_is_audited(editor, session, document):
    response = editor.post(f"/admin/policies/{document.id}/new", draft_form())
    assert response.status_code == 302
    draft = latest_draft(session, document)
    assert draft.body.endswith("Version 3 text.\n")
    entry = session.scalars(
        sa.select(AuditEntry).where(AuditEntry.target_id == str(draft.id))
    ).one()
    assert entry.action == "policy.draft_created"


def test_preview_renders_without_saving(editor, session, document):
    before = latest_draft(session, document)
    response = editor.post(
        f"/admin/policies/{document.id}/new", draft_form(action="preview", body="# Hello\n")
    )
    assert "<h3>Hello</h3>" in response.get_data(as_text=True)  # demoted under "Preview"
    assert latest_draft(session, document) == before


def test_script_in_the_markdown_is_never_rendered_as_markup(editor, document):
    body = "Hi <script>alert(1)</script> [x](javascript:alert(2))\n"
    page = editor.post(
        f"/admin/policies/{document.id}/new", draft_form(action="preview", body=body)
    ).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert 'href="javascript' not in page


def test_a_material_draft_without_a_summary_is_refused(editor, session, document):
    response = editor.post(f"/admin/policies/{document.id}/new", draft_form(material="on"))
    assert response.status_code == 422
    assert "change summary" in response.get_data(as_text=True)


def test_a_viewer_cannot_create_drafts(app, session, vault, document):
    viewer = signed_in(app, session, "viewer")
    assert viewer.post(f"/admin/policies/{document.id}/new", draft_form()).status_code == 403


def test_an_editor_cannot_publish(editor, session, document):
    editor.post(f"/admin/policies/{document.id}/new", draft_form())
    draft = latest_draft(session, document)
    assert editor.get(f"/admin/policies/versions/{draft.id}/publish").status_code == 403
    assert editor.post(f"/admin/policies/versions/{draft.id}/publish").status_code == 403
    session.refresh(draft)
    assert draft.status is VersionStatus.DRAFT


def test_the_confirmation_says_what_a_material_publication_will_do(publisher, session, document):
    publisher.post(
        f"/admin/policies/{document.id}/new",
        draft_form(material="on", summary_en="New.", affected_purposes="marketing"),
    )
    draft = latest_draft(session, document)
    page = publisher.get(f"/admin/policies/versions/{draft.id}/publish").get_data(as_text=True)
    assert "asked again" in page
    assert "will be sent the change notice" in page


def test_a_publisher_publishes_and_the_version_becomes_read_only(publisher, session, document):
    publisher.post(f"/admin/policies/{document.id}/new", draft_form())
    draft = latest_draft(session, document)
    response = publisher.post(f"/admin/policies/versions/{draft.id}/publish")
    assert response.status_code == 302
    session.refresh(draft)
    assert draft.status is VersionStatus.PUBLISHED
    again = publisher.post(f"/admin/policies/versions/{draft.id}", draft_form(body="changed\n"))
    assert again.status_code == 409
    assert session.scalars(
        sa.select(AuditEntry.action).where(AuditEntry.target_id == str(draft.id))
    ).all() == ["policy.draft_created", "policy.published"]


def test_publishing_without_the_csrf_token_changes_nothing(publisher, session, document):
    publisher.post(f"/admin/policies/{document.id}/new", draft_form())
    draft = latest_draft(session, document)
    response = publisher.post(f"/admin/policies/versions/{draft.id}/publish", csrf=False)
    assert response.status_code == 400
    session.refresh(draft)
    assert draft.status is VersionStatus.DRAFT


def test_any_two_versions_can_be_compared(editor, session, document):
    editor.post(f"/admin/policies/{document.id}/new", draft_form())
    draft = latest_draft(session, document)
    current = session.scalar(
        sa.select(PolicyVersion).where(
            PolicyVersion.document_id == document.id, PolicyVersion.number == 2
        )
    )
    page = editor.get(f"/admin/policies/versions/{draft.id}/diff?against={current.id}").get_data(
        as_text=True
    )
    assert "<ins>" in page and "<del>" in page


def test_the_live_preview_renders_sanitised_html(editor):
    response = editor.post(
        "/admin/policies/preview", {"body": "# Title\n\n<script>x</script> [a](javascript:y)"}
    )
    html = response.get_data(as_text=True)
    assert "<h3>Title</h3>" in html
    assert "<script>" not in html and 'href="javascript' not in html


def test_only_the_editor_page_may_run_the_admins_own_script(editor, document):
    editor_page = editor.get(f"/admin/policies/{document.id}/new")
    assert "script-src 'self'" in editor_page.headers["Content-Security-Policy"]
    assert "script-src" not in editor.get("/admin/policies/").headers["Content-Security-Policy"]


def test_the_live_preview_needs_the_csrf_token(editor):
    response = editor.post("/admin/policies/preview", {"body": "# x"}, csrf=False)
    assert response.status_code == 400


def test_the_confirmation_counts_only_customers_who_would_be_emailed(
    app, publisher, session, document
):
    from consent_service.messaging.campaigns import count_recipients
    from consent_service.messaging.campaigns import set_subscription
    from consent_service.models.base import utcnow
    from tests.integration.test_notifications_sink import add_customer

    before = count_recipients(session, document.property_id)
    add_customer(app, session, "stays@example.com")
    leaves = add_customer(app, session, "leaves@example.com")
    add_customer(app, session, None)  # no address: never emailed
    set_subscription(
        session, leaves.id, "policy-notices", subscribed=False, source="test", now=utcnow()
    )
    session.commit()
    assert count_recipients(session, document.property_id) == before + 1
    publisher.post(
        f"/admin/policies/{document.id}/new",
        draft_form(material="on", summary_en="x", affected_purposes="marketing"),
    )
    draft = latest_draft(session, document)
    page = publisher.get(f"/admin/policies/versions/{draft.id}/publish").get_data(as_text=True)
    assert f"<strong>{before + 1}</strong> customer(s) will be sent" in page
