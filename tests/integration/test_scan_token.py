"""A scan's signed region token: the widget's endpoints honour it, its receipts say
``source: scan``, send no consent.changed, and stay out of the dashboard's figures."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from consent_service.extensions import settings
from consent_service.models import ConsentReceipt
from consent_service.models import OutboxMessage
from consent_service.models.base import utcnow
from consent_service.properties.lookup import consent_context
from consent_service.scanning.token import scan_region
from consent_service.scanning.token import sign_scan_region
from consent_service.staff.dashboard import Window
from consent_service.staff.dashboard import consent_rates
from tests.support import demo_consent
from tests.webhook_receiver import register


def _token(region: str | None) -> str:
    return sign_scan_region(settings().secret_key, region)


def test_the_banner_answers_for_the_region_a_scan_token_names(app, client) -> None:
    answer = client.get(
        "/v1/banner", query_string={"property": "demo-shop", "region": _token("US-CA")}
    )
    assert answer.status_code == 200
    assert answer.headers["X-Consent-Jurisdiction"] == "US-CA"
    assert answer.headers["Cache-Control"] == "no-store"
    unknown = client.get(
        "/v1/banner", query_string={"property": "demo-shop", "region": _token(None)}
    )
    assert unknown.headers["X-Consent-Region"] == "unknown"


def test_a_scan_choice_is_a_receipt_of_the_scanned_region_marked_scan(app, client, session) -> None:
    register(app, session, "https://hooks.example/consent", ("consent.changed",))
    answer = client.post(
        "/v1/consents",
        json=demo_consent(uuid.uuid4(), marketing=True),
        query_string={"region": _token("DE")},
    )
    assert answer.status_code == 201, answer.json
    payload = answer.json["payload"]
    assert (payload["region"], payload["jurisdiction"], payload["source"]) == ("DE", "DE", "scan")
    receipt = session.get(ConsentReceipt, uuid.UUID(answer.json["receipt_id"]))
    assert receipt.source == "scan"
    # A scan is not a person: no consent.changed for the shop's integrations.
    events = session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.event_type == "consent.changed")
    ).all()
    assert events == []


def test_a_forged_or_stale_token_is_not_a_scan(app, client) -> None:
    secret = settings().secret_key
    forged = sign_scan_region("another-secret-key-" + "y" * 32, "US-CA")
    stale = sign_scan_region(secret, "US-CA", signed_at=utcnow() - dt.timedelta(hours=3))
    assert scan_region(secret, forged) == (False, None)
    assert scan_region(secret, stale) == (False, None)
    assert scan_region(secret, _token(None)) == (True, None)
    assert scan_region(secret, _token("us-ca")) == (True, "US-CA")
    for token in (forged, stale):
        answer = client.post(
            "/v1/consents", json=demo_consent(uuid.uuid4()), query_string={"region": token}
        )
        assert answer.status_code == 201
        assert answer.json["payload"]["source"] == "widget"
        assert answer.json["payload"]["region"] is None


def test_the_dashboard_leaves_scan_receipts_out(app, client, session) -> None:
    context = consent_context(session, "demo-shop", now=utcnow())
    window = Window.ending(utcnow().date(), 1)

    def receipts_today() -> int:
        return sum(d.receipts for d in consent_rates(session, context, window)[0].days)

    before = receipts_today()
    client.post(
        "/v1/consents", json=demo_consent(uuid.uuid4()), query_string={"region": _token("FR")}
    )
    assert receipts_today() == before
    client.post("/v1/consents", json=demo_consent(uuid.uuid4()), query_string={"region": "FR"})
    assert receipts_today() == before + 1
