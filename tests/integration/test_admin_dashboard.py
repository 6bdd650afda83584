"""The admin dashboard: charts with their numbers, and a person's verified history."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from consent_service.models import AuditEntry


def test_the_dashboard_shows_rate_and_receipt_charts_with_their_tables(viewer, consent_via_widget):
    consent_via_widget(uuid.uuid4(), marketing=True)
    page = viewer.get("/admin/dashboard/?days=7").get_data(as_text=True)
    assert page.count('role="img"') == 3
    assert "<caption>Totals for" in page


def test_looking_a_person_up_shows_verified_receipts_and_is_audited(
    viewer, session, consent_via_widget
):
    visitor = uuid.uuid4()
    consent_via_widget(visitor, marketing=True)
    page = viewer.post("/admin/dashboard/", {"subject": f"visitor:{visitor}"}).get_data(
        as_text=True
    )
    assert "1 receipt(s)" in page
    assert "<td>yes</td>" in page
    assert (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.action == "subject.viewed", AuditEntry.target_id == f"visitor:{visitor}"
            )
        )
        == 1
    )


def test_an_email_look_up_is_audited_without_the_address(viewer, session):
    viewer.post("/admin/dashboard/", {"subject": "email:someone@example.com"})
    entries = session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "subject.viewed")
    ).all()
    assert entries and all("someone" not in (e.target_id or "") for e in entries)


def test_a_malformed_subject_is_explained_on_the_page(viewer):
    page = viewer.post("/admin/dashboard/", {"subject": "visitor:nope"}).get_data(as_text=True)
    assert "must be followed by a UUID" in page
