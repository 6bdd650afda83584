"""``verify_webhook`` accepts exactly what the reference Standard Webhooks library accepts."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time

import pytest
from standardwebhooks import Webhook
from standardwebhooks import WebhookVerificationError as ReferenceError
from werkzeug.datastructures import Headers

from consent_client import WebhookVerificationError
from consent_client import verify_webhook

SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"o" * 32).decode()
BODY = json.dumps(
    {
        "type": "consent.changed",
        "timestamp": "2026-05-02T10:11:12Z",
        "data": {"subject": "0f8fad5b-d9cb-469f-a165-70867728950e", "changed_purposes": ["ads"]},
    },
    separators=(",", ":"),
).encode()


def signed(
    body: bytes = BODY, *, secret: str = SECRET, at: float | None = None, msg_id: str = "msg_1"
) -> dict[str, str]:
    """Headers as the reference library signs them."""
    sent = dt.datetime.fromtimestamp(int(time.time() if at is None else at), tz=dt.UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, sent, body.decode()),
    }


def both_verdicts(body: bytes, headers: dict[str, str]) -> tuple[bool, bool]:
    """(ours accepts, the reference accepts)."""
    try:
        verify_webhook(SECRET, body, headers)
        ours = True
    except WebhookVerificationError:
        ours = False
    try:
        Webhook(SECRET).verify(body, headers)
        theirs = True
    except ReferenceError:
        theirs = False
    return ours, theirs


def test_a_message_the_reference_library_signed_verifies_and_returns_the_payload():
    assert verify_webhook(SECRET, BODY, signed()) == json.loads(BODY)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda b, h: (b + b" ", h), id="body-changed"),
        pytest.param(lambda b, h: (b, {**h, "webhook-id": "msg_2"}), id="id-changed"),
        pytest.param(
            lambda b, h: (b, {**h, "webhook-timestamp": str(int(h["webhook-timestamp"]) + 1)}),
            id="timestamp-changed",
        ),
        pytest.param(lambda b, h: (b, signed(b, secret=OTHER_SECRET)), id="other-secret"),
        pytest.param(lambda b, h: (b, signed(b, at=time.time() - 301)), id="too-old"),
        pytest.param(lambda b, h: (b, signed(b, at=time.time() + 301)), id="too-new"),
        pytest.param(
            lambda b, h: (b, {k: v for k, v in h.items() if k != "webhook-signature"}),
            id="no-signature",
        ),
    ],
)
def test_a_tampered_message_is_refused_as_the_reference_library_refuses_it(tamper):
    body, headers = tamper(BODY, signed())
    assert both_verdicts(body, headers) == (False, False)


def test_a_timestamp_within_five_minutes_either_way_is_accepted_as_the_reference_accepts_it():
    for skew in (-290, 290):
        assert both_verdicts(BODY, signed(at=time.time() + skew)) == (True, True)


def test_any_one_of_several_signatures_may_match_so_secrets_can_be_rotated():
    old = signed(secret=OTHER_SECRET)
    new = signed()
    headers = {
        **new,
        "webhook-signature": f"v1a,{base64.b64encode(b'x' * 64).decode()} "
        f"{old['webhook-signature']} {new['webhook-signature']}",
    }
    assert verify_webhook(SECRET, BODY, headers)["type"] == "consent.changed"


def test_header_names_are_matched_in_any_letter_case_and_from_a_framework_header_object():
    title_case = {name.title(): value for name, value in signed().items()}
    assert verify_webhook(SECRET, BODY, title_case)["type"] == "consent.changed"
    assert verify_webhook(SECRET, BODY, Headers(signed()))["type"] == "consent.changed"


def test_the_secret_may_be_given_without_its_prefix_or_as_raw_bytes():
    assert verify_webhook(SECRET.removeprefix("whsec_"), BODY, signed())
    assert verify_webhook(b"s" * 32, BODY, signed())


def test_a_signed_body_that_is_not_a_json_object_is_refused():
    body = b"[1, 2, 3]"
    with pytest.raises(WebhookVerificationError, match="not a JSON object"):
        verify_webhook(SECRET, body, signed(body))


def test_a_secret_that_is_not_base64_is_refused_rather_than_used():
    with pytest.raises(WebhookVerificationError, match="whsec_"):
        verify_webhook("whsec_not base64!", BODY, signed())


def test_the_services_own_webhook_signer_produces_headers_the_client_accepts():
    from consent_service.messaging.webhooks import generate_secret
    from consent_service.messaging.webhooks import signed_headers

    secret = generate_secret()
    headers = signed_headers(secret, "msg_0123", int(time.time()), BODY.decode())
    assert verify_webhook(secret, BODY, headers) == json.loads(BODY)
