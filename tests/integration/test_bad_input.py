"""No input makes a 500: every bad body, path, query value or form field answers a 4xx
problem (or a clear admin form error) and writes nothing.

The inputs are the ones an attack on the service found to end in a 500 with a traceback:
JSON nested thousands deep, integers thousands of digits long, lone surrogates and NUL bytes
(PostgreSQL refuses NUL in text; neither database can store a lone surrogate), and admin
form values ``int()`` or an enum refuse with an exception.
"""

from __future__ import annotations

import io
import json
import uuid

import pytest
import sqlalchemy as sa

from consent_service.extensions import db
from consent_service.models import Property
from tests.support import demo_consent

PROBLEM = "application/problem+json"
VISITOR = str(uuid.uuid4())
NUL = "\\u0000"  # as a JSON escape: the raw byte is not valid JSON
SURROGATE = "\\ud800"

# Every JSON endpoint: (path, scope of the key it needs or None, a body, the text field that
# reaches deepest: the bad text goes there).
JSON_ENDPOINTS = {
    "POST /v1/consents": ("/v1/consents", None, demo_consent(uuid.UUID(VISITOR)), "property"),
    "POST /v1/identity": (
        "/v1/identity",
        None,
        {"property": "demo-shop", "visitor_id": VISITOR, "identity_token": "x.y.z"},
        "identity_token",
    ),
    "POST /v1/preferences/link": (
        "/v1/preferences/link",
        None,
        {"property": "demo-shop", "visitor_id": VISITOR},
        "property",
    ),
    "POST /v1/subjects/link": (
        "/v1/subjects/link",
        "subjects:write",
        {"visitor_id": VISITOR, "customer": "C-1", "email": "ada@example.com"},
        "customer",
    ),
    "POST /v1/subjects/consents": (
        "/v1/subjects/consents",
        "consent:write",
        {"subject": "customer:C-1", "policy_version": 2, "method": "accept_all"},
        "subject",
    ),
    "POST /v1/decisions": (
        "/v1/decisions",
        "consent:read",
        {"subjects": ["email:ada@example.com"], "purposes": ["analytics"]},
        None,  # the text goes into subjects[0]
    ),
    "POST /v1/webhooks": (
        "/v1/webhooks",
        "webhooks:manage",
        {"url": "https://hooks.example.com/x", "event_types": ["consent.changed"]},
        "description",
    ),
}


@pytest.fixture
def row_counts(session):
    """``row_counts()``: rows per table, to prove a refused request wrote nothing."""

    def _counts() -> dict[str, int]:
        session.expire_all()
        return {
            table.name: session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }

    return _counts


@pytest.fixture
def send_json(client, api_key):
    """``send_json(endpoint, raw)`` posts ``raw`` with the key the endpoint needs (made
    beforehand, so that counting rows around the request sees only what it wrote)."""
    keys = {scope: api_key(scope) for _, scope, _, _ in JSON_ENDPOINTS.values() if scope}

    def _send(endpoint: str, raw: str | bytes):
        path, scope, _, _ = JSON_ENDPOINTS[endpoint]
        headers = keys[scope] if scope else {}
        return client.post(path, data=raw, content_type="application/json", headers=headers)

    return _send


def _with_text(endpoint: str, text_json: str) -> str:
    """The endpoint's body with ``text_json`` (a JSON string literal's inside) in its field."""
    _, _, body, field = JSON_ENDPOINTS[endpoint]
    marker = "__TEXT__"
    body = dict(body)
    if field is None:
        body["subjects"] = [f"email:ada{marker}@example.com"]
    elif field in ("subject",):
        body[field] = f"customer:C{marker}"
    else:
        body[field] = f"x{marker}y"
    return json.dumps(body).replace(marker, text_json)


def _with_member(endpoint: str, raw_value: str) -> str:
    """The endpoint's body with one more member whose value is ``raw_value`` as it stands."""
    return json.dumps(JSON_ENDPOINTS[endpoint][2])[:-1] + f', "n": {raw_value}}}'


def _refused(response, *statuses: int) -> None:
    assert response.status_code in statuses, (response.status_code, response.data[:300])
    assert response.mimetype == PROBLEM


@pytest.mark.parametrize("endpoint", JSON_ENDPOINTS)
def test_json_nested_thousands_deep_is_a_malformed_request(endpoint, send_json, row_counts):
    before = row_counts()
    response = send_json(endpoint, '{"a": ' + "[" * 5000 + "]" * 5000 + "}")
    _refused(response, 400)
    assert response.json["type"].endswith("/problems/malformed-request")
    assert "deep" in response.json["detail"]
    assert row_counts() == before


