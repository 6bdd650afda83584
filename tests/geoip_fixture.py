"""Real MaxMind-format databases for the tests, written with ``mmdb_writer``.

MaxMind's data is licensed and large; these files are tiny but byte-for-byte the format
production reads, so every look-up in the tests goes through the real ``geoip2`` reader.
Only documentation ranges (RFC 5737, RFC 3849) are used, plus one private range that the
resolver must refuse to look up even though the file has an answer for it.
"""

from __future__ import annotations

from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet

# address in the database -> the region the resolver should report for it
CITY_RECORDS: dict[str, dict[str, object]] = {
    "203.0.113.0/24": {"country": {"iso_code": "US"}, "subdivisions": [{"iso_code": "CA"}]},
    "198.51.100.0/24": {"country": {"iso_code": "FR"}},
    # Two levels, as MaxMind has for Paris: the most specific one is the one reported.
    "192.0.2.0/25": {
        "country": {"iso_code": "FR"},
        "subdivisions": [{"iso_code": "IDF"}, {"iso_code": "75"}],
    },
    "192.0.2.128/25": {"country": {"iso_code": "CA"}, "subdivisions": [{"iso_code": "QC"}]},
    "2001:db8::/32": {"country": {"iso_code": "DE"}},
    # Some real ranges only know their continent.
    "198.18.0.0/15": {"continent": {"code": "EU"}},
    # MaxMind never maps private space; a home-made database might, and must not be believed.
    "10.0.0.0/8": {"country": {"iso_code": "US"}, "subdivisions": [{"iso_code": "NY"}]},
}

COUNTRY_RECORDS: dict[str, dict[str, object]] = {
    "203.0.113.0/24": {"country": {"iso_code": "US"}},
    "198.51.100.0/24": {"country": {"iso_code": "FR"}},
}


def write_database(
    path: Path, database_type: str, records: dict[str, dict[str, object]], *, ipv6: bool = True
) -> Path:
    """Write ``records`` (CIDR -> GeoIP2 record) as a ``database_type`` .mmdb file at ``path``.

    An IPv6 database holds IPv4 at ``::/96``, as MaxMind's own files do.
    """
    writer = MMDBWriter(
        ip_version=6 if ipv6 else 4,
        ipv4_compatible=ipv6,
        database_type=database_type,
        languages=["en"],
        description="consent-service test data",
    )
    for network, record in records.items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path


def city_database(directory: Path) -> Path:
    return write_database(directory / "GeoLite2-City.mmdb", "GeoLite2-City", CITY_RECORDS)


def country_database(directory: Path) -> Path:
    """IPv4-only, like the smallest real files: an IPv6 look-up must just find nothing."""
    return write_database(
        directory / "GeoLite2-Country.mmdb", "GeoLite2-Country", COUNTRY_RECORDS, ipv6=False
    )
