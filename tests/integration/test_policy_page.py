"""A published policy version as a page people read, and its exact bytes where receipts say."""

from __future__ import annotations

import hashlib

from consent_service.documents.versions import create_draft
from consent_service.documents.versions import get_document
from consent_service.documents.versions import get_published
from consent_service.documents.versions import publish

PAGE = "/policies/demo-shop/privacy-policy"
RAW = "/v1/policies/demo-shop/privacy-policy"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def published(session, body: str, **options):
    document = get_document(session, "demo-shop", "privacy-policy")
    version = publish(session, create_draft(session, document, body, **options))
    session.commit()
    return version


def test_the_page_renders_the_policy_instead_of_showing_its_markdown(client):
    response = client.get(f"{PAGE}/2", headers=BROWSER)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "<h2>" in page  # the policy's own "#"/"##" headings, under the page's <h1>
    assert "## " not in page and "**" not in page


def test_the_page_states_version_effective_date_and_change_summary(client, session):
    version = get_published(session, "demo-shop", "privacy-policy", 2)
    page = client.get(f"{PAGE}/2").get_data(as_text=True)
    assert f"Version 2, in effect from {version.effective_at:%Y-%m-%d}." in page
    assert "New purpose: if you consent to Marketing" in page


def test_the_page_links_the_diff_with_the_previous_version(client):
    page = client.get(f"{PAGE}/2?lang=de").get_data(as_text=True)
    assert 'href="/policies/demo-shop/privacy-policy/diff/1..2?lang=de"' in page
    assert "Mit Version 1 vergleichen" in page


def test_the_first_version_has_no_diff_link(client):
    response = client.get(f"{PAGE}/1")
    assert response.status_code == 200
    assert "Version 1, in effect from" in response.get_data(as_text=True)
    assert "/diff/" not in response.get_data(as_text=True)


def test_the_page_speaks_the_language_asked_for_with_the_summary_in_it(client):
    by_header = client.get(f"{PAGE}/2", headers={"Accept-Language": "de-DE,de;q=0.9"})
    by_query = client.get(f"{PAGE}/2?lang=fr", headers={"Accept-Language": "de"})
    assert 'lang="de"' in by_header.get_data(as_text=True)
    assert "Neuer Zweck: Wenn Sie in Marketing einwilligen" in by_header.get_data(as_text=True)
    assert 'lang="fr"' in by_query.get_data(as_text=True)
    assert "Version 2, en vigueur à partir du" in by_query.get_data(as_text=True)


def test_the_page_links_the_exact_bytes_and_names_their_hash(client, session):
    version = get_published(session, "demo-shop", "privacy-policy", 2)
    page = client.get(f"{PAGE}/2").get_data(as_text=True)
    assert f'href="{RAW}/2.md"' in page
    assert version.sha256 in page


def test_an_older_version_points_to_the_one_in_effect(client, session):
    newer = published(session, "# Privacy\n\nNewer.\n")
    page = client.get(f"{PAGE}/2").get_data(as_text=True)
    assert f'href="{PAGE}/{newer.number}?lang=en"' in page


def test_policy_markup_is_sanitised_not_executed(client, session):
    version = published(session, "# Hi\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))\n")
    response = client.get(f"{PAGE}/{version.number}")
    page = response.get_data(as_text=True)
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as text
    assert 'href="javascript:' not in page
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_an_unknown_version_is_a_404_page_for_a_browser(client):
    response = client.get(f"{PAGE}/99", headers={**BROWSER, "Accept-Language": "de"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Diese Version gibt es nicht" in response.get_data(as_text=True)


def test_an_unknown_document_is_a_404_problem_for_a_program(client):
    response = client.get("/policies/demo-shop/no-such-document/1")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_a_draft_is_never_shown(client, session):
    document = get_document(session, "demo-shop", "privacy-policy")
    create_draft(session, document, "# Draft\n\nSecret plans.\n")
    session.commit()
    for number in (1, 2, 3):
        response = client.get(f"{PAGE}/{number}", headers=BROWSER)
        assert "Secret plans" not in response.get_data(as_text=True)
    assert client.get(f"{PAGE}/3", headers=BROWSER).status_code == 404


def test_a_receipts_policy_url_still_gives_the_exact_bytes_to_a_program(client, consent_body):
    policy = client.post("/v1/consents", json=consent_body).json["payload"]["policy"]
    path = policy["url"].removeprefix("http://consent.test")
    for accept in (None, "*/*", "text/markdown", "text/markdown, text/html;q=0.5"):
        response = client.get(path, headers={"Accept": accept} if accept else {})
        assert response.status_code == 200, accept
        assert hashlib.sha256(response.data).hexdigest() == policy["sha256"], accept
        assert "Accept" in response.headers["Vary"]


def test_a_browser_following_a_receipts_or_old_emails_link_is_sent_to_the_page(client):
    response = client.get(f"{RAW}/2", headers=BROWSER)
    assert response.status_code == 303
    assert response.headers["Location"] == f"{PAGE}/2"
    assert "Accept" in response.headers["Vary"]


def test_the_md_url_gives_the_exact_bytes_even_to_a_browser(client, session):
    version = get_published(session, "demo-shop", "privacy-policy", 2)
    response = client.get(f"{RAW}/2.md", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"
    assert hashlib.sha256(response.data).hexdigest() == version.sha256


def test_the_banner_and_layer_link_the_pages(client):
    config = client.get("/v1/banner?property=demo-shop").json
    assert config["policy"]["url"] == f"http://consent.test{PAGE}/2"
    assert config["documents"]
    for document in config["documents"]:
        key, number = document["key"], document["version"]
        assert document["url"] == f"http://consent.test/policies/demo-shop/{key}/{number}"
