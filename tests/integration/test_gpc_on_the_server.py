"""GPC is a server-side fact (issue #12, statement 4): a ``gpc`` receipt from the widget and
the live ``Sec-GPC`` a shop backend passes on both reach ``/v1/decisions``, over real HTTP."""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa

from consent_service.models import ConsentReceipt
from consent_service.models import OutboxMessage
from tests.support import demo_consent
from tests.webhook_receiver import register

EVERYTHING = {"preferences": True, "analytics": True, "marketing": True, "advertising": True}


@pytest.fixture
def reader(api_key):
    return api_key("consent:read", "subjects:write")


def post_consent(client, visitor, region, method, *, decisions=None, **extra):
    body = demo_consent(visitor)
    body.update(method=method, decisions=EVERYTHING if decisions is None else decisions, **extra)
    return client.post("/v1/consents", json=body, query_string={"region": region})


def ask(client, headers, subject, purpose="marketing", **query):
    response = client.get(
        "/v1/decisions",
        query_string={"subject": subject, "purpose": purpose, **query},
        headers=headers,
    )
    assert response.status_code == 200, response.json
    return response.json["allowed"], response.json["reason"]


def receipts(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(ConsentReceipt))


def test_a_gpc_receipt_after_a_californian_accepted_makes_marketing_denied_for_gpc(client, reader):
    visitor = uuid.uuid4()
    assert post_consent(client, visitor, "US-CA", "accept_all", decisions={}).status_code == 201
    assert ask(client, reader, f"visitor:{visitor}") == (True, "granted")
    recorded = post_consent(client, visitor, "US-CA", "gpc", gpc=True)
    assert recorded.status_code == 201, recorded.json
    assert recorded.json["payload"]["method"] == "gpc"
    assert recorded.json["payload"]["decisions"]["marketing"] == "denied"
    assert ask(client, reader, f"visitor:{visitor}") == (False, "gpc")
    assert ask(client, reader, f"visitor:{visitor}", purpose="analytics") == (True, "granted")


def test_a_gpc_receipt_tells_the_shops_webhooks_that_gpc_switched_sale_and_sharing_off(
    app, client, session
):
    visitor = uuid.uuid4()
    assert post_consent(client, visitor, "US-CA", "accept_all", decisions={}).status_code == 201
    register(app, session, "https://hooks.example.com/consent")
    assert post_consent(client, visitor, "US-CA", "gpc", gpc=True).status_code == 201
    [message] = session.scalars(sa.select(OutboxMessage)).all()
    event = json.loads(message.payload)
    assert event["type"] == "consent.changed"
    assert (event["data"]["method"], event["data"]["gpc"]) == ("gpc", True)
    assert event["data"]["changed_purposes"] == ["marketing", "advertising"]
    assert event["data"]["decisions"]["marketing"] == "denied"


def test_a_gpc_receipt_on_one_browser_applies_to_the_linked_customer(client, reader):
    phone, laptop = uuid.uuid4(), uuid.uuid4()
    assert post_consent(client, phone, "US-CA", "accept_all", decisions={}).status_code == 201
    for browser in (phone, laptop):
        linked = client.post(
            "/v1/subjects/link",
            json={"visitor_id": str(browser), "customer": "ca-7"},
            headers=reader,
        )
        assert linked.status_code == 200, linked.json
    assert ask(client, reader, "customer:ca-7") == (True, "granted")
    assert post_consent(client, laptop, "US-CA", "gpc", gpc=True).status_code == 201
    assert ask(client, reader, "customer:ca-7") == (False, "gpc")


def test_the_live_gpc_hint_denies_a_californians_earlier_grant(client, reader):
    visitor = uuid.uuid4()
    post_consent(client, visitor, "US-CA", "accept_all", decisions={})
    assert ask(client, reader, f"visitor:{visitor}", gpc="true") == (False, "gpc")
    assert ask(client, reader, f"visitor:{visitor}", gpc="1") == (False, "gpc")
    assert ask(client, reader, f"visitor:{visitor}", gpc="0") == (True, "granted")


def test_the_live_gpc_hint_changes_nothing_where_the_law_gives_it_no_effect(client, reader):
    visitor = uuid.uuid4()
    post_consent(client, visitor, "FR", "accept_all", decisions={})
    assert ask(client, reader, f"visitor:{visitor}", gpc="true") == (True, "granted")


