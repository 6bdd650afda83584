"""``GET /v1/visitors/<id>/choice``: the widget learns what the service holds as its visitor's
current choice, so a withdrawal elsewhere or a consent a shop backend recorded reaches the
shop's pages; ``POST /v1/preferences/link``: a sign-in link to the self-service page."""

from __future__ import annotations

import datetime as dt
import urllib.parse
import uuid

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from consent_service.consent.visitor_choice import ChoiceStatus
from consent_service.consent.visitor_choice import current_choice
from consent_service.consent.visitor_choice import widget_property
from consent_service.models import Property
from consent_service.models import Subject
from consent_service.models.base import utcnow
from consent_service.self_service.access import VISITOR_LINK_SALT
from consent_service.self_service.access import Access
from consent_service.self_service.access import Via
from tests.integration.preferences_support import erase_now

SHOP_ORIGIN = "https://shop.northwind.example"
ELSEWHERE = "https://evil.example"
PROBLEM = "application/problem+json"
SOME_VISITOR = "6f1c1d1e-8f0a-4c53-9a7e-2d7b3f1e9c10"


def choice(client, visitor, *, origin=SHOP_ORIGIN, property_key="demo-shop"):
    headers = {"Origin": origin} if origin else {}
    return client.get(
        f"/v1/visitors/{visitor}/choice", query_string={"property": property_key}, headers=headers
    )


def ask_link(client, body, *, origin=SHOP_ORIGIN):
    headers = {"Origin": origin} if origin else {}
    return client.post("/v1/preferences/link", json=body, headers=headers)


def erase(session, **where):
    session.execute(sa.update(Subject).filter_by(**where).values(erased_at=utcnow()))
    session.commit()


@pytest.fixture
def linker(api_key):
    return api_key("subjects:write", "consent:write")


def link(client, headers, visitor, customer):
    response = client.post(
        "/v1/subjects/link",
        json={"visitor_id": str(visitor), "customer": customer},
        headers=headers,
    )
    assert response.status_code == 200, response.json


# -- GET /v1/visitors/<id>/choice ---------------------------------------------------------------


def test_a_recorded_visitor_gets_their_latest_receipt_whole(client, consent_via_widget):
    visitor = uuid.uuid4()
    recorded = consent_via_widget(visitor, analytics=True)
    response = choice(client, visitor)
    assert response.status_code == 200
    assert response.json == {
        "status": "recorded",
        "receipt_id": recorded["receipt_id"],
        "issued_at": recorded["payload"]["issued_at"],
        "policy_version": 2,
        "decisions": recorded["payload"]["decisions"],
    }


def test_the_answer_is_never_cached_and_readable_by_the_shops_origin(client, consent_via_widget):
    visitor = uuid.uuid4()
    consent_via_widget(visitor)
    response = choice(client, visitor)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    assert "Origin" in response.headers["Vary"]


def test_a_withdrawal_after_a_grant_is_the_answer(client, consent_via_widget):
    visitor = uuid.uuid4()
    consent_via_widget(visitor, analytics=True)
    withdrawn = client.post(
        "/v1/consents",
        json={
            "property": "demo-shop",
            "visitor_id": str(visitor),
            "policy_version": 2,
            "method": "withdrawal",
        },
    ).json
    body = choice(client, visitor).json
    assert body["receipt_id"] == withdrawn["receipt_id"]
    assert set(body["decisions"].values()) == {"granted", "denied"}
    assert body["decisions"]["analytics"] == "denied"


def test_an_unknown_visitor_has_no_choice(client):
    response = choice(client, uuid.uuid4())
    assert response.status_code == 200
    assert response.json == {"status": "none"}


def test_a_subject_without_receipts_has_no_choice(client, session, linker):
    visitor = uuid.uuid4()
    link(client, linker, visitor, "c-none")  # creates the subject, records nothing
    assert choice(client, visitor).json == {"status": "none"}


def test_an_erased_visitor_is_told_so_and_nothing_more(client, session, consent_via_widget):
    visitor = uuid.uuid4()
    consent_via_widget(visitor)
    erase(session, visitor_id=visitor)
    response = choice(client, visitor)
    assert response.status_code == 200
    assert response.json == {"status": "erased"}


