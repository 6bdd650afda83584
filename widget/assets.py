"""The widget's scripts and stylesheets as served: the hand-written sources joined (scripts
into one strict scope) and minified, once per process, with a strong ETag.

The sources stay plain ES2017 files with no module system so that a shop embeds one tag and
nobody runs a build; the service does the joining.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
from pathlib import Path

import rcssmin  # type: ignore[import-untyped]
import rjsmin  # type: ignore[import-untyped]

from consent_service.web.etags import content_etag

SOURCE_DIR = Path(__file__).resolve().parent / "src"
# Each served file lists its sources in dependency order (a script uses only functions of the
# files before it). The preferences layer is its own pair of files, fetched only when a
# visitor opens it, so the first layer every visitor loads stays small.
BUNDLES: dict[str, tuple[str, ...]] = {
    "widget.js": (
        "usnat.js",
        "choice.js",
        "consent-mode.js",
        "gpp.js",
        "tags.js",
        "dom.js",
        "banner.js",
        "widget.js",
    ),
    "widget.css": ("widget.css",),
    "widget-preferences.js": ("dom.js", "preferences.js"),
    "widget-preferences.css": ("preferences.css",),
}
FIRST_LAYER = ("widget.js", "widget.css")
LICENSE_COMMENT = "/*! consent-service widget | Apache-2.0 */\n"


@dataclasses.dataclass(frozen=True)
class Asset:
    body: bytes
    etag: str
    mimetype: str
    # gzip -9, compressed once: the service may be the only server in front of visitors.
    gzipped: bytes


def source(name: str) -> str:
    """The unminified file. Scripts get one function scope, so only the public API is global."""
    text = "\n".join((SOURCE_DIR / part).read_text(encoding="utf-8") for part in BUNDLES[name])
    if name.endswith(".js"):
        text = "(function () {\n'use strict';\n" + text + "\n})();\n"
    return LICENSE_COMMENT + text


def minified(name: str) -> str:
    if name.endswith(".js"):
        return str(rjsmin.jsmin(source(name), keep_bang_comments=True))
    return str(rcssmin.cssmin(source(name), keep_bang_comments=True))


@functools.cache
def asset(name: str) -> Asset:
    """Built on first use, then kept for the life of the process."""
    body = minified(name).encode("utf-8")
    return Asset(
        body=body,
        etag=content_etag(body),
        mimetype="text/javascript" if name.endswith(".js") else "text/css",
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
    )
