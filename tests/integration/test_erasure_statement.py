"""The proof of erasure: a statement signed with the receipts' key, verifiable with the JWKS
by an independent JOSE library, offered to the person right after erasure and listed in the
admin's erasure page; nobody else's link or a forged one downloads anything."""

from __future__ import annotations

import json
import re
import uuid

import pytest
import sqlalchemy as sa
from joserfc import jws
from joserfc.jwk import KeySet

from consent_service.infra.signing import b64url_decode
from consent_service.models import ErasureRequest
from consent_service.models import Subject
from consent_service.models.base import utcnow
from consent_service.self_service.erasure_proof import DOWNLOAD_LIFETIME
from consent_service.self_service.erasure_proof import STATEMENT_SCHEMA
from consent_service.self_service.erasure_proof import STATEMENT_TYP
from consent_service.self_service.erasure_proof import download_token
from tests.integration.preferences_support import csrf_of
from tests.integration.test_admin_support import signed_in
from tests.integration.test_preferences_proof_and_data import customer_with_browser
from tests.integration.test_preferences_proof_and_data import visitor_with_receipt

STATEMENT_LINK = re.compile(r'href="(/preferences/erasures/[^"]+/statement\.jws\?token=[^"]+)"')


def erase_on_the_page(client):
    response = client.post(
        "/preferences/erase", data={"csrf_token": csrf_of(client), "confirm": "yes"}
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def statement_link(page: str) -> str:
    match = STATEMENT_LINK.search(page)
    assert match, "the erased page links no statement"
    return match.group(1).replace("&amp;", "&")


def header_of(compact: str) -> dict[str, object]:
    return json.loads(b64url_decode(compact.split(".")[0]))


@pytest.fixture
def erased_customer(app, client, session, record):
    identity, visitor = customer_with_browser(app, client, session, record)
    page = erase_on_the_page(client)
    request = session.scalar(
        sa.select(ErasureRequest).where(ErasureRequest.identity_id == identity.id)
    )
    return identity, visitor, request, page


def test_the_statement_verifies_with_an_independent_jose_library_against_the_jwks(
    client, erased_customer
):
    _, _, request, _ = erased_customer
    keyset = KeySet.import_key_set(client.get("/.well-known/jwks.json").json)
    verified = jws.deserialize_compact(request.statement_jws, keyset, algorithms=["Ed25519"])
    payload = json.loads(verified.payload)
    assert payload["schema"] == STATEMENT_SCHEMA
    assert payload["erasure_request_id"] == str(request.id)
    assert verified.headers()["typ"] == STATEMENT_TYP != "JOSE"


def test_the_statement_says_what_was_erased_and_when_by_pseudonymous_ids_only(
    session, erased_customer
):
    identity, visitor, request, _ = erased_customer
    payload = json.loads(b64url_decode(request.statement_jws.split(".")[1]))
    subject_id = session.scalar(sa.select(Subject.id).where(Subject.visitor_id == visitor))
    assert payload["subject_ids"] == [str(subject_id)]
    assert payload["subject_kind"] == "customer"
    assert payload["erased"]["receipts_withdrawn"] == 1
    assert payload["erased"]["identity_pii_wiped"] == 1
    assert payload["erased"]["sessions_ended"] >= 1
    assert payload["erased"]["person_keys_shredded"] == 1  # their key left the key store
    assert payload["erased"] == request.summary
    for moment in ("requested_at", "completed_at", "due_at"):
        assert payload[moment].endswith("Z")
    assert str(visitor) not in json.dumps(payload)
    assert str(identity.id) not in json.dumps(payload)


def test_the_erased_page_downloads_the_statement(client, erased_customer):
    _, _, request, page = erased_customer
    response = client.get(statement_link(page))
    assert response.status_code == 200
    assert response.mimetype == "application/jose"
    assert f'filename="erasure-{request.id}.jws"' in response.headers["Content-Disposition"]
    assert response.get_data(as_text=True) == request.statement_jws


def test_a_forged_token_downloads_nothing(client, erased_customer):
    _, _, request, _ = erased_customer
    response = client.get(f"/preferences/erasures/{request.id}/statement.jws?token=forged")
    assert response.status_code == 404


def test_another_requests_token_downloads_nothing(app, client, erased_customer):
    _, _, request, _ = erased_customer
    secret = app.extensions["consent_settings"].secret_key
    foreign = download_token(secret, uuid.uuid4())
    response = client.get(f"/preferences/erasures/{request.id}/statement.jws?token={foreign}")
    assert response.status_code == 404


def test_a_valid_token_for_an_unknown_request_downloads_nothing(app, client):
    unknown = uuid.uuid4()
    token = download_token(app.extensions["consent_settings"].secret_key, unknown)
    response = client.get(f"/preferences/erasures/{unknown}/statement.jws?token={token}")
    assert response.status_code == 404


def test_an_expired_link_downloads_nothing(app, client, erased_customer):
    _, _, request, _ = erased_customer
    old = utcnow() - DOWNLOAD_LIFETIME - DOWNLOAD_LIFETIME / 10
    token = download_token(app.extensions["consent_settings"].secret_key, request.id, signed_at=old)
    response = client.get(f"/preferences/erasures/{request.id}/statement.jws?token={token}")
    assert response.status_code == 404


def test_an_anonymous_browsers_erasure_has_its_statement_too(app, client, session, record):
    visitor_with_receipt(app, client, session, record)
    page = erase_on_the_page(client)
    payload = json.loads(
        b64url_decode(client.get(statement_link(page)).get_data(as_text=True).split(".")[1])
    )
    assert payload["subject_kind"] == "browser"
    assert payload["erased"]["identity_pii_wiped"] == 0


def test_the_admin_lists_each_statement_and_downloads_it(app, session, erased_customer):
    _, _, request, _ = erased_customer
    admin = signed_in(app, session, "viewer")
    page = admin.get("/admin/erasures/").get_data(as_text=True)
    link = f"/admin/erasures/{request.id}/statement.jws"
    assert link in page
    assert "1 withdrawn by receipt" in page
    download = admin.get(link)
    assert download.status_code == 200
    assert download.get_data(as_text=True) == request.statement_jws
    assert header_of(download.get_data(as_text=True))["typ"] == STATEMENT_TYP


def test_the_admin_download_of_an_unknown_request_is_404(app, session):
    admin = signed_in(app, session, "viewer")
    assert admin.get(f"/admin/erasures/{uuid.uuid4()}/statement.jws").status_code == 404