def test_a_linked_browser_gets_the_customers_latest_receipt_from_another_subject(
    client, session, linker, record
):
    phone, laptop = uuid.uuid4(), uuid.uuid4()
    link(client, linker, phone, "c-10")
    link(client, linker, laptop, "c-10")
    record(phone, "accept_all", now=utcnow() - dt.timedelta(minutes=5))
    later = record(laptop, "reject_all")
    session.commit()
    body = choice(client, phone).json
    assert body["receipt_id"] == str(later.receipt_id)
    assert body["decisions"]["analytics"] == "denied"


def test_a_consent_the_shop_backend_records_for_the_customer_reaches_their_browser(
    client, linker, consent_via_widget
):
    visitor = uuid.uuid4()
    consent_via_widget(visitor, analytics=True)
    link(client, linker, visitor, "c-11")
    by_backend = client.post(
        "/v1/subjects/consents",
        json={"subject": "customer:c-11", "policy_version": 2, "method": "withdrawal"},
        headers=linker,
    )
    assert by_backend.status_code == 201, by_backend.json
    assert choice(client, visitor).json["receipt_id"] == by_backend.json["receipt_id"]


def test_an_older_receipt_on_another_browser_does_not_override_a_newer_one(
    client, session, linker, record
):
    phone, laptop = uuid.uuid4(), uuid.uuid4()
    link(client, linker, phone, "c-12")
    link(client, linker, laptop, "c-12")
    record(laptop, "reject_all", now=utcnow() - dt.timedelta(days=1))
    mine = record(phone, "accept_all")
    session.commit()
    assert choice(client, phone).json["receipt_id"] == str(mine.receipt_id)


def test_erasing_one_browser_withdraws_for_the_customers_other_browsers_too(
    app, client, session, linker, record
):
    """As in look-ups: erasure withdraws the browser's consent by receipt, and the customer's
    most recent choice anywhere wins."""
    phone, laptop = uuid.uuid4(), uuid.uuid4()
    link(client, linker, phone, "c-13")
    link(client, linker, laptop, "c-13")
    record(phone, "accept_all", now=utcnow() - dt.timedelta(minutes=5))
    record(laptop, "accept_all")
    session.commit()
    prop_id = session.scalar(sa.select(Subject.property_id).where(Subject.visitor_id == laptop))
    access = Access(prop_id, laptop, None, Via.VISITOR_LINK, utcnow())
    erase_now(app, session, access)
    answer = choice(client, phone).json
    assert answer["status"] == "recorded"
    assert set(answer["decisions"].values()) == {"granted", "denied"}
    assert answer["decisions"]["marketing"] == "denied"
    assert choice(client, laptop).json == {"status": "erased"}


def test_the_latest_receipt_of_a_long_chain_is_found(session, record):
    visitor = uuid.uuid4()
    start = utcnow() - dt.timedelta(hours=1)
    methods = ["accept_all", "reject_all"] * 3
    receipts = [
        record(visitor, method, now=start + dt.timedelta(seconds=i))
        for i, method in enumerate(methods)
    ]
    prop = widget_property(session, "demo-shop")
    found = current_choice(session, prop.id, visitor)
    assert found.status is ChoiceStatus.RECORDED
    assert found.receipt is not None and found.receipt.receipt_id == receipts[-1].receipt_id


def test_another_propertys_visitor_is_unknown_here(client, session, consent_via_widget):
    session.add(Property(key="other-shop", name="Other", allowed_origins=[SHOP_ORIGIN]))
    session.commit()
    visitor = uuid.uuid4()
    consent_via_widget(visitor)
    assert choice(client, visitor, property_key="other-shop").json == {"status": "none"}


def test_an_unknown_property_is_the_banners_404(client):
    response = choice(client, uuid.uuid4(), property_key="no-such-shop")
    banner = client.get("/v1/banner", query_string={"property": "no-such-shop"})
    assert response.status_code == banner.status_code == 404
    assert response.mimetype == banner.mimetype == PROBLEM
    assert response.json["type"] == banner.json["type"]
    assert response.json["type"].endswith("/problems/unknown-property")


def test_a_missing_or_malformed_property_is_a_validation_problem(client):
    visitor = uuid.uuid4()
    for query in ({}, {"property": "Not A Slug"}):
        response = client.get(f"/v1/visitors/{visitor}/choice", query_string=query)
        assert response.status_code == 422
        assert response.mimetype == PROBLEM
        assert response.json["errors"][0]["pointer"] == "/property"


