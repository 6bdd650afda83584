"""What a page did, from what the browser saw (``browse.RawPage``) to an ``Observation``.

Who set a cookie: a ``document.cookie`` write the init script saw names the script (the last
write of that name that did not remove it); otherwise a response whose ``Set-Cookie`` named
it; an ``HttpOnly`` cookie can only come from a response. Which requests count: those to
another *site* than the page's (a site is the host's registrable domain, approximated without
the public-suffix list as its last two labels, three under a two-letter country code with a
generic second level such as ``co.uk``; an IP address or a single-label host is its own
site), except requests to the consent service itself. No query value is ever kept.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import urllib.parse
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any

from consent_service.infra.times import rfc3339_millis
from consent_service.scanning.browse import RawPage
from consent_service.scanning.browse import Write
from consent_service.scanning.browse import without_query
from consent_service.scanning.report import CookieRecord
from consent_service.scanning.report import Observation
from consent_service.scanning.report import RequestRecord
from consent_service.scanning.report import StorageRecord

_GENERIC_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "gov", "ac", "edu", "ne", "or"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def site_of(host: str) -> str:
    """The host's site (see the module's docstring)."""
    host = host.lower().strip(".")
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host
    except ValueError:
        pass
    labels = host.split(".")
    if len(labels) <= 2:
        return host
    if len(labels[-1]) == 2 and labels[-2] in _GENERIC_SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def observe(raw: RawPage, *, region: str, situation: str, gpc: bool, service: str) -> Observation:
    """The observation of one page load; ``service`` is the consent service's base URL."""
    page_host = urllib.parse.urlsplit(raw.url).hostname or ""
    service_host = urllib.parse.urlsplit(service).hostname or ""
    return Observation(
        url=raw.url,
        region=region,
        situation=situation,
        jurisdiction=raw.jurisdiction,
        widget=raw.widget,
        decisions=dict(raw.decisions) if raw.decisions is not None else None,
        gpc=gpc,
        cookies=cookie_records(raw.cookies, raw, page_host),
        storage=_storage_records(raw),
        requests=_request_records(raw, page_host, service_host),
        consent_mode=dict(raw.consent_mode) if raw.consent_mode is not None else None,
        gpp=raw.gpp,
        widget_cookies=tuple(raw.widget_cookies),
        after_withdrawal=cookie_records(raw.after_withdrawal or (), raw, page_host),
    )


def cookie_records(
    jar: Iterable[dict[str, Any]], raw: RawPage, page_host: str
) -> tuple[CookieRecord, ...]:
    page_site = site_of(page_host)
    records = []
    for cookie in jar:
        name = str(cookie["name"])
        domain = str(cookie["domain"])
        http_only = bool(cookie.get("httpOnly"))
        set_by, source = _setter(name, http_only, raw.writes, raw.set_cookies)
        expires = float(cookie.get("expires", -1))
        records.append(
            CookieRecord(
                name=name,
                domain=domain,
                path=str(cookie.get("path", "/")),
                third_party=site_of(domain) != page_site,
                expires=None
                if expires < 0
                else rfc3339_millis(dt.datetime.fromtimestamp(expires, dt.UTC)),
                http_only=http_only,
                secure=bool(cookie.get("secure")),
                same_site=str(cookie.get("sameSite", "")),
                set_by=set_by,
                source=source,
            )
        )
    return tuple(sorted(records, key=lambda c: (c.name, c.domain, c.path)))


def _setter(
    name: str,
    http_only: bool,
    writes: Sequence[Write],
    set_cookies: Sequence[tuple[str, str]],
) -> tuple[str, str | None]:
    if not http_only:
        for write in reversed(writes):
            if write.kind == "cookie" and write.name == name and not write.removal:
                return "script", _clean(write.script) or _clean(write.frame)
    for cookie_name, url in reversed(set_cookies):
        if cookie_name == name:
            return "response", _clean(url)
    return "unknown", None


def _storage_records(raw: RawPage) -> tuple[StorageRecord, ...]:
    origin = str(raw.storage.get("origin", ""))
    records = []
    for area in ("local", "session"):
        for key in raw.storage.get(area) or ():
            source = next(
                (
                    _clean(w.script) or _clean(w.frame)
                    for w in reversed(raw.writes)
                    if w.kind == area and w.name == key
                ),
                None,
            )
            records.append(StorageRecord(area=area, key=str(key), origin=origin, source=source))
    return tuple(sorted(records, key=lambda s: (s.area, s.key)))


def _request_records(raw: RawPage, page_host: str, service_host: str) -> tuple[RequestRecord, ...]:
    page_site = site_of(page_host)
    seen: dict[tuple[str, str, tuple[str, ...], str], RequestRecord] = {}
    for request in raw.requests:
        parts = urllib.parse.urlsplit(request.url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            continue  # data:, blob:, about: and the like go nowhere
        if site_of(parts.hostname) == page_site or parts.hostname == service_host:
            continue
        host = parts.hostname
        if parts.port and parts.port != _DEFAULT_PORTS[parts.scheme]:
            host = f"{host}:{parts.port}"
        keys = tuple(sorted({k for k, _ in urllib.parse.parse_qsl(parts.query, True)}))
        record = RequestRecord(
            host=host,
            path=parts.path or "/",
            query_keys=keys,
            resource_type=request.resource_type,
            initiator=_clean(request.frame),
        )
        seen.setdefault((record.host, record.path, keys, record.resource_type), record)
    return tuple(seen.values())


def _clean(url: str | None) -> str | None:
    return without_query(url) if url else None