def test_the_live_gpc_hint_leaves_purposes_without_an_opt_out_category_alone(client, reader):
    visitor = uuid.uuid4()
    post_consent(client, visitor, "US-CA", "accept_all", decisions={})
    assert ask(client, reader, f"visitor:{visitor}", "analytics", gpc="true") == (True, "granted")


def test_the_bulk_look_up_applies_the_live_gpc_hint_to_every_subject(client, reader):
    first, second = uuid.uuid4(), uuid.uuid4()
    for visitor in (first, second):
        post_consent(client, visitor, "US-CA", "accept_all", decisions={})
    response = client.post(
        "/v1/decisions",
        json={
            "subjects": [f"visitor:{first}", f"visitor:{second}"],
            "purposes": ["marketing", "advertising"],
            "gpc": True,
        },
        headers=reader,
    )
    assert response.status_code == 200, response.json
    assert {(d["allowed"], d["reason"]) for d in response.json["decisions"]} == {(False, "gpc")}


@pytest.mark.parametrize("value", ["yes", "on", "", "TRUE", "2"])
def test_a_gpc_query_value_that_is_not_a_boolean_is_refused_naming_it(client, reader, value):
    response = client.get(
        "/v1/decisions",
        query_string={"subject": f"visitor:{uuid.uuid4()}", "purpose": "marketing", "gpc": value},
        headers=reader,
    )
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert [e["pointer"] for e in response.json["errors"]] == ["/gpc"]


@pytest.mark.parametrize("value", ["true", 1, None])
def test_a_bulk_gpc_that_is_not_a_json_boolean_is_refused(client, reader, value):
    response = client.post(
        "/v1/decisions",
        json={"subjects": [f"visitor:{uuid.uuid4()}"], "purposes": ["marketing"], "gpc": value},
        headers=reader,
    )
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json["errors"]] == ["/gpc"]


def test_a_gpc_receipt_without_the_signal_is_refused_and_nothing_recorded(client, session):
    before = receipts(session)
    response = post_consent(client, uuid.uuid4(), "US-CA", "gpc")
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json["errors"]] == ["/gpc"]
    assert receipts(session) == before


def test_the_sec_gpc_header_is_the_signal_a_gpc_receipt_needs(client):
    body = demo_consent(uuid.uuid4())
    body.update(method="gpc", decisions=EVERYTHING)
    response = client.post(
        "/v1/consents", json=body, query_string={"region": "US-CA"}, headers={"Sec-GPC": "1"}
    )
    assert response.status_code == 201, response.json
    assert response.json["payload"]["gpc"] is True


def test_a_gpc_receipt_where_gpc_has_no_legal_effect_is_refused(client, session):
    before = receipts(session)
    response = post_consent(client, uuid.uuid4(), "FR", "gpc", gpc=True)
    assert response.status_code == 422
    assert "GPC has no legal effect in France; nothing recorded" in response.json["detail"]
    assert receipts(session) == before


def test_a_gpc_receipt_needs_a_decision_for_every_purpose(client):
    response = post_consent(client, uuid.uuid4(), "US-CA", "gpc", decisions={}, gpc=True)
    assert response.status_code == 422
    assert "/decisions/marketing" in {e["pointer"] for e in response.json["errors"]}


def test_acknowledging_a_notice_records_the_regimes_defaults(client):
    response = post_consent(client, uuid.uuid4(), "JP", "acknowledge", decisions={})
    assert response.status_code == 201, response.json
    assert response.json["payload"]["method"] == "acknowledge"
    assert response.json["payload"]["decisions"] == {
        "necessary": "granted",
        "preferences": "granted",
        "analytics": "granted",
        "marketing": "denied",  # JP: off by default (Telecommunications Business Act)
        "advertising": "denied",
    }


def test_an_acknowledgement_that_contradicts_the_defaults_is_refused(client):
    response = post_consent(
        client, uuid.uuid4(), "JP", "acknowledge", decisions={"marketing": True}
    )
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json["errors"]] == ["/decisions/marketing"]