@pytest.mark.parametrize("endpoint", JSON_ENDPOINTS)
def test_json_nested_beyond_the_depth_limit_is_a_malformed_request(endpoint, send_json, row_counts):
    before = row_counts()
    response = send_json(endpoint, '{"a": ' + "[" * 40 + "]" * 40 + "}")
    _refused(response, 400)
    assert row_counts() == before


@pytest.mark.parametrize("endpoint", JSON_ENDPOINTS)
def test_an_integer_thousands_of_digits_long_is_a_malformed_request(
    endpoint, send_json, row_counts
):
    raw = _with_member(endpoint, "9" * 5000)
    before = row_counts()
    response = send_json(endpoint, raw)
    _refused(response, 400)
    assert response.json["type"].endswith("/problems/malformed-request")
    assert "digits" in response.json["detail"]
    assert row_counts() == before


@pytest.mark.parametrize("number", ["1e999", "-1e999", "NaN", "Infinity", "-Infinity"])
def test_numbers_that_are_not_finite_are_a_malformed_request(number, send_json, row_counts):
    raw = _with_member("POST /v1/consents", number)
    before = row_counts()
    _refused(send_json("POST /v1/consents", raw), 400)
    assert row_counts() == before


@pytest.mark.parametrize("text", [NUL, SURROGATE, "\\udfff", "\\udc00\\ud800"])
@pytest.mark.parametrize("endpoint", JSON_ENDPOINTS)
def test_nul_and_lone_surrogates_in_json_text_are_refused_with_a_pointer(
    endpoint, text, send_json, row_counts
):
    before = row_counts()
    response = send_json(endpoint, _with_text(endpoint, text))
    _refused(response, 422)
    assert response.json["type"].endswith("/problems/validation-failed")
    pointers = [e["pointer"] for e in response.json["errors"]]
    field = JSON_ENDPOINTS[endpoint][3]
    assert pointers == ["/subjects/0" if field is None else f"/{field}"]
    assert row_counts() == before


def test_a_surrogate_pair_is_text_like_any_other(send_json):
    raw = _with_text("POST /v1/webhooks", "\\ud83d\\ude00")  # an emoji, escaped
    assert send_json("POST /v1/webhooks", raw).status_code == 201


def test_a_nul_in_an_object_key_is_refused(send_json, row_counts):
    body = json.dumps(demo_consent(uuid.UUID(VISITOR))).replace('"analytics"', f'"ana{NUL}"')
    before = row_counts()
    response = send_json("POST /v1/consents", body)
    _refused(response, 422)
    assert row_counts() == before


def test_utf8_encoded_surrogates_are_not_utf8(send_json, row_counts):
    raw = (
        _with_text("POST /v1/webhooks", "SURROGATE").encode().replace(b"SURROGATE", b"\xed\xa0\x80")
    )
    before = row_counts()
    response = send_json("POST /v1/webhooks", raw)
    _refused(response, 400)
    assert row_counts() == before


def test_a_webhook_url_with_a_nul_is_refused(send_json, row_counts):
    body = json.dumps({"url": "https://hooks.example.com/a__", "event_types": ["consent.changed"]})
    before = row_counts()
    response = send_json("POST /v1/webhooks", body.replace("__", NUL))
    _refused(response, 422)
    assert [e["pointer"] for e in response.json["errors"]] == ["/url"]
    assert row_counts() == before


# --- paths and query values --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/policies/demo%00/privacy-policy/1",
        "/v1/policies/demo-shop/privacy%00policy/1",
        "/v1/policies/demo-shop/privacy-policy%00/latest",
        "/problems/unknown%00",
        "/policies/demo-shop%00/privacy-policy/diff/1..2",
    ],
)
def test_a_nul_in_a_path_segment_is_not_found(client, path):
    response = client.get(path)
    _refused(response, 404)


@pytest.mark.parametrize(
    "query",
    [
        {"subject": "customer:C\x00", "purpose": "analytics"},
        {"subject": "email:ada\x00@example.com", "purpose": "analytics"},
        {"subject": "customer:C-1", "purpose": "analytics", "extra\x00": "1"},
    ],
)
def test_a_nul_in_a_query_value_is_refused(client, api_key, row_counts, query):
    headers = api_key("consent:read")
    before = row_counts()
    response = client.get("/v1/decisions", query_string=query, headers=headers)
    _refused(response, 422)
    assert row_counts() == before


