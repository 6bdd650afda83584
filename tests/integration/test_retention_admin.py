"""The admin's Retention page: the schedule shown, a property's own periods saved and audited,
a period below a floor or not a duration refused with the form, nothing changed."""

from __future__ import annotations

import sqlalchemy as sa

from consent_service.models import AuditEntry
from tests.integration import retention_support as history


def test_the_page_shows_every_kind_and_the_receipts_limitations(viewer):
    page = viewer.get("/admin/retention/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for words in ("Decision log", "Admin audit log", "BGB §§195, 199(1)", "24 months"):
        assert words in text
    assert 'href="/admin/retention/"' in text


def test_an_editor_sets_a_shorter_decision_log_and_it_is_audited(editor, session):
    saved = editor.post(
        "/admin/retention/?property=demo-shop", data={"decision_log": "p90d", "outbox_dead": ""}
    )
    assert saved.status_code == 302
    session.expire_all()
    assert history.demo_property(session).retention_overrides == {"decision_log": "P90D"}
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "retention.overridden"))
    assert entry.after == {"decision_log": "P90D"}


def test_text_that_is_not_a_duration_is_a_form_error_and_nothing_changes(editor, session):
    history.demo_property(session).retention_overrides = {"outbox_dead": "P60D"}
    session.commit()
    refused = editor.post(
        "/admin/retention/?property=demo-shop",
        data={"decision_log": "6 months", "outbox_dead": "P30D"},
    )
    assert refused.status_code == 422
    assert "decision_log: &#39;6 months&#39; is not a duration" in refused.get_data(as_text=True)
    session.expire_all()
    assert history.demo_property(session).retention_overrides == {"outbox_dead": "P60D"}


def test_a_viewer_cannot_change_periods(viewer, session):
    refused = viewer.post("/admin/retention/?property=demo-shop", data={"decision_log": "P1D"})
    assert refused.status_code == 403
    assert history.demo_property(session).retention_overrides == {}