def test_acknowledging_where_the_first_layer_asks_for_a_choice_is_refused(client, session):
    before = receipts(session)
    response = post_consent(client, uuid.uuid4(), "FR", "acknowledge", decisions={})
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json["errors"]] == ["/method"]
    assert receipts(session) == before


def test_opting_back_in_after_a_californian_opt_out_needs_the_second_step(client, session):
    visitor = uuid.uuid4()
    assert post_consent(client, visitor, "US-CA", "reject_all", decisions={}).status_code == 201
    before = receipts(session)
    response = post_consent(client, visitor, "US-CA", "accept_all", decisions={})
    assert response.status_code == 422
    assert response.json["type"].endswith("/problems/reoptin-confirmation-required")
    assert "advertising, marketing" in response.json["detail"]
    assert receipts(session) == before


def test_a_confirmed_re_opt_in_is_recorded_and_says_so(client, reader):
    visitor = uuid.uuid4()
    post_consent(client, visitor, "US-CA", "reject_all", decisions={})
    response = post_consent(
        client, visitor, "US-CA", "accept_all", decisions={}, reoptin_confirmed=True
    )
    assert response.status_code == 201, response.json
    assert response.json["payload"]["reoptin_confirmed"] is True
    assert ask(client, reader, f"visitor:{visitor}") == (True, "granted")


def test_a_later_explicit_choice_overrides_a_gpc_receipt_once_confirmed(client, reader):
    visitor = uuid.uuid4()
    post_consent(client, visitor, "US-CA", "gpc", gpc=True)
    assert post_consent(client, visitor, "US-CA", "accept_all", decisions={}).status_code == 422
    post_consent(client, visitor, "US-CA", "accept_all", decisions={}, reoptin_confirmed=True)
    assert ask(client, reader, f"visitor:{visitor}") == (True, "granted")
    assert ask(client, reader, f"visitor:{visitor}", gpc="true") == (False, "gpc")


def test_granting_only_purposes_without_an_opt_out_category_needs_no_second_step(client):
    visitor = uuid.uuid4()
    post_consent(client, visitor, "US-CA", "reject_all", decisions={})
    choice = {"preferences": True, "analytics": True, "marketing": False, "advertising": False}
    assert post_consent(client, visitor, "US-CA", "custom", decisions=choice).status_code == 201


def test_re_opting_in_where_the_law_wants_one_step_needs_no_confirmation(client):
    visitor = uuid.uuid4()
    post_consent(client, visitor, "US-CO", "reject_all", decisions={})
    assert post_consent(client, visitor, "US-CO", "accept_all", decisions={}).status_code == 201


def test_a_re_opt_in_on_another_browser_of_the_same_customer_needs_the_second_step(client, reader):
    phone, laptop = uuid.uuid4(), uuid.uuid4()
    post_consent(client, phone, "US-CA", "reject_all", decisions={})
    for browser in (phone, laptop):
        client.post(
            "/v1/subjects/link",
            json={"visitor_id": str(browser), "customer": "ca-8"},
            headers=reader,
        )
    response = post_consent(client, laptop, "US-CA", "accept_all", decisions={})
    assert response.status_code == 422
    assert response.json["type"].endswith("/problems/reoptin-confirmation-required")


@pytest.mark.parametrize("value", ["true", 1, None])
def test_a_reoptin_confirmed_that_is_not_a_boolean_is_refused(client, value):
    response = post_consent(
        client, uuid.uuid4(), "US-CA", "accept_all", decisions={}, reoptin_confirmed=value
    )
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json["errors"]] == ["/reoptin_confirmed"]


def test_the_openapi_document_says_to_pass_on_the_sec_gpc_header(client):
    document = client.get("/v1/openapi.json").json
    single = document["paths"]["/v1/decisions"]["get"]
    [gpc] = [p for p in single["parameters"] if p["name"] == "gpc"]
    assert gpc["in"] == "query"
    assert gpc["schema"]["type"] == "boolean"
    assert "pass on the `Sec-GPC` header of the request you are serving" in gpc["description"]
    bulk = document["paths"]["/v1/decisions"]["post"]["requestBody"]["content"]
    schema_ref = bulk["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    bulk_gpc = document["components"]["schemas"][schema_ref]["properties"]["gpc"]
    assert "pass on the `Sec-GPC` header" in bulk_gpc["description"]
