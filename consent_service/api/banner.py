"""``GET /v1/banner``: the banner for the visitor's region and language, cached per process.

The hot path is a cache hit: no database, one prepared answer per (property, fingerprint,
jurisdiction, locale, cacheability), holding the body plain and gzipped (compressed once,
``web.compression``) with each one's headers, so a request only chooses.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from collections.abc import Hashable
from http import HTTPStatus
from typing import NamedTuple

from flask import Response
from flask import request
from werkzeug.datastructures import Headers
from werkzeug.http import parse_etags
from werkzeug.http import remove_entity_headers

from consent_service.api import bp
from consent_service.api import operations as doc
from consent_service.api.response_schemas import BannerSchema
from consent_service.banner.cache import BannerCache
from consent_service.banner.configuration import LOCALE_TAG
from consent_service.banner.configuration import Fingerprint
from consent_service.banner.configuration import build_banner
from consent_service.banner.configuration import load_fingerprint
from consent_service.banner.configuration import negotiate_locale
from consent_service.errors import UnknownProperty
from consent_service.errors import ValidationFailed
from consent_service.extensions import banner_cache
from consent_service.extensions import current_session
from consent_service.extensions import region_resolver
from consent_service.extensions import settings
from consent_service.jurisdictions.regions import RegionResolver
from consent_service.jurisdictions.regions import ResolvedRegion
from consent_service.jurisdictions.rulebook import jurisdiction_for_region
from consent_service.jurisdictions.rules import Jurisdiction
from consent_service.models.base import utcnow
from consent_service.properties.jurisdiction_overrides import apply_overrides
from consent_service.settings import Settings
from consent_service.web.compression import Compressed
from consent_service.web.compression import Representation
from consent_service.web.etags import content_etag
from consent_service.web.request_body import property_query
from consent_service.web.visitor_region import visitor_region

HeaderList = list[tuple[str, str]]


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A banner answer, both codings made once, each with the headers of a 200 and of a 304
    (which carries no body's headers, RFC 9110 §15.4.5): a request only chooses."""

    compressed: Compressed
    headers: dict[str | None, tuple[HeaderList, HeaderList]]  # by Content-Encoding

    @classmethod
    def of(cls, compressed: Compressed, common: HeaderList) -> Prepared:
        return cls(
            compressed,
            {
                chosen.encoding: _headers(chosen, common)
                for chosen in (compressed.plain, compressed.gzipped)
            },
        )

    def answer(self, accept_encoding: str | None, if_none_match: str | None) -> Answer:
        """The status, body and headers for a client sending these two headers."""
        chosen = self.compressed.for_client(accept_encoding)
        ok, not_modified = self.headers[chosen.encoding]
        # If-None-Match compares weakly (RFC 9110 §13.1.2), with the chosen coding's tag.
        if if_none_match and parse_etags(if_none_match).contains_weak(chosen.etag):
            return Answer(HTTPStatus.NOT_MODIFIED, b"", not_modified)
        return Answer(HTTPStatus.OK, chosen.body, ok)


def _headers(chosen: Representation, common: HeaderList) -> tuple[HeaderList, HeaderList]:
    """A coding's headers as a 200 sends them, and as a 304 does."""
    headers = [("ETag", f'"{chosen.etag}"'), *common]
    if chosen.encoding is not None:
        headers.append(("Content-Encoding", chosen.encoding))
    not_modified = Headers(headers)
    remove_entity_headers(not_modified)
    entity = [("Content-Type", "application/json"), ("Content-Length", str(len(chosen.body)))]
    return headers + entity, not_modified.to_wsgi_list()


class Answer(NamedTuple):
    status: HTTPStatus
    body: bytes
    headers: HeaderList


@dataclasses.dataclass(frozen=True)
class Choice:
    """Which prepared banner a visitor gets, and what it is built from."""

    key: tuple[Hashable, ...]
    property_key: str
    jurisdiction: Jurisdiction
    locale: str
    cacheability: str


def choose_banner(
    property_key: str,
    fingerprint: Fingerprint,
    located: ResolvedRegion,
    asked_locale: str | None,
    accept_language: str | None,
    *,
    today: dt.date,
    settings: Settings,
    resolver: RegionResolver,
) -> Choice:
    """The banner for a visitor in ``located``, asking in these languages, as the property's
    ``fingerprint`` stands: the view and ``api.banner_shortcut`` both choose through this."""
    jurisdiction = apply_overrides(
        jurisdiction_for_region(located.region, on=today), fingerprint.override_map
    )
    locale = _negotiated_locale(
        asked_locale, accept_language, fingerprint.locales, fingerprint.default_locale
    )
    cacheability = _cacheability(located.source, settings, resolver)
    key = (
        property_key,
        fingerprint.config_version,
        fingerprint.policy_number,
        jurisdiction.code,
        jurisdiction.honours_gpc,
        locale,
        cacheability,
    )
    return Choice(key, property_key, jurisdiction, locale, cacheability)


