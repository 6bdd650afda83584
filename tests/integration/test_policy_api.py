"""Published policy bodies, byte-exact and cacheable for good."""

from __future__ import annotations

import base64
import hashlib

from consent_service.documents.versions import get_published

URL = "/v1/policies/demo-shop/privacy-policy"


def test_the_served_bytes_hash_to_the_versions_sha256(client, session):
    response = client.get(f"{URL}/2")
    version = get_published(session, "demo-shop", "privacy-policy", 2)
    assert response.status_code == 200
    assert hashlib.sha256(response.data).hexdigest() == version.sha256
    assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"


def test_a_published_version_is_cacheable_for_good(client):
    response = client.get(f"{URL}/1")
    assert "immutable" in response.headers["Cache-Control"]
    assert response.headers["ETag"].strip('"') == hashlib.sha256(response.data).hexdigest()


def test_the_body_carries_an_rfc_9530_digest(client):
    response = client.get(f"{URL}/1")
    digest = base64.b64encode(hashlib.sha256(response.data).digest()).decode()
    assert response.headers["Repr-Digest"] == f"sha-256=:{digest}:"


def test_a_matching_etag_gets_a_304(client):
    etag = client.get(f"{URL}/2").headers["ETag"]
    response = client.get(f"{URL}/2", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.data == b""


def test_latest_redirects_to_the_current_versions_url(client):
    response = client.get(f"{URL}/latest")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{URL}/2")
    assert response.headers["Cache-Control"] == "no-cache"


def test_a_version_that_does_not_exist_is_a_404_problem(client):
    response = client.get(f"{URL}/9")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert "no published version 9" in response.json["detail"]


def test_an_unknown_document_is_a_404_problem(client):
    response = client.get("/v1/policies/demo-shop/terms-of-sale/1")
    assert response.status_code == 404
    assert "terms-of-sale" in response.json["detail"]


def test_a_draft_is_not_served(client, session):
    from consent_service.documents.versions import create_draft
    from consent_service.documents.versions import get_document

    create_draft(session, get_document(session, "demo-shop", "privacy-policy"), "draft")
    session.commit()
    assert client.get(f"{URL}/3").status_code == 404
