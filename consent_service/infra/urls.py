"""The service's public URLs that other code hands out (in receipts, banners, emails, pages),
built in one place with their parts quoted, and the origin its own pages are served from."""

from __future__ import annotations

import urllib.parse


def policy_url(base_url: str, property_key: str, document_key: str, number: int) -> str:
    """The exact bytes of one version of a policy document, whose SHA-256 receipts carry:
    what a receipt's ``policy.url`` names, so anyone can fetch and hash it (a browser that
    asks for HTML is sent on to :func:`policy_page_url`)."""
    return _under(base_url, "v1", "policies", property_key, document_key, str(number))


def policy_page_url(base_url: str, property_key: str, document_key: str, number: int) -> str:
    """Where a person reads one version of a policy document: the rendered page every link
    for people (banner, layer, emails, the preferences page) goes to."""
    return _under(base_url, "policies", property_key, document_key, str(number))


def policy_diff_url(base_url: str, property_key: str, document_key: str, old: int, new: int) -> str:
    """The page that shows what changed between two versions of a policy document."""
    return _under(base_url, "policies", property_key, document_key, "diff", f"{old}..{new}")


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: what a browser sends as ``Origin`` from its pages
    (never its path, so a service mounted under ``/consent`` still knows its own pages)."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _under(base_url: str, *segments: str) -> str:
    quoted = "/".join(urllib.parse.quote(segment, safe="") for segment in segments)
    return f"{base_url.rstrip('/')}/{quoted}"
