"""A banner already made is answered before Flask's request cycle, exactly as the view would
answer it; whatever the shortcut cannot answer that way goes to the view."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pytest
from flask import Flask
from flask import request_started
from werkzeug.test import Client
from werkzeug.test import TestResponse

from consent_service.banner.cache import BannerCache
from consent_service.documents.versions import create_draft
from consent_service.documents.versions import get_document
from consent_service.documents.versions import publish
from consent_service.extensions import banner_cache
from consent_service.extensions import current_session
from consent_service.jurisdictions.regions import RegionHeader
from consent_service.web.request_limits import MAX_HEADER_FIELD_BYTES
from tests.support import MonotonicClock
from tests.support import make_settings
from tests.support import shut_down
from tests.support import started_on_fresh_database

URL = "/v1/banner?property=demo-shop"
TTL = 60


@pytest.fixture
def clock() -> MonotonicClock:
    return MonotonicClock()


@pytest.fixture
def cached_app(tmp_path, clock) -> Iterator[Flask]:
    """A development app (``?region=`` allowed) behind a CDN header, caching banners."""
    settings = make_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'shortcut.db'}",
        region_headers=(RegionHeader("CF-IPCountry"),),
        banner_cache_seconds=TTL,
    )
    app = started_on_fresh_database(settings)
    banner_cache.attach(app, BannerCache(ttl=TTL, clock=clock))
    yield app
    shut_down(app)


@pytest.fixture
def entered_flask(cached_app) -> Iterator[list[str]]:
    """The paths of the requests that went through Flask's request cycle."""
    entered: list[str] = []

    def record(sender: Flask, **extra: object) -> None:
        from flask import request

        entered.append(request.path)

    with request_started.connected_to(record, cached_app):
        yield entered


def through_the_view(app: Flask) -> Client:
    """A client of Flask's own WSGI callable, which never takes the shortcut."""
    return Client(functools.partial(Flask.wsgi_app, app), TestResponse)


def get(client, query: str = "", **headers: str) -> TestResponse:
    return client.get(URL + query, headers=headers)


def test_a_banner_already_made_is_answered_without_entering_flask(cached_app, entered_flask):
    client = cached_app.test_client()
    first, second = get(client), get(client)
    assert entered_flask == ["/v1/banner"]
    assert (second.status_code, second.data) == (first.status_code, first.data)


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("", {}),
        ("", {"Accept-Encoding": "gzip, deflate, br"}),
        ("", {"Accept-Language": "de-CH, de;q=0.9"}),
        ("&locale=fr", {"Accept-Language": "de"}),
        ("&locale=de&locale=fr", {}),
        ("&unknown=1", {}),
        ("", {"CF-IPCountry": "FR"}),
        ("", {"CF-IPCountry": "US", "Accept-Encoding": "gzip"}),
        ("", {"X-Request-ID": "report-1234"}),
    ],
)
def test_the_shortcut_answers_exactly_as_the_view_does(cached_app, entered_flask, query, headers):
    get(cached_app.test_client(), query, **headers)  # the view makes it
    shortcut = get(cached_app.test_client(), query, **headers)
    view = get(through_the_view(cached_app), query, **headers)
    assert entered_flask == ["/v1/banner", "/v1/banner"]
    assert (shortcut.status_code, shortcut.data) == (view.status_code, view.data)
    assert _without_request_id(shortcut) == _without_request_id(view)


@pytest.mark.parametrize("encoding", ["gzip", "identity"])
def test_a_matching_etag_gets_the_views_304_from_the_shortcut(cached_app, entered_flask, encoding):
    client = cached_app.test_client()
    etag = get(client, **{"Accept-Encoding": encoding}).headers["ETag"]
    asked = {"Accept-Encoding": encoding, "If-None-Match": f'W/{etag}, "other"'}
    shortcut = get(client, **asked)
    view = get(through_the_view(cached_app), **asked)
    assert (shortcut.status_code, shortcut.data) == (304, b"")
    assert _without_request_id(shortcut) == _without_request_id(view)
    assert entered_flask == ["/v1/banner", "/v1/banner"]


def test_an_etag_of_the_other_coding_gets_the_whole_banner(cached_app):
    client = cached_app.test_client()
    plain_etag = get(client).headers["ETag"]
    response = get(client, **{"Accept-Encoding": "gzip", "If-None-Match": plain_etag})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"


def test_a_request_id_is_echoed_when_well_formed_and_made_fresh_otherwise(cached_app):
    client = cached_app.test_client()
    get(client)
    echoed = get(client, **{"X-Request-ID": "report-1234"}).headers["X-Request-ID"]
    made = {get(client, **{"X-Request-ID": "<bad>"}).headers["X-Request-ID"] for _ in range(2)}
    assert echoed == "report-1234"
    assert len(made) == 2 and "<bad>" not in made


@pytest.mark.parametrize(
    ("method", "query", "headers", "status"),
    [
        ("GET", "&region=US-CA", {}, 200),  # a development override: the view decides
        ("GET", "&locale=%64e", {}, 200),  # escaped: read the way Flask reads it
        ("GET", "&locale=de_DE!", {}, 422),  # malformed: the view's problem
        ("GET", "&property=x", {"X-Long": "x" * MAX_HEADER_FIELD_BYTES}, 431),
        ("HEAD", "", {}, 200),
        ("POST", "", {}, 405),
        ("GET", "", {"Content-Type": "application/x-www-form-urlencoded"}, 200),
    ],
)
def test_what_the_shortcut_cannot_answer_goes_to_the_view(
    cached_app, entered_flask, method, query, headers, status
):
    client = cached_app.test_client()
    get(client)
    entered_flask.clear()
    response = client.open(URL + query, method=method, headers=headers)
    assert response.status_code == status
    assert entered_flask == ["/v1/banner"]


def test_an_unknown_property_is_always_the_views_404(cached_app, entered_flask):
    client = cached_app.test_client()
    statuses = [client.get("/v1/banner?property=no-such-shop").status_code for _ in range(2)]
    assert statuses == [404, 404]
    assert entered_flask == ["/v1/banner", "/v1/banner"]


def test_a_fingerprint_due_for_its_check_goes_to_the_view_which_sees_a_publication(
    cached_app, entered_flask, clock
):
    client = cached_app.test_client()
    before = get(client).json["policy"]["version"]
    with cached_app.app_context():
        session = current_session()
        document = get_document(session, "demo-shop", "privacy-policy")
        publish(session, create_draft(session, document, "# Privacy policy v3\n", material=True))
        session.commit()
    clock.now += TTL - 0.1
    within = get(client).json["policy"]["version"]
    clock.now += 0.1
    after, again = get(client).json["policy"]["version"], get(client).json["policy"]["version"]
    assert (before, within, after, again) == (2, 2, 3, 3)
    # The first, and the one past the TTL (it re-reads the fingerprint and builds anew).
    assert entered_flask == ["/v1/banner", "/v1/banner"]


def _without_request_id(response: TestResponse) -> list[tuple[str, str]]:
    return sorted((name, value) for name, value in response.headers if name != "X-Request-ID")
