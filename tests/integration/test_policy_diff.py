"""The public diff between two published policy versions: what every notice links to."""

from __future__ import annotations

import pytest

from consent_service.documents.diff import RowKind
from consent_service.documents.diff import diff_published
from consent_service.documents.versions import create_draft
from consent_service.documents.versions import get_document
from consent_service.documents.versions import publish

DIFF = "/policies/demo-shop/privacy-policy/diff/1..2"


def published(session, body: str):
    document = get_document(session, "demo-shop", "privacy-policy")
    return publish(session, create_draft(session, document, body))


def test_the_diff_shows_what_the_new_version_added_and_removed(session):
    diff = diff_published(session, "demo-shop", "privacy-policy", 1, 2)
    assert diff.added + diff.changed + diff.removed > 0
    new_text = "".join(s.text for r in diff.rows for s in r.new if s.changed)
    assert "Meta" in new_text  # version 2's new recipient


def test_long_unchanged_stretches_are_folded_but_counted(session):
    diff = diff_published(session, "demo-shop", "privacy-policy", 1, 2)
    shown = sum(1 for r in diff.rows if r.kind is not RowKind.FOLDED)
    folded = sum(r.folded for r in diff.rows)
    new_lines = max(r.new_line or 0 for r in diff.rows)
    assert folded > 0
    assert shown + folded >= new_lines


def test_a_changed_line_marks_only_the_words_that_changed(session):
    draft = published(session, "one two three\n")
    second = published(session, "one TWO three\n")
    diff = diff_published(session, "demo-shop", "privacy-policy", draft.number, second.number)
    [row] = [r for r in diff.rows if r.kind is RowKind.CHANGED]
    assert [(s.text, s.changed) for s in row.new] == [
        ("one ", False),
        ("TWO", True),
        (" three", False),
    ]


def test_the_page_renders_the_diff_with_links_to_both_versions(client):
    response = client.get(DIFF)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'href="/policies/demo-shop/privacy-policy/1"' in page
    assert 'href="/policies/demo-shop/privacy-policy/2"' in page
    assert "<ins>" in page
    assert "material change" in page


def test_the_page_speaks_the_readers_language_when_the_summary_does(client):
    page = client.get(DIFF, headers={"Accept-Language": "de-DE,de;q=0.9"}).get_data(as_text=True)
    assert 'lang="de"' in page
    assert "Neuer Zweck" in page


def test_the_page_has_a_strict_content_security_policy(client):
    policy = client.get(DIFF).headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy


def test_policy_text_is_escaped_not_executed(client, session):
    first = published(session, "Hello\n")
    second = published(session, "Hello <script>alert(1)</script>\n")
    session.commit()
    page = client.get(
        f"/policies/demo-shop/privacy-policy/diff/{first.number}..{second.number}"
    ).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize(
    "path",
    [
        "/policies/demo-shop/privacy-policy/diff/1..99",
        "/policies/demo-shop/no-such-document/diff/1..2",
        "/policies/no-such-shop/privacy-policy/diff/1..2",
    ],
)
def test_unknown_versions_documents_or_properties_are_404(client, path):
    assert client.get(path).status_code == 404


def test_comparing_a_version_with_itself_is_422(client):
    assert client.get("/policies/demo-shop/privacy-policy/diff/2..2").status_code == 422


def test_an_unpublished_draft_cannot_be_diffed(client, session):
    document = get_document(session, "demo-shop", "privacy-policy")
    draft = create_draft(session, document, "secret draft\n")
    session.commit()
    assert draft.number is None  # drafts have no number until published
    assert client.get("/policies/demo-shop/privacy-policy/diff/2..3").status_code == 404
