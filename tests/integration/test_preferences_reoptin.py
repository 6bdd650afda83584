"""Opting back in on the preferences page where California wants two steps (11 CCR §7028):
the page asks again, and only a confirmed second step is recorded."""

from __future__ import annotations

import re
import uuid

import pytest

from consent_service.self_service.proof import decoded_payload
from tests.integration.preferences_support import csrf_of
from tests.integration.test_preferences_choices import latest_receipt
from tests.integration.test_preferences_choices import signed_in_visitor

FLAG = re.compile(r'name="reoptin_confirmed" value="([^"]+)"')


def opted_out_of_marketing(app, client, session, record) -> uuid.UUID:
    """A signed-in visitor whose latest choice refuses marketing (a sale/sharing purpose)."""
    return signed_in_visitor(app, client, session, record, analytics=True, marketing=False)


def save(client, *purposes: str, region: str = "US-CA", headers=None, **extra: str):
    data = {"csrf_token": csrf_of(client), "action": "save", "purpose": list(purposes), **extra}
    return client.post(f"/preferences/choices?region={region}", data=data, headers=headers)


def flag_of(response) -> str:
    match = FLAG.search(response.get_data(as_text=True))
    assert match, "no confirmation step on the page"
    return match.group(1)


def test_opting_back_in_in_california_asks_to_confirm_and_records_nothing(
    app, client, session, record
):
    visitor = opted_out_of_marketing(app, client, session, record)
    before = latest_receipt(session, visitor).id
    response = save(client, "analytics", "marketing")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Do you want to opt back in and allow the sale or sharing" in page
    assert ">Confirm</button>" in page and ">Cancel</button>" in page
    assert latest_receipt(session, visitor).id == before


def test_the_confirmation_step_speaks_the_pages_language(app, client, session, record):
    opted_out_of_marketing(app, client, session, record)
    page = save(client, "marketing", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Möchten Sie dem Verkauf oder der Weitergabe" in page
    assert ">Bestätigen</button>" in page and ">Abbrechen</button>" in page


def test_confirming_records_the_same_choices_with_reoptin_confirmed(app, client, session, record):
    visitor = opted_out_of_marketing(app, client, session, record)
    flag = flag_of(save(client, "analytics", "marketing"))
    response = save(client, "analytics", "marketing", reoptin_confirmed=flag)
    assert response.status_code == 303
    receipt = latest_receipt(session, visitor)
    assert decoded_payload(receipt.jws)["reoptin_confirmed"] is True
    assert receipt.decisions["marketing"] == "granted"
    assert receipt.decisions["analytics"] == "granted"


def test_cancelling_records_nothing_and_keeps_the_opt_out(app, client, session, record):
    visitor = opted_out_of_marketing(app, client, session, record)
    before = latest_receipt(session, visitor).id
    flag = flag_of(save(client, "marketing"))
    response = save(client, "marketing", action="cancel_reoptin", reoptin_confirmed=flag)
    assert response.status_code == 303
    assert latest_receipt(session, visitor).id == before
    assert latest_receipt(session, visitor).decisions["marketing"] == "denied"
    home = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "your opt-out of the sale or sharing of your personal information stays" in home


@pytest.mark.parametrize("forged", ["true", "yes", "1", ""])
def test_a_forged_confirmation_is_a_form_error_and_records_nothing(
    app, client, session, record, forged
):
    visitor = opted_out_of_marketing(app, client, session, record)
    before = latest_receipt(session, visitor).id
    response = save(client, "marketing", reoptin_confirmed=forged)
    assert response.status_code == 422
    assert "could not tell whether you confirmed opting back in" in response.get_data(as_text=True)
    assert latest_receipt(session, visitor).id == before


def test_a_confirmation_covers_only_the_choices_it_was_asked_about(app, client, session, record):
    visitor = opted_out_of_marketing(app, client, session, record)
    before = latest_receipt(session, visitor).id
    flag = flag_of(save(client, "marketing"))
    response = save(client, "marketing", "advertising", reoptin_confirmed=flag)
    assert response.status_code == 422
    assert latest_receipt(session, visitor).id == before


def test_opting_back_in_outside_california_needs_no_second_step(app, client, session, record):
    visitor = opted_out_of_marketing(app, client, session, record)
    response = save(client, "analytics", "marketing", region="US-CO")
    assert response.status_code == 303
    receipt = latest_receipt(session, visitor)
    assert receipt.decisions["marketing"] == "granted"
    assert "reoptin_confirmed" not in decoded_payload(receipt.jws)
