"""Region resolution (ARCHITECTURE §5): override -> trusted CDN header -> GeoIP -> unknown.

The GeoIP look-ups go through the real ``geoip2`` reader on MaxMind-format files the tests
write (tests/geoip_fixture.py): nothing here is mocked.
"""

from __future__ import annotations

import pytest
from werkzeug.datastructures import Headers

from consent_service.jurisdictions.regions import GeoIPDatabaseError
from consent_service.jurisdictions.regions import RegionHeader
from consent_service.jurisdictions.regions import RegionResolver
from consent_service.jurisdictions.regions import ResolvedRegion
from consent_service.jurisdictions.regions import normalise_region
from tests.geoip_fixture import city_database
from tests.geoip_fixture import country_database
from tests.geoip_fixture import write_database

CLOUDFLARE = RegionHeader("CF-IPCountry")
CLOUDFRONT = RegionHeader("CloudFront-Viewer-Country", "CloudFront-Viewer-Country-Region")
PROXY = "10.0.0.5"


@pytest.fixture
def city(tmp_path):
    with RegionResolver((CLOUDFRONT, CLOUDFLARE), city_database(tmp_path)) as resolver:
        yield resolver


@pytest.fixture
def country_only(tmp_path):
    with RegionResolver((), country_database(tmp_path)) as resolver:
        yield resolver


def geoip(resolver: RegionResolver, address: str) -> ResolvedRegion:
    return resolver.resolve({}, address, [])


@pytest.mark.parametrize(
    ("value", "region"),
    [
        ("US", "US"),
        ("us-ca", "US-CA"),
        (" CA-QC ", "CA-QC"),
        ("FR-75", "FR-75"),
        ("FR-2A", "FR-2A"),
        ("GB-ENG", "GB-ENG"),
        ("XK", "XK"),
    ],
)
def test_iso_3166_codes_are_accepted_in_upper_case(value, region):
    assert normalise_region(value) == region


@pytest.mark.parametrize(
    "value",
    [None, "", "XX", "T1", "EU", "UK", "A1", "ZZ", "USA", "U", "US-", "US-CALI", "US_CA",
     "US-CA-LA", "U S", "US\nCA", "FR;DROP TABLE", "<script>", "\uff35\uff33", "US " * 10],
)  # fmt: skip
def test_anything_else_is_no_region(value):
    assert normalise_region(value) is None


def test_a_trusted_country_header_wins_over_geoip(city):
    resolved = city.resolve({"CF-IPCountry": "DE"}, "203.0.113.9", [])
    assert resolved == ResolvedRegion("DE", "header")


def test_header_names_are_case_insensitive(city):
    assert city.resolve({"cf-ipcountry": "de"}, None, []) == ResolvedRegion("DE", "header")


def test_werkzeug_request_headers_can_be_passed_as_they_are(city):
    headers = Headers([("Cf-Ipcountry", "AT")])
    assert city.resolve(headers, None, []) == ResolvedRegion("AT", "header")


def test_a_subdivision_header_is_combined_with_its_country_header(city):
    headers = {"CloudFront-Viewer-Country": "US", "CloudFront-Viewer-Country-Region": "CA"}
    assert city.resolve(headers, None, []) == ResolvedRegion("US-CA", "header")


def test_a_subdivision_header_may_carry_the_full_code(city):
    headers = {"CloudFront-Viewer-Country": "CA", "CloudFront-Viewer-Country-Region": "CA-QC"}
    assert city.resolve(headers, None, []) == ResolvedRegion("CA-QC", "header")


def test_a_country_header_without_its_subdivision_header_gives_the_country(city):
    assert city.resolve({"CloudFront-Viewer-Country": "FR"}, None, []).region == "FR"


def test_headers_are_tried_in_the_configured_order(city):
    headers = {"CF-IPCountry": "DE", "CloudFront-Viewer-Country": "FR"}
    assert city.resolve(headers, None, []).region == "FR"


def test_a_malformed_header_falls_through_to_the_next_header(city):
    headers = {"CloudFront-Viewer-Country": "XX", "CF-IPCountry": "DE"}
    assert city.resolve(headers, None, []) == ResolvedRegion("DE", "header")


def test_a_malformed_header_falls_through_to_geoip(city):
    resolved = city.resolve({"CF-IPCountry": "T1"}, "203.0.113.9", [])
    assert resolved == ResolvedRegion("US-CA", "geoip")


def test_a_malformed_subdivision_makes_the_whole_pair_fall_through(city):
    headers = {"CloudFront-Viewer-Country": "US", "CloudFront-Viewer-Country-Region": "C;A"}
    assert city.resolve(headers, "198.51.100.7", []) == ResolvedRegion("FR", "geoip")


def test_a_subdivision_of_another_country_makes_the_pair_fall_through(city):
    headers = {"CloudFront-Viewer-Country": "US", "CloudFront-Viewer-Country-Region": "CA-QC"}
    assert city.resolve(headers, "198.51.100.7", []) == ResolvedRegion("FR", "geoip")


