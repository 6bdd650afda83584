"""The OpenAPI document: valid OpenAPI 3.1, describing every route the app serves, served
cacheably, and readable as a self-contained HTML page."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator
from werkzeug.routing import Rule

from consent_service.api.openapi import openapi_document
from consent_service.errors import problem_types
from widget.serve import SERVED_AS_BUILT

# Not part of the API: Flask's static files, the demo shop's page and the admin (HTML).
UNDOCUMENTED = re.compile(r"^/(static|demo|admin|preferences)/")
_CONVERTER = re.compile(r"<(?:(\w+)(?:\((.*?)\))?:)?(\w+)>")


def _documented_paths(rule: Rule) -> list[str]:
    """The OpenAPI paths a Flask rule serves: ``<int:number>`` is ``{number}``, and an
    ``any(...)`` converter serves one concrete path per choice."""
    match = _CONVERTER.search(rule.rule)
    if match is None:
        return [rule.rule]
    converter, arguments, name = match.groups()
    head, tail = rule.rule[: match.start()], rule.rule[match.end() :]
    if converter == "any":
        choices = re.findall(r"'([^']*)'", arguments or "")
        return [p for c in choices for p in _documented_paths(Rule(head + c + tail))]
    return _documented_paths(Rule(head + "{" + name + "}" + tail))


def _routed_operations(app) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        if UNDOCUMENTED.match(rule.rule):
            continue
        methods = set(rule.methods or ()) - {"HEAD"}  # HEAD answers as GET does
        if getattr(rule, "provide_automatic_options", False):
            methods.discard("OPTIONS")  # Flask's automatic answer, not the route's own
        for path in _documented_paths(rule):
            operations.update((method.lower(), path) for method in methods)
    return operations


def _described_operations() -> set[tuple[str, str]]:
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    return {
        (method, path)
        for path, item in openapi_document()["paths"].items()
        for method in item
        if method in methods
    }


def test_the_document_is_valid_openapi_3_1():
    document = openapi_document()
    assert document["openapi"] == "3.1.0"
    errors = list(OpenAPIV31SpecValidator(document).iter_errors())
    assert not errors, errors


def test_every_route_is_described(app):
    """Fails when a route is added (or removed) without its description in openapi.py."""
    routed, described = _routed_operations(app), _described_operations()
    assert not routed - described, f"routes missing from openapi.py: {sorted(routed - described)}"
    assert not described - routed, f"described but not routed: {sorted(described - routed)}"


def test_every_v1_rule_is_a_documented_path(app):
    """The check above really sees the /v1 rules, converters and the widget's files included."""
    paths = openapi_document()["paths"]
    v1_rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/v1/")]
    assert len(v1_rules) >= 10
    for rule in v1_rules:
        assert all(path in paths for path in _documented_paths(rule)), rule.rule
    assert _documented_paths(next(r for r in v1_rules if "widget" in r.rule)) == [
        f"/v1/{name}" for name in SERVED_AS_BUILT
    ]


def test_operations_are_unique_and_tagged():
    document = openapi_document()
    tags = {tag["name"] for tag in document["tags"]}
    ids = []
    for item in document["paths"].values():
        for operation in item.values():
            ids.append(operation["operationId"])
            assert operation["tags"] and set(operation["tags"]) <= tags
            assert operation["summary"]
    assert len(ids) == len(set(ids))


def test_every_error_response_is_a_problem():
    for path, item in openapi_document()["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], (
                        method,
                        path,
                        status,
                    )
                    schema = response["content"]["application/problem+json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Problem"}
                for code in response.get("x-problem-types", []):
                    assert code in problem_types()


def test_the_problem_schema_names_field_pointers():
    problem = openapi_document()["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "instance", "request_id"}
    assert problem["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/FieldError"}


def test_integration_operations_need_a_bearer_key_with_a_scope():
    document = openapi_document()
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    secured = {
        (method, path): operation["security"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "security" in operation
    }
    assert secured[("get", "/v1/decisions")] == [{"apiKey": ["consent:read"]}]
    assert secured[("post", "/v1/subjects/link")] == [{"apiKey": ["subjects:write"]}]
    assert secured[("delete", "/v1/webhooks/{endpoint_id}")] == [{"apiKey": ["webhooks:manage"]}]
    assert ("post", "/v1/consents") not in secured
    assert ("post", "/v1/identity") not in secured
    for operation in secured:
        responses = document["paths"][operation[1]][operation[0]]["responses"]
        assert {"401", "403", "429"} <= set(responses), operation


def test_request_bodies_come_from_the_request_schemas():
    schemas = openapi_document()["components"]["schemas"]
    consent = schemas["ConsentRequest"]
    assert consent["additionalProperties"] is False
    assert consent["properties"]["decisions"]["maxProperties"] == 64
    assert consent["properties"]["decisions"]["additionalProperties"] == {"type": "boolean"}
    assert consent["properties"]["gpc"]["type"] == "boolean"
    assert schemas["BulkDecisionRequest"]["properties"]["subjects"]["maxItems"] == 10_000


def test_the_document_is_served_cacheably(client):
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == json.loads(json.dumps(openapi_document()))
    assert response.headers["Cache-Control"].startswith("public")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    again = client.get("/v1/openapi.json", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert not again.data


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.tags: list[str] = []
        self.links: list[str] = []
        self.style = ""
        self._in_style = False
        self.lang = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        self.tags.append(tag)
        if "id" in values:
            self.ids.append(values["id"])
        if tag == "a":
            self.links.append(values.get("href", ""))
        if tag == "html":
            self.lang = values.get("lang")
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.style += data


@pytest.fixture
def docs(client):
    response = client.get("/v1/docs")
    assert response.status_code == 200
    page = _Page()
    page.feed(response.get_data(as_text=True))
    return response, page


def test_the_docs_page_lists_every_operation(docs):
    response, page = docs
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for path, item in openapi_document()["paths"].items():
        for operation in item.values():
            assert operation["operationId"] in page.ids
            assert f"#{operation['operationId']}" in page.links
        assert path in html
    for code in problem_types():
        assert f"/problems/{code}" in page.links
    for name in openapi_document()["components"]["schemas"]:
        assert f"schema-{name}" in page.ids
    assert "consent:read" in html and "Bearer csk_" in html


def test_the_docs_page_is_self_contained_and_accessible(docs):
    response, page = docs
    assert "script" not in page.tags
    assert page.lang == "en"
    assert len(page.ids) == len(set(page.ids))
    for link in page.links:  # every in-page link has its target; nothing from elsewhere
        assert link.startswith(("#", "/")), link
        if link.startswith("#"):
            assert link[1:] in page.ids, link
    assert {"main", "nav", "table", "caption", "th"} <= set(page.tags)
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    digest = base64.b64encode(hashlib.sha256(page.style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy  # the one style element is allowed, nothing else


def test_the_docs_page_is_cacheable(client, docs):
    response, _ = docs
    assert response.headers["Cache-Control"].startswith("public")
    again = client.get("/v1/docs", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
