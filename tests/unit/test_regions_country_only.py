"""Region sources that can only name a country: a clear warning at start-up naming what it
costs (every US visitor gets California's banner), and in production a refusal unless
CONSENT_ALLOW_COUNTRY_ONLY_REGIONS=true. The GeoIP databases are real .mmdb files."""

from __future__ import annotations

import logging

import pytest

from consent_service.app import create_app
from consent_service.jurisdictions.regions import RegionHeader
from consent_service.jurisdictions.regions import RegionResolver
from consent_service.settings import Environment
from consent_service.settings import Settings
from consent_service.settings import SettingsError
from consent_service.settings import check_region_sources
from tests.geoip_fixture import city_database
from tests.geoip_fixture import country_database
from tests.support import make_settings

CLOUDFRONT = RegionHeader("CloudFront-Viewer-Country", "CloudFront-Viewer-Country-Region")


def settings(tmp_path, *, production: bool = False, allow: bool = False, **values: object):
    return make_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'consent.db'}",
        environment=Environment.PRODUCTION if production else Environment.DEVELOPMENT,
        allow_country_only_regions=allow,
        **values,
    )


def test_a_country_header_without_a_subdivision_header_is_country_only():
    resolver = RegionResolver((RegionHeader("CF-IPCountry"), CLOUDFRONT))
    assert resolver.country_only_sources == (
        "CONSENT_REGION_HEADERS entry CF-IPCountry (no subdivision header)",
    )


def test_a_country_database_is_country_only_and_a_city_database_is_not(tmp_path):
    with RegionResolver(geoip_database=country_database(tmp_path)) as country:
        assert country.country_only_sources == (
            "CONSENT_GEOIP_DATABASE (a Country-level database)",
        )
    with RegionResolver(geoip_database=city_database(tmp_path)) as city:
        assert city.country_only_sources == ()


def test_development_warns_naming_the_consequence_for_us_and_canadian_visitors(tmp_path, caplog):
    with (
        caplog.at_level(logging.WARNING),
        RegionResolver(geoip_database=country_database(tmp_path)) as resolver,
    ):
        check_region_sources(settings(tmp_path), resolver.country_only_sources)
    assert "Country-level database" in caplog.text
    assert "every US visitor sees California's banner" in caplog.text
    assert "Quebec's opt-in" in caplog.text


def test_production_refuses_a_country_only_source_unless_allowed(tmp_path):
    with pytest.raises(SettingsError, match="CONSENT_ALLOW_COUNTRY_ONLY_REGIONS=true"):
        check_region_sources(
            settings(tmp_path, production=True),
            RegionResolver((RegionHeader("CF-IPCountry"),)).country_only_sources,
        )


def test_production_allowed_to_use_country_only_sources_still_warns(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        check_region_sources(
            settings(tmp_path, production=True, allow=True),
            RegionResolver((RegionHeader("CF-IPCountry"),)).country_only_sources,
        )
    assert "COUNTRY-ONLY REGIONS" in caplog.text


def test_sources_that_name_subdivisions_start_silently(tmp_path, caplog):
    with (
        caplog.at_level(logging.WARNING),
        RegionResolver((CLOUDFRONT,), city_database(tmp_path)) as resolver,
    ):
        check_region_sources(settings(tmp_path, production=True), resolver.country_only_sources)
    assert "COUNTRY-ONLY" not in caplog.text


def test_the_app_does_not_start_in_production_on_a_country_database(tmp_path):
    production = settings(
        tmp_path,
        production=True,
        geoip_database=country_database(tmp_path),
        rate_limit_storage="memory://",
        single_process=True,
    )
    with pytest.raises(SettingsError, match="Country-level database"):
        create_app(production)


def test_the_setting_is_read_from_the_environment(tmp_path):
    env = {"CONSENT_INSTANCE_PATH": str(tmp_path), "CONSENT_ALLOW_COUNTRY_ONLY_REGIONS": "true"}
    assert Settings.from_env(env).allow_country_only_regions is True
    assert (
        Settings.from_env({"CONSENT_INSTANCE_PATH": str(tmp_path)}).allow_country_only_regions
        is False
    )
