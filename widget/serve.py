"""``GET /v1/widget.js`` and friends: the files shop pages load."""

from __future__ import annotations

import functools

from flask import Response
from flask import request

from consent_service.web.compression import Compressed
from widget import bp
from widget.assets import asset

# The URLs are not versioned, so caches keep them for an hour and then revalidate by ETag: a
# fix reaches every visitor within the hour, and a revalidation is a 304 without a body.
CACHE_CONTROL = "public, max-age=3600"


@bp.get(
    "/v1/<any('widget.js', 'widget.css', 'widget-preferences.js', 'widget-preferences.css'):name>"
)
def widget_file(name: str) -> Response:
    chosen = _compressed(name).for_client(request.headers.get("Accept-Encoding"))
    response = Response(chosen.body, mimetype=asset(name).mimetype)
    if chosen.encoding is not None:
        response.headers["Content-Encoding"] = chosen.encoding
    response.set_etag(chosen.etag)  # each coding its own representation, and tag
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = CACHE_CONTROL
    # Loaded from every shop's origin: readable with crossorigin/SRI, and embeddable by pages
    # that require Cross-Origin-Resource-Policy (COEP).
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.make_conditional(request)  # answers If-None-Match with a 304, in place
    return response


@functools.cache
def _compressed(name: str) -> Compressed:
    served = asset(name)
    return Compressed.of(served.body, served.etag, served.gzipped)
