"""``POST /v1/consents``: a choice becomes a signed receipt and the current state, atomically."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest
import sqlalchemy as sa
from joserfc import jws
from joserfc.jwk import KeySet

from consent_service.models import ConsentState
from consent_service.models import Purpose


def post(client, body, **kwargs):
    return client.post("/v1/consents", json=body, **kwargs)


def test_the_receipt_verifies_with_an_independent_jose_library_against_the_jwks(
    client, consent_body
):
    response = post(client, consent_body)
    assert response.status_code == 201
    keyset = KeySet.import_key_set(client.get("/.well-known/jwks.json").json)
    verified = jws.deserialize_compact(response.json["receipt"], keyset, algorithms=["Ed25519"])
    assert json.loads(verified.payload) == response.json["payload"]


def test_the_receipt_cites_the_exact_policy_body_served_for_its_version(client, consent_body):
    payload = post(client, consent_body).json["payload"]
    body = client.get(f"/v1/policies/demo-shop/privacy-policy/{payload['policy']['version']}")
    assert hashlib.sha256(body.data).hexdigest() == payload["policy"]["sha256"]
    assert payload["policy"] == {
        "document": "privacy-policy",
        "version": 2,
        "sha256": payload["policy"]["sha256"],
        "url": "http://consent.test/v1/policies/demo-shop/privacy-policy/2",
    }


def test_the_receipt_carries_every_required_member(client, consent_body):
    payload = post(client, consent_body).json["payload"]
    required = {
        "receipt_id",
        "property",
        "subject",
        "policy",
        "jurisdiction",
        "region",
        "decisions",
        "method",
        "gpc",
        "issued_at",
        "expires_at",
        "prev",
    }
    assert required <= payload.keys()
    assert payload["decisions"] == {
        "necessary": "granted",
        "preferences": "granted",
        "analytics": "granted",
        "marketing": "denied",
        "advertising": "denied",
    }
    assert payload["jurisdiction"] == "unknown"
    assert payload["issued_at"] < payload["expires_at"]


def test_a_subjects_receipts_form_a_hash_chain(client, consent_body):
    first = post(client, consent_body).json
    consent_body["method"] = "withdrawal"
    consent_body["decisions"] = {}
    second = post(client, consent_body).json
    assert first["payload"]["prev"] is None
    assert second["payload"]["prev"] == hashlib.sha256(first["receipt"].encode()).hexdigest()
    assert second["payload"]["subject"] == first["payload"]["subject"]


def test_the_state_projection_is_written_with_the_receipt(client, session, consent_body):
    receipt_id = post(client, consent_body).json["receipt_id"]
    rows = session.execute(
        sa.select(Purpose.key, ConsentState.granted, ConsentState.receipt_id).join(
            Purpose, Purpose.id == ConsentState.purpose_id
        )
    ).all()
    assert {(key, granted) for key, granted, _ in rows} == {
        ("necessary", True),
        ("preferences", True),
        ("analytics", True),
        ("marketing", False),
        ("advertising", False),
    }
    assert {str(r) for _, _, r in rows} == {receipt_id}


@pytest.mark.parametrize(
    ("method", "expected"),
    [("accept_all", "granted"), ("reject_all", "denied"), ("withdrawal", "denied")],
)
def test_blanket_methods_decide_every_non_essential_purpose(client, consent_body, method, expected):
    consent_body.update(method=method, decisions={})
    decisions = post(client, consent_body).json["payload"]["decisions"]
    assert decisions.pop("necessary") == "granted"
    assert set(decisions.values()) == {expected}


def test_the_sec_gpc_header_is_recorded_and_denies_sale_purposes(client, consent_body):
    consent_body.update(method="accept_all", decisions={})
    payload = post(client, consent_body, headers={"Sec-GPC": "1"}).json["payload"]
    assert payload["gpc"] is True
    assert payload["decisions"]["advertising"] == "denied"
    assert payload["decisions"]["marketing"] == "denied"
    assert payload["decisions"]["analytics"] == "granted"


def test_a_sec_gpc_value_other_than_1_is_ignored(client, consent_body):
    payload = post(client, consent_body, headers={"Sec-GPC": "true"}).json["payload"]
    assert payload["gpc"] is False


def test_only_coarse_network_data_is_kept(client, consent_body):
    response = post(client, consent_body, environ_base={"REMOTE_ADDR": "203.0.113.77"})
    assert response.json["payload"]["network"] == "203.0.113.0/24"
    assert "203.0.113.77" not in response.get_data(as_text=True)


def test_the_response_is_not_cacheable(client, consent_body):
    assert post(client, consent_body).headers["Cache-Control"] == "no-store"


# --- bad input: a clear problem, the right status, nothing written --------------------------


def assert_problem(response, status, *, pointer=None, detail_contains=None):
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    body = response.json
    assert body["status"] == status
    assert body["title"]
    assert body["instance"] == "/v1/consents"
    if pointer is not None:
        assert pointer in [e["pointer"] for e in body["errors"]]
    if detail_contains is not None:
        assert detail_contains in body["detail"]
    return body


def test_malformed_json_is_a_400_naming_where_it_broke(client, receipt_count):
    response = client.post(
        "/v1/consents", data='{"property": "demo-shop",', content_type="application/json"
    )
    assert_problem(response, 400, detail_contains="line 1 column")
    assert receipt_count() == 0


def test_a_body_that_is_not_json_is_a_415(client, receipt_count):
    response = client.post(
        "/v1/consents", data="property=demo-shop", content_type="application/x-www-form-urlencoded"
    )
    assert_problem(response, 415, detail_contains="application/json")
    assert receipt_count() == 0


def test_an_oversized_body_is_a_413(client, consent_body, receipt_count):
    consent_body["padding"] = "x" * 20_000
    assert_problem(post(client, consent_body), 413)
    assert receipt_count() == 0


def test_an_oversized_body_is_titled_content_too_large_as_rfc_9110_names_it(client, consent_body):
    consent_body["padding"] = "x" * 20_000
    assert post(client, consent_body).json["title"] == "Content Too Large"


def test_a_json_array_is_a_422(client, receipt_count):
    assert_problem(client.post("/v1/consents", json=[1, 2]), 422, pointer="")
    assert receipt_count() == 0


def test_an_unknown_property_is_a_404(client, consent_body, receipt_count):
    consent_body["property"] = "no-such-shop"
    body = assert_problem(post(client, consent_body), 404, detail_contains="no-such-shop")
    assert body["type"] == "http://consent.test/problems/unknown-property"
    assert receipt_count() == 0


def test_an_unknown_purpose_is_a_422_pointing_at_it(client, consent_body, receipt_count):
    consent_body["decisions"]["telepathy"] = True
    assert_problem(post(client, consent_body), 422, pointer="/decisions/telepathy")
    assert receipt_count() == 0


@pytest.mark.parametrize(
    ("field", "value", "pointer"),
    [
        ("policy_version", "2", "/policy_version"),
        ("policy_version", True, "/policy_version"),
        ("policy_version", 0, "/policy_version"),
        ("visitor_id", "not-a-uuid", "/visitor_id"),
        ("gpc", "yes", "/gpc"),
        ("decisions", {"analytics": 1}, "/decisions/analytics"),
        ("decisions", ["analytics"], "/decisions"),
        ("property", "Demo Shop!", "/property"),
    ],
)
def test_wrong_types_are_422s_pointing_at_the_field(
    client, consent_body, receipt_count, field, value, pointer
):
    consent_body[field] = value
    assert_problem(post(client, consent_body), 422, pointer=pointer)
    assert receipt_count() == 0


@pytest.mark.parametrize("field", ["property", "visitor_id", "policy_version", "method"])
def test_a_missing_required_field_is_a_422(client, consent_body, receipt_count, field):
    del consent_body[field]
    assert_problem(post(client, consent_body), 422, pointer=f"/{field}")
    assert receipt_count() == 0


def test_an_extra_field_is_a_422(client, consent_body, receipt_count):
    consent_body["user_agent"] = "Mozilla/5.0"
    assert_problem(post(client, consent_body), 422, pointer="/user_agent")
    assert receipt_count() == 0


def test_a_method_that_is_not_allowed_is_a_422(client, consent_body, receipt_count):
    consent_body["method"] = "implied"
    assert_problem(post(client, consent_body), 422, pointer="/method")
    assert receipt_count() == 0


def test_refusing_an_essential_purpose_is_a_422(client, consent_body, receipt_count):
    consent_body["decisions"]["necessary"] = False
    assert_problem(post(client, consent_body), 422, pointer="/decisions/necessary")
    assert receipt_count() == 0


def test_a_custom_choice_must_decide_every_offered_purpose(client, consent_body, receipt_count):
    del consent_body["decisions"]["marketing"]
    assert_problem(post(client, consent_body), 422, pointer="/decisions/marketing")
    assert receipt_count() == 0


def test_decisions_contradicting_a_blanket_method_are_a_422(client, consent_body, receipt_count):
    consent_body["method"] = "reject_all"  # while analytics: true
    assert_problem(post(client, consent_body), 422, pointer="/decisions/analytics")
    assert receipt_count() == 0


def test_a_policy_version_that_does_not_exist_is_a_404(client, consent_body, receipt_count):
    consent_body["policy_version"] = 99
    assert_problem(post(client, consent_body), 404, pointer="/policy_version")
    assert receipt_count() == 0


def test_a_policy_version_that_is_not_current_is_a_409(client, consent_body, receipt_count):
    consent_body["policy_version"] = 1
    body = assert_problem(post(client, consent_body), 409, pointer="/policy_version")
    assert "current version is 2" in body["detail"]
    assert receipt_count() == 0


def test_a_refused_request_creates_no_subject(client, session, consent_body):
    from consent_service.models import Subject

    consent_body["policy_version"] = 1
    post(client, consent_body)
    visitor = uuid.UUID(consent_body["visitor_id"])
    assert session.scalar(sa.select(Subject).where(Subject.visitor_id == visitor)) is None


# --- region: the law of the visitor's region is recorded and applied -----------------------


def test_the_receipt_records_the_region_and_its_jurisdiction(client, consent_body):
    payload = client.post("/v1/consents?region=US-CA", json=consent_body).json["payload"]
    assert (payload["region"], payload["jurisdiction"]) == ("US-CA", "US-CA")


def test_the_consent_lifetime_follows_the_jurisdiction(client, consent_body):
    from datetime import datetime

    from consent_service.jurisdictions.rulebook import jurisdiction_for_region

    payload = client.post("/v1/consents?region=FR", json=consent_body).json["payload"]
    issued = datetime.fromisoformat(payload["issued_at"])
    expires = datetime.fromisoformat(payload["expires_at"])
    assert expires - issued == jurisdiction_for_region("FR").consent_lifetime


def test_gpc_denies_sale_purposes_where_the_law_honours_it(client, consent_body):
    consent_body.update(method="accept_all", decisions={})
    response = client.post("/v1/consents?region=US-CA", json=consent_body, headers={"Sec-GPC": "1"})
    assert response.json["payload"]["decisions"]["advertising"] == "denied"


def test_gpc_does_not_override_explicit_consent_where_the_law_gives_it_no_effect(
    client, consent_body
):
    consent_body.update(method="accept_all", decisions={})
    response = client.post("/v1/consents?region=FR", json=consent_body, headers={"Sec-GPC": "1"})
    assert response.json["payload"]["decisions"]["advertising"] == "granted"
    assert response.json["payload"]["gpc"] is True


def test_behind_a_trusted_proxy_the_receipt_keeps_the_clients_network(tmp_path, consent_body):
    from tests.support import make_settings
    from tests.support import shut_down
    from tests.support import started_on_fresh_database

    app = started_on_fresh_database(
        make_settings(tmp_path, f"sqlite:///{tmp_path / 'proxy.db'}", trusted_proxy_hops=1)
    )
    try:
        response = app.test_client().post(
            "/v1/consents",
            json=consent_body,
            headers={"X-Forwarded-For": "192.0.2.1, 203.0.113.77"},  # the first is spoofable
            environ_base={"REMOTE_ADDR": "10.0.0.2"},
        )
        assert response.json["payload"]["network"] == "203.0.113.0/24"
    finally:
        shut_down(app)


# --- origins: only the property's own websites may record its consents ----------------------


def test_a_listed_origin_may_post_and_may_read_the_answer(client, consent_body):
    response = post(client, consent_body, headers={"Origin": "https://shop.northwind.example"})
    assert response.status_code == 201
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.northwind.example"


def test_an_unlisted_origin_is_refused_and_nothing_is_written(client, consent_body, receipt_count):
    response = post(client, consent_body, headers={"Origin": "https://evil.example"})
    assert_problem(response, 403, detail_contains="https://evil.example")
    assert receipt_count() == 0


def test_the_services_own_pages_may_post(client, consent_body):
    response = post(client, consent_body, headers={"Origin": "http://consent.test"})
    assert response.status_code == 201


def test_a_preflight_from_a_listed_origin_is_allowed(client):
    response = client.options(
        "/v1/consents",
        headers={
            "Origin": "https://shop.northwind.example",
            "Access-Control-Request-Method": "POST",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.northwind.example"
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


def test_a_preflight_from_an_unlisted_origin_is_refused(client):
    response = client.options("/v1/consents", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_listed_origin_can_read_why_a_choice_was_refused(client, consent_body):
    consent_body["policy_version"] = 1
    response = post(client, consent_body, headers={"Origin": "https://shop.northwind.example"})
    assert response.status_code == 409
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.northwind.example"


def test_an_unlisted_origin_cannot_read_the_problem(client, consent_body):
    response = post(client, consent_body, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
