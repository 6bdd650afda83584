"""Region settings: nothing is trusted unless configured; a configured database must exist."""

from __future__ import annotations

import pytest

from consent_service.jurisdictions.regions import RegionHeader
from consent_service.settings import Settings
from consent_service.settings import SettingsError
from tests.geoip_fixture import city_database
from tests.unit.test_settings import production_env


def development(tmp_path, **values: str) -> Settings:
    return Settings.from_env({"CONSENT_INSTANCE_PATH": str(tmp_path), **values})


def test_by_default_no_header_is_trusted_no_database_is_read_and_no_proxy_is_in_front(tmp_path):
    settings = development(tmp_path)
    assert settings.region_headers == ()
    assert settings.geoip_database is None
    assert settings.trusted_proxy_hops == 0


def test_region_headers_are_parsed_in_order_with_optional_subdivision_headers(tmp_path):
    spec = " CF-IPCountry , CloudFront-Viewer-Country:CloudFront-Viewer-Country-Region"
    settings = development(tmp_path, CONSENT_REGION_HEADERS=spec)
    assert settings.region_headers == (
        RegionHeader("CF-IPCountry"),
        RegionHeader("CloudFront-Viewer-Country", "CloudFront-Viewer-Country-Region"),
    )


@pytest.mark.parametrize(
    "spec", ["CF-IPCountry,", "A:B:C", "CF IPCountry", "Country:", "X-Country;drop", ":Region"]
)
def test_malformed_region_headers_are_refused_with_the_variable_named(tmp_path, spec):
    with pytest.raises(SettingsError, match="CONSENT_REGION_HEADERS"):
        development(tmp_path, CONSENT_REGION_HEADERS=spec)


def test_trusted_proxy_hops_is_read(tmp_path):
    assert development(tmp_path, CONSENT_TRUSTED_PROXY_HOPS="2").trusted_proxy_hops == 2


@pytest.mark.parametrize(("value", "message"), [("-1", "0 or more"), ("one", "an integer")])
def test_malformed_trusted_proxy_hops_are_refused_with_the_variable_named(tmp_path, value, message):
    with pytest.raises(SettingsError, match=f"CONSENT_TRUSTED_PROXY_HOPS must be {message}"):
        development(tmp_path, CONSENT_TRUSTED_PROXY_HOPS=value)


def test_an_existing_geoip_database_is_kept_as_an_absolute_path(tmp_path):
    database = city_database(tmp_path)
    settings = Settings.from_env(production_env(CONSENT_GEOIP_DATABASE=str(database)))
    assert settings.geoip_database == database.resolve()


def test_production_refuses_to_start_with_a_missing_geoip_database(tmp_path):
    missing = tmp_path / "GeoLite2-City.mmdb"
    with pytest.raises(SettingsError, match="CONSENT_GEOIP_DATABASE: no such file"):
        Settings.from_env(production_env(CONSENT_GEOIP_DATABASE=str(missing)))


def test_development_warns_about_a_missing_geoip_database_and_runs_without_it(tmp_path, caplog):
    settings = development(tmp_path, CONSENT_GEOIP_DATABASE=str(tmp_path / "nope.mmdb"))
    assert settings.geoip_database is None
    assert "CONSENT_GEOIP_DATABASE: no such file" in caplog.text


def test_production_without_any_region_source_warns_that_everyone_gets_the_strictest_rule(
    caplog,
):
    Settings.from_env(production_env())
    assert "strictest rule" in caplog.text
