"""``GET /v1/banner``: the banner for the visitor's region and language, cached per process.

The hot path is a cache hit: no database, one prepared answer per (property, fingerprint,
jurisdiction, locale, cacheability), holding the body plain and gzipped (compressed once,
``web.compression``) with each one's headers, so a request only chooses.
"""

from __future__ import annotations

import dataclasses
import functools
import json

from flask import Response
from flask import request

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
from consent_service.jurisdictions.rulebook import jurisdiction_for_region
from consent_service.jurisdictions.rules import Jurisdiction
from consent_service.models.base import utcnow
from consent_service.properties.jurisdiction_overrides import apply_overrides
from consent_service.web.compression import GZIP
from consent_service.web.compression import Compressed
from consent_service.web.compression import Representation
from consent_service.web.etags import content_etag
from consent_service.web.request_body import property_query
from consent_service.web.visitor_region import visitor_region

Headers = list[tuple[str, str]]


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A banner answer as sent: each coding's body, ETag and headers, made once."""

    compressed: Compressed
    headers: Headers
    gzipped_headers: Headers

    def for_client(self, accept_encoding: str | None) -> tuple[Representation, Headers]:
        chosen = self.compressed.for_client(accept_encoding)
        return chosen, self.headers if chosen.encoding is None else self.gzipped_headers


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
    jurisdiction = apply_overrides(
        jurisdiction_for_region(located.region, on=now.date()), fingerprint.override_map
    )
    locale = _negotiated_locale(
        request.args.get("locale"),
        request.headers.get("Accept-Language"),
        fingerprint.locales,
        fingerprint.default_locale,
    )
    cacheability = _cacheability(located.source)
    key = (
        property_key,
        fingerprint.config_version,
        fingerprint.policy_number,
        jurisdiction.code,
        jurisdiction.honours_gpc,
        locale,
        cacheability,
    )
    prepared = cache.body(
        key, lambda: _prepare(property_key, fingerprint, jurisdiction, locale, cacheability)
    )
    chosen, headers = prepared.for_client(request.headers.get("Accept-Encoding"))
    # If-None-Match compares weakly (RFC 9110 §13.1.2), with the chosen coding's tag.
    if request.if_none_match.contains_weak(chosen.etag):
        response = Response(status=304, headers=headers)
    else:
        response = Response(chosen.body, headers=headers, mimetype="application/json")
    response.headers["X-Consent-Region"] = located.region or "unknown"
    return response


def _prepare(
    property_key: str,
    fingerprint: Fingerprint,
    jurisdiction: Jurisdiction,
    locale: str,
    cacheability: str,
) -> Prepared:
    """Build the body once, gzip it once, and the headers that go with each."""
    config = build_banner(
        current_session(),
        property_key,
        jurisdiction=jurisdiction,
        locale=locale,
        base_url=settings().base_url,
        now=utcnow(),
    )
    config["config_version"] = fingerprint.config_version
    body = json.dumps(config, ensure_ascii=False, separators=(",", ":")).encode()
    compressed = Compressed.of(body, content_etag(body))
    resolver = region_resolver()
    common = [
        ("Cache-Control", cacheability),
        # Shared caches may keep a banner only when all it depends on is in what they key on.
        ("Vary", ", ".join(["Accept-Language", "Accept-Encoding", *resolver.header_names])),
        ("X-Consent-Jurisdiction", jurisdiction.code),
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Expose-Headers", "ETag, X-Consent-Jurisdiction"),
    ]
    return Prepared(
        compressed,
        [("ETag", f'"{compressed.plain.etag}"'), *common],
        [
            ("ETag", f'"{compressed.gzipped.etag}"'),
            ("Content-Encoding", GZIP),
            *common,
        ],
    )


# Pure, and asked with a few distinct Accept-Language values: each worked out once.
_negotiated_locale = functools.lru_cache(maxsize=1024)(negotiate_locale)


def _cacheability(source: str) -> str:
    ttl = settings().banner_cache_seconds
    if source in ("override", "scan"):
        return "no-store"
    resolver = region_resolver()
    if source == "geoip" or (source == "unknown" and resolver.uses_geoip):
        # Depends on the client's address, which no Vary header can name.
        return f"private, max-age={ttl}"
    return f"public, max-age={ttl}"
