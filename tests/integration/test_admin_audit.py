"""The audit log: browsing with filters and pages, exports, and rows that never change."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

import pytest
import sqlalchemy as sa

from consent_service.infra.audit import Actor
from consent_service.infra.audit import AuditFilter
from consent_service.infra.audit import list_entries
from consent_service.infra.audit import record
from consent_service.infra.audit import record_as
from consent_service.models import AuditEntry
from tests.integration.test_admin_support import AdminClient
from tests.integration.test_admin_support import make_admin


@pytest.fixture
def admin(app, session, vault):
    user, secret = make_admin(session, vault, "admin")
    client = AdminClient(app)
    client.sign_in(user.email, secret=secret)
    return client


def _entry(session, action="policy.publish", actor="ada@example.com", at=None, **changes):
    entry = record(
        session,
        actor=actor,
        action=action,
        target_type="policy_version",
        target_id="7",
        before={"status": "draft"},
        after={"status": "published", **changes},
    )
    if at:
        entry.at = at
    session.commit()
    return entry


def test_record_redacts_secret_values_at_any_depth(session):
    entry = record_as(
        session,
        Actor("cli:ops"),
        "integration.rotate",
        target_type="webhook_endpoint",
        target_id="1",
        before={"secret": "whsec_old", "nested": {"api_key": "csk_x", "name": "n"}},
        after={"password_hash": "$argon2id$...", "url": "https://example.com", "enabled": True},
    )
    session.flush()
    assert entry.before == {
        "secret": "[redacted]",
        "nested": {"api_key": "[redacted]", "name": "n"},
    }
    assert entry.after == {
        "password_hash": "[redacted]",
        "url": "https://example.com",
        "enabled": True,
    }


def test_entries_cannot_be_changed_or_deleted(session):
    entry = _entry(session)
    with pytest.raises(sa.exc.DatabaseError), session.begin_nested():
        session.execute(
            sa.update(AuditEntry).where(AuditEntry.id == entry.id).values(actor="someone")
        )
    with pytest.raises(sa.exc.DatabaseError), session.begin_nested():
        session.execute(sa.delete(AuditEntry).where(AuditEntry.id == entry.id))


def test_filters_narrow_by_actor_action_target_and_dates(session):
    day = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
    _entry(session, actor="ada@example.com", at=day)
    _entry(session, actor="bob@example.com", at=day + dt.timedelta(days=2))
    _entry(session, action="banner.edit", actor="ada@example.com", at=day + dt.timedelta(days=5))

    def count(**filters):
        return list_entries(session, AuditFilter(**filters)).total

    assert count(actor="ada@example.com", since=day.date()) == 2
    assert count(action="banner.edit") >= 1
    assert count(target_type="policy_version", target_id="7", since=day.date()) == 3
    assert count(since=day.date(), until=day.date()) == 1
    assert (
        count(since=(day + dt.timedelta(days=1)).date(), until=(day + dt.timedelta(days=2)).date())
        == 1
    )


def test_the_page_shows_entries_newest_first_with_pagination(admin, session):
    marker = uuid.uuid4().hex
    for n in range(55):
        _entry(session, action=f"test.{marker}", n=n)
    first = admin.get("/admin/audit/", query_string={"action": f"test.{marker}"})
    assert first.status_code == 200
    assert b"55 entries" in first.data and b"Page 1 of 2" in first.data
    assert b"&#34;n&#34;: 54" in first.data or b'"n": 54' in first.data
    second = admin.get("/admin/audit/", query_string={"action": f"test.{marker}", "page": 2})
    assert b"Page 2 of 2" in second.data and b'rel="prev"' in second.data


def test_a_malformed_date_filter_is_a_400_page(admin):
    response = admin.get("/admin/audit/", query_string={"since": "yesterday"})
    assert response.status_code == 400 and response.mimetype == "text/html"


def test_export_csv_has_one_row_per_matching_entry(admin, session):
    marker = uuid.uuid4().hex
    _entry(session, action=f"csv.{marker}", note="=HYPERLINK(1)")
    _entry(session, action=f"csv.{marker}")
    response = admin.get("/admin/audit/export.csv", query_string={"action": f"csv.{marker}"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = list(csv.DictReader(io.StringIO(response.data.decode())))
    assert len(rows) == 2
    assert rows[0]["action"] == f"csv.{marker}" and rows[0]["actor"] == "ada@example.com"
    assert '"status": "published"' in rows[0]["after"]


def test_export_json_lists_matching_entries_with_before_and_after(admin, session):
    marker = uuid.uuid4().hex
    _entry(session, action=f"json.{marker}")
    response = admin.get("/admin/audit/export.json", query_string={"action": f"json.{marker}"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    [entry] = response.json
    assert entry["before"] == {"status": "draft"} and entry["after"] == {"status": "published"}
    assert set(entry) >= {"id", "at", "actor", "action", "target_type", "target_id"}


def test_csv_cells_that_look_like_formulas_are_defused(session):
    from consent_service.infra.audit import export_csv

    entry = _entry(session, actor="=cmd|' /C calc'!A0")
    text = export_csv([entry])
    assert "'=cmd" in text