def test_a_nul_in_the_banner_s_property_is_refused(client):
    response = client.get("/v1/banner", query_string={"property": "demo\x00"})
    _refused(response, 422)


# --- request bodies sent in chunks -------------------------------------------------------------


@pytest.fixture
def post_chunked(client):
    """``post_chunked(path, body, content_type, headers)``: as a server hands on a chunked
    body: no length, and the stream ends where the body does."""

    def _post(path: str, body: bytes, content_type: str = "application/json", headers=None):
        return client.post(
            path,
            input_stream=io.BytesIO(body),
            content_type=content_type,
            headers={**(headers or {}), "Transfer-Encoding": "chunked"},
            environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
        )

    return _post


def test_a_chunked_body_beyond_the_limit_is_413_not_cut(app, post_chunked, row_counts):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = json.dumps(demo_consent()).encode()
    padded = body + b" " * (limit + 10 - len(body))  # valid JSON however cut
    before = row_counts()
    _refused(post_chunked("/v1/consents", padded), 413)
    assert row_counts() == before


def test_a_chunked_body_within_the_limit_is_read_whole(post_chunked):
    response = post_chunked("/v1/consents", json.dumps(demo_consent()).encode())
    assert response.status_code == 201, response.json


def test_a_chunked_body_is_measured_against_the_view_s_own_limit(post_chunked, api_key):
    subjects = [f"customer:C-{n}" for n in range(2000)]  # ~40 KB: beyond the app's limit
    body = json.dumps({"subjects": subjects, "purposes": ["analytics"]}).encode()
    response = post_chunked("/v1/decisions", body, headers=api_key("consent:read"))
    assert response.status_code == 200, response.data[:300]


def test_a_chunked_form_beyond_the_limit_is_413(app, post_chunked, row_counts):
    body = b"email=" + b"a" * app.config["MAX_CONTENT_LENGTH"] + b"%40example.com"
    before = row_counts()
    form = "application/x-www-form-urlencoded"
    assert post_chunked("/preferences/link", body, form).status_code == 413
    assert row_counts() == before


def test_an_oversized_form_s_page_is_headed_content_too_large(app, post_chunked):
    body = b"email=" + b"a" * app.config["MAX_CONTENT_LENGTH"] + b"%40example.com"
    page = post_chunked("/preferences/link", body, "application/x-www-form-urlencoded")
    assert "Content Too Large" in page.get_data(as_text=True)
    assert "Request Entity Too Large" not in page.get_data(as_text=True)


# --- the admin's forms -------------------------------------------------------------------------


@pytest.fixture
def overrides_of(session):
    def _of(key: str = "demo-shop"):
        session.expire_all()
        prop = session.scalar(sa.select(Property).where(Property.key == key))
        return dict(prop.jurisdiction_overrides or {})

    return _of


@pytest.mark.parametrize(
    "form, error",
    [
        ({"code": "US-CA", "regime": "bogus"}, "There is no regime &#39;bogus&#39;"),
        ({"code": "FR", "consent_lifetime_days": "²"}, "whole number of days"),
        ({"code": "FR", "consent_lifetime_days": "٣"}, "whole number of days"),  # Arabic 3
        ({"code": "FR", "consent_lifetime_days": "9" * 30}, "whole number of days"),
        ({"code": "FR", "consent_lifetime_days": "9" * 5000}, "whole number of days"),
        ({"code": "FR", "consent_lifetime_days": "-3"}, "whole number of days"),
        ({"code": "FR", "consent_lifetime_days": "3 0"}, "whole number of days"),
        ({"code": "FR", "consent_lifetime_days": "999999999"}, "1 to 36,500 days"),
        ({"code": "FR", "consent_lifetime_days": "0"}, "1 to 36,500 days"),
    ],
)
def test_the_jurisdiction_form_refuses_what_it_cannot_store(
    editor, overrides_of, row_counts, form, error
):
    before, stored = row_counts(), overrides_of()
    response = editor.post("/admin/jurisdictions/?property=demo-shop", form)
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    assert error in response.text
    assert overrides_of() == stored
    assert row_counts() == before