def test_a_malformed_visitor_id_is_a_404_problem(client):
    response = client.get("/v1/visitors/not-a-uuid/choice", query_string={"property": "demo-shop"})
    assert response.status_code == 404
    assert response.mimetype == PROBLEM


def test_an_origin_the_property_does_not_list_is_refused(client, consent_via_widget):
    visitor = uuid.uuid4()
    consent_via_widget(visitor)
    response = choice(client, visitor, origin=ELSEWHERE)
    assert response.status_code == 403
    assert response.mimetype == PROBLEM
    assert response.json["type"].endswith("/problems/origin-not-allowed")
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "receipt_id" not in response.json


def test_the_services_own_pages_and_non_browsers_may_ask(client, consent_via_widget):
    visitor = uuid.uuid4()
    consent_via_widget(visitor)
    assert choice(client, visitor, origin="http://consent.test").status_code == 200
    assert choice(client, visitor, origin=None).status_code == 200


# -- POST /v1/preferences/link ------------------------------------------------------------------


def token_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://consent.test/preferences/visit"
    [token] = urllib.parse.parse_qs(parts.query)["token"]
    return token


def test_a_visitor_gets_a_signed_link_to_the_preferences_page(app, client, session):
    visitor = uuid.uuid4()
    response = ask_link(client, {"property": "demo-shop", "visitor_id": str(visitor)})
    assert response.status_code == 200
    assert response.json["expires_in"] == 900
    assert set(response.json) == {"url", "expires_in"}
    signed = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=VISITOR_LINK_SALT)
    prop = widget_property(session, "demo-shop")
    assert signed.loads(token_of(response.json["url"])) == [prop.id, visitor.hex]


def test_the_link_is_never_cached_and_readable_by_the_shops_origin(client):
    response = ask_link(client, {"property": "demo-shop", "visitor_id": str(uuid.uuid4())})
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Access-Control-Allow-Origin"] == SHOP_ORIGIN


def test_the_link_preflight_is_answered_for_a_listed_origin_only(client):
    allowed = client.options(
        "/v1/preferences/link",
        headers={"Origin": SHOP_ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    assert allowed.headers["Access-Control-Allow-Methods"] == "POST"
    refused = client.options(
        "/v1/preferences/link",
        headers={"Origin": ELSEWHERE, "Access-Control-Request-Method": "POST"},
    )
    assert refused.status_code == 403
    assert refused.mimetype == PROBLEM


def test_a_link_for_an_origin_the_property_does_not_list_is_refused(client):
    body = {"property": "demo-shop", "visitor_id": str(uuid.uuid4())}
    response = ask_link(client, body, origin=ELSEWHERE)
    assert response.status_code == 403
    assert response.json["type"].endswith("/problems/origin-not-allowed")
    assert "url" not in response.json


def test_a_link_for_an_unknown_property_is_404(client):
    response = ask_link(client, {"property": "no-such-shop", "visitor_id": str(uuid.uuid4())})
    assert response.status_code == 404
    assert response.mimetype == PROBLEM
    assert response.json["type"].endswith("/problems/unknown-property")


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"property": "demo-shop"}, "/visitor_id"),
        ({"visitor_id": SOME_VISITOR}, "/property"),
        ({"property": "demo-shop", "visitor_id": "not-a-uuid"}, "/visitor_id"),
        ({"property": "Demo Shop", "visitor_id": SOME_VISITOR}, "/property"),
    ],
)
def test_a_bad_link_request_names_the_bad_field(client, body, pointer):
    response = ask_link(client, body)
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert [e["pointer"] for e in response.json["errors"]] == [pointer]


def test_unknown_fields_in_a_link_request_are_refused(client):
    body = {"property": "demo-shop", "visitor_id": str(uuid.uuid4()), "email": "a@example.com"}
    response = ask_link(client, body)
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json["errors"]] == ["/email"]


def test_a_link_request_that_is_not_json_is_refused(client):
    response = client.post(
        "/v1/preferences/link",
        data="{not json",
        headers={"Origin": SHOP_ORIGIN, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.mimetype == PROBLEM
    plain = client.post("/v1/preferences/link", data="property=demo-shop")
    assert plain.status_code == 415


def test_the_token_is_never_logged(client, caplog):
    caplog.set_level("DEBUG")
    response = ask_link(client, {"property": "demo-shop", "visitor_id": str(uuid.uuid4())})
    token = token_of(response.json["url"])
    assert token not in caplog.text
