"""The client's stdlib token signer makes the tokens the server's itsdangerous verifier reads."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired

from consent_service.client import sign_identity_token
from consent_service.integrations.identity import Claims
from consent_service.integrations.identity import sign_identity_token as server_sign
from consent_service.integrations.identity import token_serializer
from consent_service.integrations.identity import validate_claims

SECRET = "cis_0a1b2c3d_" + "k" * 43
NOW = 1_767_000_000  # both signers are told this second rather than reading the clock
SIGNED_AT = dt.datetime.fromtimestamp(NOW, dt.UTC)


def test_a_token_verifies_with_the_servers_serializer_and_carries_the_claims():
    token = sign_identity_token(SECRET, "demo-shop", customer="C-1042", email="jane@example.com")
    payload = token_serializer([SECRET]).loads(token, max_age=600)
    assert payload == {"p": "demo-shop", "c": "C-1042", "e": "jane@example.com"}
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
    expected = server_sign(SECRET, "demo-shop", named, signed_at=SIGNED_AT)
    assert sign_identity_token(SECRET, "demo-shop", **claims, now=NOW) == expected


def test_absent_claims_are_left_out_of_the_payload():
    token = sign_identity_token(SECRET, "demo-shop", customer="C-1042")
    assert token_serializer([SECRET]).loads(token) == {"p": "demo-shop", "c": "C-1042"}


def test_a_token_signed_with_another_secret_does_not_verify():
    token = sign_identity_token("cis_ffffffff_" + "x" * 43, "demo-shop", customer="C-1042")
    with pytest.raises(BadSignature):
        token_serializer([SECRET]).loads(token)


def test_a_token_older_than_the_servers_max_age_is_refused_as_expired():
    token = sign_identity_token(SECRET, "demo-shop", customer="C-1042", now=time.time() - 3600)
    with pytest.raises(SignatureExpired):
        token_serializer([SECRET]).loads(token, max_age=600)


def test_a_token_naming_nobody_is_refused_before_it_is_made():
    with pytest.raises(ValueError, match="customer, an email, or both"):
        sign_identity_token(SECRET, "demo-shop")
