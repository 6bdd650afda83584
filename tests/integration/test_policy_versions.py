"""Policy versions: drafts change freely; published versions never change, by any route."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from consent_service.documents.versions import body_sha256
from consent_service.documents.versions import create_draft
from consent_service.documents.versions import current_version
from consent_service.documents.versions import edit_draft
from consent_service.documents.versions import get_document
from consent_service.documents.versions import publish
from consent_service.errors import PublishedVersionImmutable
from consent_service.models import PolicyVersion
from consent_service.properties.lookup import consent_context

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def document(session):
    return get_document(session, "demo-shop", "privacy-policy")


@pytest.fixture
def draft(session, document):
    return create_draft(
        session,
        document,
        "# Privacy\r\n\r\nDraft text.\r\n",
        material=True,
        change_summary={"en": "We now share less."},
    )


def test_a_draft_has_no_number_and_the_hash_of_its_canonical_body(draft):
    assert draft.number is None
    assert draft.body == "# Privacy\n\nDraft text.\n"
    assert draft.sha256 == body_sha256(draft.body)


def test_a_draft_can_be_edited_and_its_hash_follows(session, draft):
    edit_draft(session, draft, body="# Privacy\n\nBetter text.\n", material=False)
    assert draft.sha256 == body_sha256("# Privacy\n\nBetter text.\n")
    assert draft.material is False


def test_publishing_gives_the_next_number_and_freezes_the_time(session, draft):
    publish(session, draft, now=NOW)
    assert draft.number == 3  # the demo shop has published 1 and 2
    assert draft.published_at == NOW
    assert draft.effective_at == NOW


def test_editing_a_published_version_is_refused(session, draft):
    publish(session, draft, now=NOW)
    with pytest.raises(PublishedVersionImmutable, match="create a new draft"):
        edit_draft(session, draft, body="sneaky rewrite")


def test_publishing_twice_is_refused(session, draft):
    publish(session, draft, now=NOW)
    with pytest.raises(PublishedVersionImmutable):
        publish(session, draft, now=NOW)


def test_the_database_refuses_to_update_a_published_body(session, document):
    with pytest.raises(DBAPIError, match="immutable"), session.begin_nested():
        session.execute(
            sa.update(PolicyVersion)
            .where(PolicyVersion.document_id == document.id, PolicyVersion.number == 1)
            .values(body="rewritten history\n")
        )


@pytest.mark.parametrize("column", ["number", "sha256", "material"])
def test_the_database_refuses_to_change_any_published_column(session, document, column):
    values = {"number": 7, "sha256": "0" * 64, "material": True}
    with pytest.raises(DBAPIError, match="immutable"), session.begin_nested():
        session.execute(
            sa.update(PolicyVersion)
            .where(PolicyVersion.document_id == document.id, PolicyVersion.number == 1)
            .values({column: values[column]})
        )


def test_the_database_refuses_to_delete_a_published_version(session, document):
    with pytest.raises(DBAPIError, match="immutable"), session.begin_nested():
        session.execute(
            sa.delete(PolicyVersion).where(
                PolicyVersion.document_id == document.id, PolicyVersion.number == 1
            )
        )


def test_a_version_becomes_current_only_when_it_takes_effect(session, document, draft):
    edit_draft(session, draft, effective_at=NOW + dt.timedelta(days=30))
    publish(session, draft, now=NOW)
    assert current_version(session, document.id, now=NOW).number == 2
    later = NOW + dt.timedelta(days=31)
    assert current_version(session, document.id, now=later).number == 3


def test_the_last_material_version_is_the_newest_material_one_in_effect(session, document, draft):
    assert consent_context(session, "demo-shop", now=NOW).last_material == 2
    edit_draft(session, draft, material=False)
    publish(session, draft, now=NOW)
    assert consent_context(session, "demo-shop", now=NOW).last_material == 2
