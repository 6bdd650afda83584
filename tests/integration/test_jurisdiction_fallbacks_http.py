"""The strict fallbacks over real HTTP (issue #12 statement 3): a visitor resolved only to a
country whose subdivisions set the law gets the strictest of them, whether the country came
from the development override or from a trusted CDN header that names only countries."""

from __future__ import annotations

import uuid

import pytest

from consent_service.jurisdictions.regions import RegionHeader
from tests.support import make_settings
from tests.support import shut_down
from tests.support import started_on_fresh_database

URL = "/v1/banner?property=demo-shop"
CA_LINKS = {
    "Do Not Sell or Share My Personal Information",
    "Limit the Use of My Sensitive Personal Information",
    "Your Privacy Choices",
}


def jurisdiction(client, query: str = "", **headers: str) -> dict[str, object]:
    response = client.get(URL + query, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, object] = response.json["jurisdiction"]
    return body


@pytest.fixture
def cdn_app(tmp_path):
    """Development, behind a CDN that sends only the country (the README's example)."""
    settings = make_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'cdn.db'}",
        region_headers=(RegionHeader("CF-IPCountry"),),
    )
    app = started_on_fresh_database(settings)
    yield app
    shut_down(app)


def assert_us_unknown(found: dict[str, object]) -> None:
    assert (found["code"], found["regime"], found["gpc_honoured"]) == (
        "US-unknown",
        "opt_out",
        True,
    )
    assert found["first_layer"] == ["accept_all", "reject_all", "customize"]
    assert found["reject_all_first_layer"] is True
    assert {link["text"] for link in found["links"]} == CA_LINKS  # type: ignore[attr-defined]
    assert (found["reask_floor_months"], found["gpc_status_display"]) == (12, True)
    assert found["reoptin_confirmation"] is True
    assert "reprompt_days" not in found


def test_region_us_gets_the_strictest_us_state_rule_with_gpc_and_links(client):
    assert_us_unknown(jurisdiction(client, "&region=US"))


def test_a_country_only_cdn_header_for_the_us_gets_the_strictest_us_state_rule(cdn_app):
    assert_us_unknown(jurisdiction(cdn_app.test_client(), **{"CF-IPCountry": "US"}))


def test_region_ca_gets_quebecs_opt_in(client):
    found = jurisdiction(client, "&region=CA")
    assert (found["code"], found["regime"]) == ("CA-unknown", "opt_in")
    purposes = client.get(URL + "&region=CA").json["purposes"]
    assert not any(p["default"] for p in purposes if p["key"] != "necessary")


def test_a_country_only_cdn_header_for_canada_gets_quebecs_opt_in(cdn_app):
    found = jurisdiction(cdn_app.test_client(), **{"CF-IPCountry": "CA"})
    assert (found["code"], found["regime"]) == ("CA-unknown", "opt_in")


def test_a_us_state_without_a_law_still_gets_the_acknowledged_notice(client):
    found = jurisdiction(client, "&region=US-WY")
    assert (found["code"], found["regime"], found["gpc_honoured"]) == ("US", "notice", False)
    assert found["first_layer"] == ["acknowledge", "customize"]
    assert found["reject_all_first_layer"] is False


def test_a_receipt_records_the_fallback_it_was_given_under(consent_via_widget):
    receipt = consent_via_widget(uuid.uuid4(), region="US", marketing=True)
    assert receipt["payload"]["jurisdiction"] == "US-unknown"
