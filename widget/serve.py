"""``GET /v1/widget.js`` and friends: the files shop pages load."""

from __future__ import annotations

import functools

from flask import Response
from flask import request

from consent_service.banner.configuration import load_fingerprint
from consent_service.extensions import banner_cache
from consent_service.extensions import current_session
from consent_service.models.base import utcnow
from consent_service.web.compression import Compressed
from consent_service.web.request_body import property_query
from widget import bp
from widget.assets import BUNDLES
from widget.assets import Asset
from widget.assets import asset
from widget.assets import stub_asset

# The URLs are not versioned, so caches keep them for an hour and then revalidate by ETag: a
# fix reaches every visitor within the hour, and a revalidation is a 304 without a body.
CACHE_CONTROL = "public, max-age=3600"
# The stub blocks the page while it loads, so browsers keep it too; it also carries the
# property's enabled platforms, which an admin may change: five minutes, then an ETag check.
STUB_CACHE_CONTROL = "public, max-age=300"


# Every bundle widget/assets.py builds, and nothing else; the stub has its own route below.
SERVED_AS_BUILT = tuple(name for name in BUNDLES if name != "stub.js")


@bp.get("/v1/<any(" + ", ".join(f"'{name}'" for name in SERVED_AS_BUILT) + "):name>")
def widget_file(name: str) -> Response:
    return _served(asset(name), CACHE_CONTROL)


@bp.get("/v1/stub.js")
def stub_file() -> Response:
    """The synchronous stub a shop puts before any tag (``widget/src/stub.js``). With
    ``?property=`` it also sets the denied defaults of the platforms that property enables
    and fetches their adapters; without, Consent Mode's default and the queue only. The
    platforms come from the banner's fingerprint, cached like it (an unknown property: 404)."""
    platforms: tuple[str, ...] = ()
    if "property" in request.args:
        key = property_query()
        fingerprint = banner_cache().fingerprint(
            key, lambda: load_fingerprint(current_session(), key, now=utcnow())
        )
        platforms = fingerprint.platforms
    return _served(stub_asset(platforms), STUB_CACHE_CONTROL)


def _served(served: Asset, cache_control: str) -> Response:
    chosen = _compressed(served).for_client(request.headers.get("Accept-Encoding"))
    response = Response(chosen.body, mimetype=served.mimetype)
    if chosen.encoding is not None:
        response.headers["Content-Encoding"] = chosen.encoding
    response.set_etag(chosen.etag)  # each coding its own representation, and tag
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = cache_control
    # Loaded from every shop's origin: readable with crossorigin/SRI, and embeddable by pages
    # that require Cross-Origin-Resource-Policy (COEP).
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.make_conditional(request)  # answers If-None-Match with a 304, in place
    return response


@functools.lru_cache(maxsize=64)
def _compressed(served: Asset) -> Compressed:
    """Each built file (and each stub variant) negotiated from its one gzipped copy."""
    return Compressed.of(served.body, served.etag, served.gzipped)
