"""``/v1/stub.js`` over HTTP (no browser needed): one static file with the property's enabled
platforms written in, served like widget.js (gzip, ETag, any origin), cached briefly."""

from __future__ import annotations

import gzip

import sqlalchemy as sa

from consent_service.models import Property
from consent_service.properties.config_version import bump_config_version
from widget.assets import STUB_PLATFORMS
from widget.assets import minified
from widget.assets import stub_asset


def enable(session, *platforms: str) -> None:
    shop = session.scalar(sa.select(Property).where(Property.key == "demo-shop"))
    shop.platforms = list(platforms)
    bump_config_version(session, shop.id)
    session.flush()


def test_without_a_property_the_stub_sets_consent_mode_and_the_queue_only(client):
    response = client.get("/v1/stub.js")
    assert response.status_code == 200
    assert response.content_type == "text/javascript; charset=utf-8"
    body = response.get_data(as_text=True)
    assert body == minified("stub.js").replace(STUB_PLATFORMS, "")
    assert "'consent','default'" in body.replace('"', "'").replace(" ", "")
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"


def test_the_stub_names_exactly_the_platforms_the_property_enables(client, session):
    plain = client.get("/v1/stub.js?property=demo-shop")
    assert plain.get_data() == client.get("/v1/stub.js").get_data()  # none enabled
    enable(session, "wp_consent", "microsoft_uet", "meta_pixel")
    enabled = client.get("/v1/stub.js?property=demo-shop")
    body = enabled.get_data(as_text=True)
    assert "microsoft_uet meta_pixel wp_consent" in body  # the catalogue's order
    assert STUB_PLATFORMS not in body
    assert enabled.get_data() == stub_asset(("microsoft_uet", "meta_pixel", "wp_consent")).body
    assert enabled.headers["ETag"] != plain.headers["ETag"]


def test_the_stub_is_gzipped_and_revalidates_with_its_etag(client, session):
    enable(session, "tiktok_pixel")
    plain = client.get("/v1/stub.js?property=demo-shop")
    packed = client.get("/v1/stub.js?property=demo-shop", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    assert packed.headers["Vary"] == "Accept-Encoding"
    again = client.get(
        "/v1/stub.js?property=demo-shop",
        headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]},
    )
    assert again.status_code == 304 and again.get_data() == b""
    enable(session, "tiktok_pixel", "shopify")  # the admin enables one more: a new variant
    changed = client.get(
        "/v1/stub.js?property=demo-shop",
        headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]},
    )
    assert changed.status_code == 200
    assert b"tiktok_pixel shopify" in gzip.decompress(changed.get_data())


def test_an_unknown_property_is_a_404_problem(client):
    response = client.get("/v1/stub.js?property=no-such-shop")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert "no-such-shop" in response.json["detail"]


def test_a_property_that_is_not_a_key_is_a_422_problem_naming_the_parameter(client):
    for bad in ("", "Demo Shop", "x" * 65):
        response = client.get("/v1/stub.js", query_string={"property": bad})
        assert response.status_code == 422, bad
        assert response.content_type == "application/problem+json"
        assert response.json["errors"] == [
            {"pointer": "/property", "detail": "a lowercase slug is required"}
        ]


def test_widget_ads_is_served_like_the_other_widget_files(client):
    response = client.get("/v1/widget-ads.js")
    assert response.status_code == 200
    assert response.content_type == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert "consent:ads" in response.get_data(as_text=True)
