"""Consent tokens as the service issues them: in the 201 of ``POST /v1/consents`` and, when
the widget asks, in ``GET /v1/visitors/<id>/choice``. Each is checked with an independent
JOSE library (joserfc) against the published JWKS, and its decisions against what the
look-up API answers for the same visitor at the same moment: one rule, two surfaces."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from joserfc import jws
from joserfc import jwt
from joserfc.jwk import KeySet

from consent_service.consent.tokens import TOKEN_SCHEMA
from consent_service.consent.tokens import TOKEN_TYP
from tests.support import demo_consent

SHOP = "https://shop.northwind.example"
EVERYTHING = {"preferences": True, "analytics": True, "marketing": True, "advertising": True}
PURPOSES = ("necessary", "preferences", "analytics", "marketing", "advertising")


@pytest.fixture
def reader(api_key):
    return api_key("consent:read", "subjects:write")


@pytest.fixture
def token_clock(app, monkeypatch):
    """Moves the tokens' clock (``iat``, ``exp`` and the rule's now) without waiting."""

    class Clock:
        offset = dt.timedelta(0)

        def __call__(self) -> dt.datetime:
            return dt.datetime.now(dt.UTC) + self.offset

    clock = Clock()
    monkeypatch.setattr(app.extensions["token_issuer"], "clock", clock)
    return clock


def record(client, visitor, method="custom", *, region=None, headers=None, **decisions):
    body = demo_consent(visitor, **decisions)
    body["method"] = method
    if method != "custom":
        body["decisions"] = {}
    query = {"region": region} if region else {}
    response = client.post("/v1/consents", json=body, query_string=query, headers=headers or {})
    assert response.status_code == 201, response.json
    return response.json


def choice(client, visitor, *, token=None, headers=None):
    query = {"property": "demo-shop"}
    if token is not None:
        query["token"] = token
    response = client.get(
        f"/v1/visitors/{visitor}/choice",
        query_string=query,
        headers={"Origin": SHOP, **(headers or {})},
    )
    assert response.status_code == 200, response.json
    return response.json


def verified(client, token, *, now=None):
    """(header, claims) once joserfc has checked the signature against the service's JWKS and
    ``exp`` against ``now``: a library we did not write."""
    keys = KeySet.import_key_set(client.get("/.well-known/jwks.json").json)
    decoded = jwt.decode(token, keys, algorithms=["Ed25519"])
    jwt.JWTClaimsRegistry(now=now, exp={"essential": True}).validate(decoded.claims)
    return decoded.header, decoded.claims


def looked_up(client, headers, who, *, gpc=False, kind="visitor"):
    """{purpose: (allowed, reason)} as ``GET /v1/decisions`` answers for ``who`` now."""
    answers = {}
    for purpose in PURPOSES:
        query = {"subject": f"{kind}:{who}", "purpose": purpose}
        if gpc:
            query["gpc"] = "true"
        response = client.get("/v1/decisions", query_string=query, headers=headers)
        assert response.status_code == 200, response.json
        answers[purpose] = (response.json["allowed"], response.json["reason"])
    return answers


def carried(claims):
    return {p: (d["allowed"], d["reason"]) for p, d in claims["decisions"].items()}


# --- POST /v1/consents ------------------------------------------------------------------------


def test_a_recorded_choice_comes_with_a_token_the_jwks_verifies(client):
    visitor = uuid.uuid4()
    recorded = record(client, visitor, analytics=True)
    header, claims = verified(client, recorded["token"])
    assert header == {"alg": "Ed25519", "kid": "test-key-1", "typ": TOKEN_TYP}
    assert claims["schema"] == TOKEN_SCHEMA
    assert claims["property"] == "demo-shop"
    assert claims["sub"] == str(visitor)
    assert claims["receipt_id"] == recorded["receipt_id"]
    assert claims["jurisdiction"] == recorded["payload"]["jurisdiction"]
    assert claims["policy_version"] == 2
    assert claims["exp"] - claims["iat"] == 900  # CONSENT_TOKEN_TTL's default
    assert carried(claims)["analytics"] == (True, "granted")
    assert carried(claims)["marketing"] == (False, "denied")
    assert carried(claims)["necessary"] == (True, "essential")


def test_a_token_and_a_receipt_can_never_pass_for_each_other(client):
    recorded = record(client, uuid.uuid4())
    token_header, token_claims = verified(client, recorded["token"])
    keys = KeySet.import_key_set(client.get("/.well-known/jwks.json").json)
    receipt = jws.deserialize_compact(recorded["receipt"], keys, algorithms=["Ed25519"])
    receipt_header, receipt_claims = receipt.headers(), json.loads(receipt.payload)
    assert (token_header["typ"], receipt_header["typ"]) == (TOKEN_TYP, "JOSE")
    assert token_claims["schema"] != receipt_claims["schema"] == "consent-service/receipt/v1"


@pytest.mark.parametrize(
    ("region", "method", "decisions", "gpc"),
    [
        ("FR", "custom", {**EVERYTHING, "marketing": False}, False),
        ("FR", "reject_all", {}, False),
        ("US-CA", "accept_all", {}, False),
        ("US-CA", "reject_all", {}, False),
        ("US-CA", "accept_all", {}, True),  # the Sec-GPC header denies sale / sharing
        ("US-CA", "gpc", EVERYTHING, True),
        ("CA", "accept_all", {}, False),
    ],
)
def test_the_tokens_decisions_are_what_a_look_up_answers(
    client, reader, region, method, decisions, gpc
):
    visitor = uuid.uuid4()
    headers = {"Sec-GPC": "1"} if gpc else {}
    body = demo_consent(visitor)
    body.update(method=method, decisions=decisions, gpc=gpc)
    response = client.post(
        "/v1/consents", json=body, query_string={"region": region}, headers=headers
    )
    assert response.status_code == 201, response.json
    _, claims = verified(client, response.json["token"])
    assert carried(claims) == looked_up(client, reader, visitor)
    later = choice(client, visitor, token="", headers=headers)
    assert carried(verified(client, later["token"])[1]) == looked_up(
        client, reader, visitor, gpc=gpc
    )


def test_a_withdrawal_comes_with_a_token_that_denies_at_once(client):
    visitor = uuid.uuid4()
    granted = record(client, visitor, "accept_all")
    assert all(allowed for allowed, _ in carried(verified(client, granted["token"])[1]).values())
    withdrawn = record(client, visitor, "withdrawal")
    _, claims = verified(client, withdrawn["token"])
    assert claims["receipt_id"] == withdrawn["receipt_id"]
    assert carried(claims) == {
        "necessary": (True, "essential"),
        "preferences": (False, "denied"),
        "analytics": (False, "denied"),
        "marketing": (False, "denied"),
        "advertising": (False, "denied"),
    }


def test_a_token_names_the_browser_never_the_customer(client, reader):
    visitor = uuid.uuid4()
    record(client, visitor, "accept_all")
    email = f"jane.{uuid.uuid4().hex[:6]}@example.com"
    linked = client.post(
        "/v1/subjects/link",
        json={"visitor_id": str(visitor), "customer": "C-4711", "email": email},
        headers=reader,
    )
    assert linked.status_code == 200, linked.json
    token = record(client, visitor, "reject_all")["token"]
    _, claims = verified(client, token)
    assert claims["sub"] == str(visitor)
    assert email not in str(claims) and "C-4711" not in str(claims)


def test_a_token_never_says_granted_past_the_consent_it_rests_on(client, token_clock):
    visitor = uuid.uuid4()
    recorded = record(client, visitor, "accept_all")
    expires_at = dt.datetime.fromisoformat(recorded["payload"]["expires_at"])
    token_clock.offset = expires_at - dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    _, claims = verified(client, choice(client, visitor, token="")["token"], now=_now(token_clock))
    assert carried(claims)["analytics"] == (True, "granted")
    assert claims["exp"] == int(expires_at.timestamp())  # 5 minutes, not 15
    token_clock.offset += dt.timedelta(minutes=6)  # the consent has lapsed
    _, claims = verified(client, choice(client, visitor, token="")["token"], now=_now(token_clock))
    assert carried(claims)["analytics"] == (False, "expired")
    assert claims["exp"] - claims["iat"] == 900


def _now(clock) -> int:
    return int(clock().timestamp())


# --- GET /v1/visitors/<id>/choice -------------------------------------------------------------


def test_the_choice_look_up_signs_a_token_only_when_asked(client):
    visitor = uuid.uuid4()
    recorded = record(client, visitor, analytics=True)
    assert "token" not in choice(client, visitor)
    fresh = choice(client, visitor, token="")
    _, claims = verified(client, fresh["token"])
    assert claims["receipt_id"] == recorded["receipt_id"] == fresh["receipt_id"]
    assert claims["sub"] == str(visitor)


def test_no_new_token_while_the_widgets_rests_on_the_latest_receipt(client):
    visitor = uuid.uuid4()
    first = record(client, visitor, analytics=True)
    assert "token" not in choice(client, visitor, token=first["receipt_id"])
    assert "token" not in choice(client, visitor, token=first["receipt_id"].upper())
    second = record(client, visitor, "reject_all")
    renewed = choice(client, visitor, token=first["receipt_id"])  # the widget's is outdated
    _, claims = verified(client, renewed["token"])
    assert claims["receipt_id"] == second["receipt_id"]
    assert carried(claims)["analytics"] == (False, "denied")


def test_a_visitor_with_nothing_recorded_gets_no_token(client):
    assert choice(client, uuid.uuid4(), token="") == {"status": "none"}


def test_an_erased_visitor_gets_no_token(client, session):
    from tests.integration.test_visitor_choice_api import erase

    visitor = uuid.uuid4()
    record(client, visitor, "accept_all")
    erase(session, visitor_id=visitor)
    assert choice(client, visitor, token="") == {"status": "erased"}


def test_a_linked_browser_gets_a_token_on_the_customers_latest_choice(client, reader):
    """As the widget adopts it: the customer's most recent choice on any of their browsers,
    which is what a ``customer:`` look-up answers (a ``visitor:`` one answers for one
    browser's own receipts)."""
    phone, laptop = uuid.uuid4(), uuid.uuid4()
    record(client, laptop, "reject_all")
    for browser in (phone, laptop):
        linked = client.post(
            "/v1/subjects/link",
            json={"visitor_id": str(browser), "customer": "C-17"},
            headers=reader,
        )
        assert linked.status_code == 200, linked.json
    on_phone = record(client, phone, "accept_all")
    _, claims = verified(client, choice(client, laptop, token="")["token"])
    assert claims["sub"] == str(laptop)
    assert claims["receipt_id"] == on_phone["receipt_id"]
    assert carried(claims) == looked_up(client, reader, "C-17", kind="customer")
    assert carried(claims)["marketing"] == (True, "granted")


def test_the_browsers_live_gpc_signal_shows_in_a_refreshed_token(client):
    visitor = uuid.uuid4()
    record(client, visitor, "accept_all", region="US-CA")
    _, claims = verified(
        client, choice(client, visitor, token="", headers={"Sec-GPC": "1"})["token"]
    )
    assert carried(claims)["marketing"] == (False, "gpc")
    assert carried(claims)["analytics"] == (True, "granted")


@pytest.mark.parametrize("value", ["yes", "0190a6f2", "0190a6f2-5c3e-7d41-8a2b-3c4d5e6f7a8b-1"])
def test_a_token_parameter_that_is_not_a_receipt_id_is_a_clear_problem(client, value):
    visitor = uuid.uuid4()
    record(client, visitor)
    response = client.get(
        f"/v1/visitors/{visitor}/choice", query_string={"property": "demo-shop", "token": value}
    )
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.json["errors"] == [
        {"pointer": "/token", "detail": "empty, or a receipt id (UUID)"}
    ]
    assert response.headers["Cache-Control"] == "no-store"
