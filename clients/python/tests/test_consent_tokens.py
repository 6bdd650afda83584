"""Verifying consent tokens: what is accepted, everything refused (fail closed), and the JWKS
cache (fetched once, refetched for a new key at most once per interval, failing closed when
the keys cannot be had). Tokens are signed here with keys the test publishes over real HTTP;
tokens the real service issued are verified in tests/integration/test_consent_tokens.py."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
from client_fakes import SilentServer
from client_fakes import closed_port_url
from token_fakes import NOW
from token_fakes import PROPERTY
from token_fakes import RECEIPT
from token_fakes import TTL
from token_fakes import VISITOR
from token_fakes import JwksService
from token_fakes import Signer
from token_fakes import b64url
from token_fakes import claims

from consent_client import ConsentClient
from consent_client import ConsentTokenUnverifiable
from consent_client import ConsentTokenVerifier
from consent_client import InvalidConsentToken
from consent_client import Reason
from consent_client import allows

BACKENDS = ["pure", "cryptography"]


class Clock:
    """A monotonic clock a test moves by hand."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def signer():
    return Signer("key-1")


@pytest.fixture
def service(signer):
    jwks = JwksService(signer)
    yield jwks
    jwks.stop()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture(params=BACKENDS)
def verifier(request, service, clock):
    return ConsentTokenVerifier(service.url, signature_backend=request.param, monotonic=clock)


def verify(verifier, token, *, property=PROPERTY, now=NOW + 60):
    return verifier.verify_consent_token(token, property=property, now=now)


def refused(verifier, token, message, **kwargs):
    with pytest.raises(InvalidConsentToken, match=message):
        verify(verifier, token, **kwargs)


# --- what is accepted ------------------------------------------------------------------------


def test_a_token_of_the_service_gives_its_claims_as_decisions(verifier, signer):
    found = verify(verifier, signer.token())
    assert (found.property, found.subject, found.jurisdiction) == (PROPERTY, VISITOR, "EU")
    assert (found.receipt_id, found.policy_version, found.key_id) == (RECEIPT, 2, "key-1")
    assert found.issued_at == dt.datetime.fromtimestamp(NOW, dt.UTC)
    assert found.expires_at == dt.datetime.fromtimestamp(NOW + TTL, dt.UTC)
    analytics = found.decision("analytics")
    assert (analytics.allowed, analytics.reason) == (True, Reason.GRANTED)
    assert (analytics.subject, analytics.purpose, analytics.receipt_id) == (
        f"visitor:{VISITOR}",
        "analytics",
        RECEIPT,
    )
    assert allows(found, "analytics") and allows(found, "necessary")
    assert not allows(found, "marketing")


def test_a_purpose_the_token_does_not_name_is_not_allowed(verifier, signer):
    found = verify(verifier, signer.token())
    assert not allows(found, "advertising")
    assert found.decision("advertising").reason is Reason.ERROR
    assert not allows(None, "analytics")  # no verified token: nothing is allowed


def test_the_older_alg_name_eddsa_verifies_too(verifier, signer):
    assert verify(verifier, signer.token(alg="EdDSA")).allows("analytics")


def test_a_small_clock_difference_is_tolerated(verifier, signer):
    token = signer.token()
    assert verify(verifier, token, now=NOW + TTL + 29)  # 30 s leeway
    assert verify(verifier, token, now=NOW - 29)


# --- refused ---------------------------------------------------------------------------------


def test_an_expired_token_is_refused(verifier, signer):
    refused(verifier, signer.token(), "expired", now=NOW + TTL + 30)


def test_a_token_from_the_future_is_refused(verifier, signer):
    refused(verifier, signer.token(), "in the future", now=NOW - 31)


def test_a_token_for_another_property_is_refused(verifier, signer):
    refused(
        verifier,
        signer.token(),
        "for property 'demo-shop', not 'other-shop'",
        property="other-shop",
    )


