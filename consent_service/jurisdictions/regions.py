"""Where is the visitor? The region decides which law applies (ARCHITECTURE §5).

Order: a development/admin ``?region=`` override, then the CDN headers the operator trusts,
then a GeoIP2 look-up of the client address, then unknown (which gets the strictest rule).
Everything a request carries is untrusted: a value we cannot validate is treated as absent,
never as an error, so a broken header can at worst make the visitor "unknown".
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal
from typing import Protocol

import geoip2.database
import geoip2.errors
import maxminddb

from consent_service.errors import InternalError

log = logging.getLogger(__name__)

# ISO 3166-1 alpha-2, officially assigned. Reserved and user-assigned codes are not places a
# law can be looked up for: Cloudflare's XX (unknown) and T1 (Tor), MaxMind's legacy A1/A2/AP,
# EU, UK. XK (Kosovo) is user-assigned but what MaxMind, Cloudflare and the EU use, so it stays.
_COUNTRY_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO
    DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU
    GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW
    KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU
    MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW
    PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF
    TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT
    ZA ZM ZW"""
COUNTRIES = frozenset(_COUNTRY_CODES.split())
_REGION = re.compile(r"([A-Z]{2})(?:-([A-Z0-9]{1,3}))?", re.ASCII)
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", re.ASCII)  # an RFC 9110 token
# Addresses that are never a visitor's own on the internet: looking them up can only mislead.
_INTERNAL_NETWORKS = """0.0.0.0/8 10.0.0.0/8 100.64.0.0/10 127.0.0.0/8 169.254.0.0/16 172.16.0.0/12
    192.168.0.0/16 224.0.0.0/4 240.0.0.0/4 ::/128 ::1/128 fc00::/7 fe80::/10 ff00::/8"""
_INTERNAL = tuple(ipaddress.ip_network(net) for net in _INTERNAL_NETWORKS.split())

Source = Literal["override", "scan", "header", "geoip", "unknown"]


class HeaderLookup(Protocol):
    """What ``resolve`` reads headers from: a ``dict`` or werkzeug's ``request.headers``."""

    def get(self, key: str, /) -> str | None: ...

    def items(self) -> Iterable[tuple[str, str]]: ...


class GeoIPDatabaseError(InternalError):
    """The configured GeoIP database cannot be used: a start-up error for the operator, never
    a request's (hence an InternalError, not a documented problem type)."""


@dataclasses.dataclass(frozen=True)
class RegionHeader:
    """One trusted CDN header pair, e.g. ``CF-IPCountry`` or CloudFront's country + region."""

    country: str
    subdivision: str | None = None


@dataclasses.dataclass(frozen=True)
class ResolvedRegion:
    """The visitor's region (``US-CA``, ``FR``) or None, and which source said so."""

    region: str | None
    source: Source


def normalise_region(value: str | None) -> str | None:
    """``us-ca`` -> ``US-CA``; anything that is not a real ISO 3166 code -> None."""
    if not value or len(value) > 16:
        return None
    candidate = value.strip().upper()
    match = _REGION.fullmatch(candidate)
    if match is None or match.group(1) not in COUNTRIES:
        return None
    return candidate


def parse_region_headers(spec: str) -> tuple[RegionHeader, ...]:
    """``Country[:Subdivision][,...]`` -> header pairs; ValueError names the bad entry."""
    pairs: list[RegionHeader] = []
    for entry in (part.strip() for part in spec.split(",")):
        names = [name.strip() for name in entry.split(":")]
        if len(names) > 2 or not all(_HEADER_NAME.fullmatch(name) for name in names):
            raise ValueError(
                f"expected HeaderName or CountryHeader:SubdivisionHeader, got {entry!r}"
            )
        pairs.append(RegionHeader(names[0], names[1] if len(names) == 2 else None))
    return tuple(pairs)


def client_ip(
    remote_addr: str | None, forwarded_for: list[str] | str | None, trusted_hops: int
) -> str | None:
    """The visitor's address: the socket peer, or the entry our own proxies put in XFF.

    Each of the ``trusted_hops`` proxies appends the address it saw, so the client is
    ``trusted_hops`` entries from the right; anything further left came from the client and is
    never read. A malformed entry there gives None rather than a guess from the client's part.
    """
    if trusted_hops <= 0:
        return _parse_ip(remote_addr)
    lines = [forwarded_for] if isinstance(forwarded_for, str) else list(forwarded_for or [])
    entries = [item.strip() for line in lines for item in line.split(",") if item.strip()]
    if not entries:
        return _parse_ip(remote_addr)  # not through our proxies (or a health check)
    return _parse_ip(entries[-min(trusted_hops, len(entries))])


def _parse_ip(value: str | None) -> str | None:
    """A bare address, without port or brackets, IPv4-mapped IPv6 as IPv4; else None."""
    if not value or len(value) > 64:
        return None
    text = value.strip()
    if text.startswith("["):  # [2001:db8::1]:443
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # 203.0.113.9:5678
        text = text.partition(":")[0]
    try:
        ip = ipaddress.ip_address(text.partition("%")[0])  # without an IPv6 zone (%eth0)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    return str(ip)


