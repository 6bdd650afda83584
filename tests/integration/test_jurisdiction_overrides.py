"""A property may make a jurisdiction's rule stricter, never laxer, and the stricter rule is
what its banner shows, its receipts record and its look-ups answer by."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from consent_service.errors import ValidationFailed
from consent_service.jurisdictions.rulebook import jurisdiction_for_region
from consent_service.jurisdictions.rules import Regime
from consent_service.models import AuditEntry
from consent_service.properties.jurisdiction_overrides import Override
from consent_service.properties.jurisdiction_overrides import apply_overrides
from consent_service.properties.jurisdiction_overrides import set_override
from consent_service.properties.lookup import get_property
from tests.integration.test_admin_support import AdminClient
from tests.integration.test_admin_support import make_admin


@pytest.fixture
def shop(session):
    return get_property(session, "demo-shop")


def test_california_can_be_made_opt_in(session, shop):
    set_override(session, shop, "US-CA", Override(regime=Regime.OPT_IN))
    applied = apply_overrides(jurisdiction_for_region("US-CA"), shop.jurisdiction_overrides)
    assert applied.regime is Regime.OPT_IN


def test_a_laxer_rule_is_refused_and_nothing_is_stored(session, shop):
    with pytest.raises(ValidationFailed, match="never laxer"):
        set_override(session, shop, "FR", Override(regime=Regime.OPT_OUT))
    assert "FR" not in (shop.jurisdiction_overrides or {})


def test_a_longer_consent_lifetime_than_the_law_is_refused(session, shop):
    law = jurisdiction_for_region("FR")
    with pytest.raises(ValidationFailed):
        set_override(
            session, shop, "FR", Override(consent_lifetime_days=law.consent_lifetime.days + 1)
        )


def test_an_unknown_jurisdiction_is_refused(session, shop):
    with pytest.raises(ValidationFailed, match="no jurisdiction"):
        set_override(session, shop, "XX", Override(honours_gpc=True))


def test_where_the_law_has_become_stricter_the_law_wins(shop):
    # A stored override laxer than today's law (the law changed since) loosens nothing.
    stored = {"FR": {"regime": "opt_out", "consent_lifetime_days": 30}}
    applied = apply_overrides(jurisdiction_for_region("FR"), stored)
    assert applied.regime is Regime.OPT_IN
    assert applied.consent_lifetime.days == 30  # the part that is stricter still applies


def test_the_banner_shows_the_stricter_rule(client, session, shop):
    set_override(session, shop, "US-CA", Override(regime=Regime.OPT_IN))
    session.commit()
    banner = client.get("/v1/banner", query_string={"property": "demo-shop", "region": "US-CA"})
    assert banner.json["jurisdiction"]["regime"] == "opt_in"


def test_receipts_carry_the_shorter_lifetime(client, session, shop, consent_via_widget):
    set_override(session, shop, "FR", Override(consent_lifetime_days=30))
    session.commit()
    receipt = consent_via_widget(uuid.uuid4(), region="FR", marketing=True)
    issued, expires = receipt["payload"]["issued_at"], receipt["payload"]["expires_at"]
    from datetime import datetime

    days = (datetime.fromisoformat(expires) - datetime.fromisoformat(issued)).days
    assert days == 30


def test_look_ups_answer_by_the_stricter_rule(client, session, shop, api_key, issuer):
    from consent_service.consent.receipts import ConsentRequest
    from consent_service.consent.receipts import Method
    from consent_service.consent.receipts import record_consent
    from consent_service.models.base import utcnow

    visitor = uuid.uuid4()
    set_override(session, shop, "US-CA", Override(consent_lifetime_days=1))
    long_ago = utcnow() - dt.timedelta(days=2)  # the shortened lifetime has run out
    request = ConsentRequest(
        property_key="demo-shop",
        visitor_id=visitor,
        policy_version=2,
        method=Method.ACCEPT_ALL,
        decisions={},
        region="US-CA",
    )
    record_consent(session, request, issuer=issuer, now=long_ago)
    session.commit()
    headers = api_key("consent:read")
    ask = {"subject": f"visitor:{visitor}", "purpose": "analytics"}
    # Lapsed in opt-out California: judged as no record, which the opt-out default allows.
    assert client.get("/v1/decisions", query_string=ask, headers=headers).json["allowed"] is True
    set_override(session, shop, "US-CA", Override(regime=Regime.OPT_IN, consent_lifetime_days=1))
    session.commit()
    answer = client.get("/v1/decisions", query_string=ask, headers=headers).json
    assert (answer["allowed"], answer["reason"]) == (False, "expired")


def test_the_admin_form_refuses_loosening_and_audits_tightening(app, session):
    user, secret = make_admin(session, app.extensions["vault"], "editor")
    editor = AdminClient(app)
    editor.sign_in(user.email, secret=secret)
    refused = editor.post(
        "/admin/jurisdictions/?property=demo-shop", {"code": "FR", "regime": "opt_out"}
    )
    assert refused.status_code == 422
    assert "never laxer" in refused.get_data(as_text=True)
    accepted = editor.post(
        "/admin/jurisdictions/?property=demo-shop", {"code": "US-CA", "honours_gpc": "on"}
    )
    assert accepted.status_code == 302
    assert session.query(AuditEntry).filter_by(action="jurisdiction.overridden").count() == 1