def test_an_altered_token_is_refused(verifier, signer):
    head, body, signature = signer.token().split(".")
    granted = b64url(
        json.dumps(claims(decisions={"marketing": {"allowed": True, "reason": "granted"}})).encode()
    )
    refused(verifier, f"{head}.{granted}.{signature}", "signature does not match")
    other = Signer("key-1").token().split(".")[2]  # the same kid, another key
    refused(verifier, f"{head}.{body}.{other}", "signature does not match")


def test_a_token_signed_by_a_key_the_service_does_not_publish_is_refused(verifier):
    refused(verifier, Signer("stolen").token(), "key 'stolen', which the service does not have")


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256", "ES256", None])
def test_any_alg_but_ed25519_is_refused(verifier, signer, alg):
    refused(verifier, signer.token(alg=alg), "is not accepted")


def test_an_hmac_keyed_with_the_public_key_is_refused(verifier, signer):
    """The classic confusion: a verifier that took HS256 would use the public key as the
    HMAC secret, which anyone has."""
    head = b64url(json.dumps({"alg": "HS256", "kid": "key-1", "typ": "consent-token+jwt"}).encode())
    body = b64url(json.dumps(claims()).encode())
    mac = hmac.new(signer.x.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    refused(verifier, f"{head}.{body}.{b64url(mac)}", "HS256")


def test_an_unsigned_token_is_refused(verifier):
    head = b64url(json.dumps({"alg": "none", "typ": "consent-token+jwt"}).encode())
    refused(verifier, f"{head}.{b64url(json.dumps(claims()).encode())}.", "'none'")


def test_a_receipt_is_not_a_consent_token(verifier, signer):
    """Signed by the same key, but the service marks its receipts typ JOSE and schema
    receipt/v1: neither passes."""
    receipt = claims(schema="consent-service/receipt/v1")
    refused(verifier, signer.token(receipt, typ="JOSE"), "not a consent token")
    refused(verifier, signer.token(receipt), "schema 'consent-service/receipt/v1'")
    refused(verifier, signer.token(typ=None), "not a consent token")


def test_critical_header_extensions_are_refused(verifier, signer):
    refused(verifier, signer.token(crit=["exp"]), "critical")


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (None, "there is no consent token"),
        ("", "there is no consent token"),
        ("a.b", "three base64url parts"),
        ("a.b.c.d", "three base64url parts"),
        ("!!!.e30.AA", "header is not base64url JSON"),
        (f"{b64url(b'[1]')}.e30.AA", "header is not a JSON object"),
        ("é.e30.AA", "not ASCII"),
        ("a" * 9000, "too long"),
    ],
)
def test_malformed_tokens_are_refused(verifier, token, message):
    refused(verifier, token, message)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"exp": None}, "'exp' must be a int"),
        ({"exp": "soon"}, "'exp' must be a int"),
        ({"exp": NOW}, "expires before"),
        ({"sub": None}, "'sub' must be a str"),
        ({"policy_version": True}, "'policy_version' must be a int"),
        ({"decisions": []}, "'decisions' must be a dict"),
        ({"decisions": {"analytics": True}}, "'allowed' must be a bool"),
        ({"decisions": {"analytics": {"allowed": True, "reason": "denied"}}}, "allowed, yet"),
        ({"decisions": {"analytics": {"allowed": False, "reason": "maybe"}}}, "unknown reason"),
        ({"decisions": {"analytics": {"allowed": False, "reason": "error"}}}, "unknown reason"),
    ],
)
def test_claims_not_exactly_as_documented_are_refused(verifier, signer, changes, message):
    refused(verifier, signer.token(claims(**changes)), message)


def test_a_remembered_token_is_still_checked_for_expiry_and_property(verifier, signer):
    token = signer.token()
    assert verify(verifier, token)
    refused(verifier, token, "expired", now=NOW + TTL + 30)
    refused(verifier, token, "not 'other-shop'", property="other-shop")


# --- the key set: fetched once, rotation, failing closed ----------------------------------


