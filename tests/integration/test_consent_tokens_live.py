"""Tokens the running service issued, over real HTTP: an independent JOSE library verifies them
against the JWKS the service serves, and ``consent_client`` (both signature paths) accepts
them and refuses every altered, foreign, expired or mislabelled one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.request
import uuid

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from consent_client import ConsentTokenVerifier
from consent_client import InvalidConsentToken
from consent_client import Reason
from consent_client import allows
from consent_service.infra.signing import generate_signing_key
from tests.integration.live_app import LiveApp
from tests.support import demo_consent


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    app = LiveApp(tmp_path_factory.mktemp("tokens-live"))
    yield app
    app.stop()


@pytest.fixture(params=["pure", "cryptography"])
def verifier(request, live):
    return ConsentTokenVerifier(live.url, signature_backend=request.param)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def parts(token: str) -> tuple[dict, dict, str]:
    head, body, signature = token.split(".")
    pad = lambda text: text + "=" * (-len(text) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(head))),
        json.loads(base64.urlsafe_b64decode(pad(body))),
        signature,
    )


def recorded(live, method="custom", **decisions) -> dict:
    body = demo_consent(uuid.uuid4(), **decisions)
    body["method"] = method
    if method != "custom":
        body["decisions"] = {}
    return live.post("/v1/consents", body)


def test_joserfc_verifies_a_token_against_the_jwks_the_service_serves(live):
    token = recorded(live, analytics=True)["token"]
    with urllib.request.urlopen(live.url + "/.well-known/jwks.json", timeout=10) as answer:
        keys = KeySet.import_key_set(json.loads(answer.read()))
    decoded = jwt.decode(token, keys, algorithms=["Ed25519"])
    jwt.JWTClaimsRegistry(exp={"essential": True}, iat={"essential": True}).validate(decoded.claims)
    assert decoded.header["typ"] == "consent-token+jwt"
    assert decoded.claims["decisions"]["analytics"] == {"allowed": True, "reason": "granted"}


def test_the_client_verifies_a_token_from_the_running_service(live, verifier):
    choice = recorded(live, analytics=True)
    claims = verifier.verify_consent_token(choice["token"], property="demo-shop")
    assert claims.subject == choice["payload"]["visitor_id"]
    assert claims.receipt_id == choice["receipt_id"]
    assert claims.key_id == "test-key-1"
    assert allows(claims, "analytics") and allows(claims, "necessary")
    assert not allows(claims, "marketing")
    assert claims.decision("marketing").reason is Reason.DENIED


def test_a_withdrawal_is_refused_by_its_token_at_once(live, verifier):
    visitor = str(uuid.uuid4())
    granted = live.post(
        "/v1/consents",
        {**demo_consent(), "visitor_id": visitor, "method": "accept_all", "decisions": {}},
    )
    assert allows(
        verifier.verify_consent_token(granted["token"], property="demo-shop"), "marketing"
    )
    withdrawn = live.post(
        "/v1/consents",
        {**demo_consent(), "visitor_id": visitor, "method": "withdrawal", "decisions": {}},
    )
    claims = verifier.verify_consent_token(withdrawn["token"], property="demo-shop")
    assert [p for p in claims.decisions if allows(claims, p)] == ["necessary"]


def test_an_expired_token_is_refused(live, verifier):
    token = recorded(live)["token"]
    _, claims, _ = parts(token)
    assert verifier.verify_consent_token(token, property="demo-shop", now=claims["exp"] + 29)
    with pytest.raises(InvalidConsentToken, match="expired"):
        verifier.verify_consent_token(token, property="demo-shop", now=claims["exp"] + 30)


def test_a_token_for_another_property_is_refused(live, verifier):
    with pytest.raises(InvalidConsentToken, match="not 'other-shop'"):
        verifier.verify_consent_token(recorded(live)["token"], property="other-shop")


def test_a_tampered_token_is_refused(live, verifier):
    token = recorded(live)["token"]
    head, _, signature = token.split(".")
    _, claims, _ = parts(token)
    claims["decisions"]["marketing"] = {"allowed": True, "reason": "granted"}
    forged = f"{head}.{b64url(json.dumps(claims).encode())}.{signature}"
    with pytest.raises(InvalidConsentToken, match="signature does not match"):
        verifier.verify_consent_token(forged, property="demo-shop")


def test_a_token_signed_by_a_key_the_service_never_published_is_refused(live, verifier):
    header, claims, _ = parts(recorded(live)["token"])
    stranger = generate_signing_key("test-key-2")
    forged = stranger.sign(claims, typ=header["typ"])
    with pytest.raises(InvalidConsentToken, match="'test-key-2', which the service does not"):
        verifier.verify_consent_token(forged, property="demo-shop")


def test_a_token_whose_alg_was_changed_is_refused(live, verifier):
    token = recorded(live)["token"]
    header, _, _ = parts(token)
    _, body, _ = token.split(".")
    unsigned = b64url(json.dumps({**header, "alg": "none"}).encode())
    with pytest.raises(InvalidConsentToken, match="alg 'none' is not accepted"):
        verifier.verify_consent_token(f"{unsigned}.{body}.", property="demo-shop")
    # HS256 "signed" with the public key, which anyone can read from the JWKS.
    with urllib.request.urlopen(live.url + "/.well-known/jwks.json", timeout=10) as answer:
        public_x = json.loads(answer.read())["keys"][0]["x"]
    hs_head = b64url(json.dumps({**header, "alg": "HS256"}).encode())
    mac = hmac.new(public_x.encode(), f"{hs_head}.{body}".encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidConsentToken, match="alg 'HS256' is not accepted"):
        verifier.verify_consent_token(f"{hs_head}.{body}.{b64url(mac)}", property="demo-shop")


def test_a_receipt_is_refused_as_a_token(live, verifier):
    receipt = recorded(live)["receipt"]  # the same key signed it
    with pytest.raises(InvalidConsentToken, match="not a consent token"):
        verifier.verify_consent_token(receipt, property="demo-shop")


def test_the_choice_look_up_refreshes_a_token_the_client_accepts(live, verifier):
    first = recorded(live, analytics=True)
    visitor = first["payload"]["visitor_id"]
    refreshed = live.get(f"/v1/visitors/{visitor}/choice?property=demo-shop&token=")
    claims = verifier.verify_consent_token(refreshed["token"], property="demo-shop")
    assert claims.receipt_id == first["receipt_id"]
    assert allows(claims, "analytics")