def test_a_lifetime_beyond_a_century_is_refused_by_the_domain(session):
    from consent_service.errors import ValidationFailed
    from consent_service.properties.jurisdiction_overrides import Override
    from consent_service.properties.jurisdiction_overrides import set_override

    prop = session.scalar(sa.select(Property).where(Property.key == "demo-shop"))
    with pytest.raises(ValidationFailed, match="1 to 36,500 days"):
        set_override(session, prop, "US-TX", Override(consent_lifetime_days=10**29))


def test_the_jurisdiction_form_still_saves_a_shorter_lifetime(editor, overrides_of):
    response = editor.post(
        "/admin/jurisdictions/?property=demo-shop", {"code": "FR", "consent_lifetime_days": "30"}
    )
    assert response.status_code == 302
    assert overrides_of()["FR"] == {"consent_lifetime_days": 30}


@pytest.mark.parametrize(
    "path, form",
    [
        ("/admin/jurisdictions/?property=demo-shop", {"code": "F\x00R", "regime": "opt_in"}),
        ("/admin/jurisdictions/?property=demo\x00shop", {"code": "FR", "regime": "opt_in"}),
        ("/admin/properties/demo-shop", {"name": "Demo\x00", "allowed_origins": ""}),
        ("/admin/users/", {"email": "a\x00@example.com", "name": "A", "role": "viewer"}),
        ("/admin/sign-in", {"email": "a\x00@example.com", "password": "x"}),
    ],
)
def test_a_nul_in_an_admin_form_is_a_form_error(editor, row_counts, path, form):
    before = row_counts()
    response = editor.post(path, form)
    assert response.status_code == 422, response.status_code
    assert response.mimetype == "text/html"
    assert "NUL" in response.text
    assert row_counts() == before


def test_a_nul_in_a_policy_draft_is_a_form_error(editor, session, row_counts):
    from consent_service.models import PolicyDocument

    document = session.scalars(sa.select(PolicyDocument)).first()
    before = row_counts()
    response = editor.post(
        f"/admin/policies/{document.id}/new", {"body": "# Policy\n\nA \x00 B", "summary": "x"}
    )
    assert response.status_code == 422
    assert "NUL" in response.text
    assert row_counts() == before


# --- the preferences site ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, form",
    [
        ("/preferences/link", {"email": "a\x00@example.com", "property": "demo-shop"}),
        ("/preferences/sign-in", {"token": "a\x00b"}),
    ],
)
def test_a_nul_in_a_preferences_form_is_refused(client, row_counts, path, form):
    before = row_counts()
    response = client.post(path, data=form)
    assert response.status_code == 422, response.status_code
    assert row_counts() == before


# --- what a traceback may show -----------------------------------------------------------------


def test_a_failed_statement_never_shows_its_parameters(session):
    secret = "ada.lovelace@example.com"
    with pytest.raises(sa.exc.DBAPIError) as failed:
        session.execute(
            sa.text("SELECT no_such_column FROM properties WHERE key = :k"), {"k": secret}
        )
    session.rollback()
    assert secret not in str(failed.value)
    assert "parameters hidden" in str(failed.value)


# --- sizes the server would otherwise refuse with its own page ---------------------------------


def test_a_url_beyond_the_limit_is_a_414_problem(client):
    _refused(client.get("/v1/banner", query_string={"property": "demo-shop", "x": "a" * 5000}), 414)


def test_a_header_beyond_the_limit_is_a_431_problem(client):
    _refused(client.get("/healthz", headers={"X-Padding": "a" * 9000}), 431)


def test_the_malformed_request_type_states_the_loader_s_limits():
    from consent_service.errors import MalformedRequest
    from consent_service.web import request_body

    assert f"deeper than {request_body.MAX_DEPTH} levels" in MalformedRequest.description
    assert f"longer than {request_body.MAX_INTEGER_DIGITS} digits" in MalformedRequest.description


def test_an_integral_number_is_an_integer_as_json_schema_says(client):
    body = json.dumps(demo_consent()).replace('"policy_version": 2', '"policy_version": 2.0')
    response = client.post("/v1/consents", data=body, content_type="application/json")
    assert response.status_code == 201, response.json
    assert response.json["payload"]["policy"]["version"] == 2


def test_a_fractional_number_is_not_an_integer(client):
    body = json.dumps(demo_consent()).replace('"policy_version": 2', '"policy_version": 2.5')
    response = client.post("/v1/consents", data=body, content_type="application/json")
    _refused(response, 422)