def test_the_keys_are_fetched_once_for_many_tokens(verifier, signer, service):
    for visitor in range(5):
        verify(verifier, signer.token(claims(sub=f"{visitor}" * 8)))
    assert service.fetches == 1


def test_a_new_key_is_fetched_when_a_token_names_it(verifier, signer, service, clock):
    assert verify(verifier, signer.token())
    rotated = Signer("key-2")
    service.signers.append(rotated)
    clock.value += 31  # past the refetch interval, well inside the set's max age
    assert verify(verifier, rotated.token())
    assert service.fetches == 2
    assert verify(verifier, signer.token())  # the old key stays published, and cached
    assert service.fetches == 2


def test_unknown_key_ids_refetch_at_most_once_per_interval(verifier, service, clock):
    refused(verifier, Signer("made-up-1").token(), "does not have")
    refused(verifier, Signer("made-up-2").token(), "does not have")
    clock.value += 29
    refused(verifier, Signer("made-up-3").token(), "does not have")
    assert service.fetches == 1
    clock.value += 2
    refused(verifier, Signer("made-up-4").token(), "does not have")
    assert service.fetches == 2


def test_the_key_set_is_fetched_again_when_it_is_old(verifier, signer, service, clock):
    assert verify(verifier, signer.token())
    clock.value += 300
    assert verify(verifier, signer.token(claims(sub="another")))
    assert service.fetches == 2


def test_a_key_removed_from_the_set_no_longer_verifies(verifier, signer, service, clock):
    token = signer.token()
    assert verify(verifier, token)
    service.signers = [Signer("key-2")]
    clock.value += 300
    refused(verifier, signer.token(claims(sub="another")), "does not have")
    refused(verifier, token, "does not have")  # not even the remembered one


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_token_verifies_when_the_service_is_down(signer, backend):
    verifier = ConsentTokenVerifier(closed_port_url(), signature_backend=backend)
    with pytest.raises(ConsentTokenUnverifiable, match="could not be fetched"):
        verify(verifier, signer.token())


def test_no_token_verifies_when_the_key_set_answers_500(verifier, signer, service):
    service.status = 500
    with pytest.raises(ConsentTokenUnverifiable, match="HTTP 500"):
        verify(verifier, signer.token())


def test_no_token_verifies_when_the_key_set_is_not_one(signer):
    broken = JwksService(signer)
    broken.respond = lambda seen: (200, b"<html>maintenance</html>")
    try:
        verifier = ConsentTokenVerifier(broken.url)
        with pytest.raises(ConsentTokenUnverifiable, match="not JSON"):
            verify(verifier, signer.token())
    finally:
        broken.stop()


def test_no_token_verifies_when_the_service_never_answers(signer):
    silent = SilentServer()
    try:
        verifier = ConsentTokenVerifier(silent.url, timeout=0.2)
        with pytest.raises(ConsentTokenUnverifiable):
            verify(verifier, signer.token())
    finally:
        silent.stop()


def test_an_old_key_set_that_cannot_be_fetched_again_fails_closed(verifier, signer, service, clock):
    assert verify(verifier, signer.token())
    service.status = 503
    clock.value += 300
    with pytest.raises(ConsentTokenUnverifiable, match="HTTP 503"):
        verify(verifier, signer.token(claims(sub="another")))
    clock.value += 10  # inside the refetch interval: refused without asking again
    with pytest.raises(ConsentTokenUnverifiable):
        verify(verifier, signer.token(claims(sub="a third")))
    assert service.fetches == 2
    service.status = 200
    clock.value += 30
    assert verify(verifier, signer.token(claims(sub="a fourth")))


def test_the_consent_client_verifies_tokens_against_its_service(signer, service):
    with ConsentClient(service.url, "ck_test_key") as client:
        found = client.verify_consent_token(signer.token(), property=PROPERTY, now=NOW)
        assert found.allows("analytics")
        with pytest.raises(InvalidConsentToken):
            client.verify_consent_token(signer.token(), property="other-shop", now=NOW)