def served_region(located: ResolvedRegion) -> HeaderList:
    """The header that tells the widget (and a person debugging) the region as resolved."""
    return [("X-Consent-Region", located.region or "unknown")]


@bp.get("/v1/banner")
@doc.operation(
    "getBanner",
    "Widget",
    parameters=[
        doc.PROPERTY_QUERY,
        doc.query(
            "locale",
            "A language the visitor chose (BCP 47); else `Accept-Language` decides.",
            "de",
            pattern=LOCALE_TAG.pattern,
        ),
        doc.query(
            "region",
            "Outside production only (development, previews): pretend the visitor is in this "
            "region, e.g. `FR` or `US-CA`. Ignored in production.",
            "FR",
        ),
        doc.header_parameter(
            "Accept-Language", "The browser's languages.", "fr-CH, fr;q=0.9, en;q=0.5"
        ),
        doc.header_parameter("Accept-Encoding", "`gzip` gets the banner gzipped.", "gzip"),
        doc.IF_NONE_MATCH,
    ],
    responses={
        200: doc.Answer(
            "The banner configuration.",
            BannerSchema,
            headers={
                "ETag": doc.ETAG,
                "Content-Encoding": doc.described_header(
                    "`gzip` when the client accepts it (its own ETag, ending `-gzip`)."
                ),
                "Cache-Control": doc.CACHE_CONTROL,
                "Vary": doc.VARY,
                "Access-Control-Allow-Origin": doc.ALLOW_ORIGIN,
                "X-Consent-Jurisdiction": doc.always(
                    doc.described_header("The jurisdiction whose rules the banner follows.")
                ),
                "X-Consent-Region": doc.always(
                    doc.described_header("The visitor's region as resolved, or `unknown`.")
                ),
            },
        ),
        304: doc.NOT_MODIFIED,
    },
    raises=(ValidationFailed, UnknownProperty),
)
def banner() -> Response:
    """The consent banner for the visitor's region and language

    The region comes from a trusted CDN header or GeoIP; the jurisdiction it falls under
    decides the regime (opt-in, opt-out, notice), what is pre-ticked and which links the law
    requires. Cacheable: `Vary` names what it depends on; `Cache-Control` is `private` when it
    depends on the client's address.
    """
    property_key = property_query()
    cache: BannerCache[Fingerprint, Prepared] = banner_cache()
    now = utcnow()
    fingerprint = cache.fingerprint(
        property_key, lambda: load_fingerprint(current_session(), property_key, now=now)
    )
    located = visitor_region(preview_tokens=True)  # the admin's preview picks the region
    choice = choose_banner(
        property_key,
        fingerprint,
        located,
        request.args.get("locale"),
        request.headers.get("Accept-Language"),
        today=now.date(),
        settings=settings(),
        resolver=region_resolver(),
    )
    prepared = cache.body(choice.key, lambda: _prepare(choice, fingerprint))
    answer = prepared.answer(
        request.headers.get("Accept-Encoding"), request.headers.get("If-None-Match")
    )
    return Response(answer.body, answer.status, [*answer.headers, *served_region(located)])


def _prepare(choice: Choice, fingerprint: Fingerprint) -> Prepared:
    """Build the body once, gzip it once, and the headers that go with each."""
    config = build_banner(
        current_session(),
        choice.property_key,
        jurisdiction=choice.jurisdiction,
        locale=choice.locale,
        base_url=settings().base_url,
        now=utcnow(),
    )
    config["config_version"] = fingerprint.config_version
    body = json.dumps(config, ensure_ascii=False, separators=(",", ":")).encode()
    compressed = Compressed.of(body, content_etag(body))
    # Shared caches may keep a banner only when all it depends on is in what they key on.
    vary = ["Accept-Language", "Accept-Encoding", *region_resolver().header_names]
    common = [
        ("Cache-Control", choice.cacheability),
        ("Vary", ", ".join(vary)),
        ("X-Consent-Jurisdiction", choice.jurisdiction.code),
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Expose-Headers", "ETag, X-Consent-Jurisdiction"),
    ]
    return Prepared.of(compressed, common)


# Pure, and asked with a few distinct Accept-Language values: each worked out once.
_negotiated_locale = functools.lru_cache(maxsize=1024)(negotiate_locale)


def _cacheability(source: str, settings: Settings, resolver: RegionResolver) -> str:
    ttl = settings.banner_cache_seconds
    if source in ("override", "scan"):
        return "no-store"
    if source == "geoip" or (source == "unknown" and resolver.uses_geoip):
        # Depends on the client's address, which no Vary header can name.
        return f"private, max-age={ttl}"
    return f"public, max-age={ttl}"