def test_a_header_the_operator_did_not_configure_is_not_trusted(city):
    resolved = city.resolve({"X-Country": "DE"}, "203.0.113.9", [])
    assert resolved == ResolvedRegion("US-CA", "geoip")


def test_no_header_is_trusted_by_default(tmp_path):
    with RegionResolver() as resolver:
        resolved = resolver.resolve({"CF-IPCountry": "DE"}, "203.0.113.9", [])
    assert resolved == ResolvedRegion(None, "unknown")


def test_a_city_database_gives_country_and_subdivision(city):
    assert geoip(city, "203.0.113.9") == ResolvedRegion("US-CA", "geoip")
    assert geoip(city, "192.0.2.200") == ResolvedRegion("CA-QC", "geoip")


def test_a_city_database_gives_the_most_specific_subdivision(city):
    assert geoip(city, "192.0.2.10").region == "FR-75"


def test_a_city_record_without_subdivision_gives_the_country(city):
    assert geoip(city, "198.51.100.7").region == "FR"


def test_ipv6_addresses_are_looked_up(city):
    assert geoip(city, "2001:db8:1::7") == ResolvedRegion("DE", "geoip")


def test_ipv4_mapped_ipv6_addresses_are_looked_up_as_ipv4(city):
    assert geoip(city, "::ffff:203.0.113.9").region == "US-CA"


def test_a_country_database_gives_the_country_only(country_only):
    assert geoip(country_only, "203.0.113.9") == ResolvedRegion("US", "geoip")


def test_ipv6_in_an_ipv4_only_database_is_unknown_not_an_error(country_only):
    assert geoip(country_only, "2001:db8::7") == ResolvedRegion(None, "unknown")


def test_an_address_the_database_does_not_know_is_unknown(city):
    assert geoip(city, "192.88.99.1") == ResolvedRegion(None, "unknown")


def test_a_record_with_only_a_continent_is_unknown(city):
    assert geoip(city, "198.18.0.1") == ResolvedRegion(None, "unknown")


@pytest.mark.parametrize("address", ["10.1.2.3", "127.0.0.1", "::1", "fe80::1", None, "junk"])
def test_private_loopback_and_missing_addresses_are_never_looked_up(city, address):
    # The database does map 10.0.0.0/8; an internal address still says nothing about a visitor.
    assert geoip(city, address) == ResolvedRegion(None, "unknown")


def test_geoip_looks_up_the_client_behind_trusted_proxies_not_the_spoofed_address(tmp_path):
    with RegionResolver((), city_database(tmp_path), trusted_proxy_hops=1) as resolver:
        resolved = resolver.resolve({}, PROXY, ["198.51.100.7, 203.0.113.9"])
    assert resolved == ResolvedRegion("US-CA", "geoip")


def test_the_override_wins_when_allowed(city):
    resolved = city.resolve({"CF-IPCountry": "DE"}, "203.0.113.9", [], override="ca-qc",
                            allow_override=True)  # fmt: skip
    assert resolved == ResolvedRegion("CA-QC", "override")


def test_the_override_is_ignored_unless_allowed(city):
    resolved = city.resolve({}, "203.0.113.9", [], override="DE")
    assert resolved == ResolvedRegion("US-CA", "geoip")


def test_a_malformed_override_is_ignored(city):
    resolved = city.resolve({}, "203.0.113.9", [], override="XX", allow_override=True)
    assert resolved == ResolvedRegion("US-CA", "geoip")


def test_without_a_database_or_headers_the_region_is_unknown():
    with RegionResolver() as resolver:
        assert geoip(resolver, "203.0.113.9") == ResolvedRegion(None, "unknown")


def test_a_closed_resolver_answers_unknown_rather_than_failing(tmp_path):
    resolver = RegionResolver((), city_database(tmp_path))
    resolver.close()
    resolver.close()
    assert geoip(resolver, "203.0.113.9") == ResolvedRegion(None, "unknown")


def test_a_missing_database_file_is_a_start_up_error(tmp_path):
    with pytest.raises(GeoIPDatabaseError, match="cannot open GeoIP database"):
        RegionResolver((), tmp_path / "missing.mmdb")


def test_a_file_that_is_not_a_maxmind_database_is_a_start_up_error(tmp_path):
    path = tmp_path / "notes.mmdb"
    path.write_text("not a database")
    with pytest.raises(GeoIPDatabaseError, match="cannot open GeoIP database"):
        RegionResolver((), path)


def test_a_database_that_is_neither_city_nor_country_is_a_start_up_error(tmp_path):
    path = write_database(tmp_path / "asn.mmdb", "GeoLite2-ASN", {"192.0.2.0/24": {"x": 1}})
    with pytest.raises(GeoIPDatabaseError, match="City or Country"):
        RegionResolver((), path)
