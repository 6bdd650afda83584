"""The widget's scripts and stylesheets as served: the hand-written sources joined (scripts
into one strict scope) and minified, once per process, with a strong ETag.

The sources stay plain ES2017 files with no module system so that a shop embeds one tag.
`make widget` minifies the joined sources with esbuild into widget/dist/ (committed, so
`make run` needs no Node); beside each built file, `<name>.sha256` names the SHA-256 of the
sources it came from and of the built file itself, and a built file whose sources have changed
since (or that is not the file built then) is never served: the service then minifies the
sources itself (rjsmin/rcssmin: only whitespace and comments, so larger) and warns. The hashes
stay out of the served files, where every visitor would download them.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import logging
import re
import subprocess
import sys
from pathlib import Path

import rcssmin  # type: ignore[import-untyped]
import rjsmin  # type: ignore[import-untyped]

from consent_service.web.etags import content_etag

log = logging.getLogger(__name__)

SOURCE_DIR = Path(__file__).resolve().parent / "src"
DIST_DIR = Path(__file__).resolve().parent / "dist"
# package.json at the repository root pins the exact esbuild version; `npm ci` installs it here.
ESBUILD = Path(__file__).resolve().parent.parent / "node_modules" / ".bin" / "esbuild"
# Each served file lists its sources in dependency order (a script uses only functions of the
# files before it). The first layer holds only what painting the first banner needs; the
# rest is fetched when needed, each in its own bundle: the preferences layer (a pair of files)
# when a visitor opens it, the GPP API once the banner's answer is in.
BUNDLES: dict[str, tuple[str, ...]] = {
    "widget.js": (
        "choice.js",
        "consent-mode.js",
        "tags.js",
        "dom.js",
        "banner.js",
        "widget.js",
    ),
    "widget.css": ("widget.css",),
    "widget-preferences.js": ("dom.js", "preferences.js"),
    "widget-preferences.css": ("preferences.css",),
    # The GPP CMP API, loaded once the banner's answer is in; the page's stub (the shop's
    # stub file, which includes gpp-stub.js) answers until then.
    "widget-gpp.js": ("gpp-stub.js", "usnat.js", "gpp.js"),
    # The other ad and shop platforms' adapters, fetched only for properties that enable one.
    "widget-ads.js": ("platform-defaults.js", "bridges.js", "adapters.js"),
    # The synchronous stub the shop puts before any tag (served per property: serve.py): Consent
    # Mode's default, the GPP stub, the enabled platforms' defaults, the window.consent queue.
    "stub.js": ("consent-mode.js", "gpp-stub.js", "platform-defaults.js", "stub.js"),
}
FIRST_LAYER = ("widget.js", "widget.css")
LICENSE_COMMENT = "/*! consent-service widget | Apache-2.0 */\n"
# The sources' language level: esbuild never writes newer syntax than the sources use.
ESBUILD_JS_TARGET = "es2017"


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
        text = '(function () {\n"use strict";\n' + text + "\n})();\n"
    return LICENSE_COMMENT + text


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_record(name: str, built: str) -> str:
    """widget/dist/<name>.sha256: what a built file was built from, and the file itself, which
    is how the service knows a built file is stale (or was changed by hand since)."""
    return f"sources {_sha256(source(name))}\nbuilt {_sha256(built)}\n"


def esbuild(name: str, executable: Path = ESBUILD) -> str:
    """The joined sources minified by esbuild (`make widget`): what widget/dist/<name> holds."""
    is_js = name.endswith(".js")
    options = [
        f"--loader={'js' if is_js else 'css'}",
        "--minify",
        "--legal-comments=none",
        "--charset=utf8",  # served as UTF-8: no \u escapes for the few non-ASCII characters
    ]
    if is_js:
        options.append(f"--target={ESBUILD_JS_TARGET}")
    done = subprocess.run(
        [str(executable), *options],
        input=source(name).removeprefix(LICENSE_COMMENT),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return LICENSE_COMMENT + done.stdout


def fresh_build(name: str, dist_dir: Path = DIST_DIR) -> str | None:
    """widget/dist/<name> when it was built from the current sources, else None."""
    try:
        text = (dist_dir / name).read_text(encoding="utf-8")
        record = (dist_dir / f"{name}.sha256").read_text(encoding="utf-8")
    except OSError:
        return None
    return text if record == build_record(name, text) else None


@functools.cache
def _warn_stale() -> None:
    log.warning("widget/dist is stale, run make widget")


def minified(name: str, dist_dir: Path = DIST_DIR) -> str:
    """The built file, or (stale or missing) the sources minified here, with one warning."""
    built = fresh_build(name, dist_dir)
    if built is not None:
        return built
    _warn_stale()
    if name.endswith(".js"):
        return str(rjsmin.jsmin(source(name), keep_bang_comments=True))
    return str(rcssmin.cssmin(source(name), keep_bang_comments=True))


@functools.cache
def asset(name: str) -> Asset:
    """Built on first use, then kept for the life of the process."""
    return _packed(minified(name), "text/javascript" if name.endswith(".js") else "text/css")


# Where stub.js names the platforms whose denied defaults it sets (see widget/src/stub.js).
STUB_PLATFORMS = "%PLATFORMS%"
_PLATFORM_KEY = re.compile(r"^[a-z_]+\Z")


@functools.cache
def stub_asset(platforms: tuple[str, ...]) -> Asset:
    """The synchronous stub for a property that enables ``platforms`` (platform keys, the
    catalogue's): one variant of one built file per set of platforms, kept like the others."""
    if not all(_PLATFORM_KEY.match(key) for key in platforms):
        raise ValueError(f"not platform keys: {platforms!r}")
    body = minified("stub.js")
    if body.count(STUB_PLATFORMS) != 1:
        raise RuntimeError(f"stub.js must name {STUB_PLATFORMS} exactly once")
    return _packed(body.replace(STUB_PLATFORMS, " ".join(platforms)), "text/javascript")


def _packed(text: str, mimetype: str) -> Asset:
    body = text.encode("utf-8")
    return Asset(
        body=body,
        etag=content_etag(body),
        mimetype=mimetype,
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
    )


def build() -> None:
    """`make widget`: writes every bundle into widget/dist/ with esbuild."""
    DIST_DIR.mkdir(exist_ok=True)
    for name in BUNDLES:
        built = esbuild(name)
        (DIST_DIR / name).write_text(built, encoding="utf-8")
        (DIST_DIR / f"{name}.sha256").write_text(build_record(name, built), encoding="utf-8")
        print(f"widget/dist/{name}", file=sys.stderr)
