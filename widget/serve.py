"""``GET /v1/widget.js`` and friends: the files shop pages load."""

from __future__ import annotations

from flask import Response
from flask import request

from widget import bp
from widget.assets import BUNDLES
from widget.assets import asset

# The URLs are not versioned, so caches keep them for an hour and then revalidate by ETag: a
# fix reaches every visitor within the hour, and a revalidation is a 304 without a body.
CACHE_CONTROL = "public, max-age=3600"


# Every bundle widget/assets.py builds, and nothing else.
@bp.get("/v1/<any(" + ", ".join(f"'{name}'" for name in BUNDLES) + "):name>")
def widget_file(name: str) -> Response:
    served = asset(name)
    if request.accept_encodings["gzip"]:
        response = Response(served.gzipped, mimetype=served.mimetype)
        response.headers["Content-Encoding"] = "gzip"
        response.set_etag(served.etag + "-gzip")  # another representation, another tag
    else:
        response = Response(served.body, mimetype=served.mimetype)
        response.set_etag(served.etag)
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = CACHE_CONTROL
    # Loaded from every shop's origin: readable with crossorigin/SRI, and embeddable by pages
    # that require Cross-Origin-Resource-Policy (COEP).
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.make_conditional(request)  # answers If-None-Match with a 304, in place
    return response
