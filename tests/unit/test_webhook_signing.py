"""Standard Webhooks v1 signatures: ours agree with the reference library, both ways."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from standardwebhooks import Webhook
from standardwebhooks import WebhookVerificationError

from consent_service.messaging.webhooks import InvalidWebhookSignature
from consent_service.messaging.webhooks import event_body
from consent_service.messaging.webhooks import generate_secret
from consent_service.messaging.webhooks import sign
from consent_service.messaging.webhooks import signed_headers
from consent_service.messaging.webhooks import verify
from consent_service.messaging.webhooks import webhook_id

NOW = dt.datetime(2026, 5, 2, 10, 11, 12, 345000, tzinfo=dt.UTC)
BODY = event_body("consent.changed", {"subject_id": "s-1", "changed_purposes": ["ads"]}, NOW)


@pytest.fixture
def secret() -> str:
    return generate_secret()


def _now_headers(secret: str, body: str = BODY) -> dict[str, str]:
    timestamp = int(dt.datetime.now(dt.UTC).timestamp())
    return signed_headers(secret, "msg_0192abc", timestamp, body)


def test_a_secret_is_whsec_and_32_random_bytes_in_base64() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert generate_secret() != secret


def test_our_signature_verifies_with_the_standardwebhooks_library(secret: str) -> None:
    payload = Webhook(secret).verify(BODY, _now_headers(secret))
    assert payload["type"] == "consent.changed"


def test_the_library_signs_exactly_as_we_do(secret: str) -> None:
    moment = dt.datetime(2026, 5, 2, 10, 11, 12, tzinfo=dt.UTC)
    ours = sign(secret, "msg_1", int(moment.timestamp()), BODY)
    assert ours == Webhook(secret).sign("msg_1", moment, BODY)
    assert ours.startswith("v1,")


def test_our_verifier_accepts_what_the_library_signed(secret: str) -> None:
    moment = dt.datetime.now(dt.UTC).replace(microsecond=0)
    headers = {
        "webhook-id": "msg_2",
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign("msg_2", moment, BODY),
    }
    verify(secret, BODY, headers)


def test_one_matching_signature_among_several_is_enough_for_key_rotation(secret: str) -> None:
    headers = _now_headers(secret)
    old = sign(generate_secret(), "msg_0192abc", int(headers["webhook-timestamp"]), BODY)
    headers["webhook-signature"] = f"{old} {headers['webhook-signature']}"
    verify(secret, BODY, headers)
    Webhook(secret).verify(BODY, headers)


def test_a_tampered_body_fails_both_verifiers(secret: str) -> None:
    headers = _now_headers(secret)
    tampered = BODY.replace('"ads"', '"analytics"')
    with pytest.raises(InvalidWebhookSignature):
        verify(secret, tampered, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, headers)


def test_another_secret_fails(secret: str) -> None:
    with pytest.raises(InvalidWebhookSignature, match="no signature matches"):
        verify(generate_secret(), BODY, _now_headers(secret))


def test_a_timestamp_older_than_five_minutes_is_refused(secret: str) -> None:
    old = int((dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6)).timestamp())
    headers = signed_headers(secret, "msg_3", old, BODY)
    with pytest.raises(InvalidWebhookSignature, match="tolerance"):
        verify(secret, BODY, headers)


def test_missing_headers_are_refused(secret: str) -> None:
    headers = _now_headers(secret)
    del headers["webhook-signature"]
    with pytest.raises(InvalidWebhookSignature, match="missing"):
        verify(secret, BODY, headers)


def test_the_body_is_minified_json_of_type_timestamp_and_data() -> None:
    assert BODY == (
        '{"type":"consent.changed","timestamp":"2026-05-02T10:11:12.345Z",'
        '"data":{"subject_id":"s-1","changed_purposes":["ads"]}}'
    )
    assert json.loads(BODY)["data"]["changed_purposes"] == ["ads"]


def test_the_webhook_id_is_msg_and_the_outbox_id() -> None:
    import uuid

    message_id = uuid.UUID("0192f0c4-6b1e-7c3d-8e9f-0a1b2c3d4e5f")
    assert webhook_id(message_id) == "msg_0192f0c46b1e7c3d8e9f0a1b2c3d4e5f"
