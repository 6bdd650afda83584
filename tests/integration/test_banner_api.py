"""``GET /v1/banner``: what the widget shows, by region and language."""

from __future__ import annotations

import datetime as dt

import pytest

from consent_service.banner.preview import sign_preview_region
from consent_service.documents.versions import create_draft
from consent_service.documents.versions import get_document
from consent_service.documents.versions import publish
from consent_service.jurisdictions.regions import RegionHeader
from consent_service.settings import Environment
from tests.support import make_settings
from tests.support import shut_down
from tests.support import started_on_fresh_database

URL = "/v1/banner?property=demo-shop"


def banner(client, query: str = "", **headers: str):
    response = client.get(URL + query, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def test_an_unknown_region_gets_the_strictest_banner(client):
    body = banner(client).json
    assert body["jurisdiction"]["code"] == "unknown"
    assert body["jurisdiction"]["regime"] == "opt_in"
    assert body["jurisdiction"]["reject_all_first_layer"] is True


def test_nothing_is_pre_ticked_where_the_law_wants_opt_in(client):
    purposes = banner(client, "&region=FR").json["purposes"]
    assert {p["key"]: p["default"] for p in purposes} == {
        "necessary": True,
        "preferences": False,
        "analytics": False,
        "marketing": False,
        "advertising": False,
    }


def test_california_gets_the_opt_out_banner_with_its_links(client):
    body = banner(client, "&region=US-CA").json
    assert body["jurisdiction"]["regime"] == "opt_out"
    assert body["jurisdiction"]["gpc_honoured"] is True
    texts = [link["text"] for link in body["jurisdiction"]["links"]]
    assert "Do Not Sell or Share My Personal Information" in texts


def test_the_banner_carries_the_current_and_last_material_policy_versions(client):
    policy = banner(client).json["policy"]
    assert (policy["version"], policy["last_material_version"]) == (2, 2)
    assert policy["url"] == "http://consent.test/policies/demo-shop/privacy-policy/2"


def test_purposes_list_their_vendors_and_consent_mode_types(client):
    purposes = {p["key"]: p for p in banner(client).json["purposes"]}
    assert "google-analytics" in purposes["analytics"]["vendors"]
    assert purposes["analytics"]["consent_mode"] == ["analytics_storage"]
    assert purposes["advertising"]["opt_out_categories"]


def test_the_language_follows_accept_language(client):
    body = banner(client, **{"Accept-Language": "de-AT, de;q=0.9"}).json
    assert body["locale"] == "de"
    assert body["texts"]["reject_all"] == "Alle ablehnen"


def test_an_unknown_locale_falls_back_to_the_default(client):
    body = banner(client, "&locale=ja").json
    assert body["locale"] == "en"
    assert body["texts"]["accept_all"] == "Accept all"


def test_a_malformed_locale_is_a_422(client):
    response = client.get(URL + "&locale=%3Cscript%3E")
    assert response.status_code == 422
    assert response.json["errors"][0]["pointer"] == "/locale"


def test_an_unknown_property_is_a_404_problem(client):
    response = client.get("/v1/banner?property=no-such-shop")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize("query", ["", "?property=", "?property=Demo%20Shop"])
def test_a_missing_or_malformed_property_is_a_422(client, query):
    response = client.get("/v1/banner" + query)
    assert response.status_code == 422
    assert response.json["errors"][0]["pointer"] == "/property"


def test_a_malformed_region_override_gets_the_strictest_banner(client):
    assert banner(client, "&region=ZZ-%3Cx%3E").json["jurisdiction"]["code"] == "unknown"


def test_a_matching_etag_gets_a_304(client):
    etag = banner(client, "&region=FR").headers["ETag"]
    response = client.get(URL + "&region=FR", headers={"If-None-Match": etag})
    assert response.status_code == 304


def test_the_banner_varies_on_language(client):
    assert "Accept-Language" in banner(client).headers["Vary"]


def test_an_overridden_region_is_never_stored_by_caches(client):
    assert banner(client, "&region=FR").headers["Cache-Control"] == "no-store"


def test_publishing_a_material_version_changes_the_banner_at_once(client, session):
    before = banner(client)
    document = get_document(session, "demo-shop", "privacy-policy")
    publish(session, create_draft(session, document, "# Privacy policy v3\n", material=True))
    session.commit()
    after = banner(client)
    assert after.json["policy"]["version"] == 3
    assert after.json["policy"]["last_material_version"] == 3
    assert after.headers["ETag"] != before.headers["ETag"]


@pytest.fixture
def production_app(tmp_path):
    settings = make_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'prod.db'}",
        environment=Environment.PRODUCTION,
        region_headers=(RegionHeader("CF-IPCountry"),),
        allow_country_only_regions=True,  # production refuses a country-only header otherwise
        banner_cache_seconds=2,
    )
    app = started_on_fresh_database(settings)
    yield app
    shut_down(app)


def test_production_ignores_a_region_override(production_app):
    body = banner(production_app.test_client(), "&region=US-CA").json
    assert body["jurisdiction"]["code"] == "unknown"


def test_a_trusted_cdn_header_chooses_the_law_and_is_varied_on(production_app):
    response = banner(production_app.test_client(), **{"CF-IPCountry": "FR"})
    assert response.json["jurisdiction"]["code"] == "FR"
    assert "CF-IPCountry" in response.headers["Vary"]
    assert response.headers["Cache-Control"] == "public, max-age=2"


def test_a_malformed_cdn_header_gets_the_strictest_banner(production_app):
    response = banner(production_app.test_client(), **{"CF-IPCountry": "XX"})
    assert response.json["jurisdiction"]["code"] == "unknown"


def test_a_signed_preview_token_chooses_the_law_in_production(production_app):
    token = sign_preview_region(production_app.config["SECRET_KEY"], "US-CA")
    response = banner(production_app.test_client(), f"&region={token}", **{"CF-IPCountry": "FR"})
    assert response.json["jurisdiction"]["code"] == "US-CA"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("forged", ["unsigned", "another key", "expired"])
def test_an_unsigned_or_expired_preview_token_is_ignored(production_app, forged):
    key = production_app.config["SECRET_KEY"]
    if forged == "unsigned":
        token = "eyJyIjoiVVMtQ0EifQ"  # {"r":"US-CA"} without a signature
    elif forged == "another key":
        token = sign_preview_region("x" * 40, "US-CA")
    else:
        signed_at = dt.datetime.fromtimestamp(1_700_000_000, dt.UTC)
        token = sign_preview_region(key, "US-CA", signed_at=signed_at)
    response = banner(production_app.test_client(), f"&region={token}")
    assert response.json["jurisdiction"]["code"] == "unknown"