class RegionResolver:
    """Made once per process; holds the open GeoIP database (thread-safe for look-ups)."""

    def __init__(
        self,
        headers: tuple[RegionHeader, ...] = (),
        geoip_database: Path | None = None,
        *,
        trusted_proxy_hops: int = 0,
    ) -> None:
        self.headers = headers
        self.trusted_proxy_hops = trusted_proxy_hops
        self._reader: geoip2.database.Reader | None = None
        self._city = False
        if geoip_database is not None:
            self._reader, self._city = _open(geoip_database)

    @property
    def header_names(self) -> tuple[str, ...]:
        """Every request header the answer may depend on (for ``Vary``)."""
        names = [h.country for h in self.headers]
        names += [h.subdivision for h in self.headers if h.subdivision]
        return tuple(names)

    @property
    def country_only_sources(self) -> tuple[str, ...]:
        """The configured sources that can name a country but never its subdivision: a CDN
        header without a subdivision header, a Country-level database. Where a country's
        subdivisions set the law (US, CA), their visitors then get its fallback, the strictest
        of its subdivision rules."""
        sources = [
            f"CONSENT_REGION_HEADERS entry {pair.country} (no subdivision header)"
            for pair in self.headers
            if pair.subdivision is None
        ]
        if self._reader is not None and not self._city:
            sources.append("CONSENT_GEOIP_DATABASE (a Country-level database)")
        return tuple(sources)

    @property
    def uses_geoip(self) -> bool:
        """Whether answers may depend on the client's address."""
        return self._reader is not None

    def close(self) -> None:
        """Release the database file (and its memory map)."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def __enter__(self) -> RegionResolver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def client_ip(
        self, remote_addr: str | None, forwarded_for: list[str] | str | None
    ) -> str | None:
        """:func:`client_ip` with this deployment's trusted proxy hops."""
        return client_ip(remote_addr, forwarded_for, self.trusted_proxy_hops)

    def resolve(
        self,
        headers: HeaderLookup,
        remote_addr: str | None,
        forwarded_for: list[str] | str | None,
        *,
        override: str | None = None,
        allow_override: bool = False,
    ) -> ResolvedRegion:
        """The visitor's region from the first source that gives a valid one; never raises."""
        if allow_override and (region := normalise_region(override)):
            return ResolvedRegion(region, "override")
        for pair in self.headers:
            if region := self._from_header(headers, pair):
                return ResolvedRegion(region, "header")
        if self._reader is not None and (
            region := self.geoip_region(self.client_ip(remote_addr, forwarded_for))
        ):
            return ResolvedRegion(region, "geoip")
        return ResolvedRegion(None, "unknown")

    def geoip_region(self, address: str | None) -> str | None:
        """The database's answer for ``address``; None when it has none (or is not configured)."""
        ip = _parse_ip(address)
        if self._reader is None or ip is None:
            return None
        parsed = ipaddress.ip_address(ip)
        if any(parsed in net for net in _INTERNAL if net.version == parsed.version):
            return None
        try:
            if self._city:
                city = self._reader.city(ip)
                country = city.country.iso_code
                subdivision = city.subdivisions.most_specific.iso_code
            else:
                country, subdivision = self._reader.country(ip).country.iso_code, None
        except (geoip2.errors.AddressNotFoundError, ValueError):  # unknown, or v6 in a v4 db
            return None
        except maxminddb.InvalidDatabaseError:
            log.warning("GeoIP database is corrupt near %s; region unknown", ip, exc_info=True)
            return None
        if country is None:  # some ranges carry only a continent
            return None
        return normalise_region(f"{country}-{subdivision}" if subdivision else country)

    @staticmethod
    def _from_header(headers: HeaderLookup, pair: RegionHeader) -> str | None:
        country = _header(headers, pair.country)
        if country is None:
            return None
        subdivision = _header(headers, pair.subdivision) if pair.subdivision else None
        if not subdivision:
            return normalise_region(country)
        country = country.strip().upper()
        part = subdivision.strip().upper().removeprefix(f"{country}-")
        return normalise_region(f"{country}-{part}")


def _header(headers: HeaderLookup, name: str) -> str | None:
    """Header names are case-insensitive whatever mapping the caller passes."""
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    return value


def _open(path: Path) -> tuple[geoip2.database.Reader, bool]:
    """Open once and say whether it is a City-level database (subdivisions) or Country-only."""
    try:
        reader = geoip2.database.Reader(str(path))
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
        raise GeoIPDatabaseError(f"cannot open GeoIP database {path}: {exc}") from exc
    kind = reader.metadata().database_type
    if "City" in kind:
        return reader, True
    if "Country" in kind:
        return reader, False
    reader.close()
    raise GeoIPDatabaseError(
        f"GeoIP database {path} is a {kind!r} database; a City or Country one is needed"
    )
