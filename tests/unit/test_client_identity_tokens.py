"""The client's stdlib token signer makes the tokens the server's itsdangerous verifier reads."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired

from consent_client import sign_identity_token
from consent_client import visitor_id_from_cookie
from consent_service.integrations.identity import Claims
from consent_service.integrations.identity import sign_identity_token as server_sign
from consent_service.integrations.identity import token_serializer
from consent_service.integrations.identity import validate_claims

SECRET = "cis_0a1b2c3d_" + "k" * 43
VISITOR = "2f1d4c7e-8a9b-4c3d-9e0f-1a2b3c4d5e6f"
NONCE = "n0nce-for-the-test_42"
NOW = 1_767_000_000  # both signers are told this second rather than reading the clock
SIGNED_AT = dt.datetime.fromtimestamp(NOW, dt.UTC)


def test_a_token_verifies_with_the_servers_serializer_and_carries_the_claims():
    token = sign_identity_token(
        SECRET, "demo-shop", visitor_id=VISITOR, customer="C-1042", email="jane@example.com"
    )
    payload = token_serializer([SECRET]).loads(token, max_age=600)
    assert payload == {
        "p": "demo-shop",
        "v": VISITOR,
        "n": payload["n"],
        "c": "C-1042",
        "e": "jane@example.com",
    }
    assert validate_claims(payload["c"], payload["e"]) == Claims("C-1042", "jane@example.com")


@pytest.mark.parametrize(
    "claims",
    [
        {"customer": "C-1042"},
        {"email": "jane@example.com"},
        {"customer": "C-1042", "email": "jane@example.com"},
        {"email": "zoë.müller@exämple.de"},  # not ASCII: itsdangerous keeps it as UTF-8
        {"customer": "C-" + "7" * 190},  # long and repetitive: itsdangerous compresses it
    ],
)
def test_a_token_equals_the_one_itsdangerous_makes_at_the_same_second(claims):
    named = Claims(claims.get("customer"), claims.get("email"))
    expected = server_sign(
        SECRET, "demo-shop", uuid.UUID(VISITOR), named, signed_at=SIGNED_AT, nonce=NONCE
    )
    signed = sign_identity_token(
        SECRET, "demo-shop", visitor_id=VISITOR, **claims, now=NOW, nonce=NONCE
    )
    assert signed == expected


def test_absent_claims_are_left_out_of_the_payload():
    token = sign_identity_token(SECRET, "demo-shop", visitor_id=VISITOR, customer="C-1042")
    assert token_serializer([SECRET]).loads(token).keys() == {"p", "v", "n", "c"}


def test_a_token_signed_with_another_secret_does_not_verify():
    token = sign_identity_token(
        "cis_ffffffff_" + "x" * 43, "demo-shop", visitor_id=VISITOR, customer="C-1042"
    )
    with pytest.raises(BadSignature):
        token_serializer([SECRET]).loads(token)


def test_a_token_older_than_the_servers_max_age_is_refused_as_expired():
    token = sign_identity_token(
        SECRET, "demo-shop", visitor_id=VISITOR, customer="C-1042", now=time.time() - 3600
    )
    with pytest.raises(SignatureExpired):
        token_serializer([SECRET]).loads(token, max_age=600)


def test_a_token_naming_nobody_is_refused_before_it_is_made():
    with pytest.raises(ValueError, match="customer, an email, or both"):
        sign_identity_token(SECRET, "demo-shop", visitor_id=VISITOR)


def test_each_token_carries_a_fresh_nonce_so_each_can_be_used_once():
    tokens = [
        sign_identity_token(SECRET, "demo-shop", visitor_id=VISITOR, customer="C-1042", now=NOW)
        for _ in range(2)
    ]
    nonces = [token_serializer([SECRET]).loads(token)["n"] for token in tokens]
    assert nonces[0] != nonces[1]
    assert all(len(nonce) >= 16 for nonce in nonces)


def test_a_token_for_something_that_is_not_a_visitor_id_is_refused_before_it_is_made():
    with pytest.raises(ValueError):
        sign_identity_token(SECRET, "demo-shop", visitor_id="customer-1042", customer="C-1042")


@pytest.mark.parametrize(
    ("cookie", "visitor"),
    [
        (f"1|{VISITOR}|r-1|3|1767000000|analytics:1+marketing:0", VISITOR),
        (None, None),
        ("", None),
        ("2|" + VISITOR + "|r-1|3|1767000000|", None),  # a format this client does not know
        ("1|not-a-visitor|r-1|3|1767000000|", None),
    ],
)
def test_the_visitor_id_is_read_from_the_widgets_cookie(cookie, visitor):
    assert visitor_id_from_cookie(cookie) == visitor
