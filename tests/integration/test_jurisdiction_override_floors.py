"""A property may lengthen the wait after a refusal and keep refusal on the first layer, never
shorten the one or drop the other (issue #12 statement 5): refused with the setting named,
nothing written, over the admin's real HTTP form and in the domain's error model."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from consent_service.errors import ValidationFailed
from consent_service.extensions import db
from consent_service.jurisdictions.rulebook import jurisdiction_for_region
from consent_service.models import Property
from consent_service.properties.jurisdiction_overrides import Override
from consent_service.properties.jurisdiction_overrides import apply_overrides
from consent_service.properties.jurisdiction_overrides import set_override

# Autouse: banners this module caches at a rolled-back config_version never reach later tests.
from tests.integration.test_admin_purposes import fresh_banner_cache  # noqa: F401

FORM = "/admin/jurisdictions/?property=demo-shop"


@pytest.fixture
def shop(session):
    return session.scalar(sa.select(Property).where(Property.key == "demo-shop"))


@pytest.fixture
def written(session):
    """``written()``: rows per table and the stored overrides, to prove nothing changed."""

    def _written():
        session.expire_all()
        counts = {
            table.name: session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }
        prop = session.scalar(sa.select(Property).where(Property.key == "demo-shop"))
        return counts, dict(prop.jurisdiction_overrides or {})

    return _written


@pytest.mark.parametrize(
    ("form", "error"),
    [
        pytest.param(
            {"code": "US-CA", "reask_floor_months": "6"},
            "a re-ask floor of 6 months is shorter than the law&#39;s 12",
            id="a shorter floor in California",
        ),
        pytest.param(
            {"code": "IT", "reask_floor_months": "5"},
            "a re-ask floor of 5 months is shorter than the law&#39;s 6",
            id="a shorter floor in Italy",
        ),
        pytest.param(
            {"code": "US-CA", "first_layer": "accept_all, customize"},
            "reject_all must stay on the first layer",
            id="reject-all dropped",
        ),
        pytest.param(
            {"code": "FR", "first_layer": "acknowledge, reject_all, customize"},
            "acknowledge is no consent",
            id="an acknowledgement where consent is needed",
        ),
        pytest.param(
            {"code": "FR", "reask_floor_months": "121"},
            "a re-ask floor is 0 to 120 months",
            id="beyond ten years",
        ),
        pytest.param(
            {"code": "FR", "reask_floor_months": "-1"},
            "The re-ask floor is a whole number of months",
            id="negative",
        ),
    ],
)
def test_the_form_refuses_a_looser_floor_or_layer_and_writes_nothing(editor, written, form, error):
    before = written()
    response = editor.post(FORM, form)
    assert response.status_code == 422
    assert error in response.text
    assert written() == before


def test_the_form_saves_a_longer_floor_and_the_banner_carries_it(editor, client, written):
    response = editor.post(FORM, {"code": "US-CA", "reask_floor_months": "18"})
    assert response.status_code == 302
    assert written()[1]["US-CA"] == {"reask_floor_months": 18}
    banner = client.get("/v1/banner", query_string={"property": "demo-shop", "region": "US-CA"})
    assert banner.json["jurisdiction"]["reask_floor_months"] == 18


def test_the_form_adds_a_refusal_to_a_notices_first_layer(editor, client):
    layer = "acknowledge, reject_all, customize"
    assert editor.post(FORM, {"code": "US", "first_layer": layer}).status_code == 302
    banner = client.get("/v1/banner", query_string={"property": "demo-shop", "region": "US-WY"})
    assert banner.json["jurisdiction"]["first_layer"] == ["acknowledge", "reject_all", "customize"]


def test_each_laxer_setting_is_named_at_its_own_pointer(session, shop):
    with pytest.raises(ValidationFailed) as refused:
        set_override(
            session,
            shop,
            "US-CA",
            Override(reask_floor_months=1, first_layer=("accept_all", "customize")),
        )
    pointers = [error.pointer for error in refused.value.errors]
    assert pointers == ["/first_layer", "/reask_floor_months"]
    assert "US-CA" not in (shop.jurisdiction_overrides or {})


def test_an_override_stored_before_first_layer_still_keeps_refusal_on_the_layer():
    stored = {"US": {"reject_all_first_layer": True}}
    applied = apply_overrides(jurisdiction_for_region("US-WY"), stored)
    assert applied.reject_all_first_layer
