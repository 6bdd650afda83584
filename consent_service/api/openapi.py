"""``GET /v1/openapi.json`` and ``GET /v1/docs``: the API described in OpenAPI 3.1.

The document is generated with apispec from the marshmallow schemas the endpoints validate
requests with (``schemas.py``) and from the response schemas that describe what they send back
(``response_schemas.py``). Paths are declared here, in one place, rather than in the views'
docstrings; a test fails when a route is added without being described. Both the document and
the HTML page rendered from it are built once per process.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.metadata
import inspect
import json
import re
from collections.abc import Iterable
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import jinja2
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.field_converter import FieldConverterMixin
from flask import Response
from flask import request
from markupsafe import Markup
from markupsafe import escape
from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from consent_service import errors
from consent_service.api import bp
from consent_service.api import response_schemas as out
from consent_service.api import schemas as into
from consent_service.api.webhook_schemas import WebhookEndpointRequestSchema
from consent_service.integrations.api_keys import Scope
from consent_service.problems import MEDIA_TYPE as PROBLEM_MEDIA_TYPE

SPEC_URL = "/v1/openapi.json"
DOCS_URL = "/v1/docs"
JSON = "application/json"
CACHE_CONTROL = "public, max-age=3600"  # changes only with a deployment; revalidated by ETag
SLUG_PATTERN = into.SLUG.regex.pattern
BEARER = "apiKey"
WIDGET_FILES = {
    "widget.js": ("text/javascript", "The consent widget: the one script a shop's pages embed."),
    "widget.css": ("text/css", "The banner's stylesheet (the widget links it itself)."),
    "widget-preferences.js": (
        "text/javascript",
        "The preferences layer, fetched only when a visitor opens it.",
    ),
    "widget-preferences.css": ("text/css", "The preferences layer's stylesheet."),
}

TAGS: list[dict[str, str]] = [
    {"name": "Widget", "description": "What shops' pages load and call: no credentials."},
    {"name": "Consents", "description": "Recording a visitor's choice as a signed receipt."},
    {"name": "Policies", "description": "Published policy versions, byte for byte."},
    {
        "name": "Decisions",
        "description": "Integration: may the shop process a person's data for a purpose?",
    },
    {"name": "Identities", "description": "Linking browsers to known customers."},
    {"name": "Webhooks", "description": "Integration: where consent events are delivered."},
    {"name": "Email", "description": "Links in the policy-change notices customers receive."},
    {"name": "Verification", "description": "Keys and documentation anyone may fetch."},
    {"name": "Operations", "description": "Probes for load balancers and orchestrators."},
    {"name": "API description", "description": "This document, and the page rendered from it."},
]

INTRO = """\
Region-aware consent and cookie management: the widget shows the banner a visitor's region \
calls for, every choice becomes a signed consent receipt, and shops' backends ask what a person \
allowed.

Public endpoints (the widget's) need no credentials. Integration endpoints need an API key \
sent as `Authorization: Bearer csk_...`; each key belongs to one property and carries scopes \
(`consent:read`, `consent:write`, `subjects:write`, `webhooks:manage`) and a rate limit.

Every error is an RFC 9457 problem (`application/problem+json`) whose `type` links to its \
documentation under `/problems/`; validation problems list each bad field in `errors[]` with a \
JSON Pointer. Every response carries an `X-Request-ID` header."""


# -- the document ------------------------------------------------------------------------------


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (built once per process; do not mutate)."""
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="consent-service",
        version=_version(),
        openapi_version="3.1.0",
        plugins=[plugin],
        info={
            "description": INTRO,
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        servers=[{"url": "/", "description": "This service"}],
        tags=TAGS,
    )
    plugin.map_to_openapi_type(into.StrictBoolean, "boolean", None)  # type: ignore[no-untyped-call]
    assert plugin.converter is not None
    plugin.converter.add_attribute_function(_dict_constraints)  # type: ignore[no-untyped-call]
    plugin.converter.add_attribute_function(_string_list)  # type: ignore[no-untyped-call]
    _components(spec)
    for path, operations in _paths().items():
        spec.path(path=path, operations=operations)
    document = spec.to_dict()
    for item in document["paths"].values():
        for operation in item.values():
            for param in operation.get("parameters", []):
                if (
                    param["in"] == "query"
                    and param["name"] in QUERY_NOTES
                    and "example" not in param
                ):
                    param["description"], param["example"] = QUERY_NOTES[param["name"]]
    return document


@functools.cache
def _served_document() -> tuple[bytes, str]:
    body = json.dumps(openapi_document(), indent=1, sort_keys=False).encode()
    return body, hashlib.sha256(body).hexdigest()[:32]


def _version() -> str:
    try:
        return importlib.metadata.version("consent-service")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout
        return "0.0.0"


def _dict_constraints(
    self: FieldConverterMixin, field: fields.Field[Any], ret: dict[str, Any], **_: Any
) -> dict[str, Any]:
    """A Dict's Length validator bounds its member count, and its key field's pattern names
    its keys: ``minProperties``/``maxProperties``/``propertyNames``, not string lengths."""
    if not isinstance(field, fields.Dict):
        return {}
    ret.pop("minLength", None)
    ret.pop("maxLength", None)
    for validator in field.validators:
        if isinstance(validator, validate.Length):
            if validator.min is not None:
                ret["minProperties"] = validator.min
            if validator.max is not None:
                ret["maxProperties"] = validator.max
    key_field = field.key_field
    if key_field is not None:
        for validator in key_field.validators:
            if isinstance(validator, validate.Regexp):
                ret["propertyNames"] = {"pattern": validator.regex.pattern}
            elif isinstance(validator, validate.OneOf):
                ret["propertyNames"] = {"enum": list(validator.choices)}
    return {}


def _string_list(
    self: FieldConverterMixin, field: fields.Field[Any], ret: dict[str, Any], **_: Any
) -> dict[str, Any]:
    """``schemas.StringList`` checks a whole array of strings in one pass."""
    if not isinstance(field, into.StringList):
        return {}
    return {
        "type": "array",
        "minItems": field.min_items,
        "maxItems": field.max_items,
        "items": {"type": "string", "minLength": 1, "maxLength": field.max_length},
    }


def _components(spec: APISpec) -> None:
    schemas: list[tuple[str, type[Schema]]] = [
        ("Problem", out.ProblemSchema),
        ("ConsentRequest", into.ConsentRequestSchema),
        ("ConsentReceipt", out.ConsentReceiptSchema),
        ("Banner", out.BannerSchema),
        ("BulkDecisionRequest", into.BulkDecisionRequestSchema),
        ("Decision", out.DecisionSchema),
        ("BulkDecisions", out.BulkDecisionsSchema),
        ("SubjectLinkRequest", into.SubjectLinkRequestSchema),
        ("SubjectLink", out.SubjectLinkSchema),
        ("SubjectConsentRequest", into.SubjectConsentRequestSchema),
        ("IdentifyRequest", into.IdentifyRequestSchema),
        ("PreferencesLinkRequest", into.PreferencesLinkRequestSchema),
        ("WebhookEndpointRequest", WebhookEndpointRequestSchema),
        ("WebhookList", out.WebhookListSchema),
        ("CreatedWebhookEndpoint", out.CreatedWebhookEndpointSchema),
        ("Jwks", out.JwksSchema),
        ("ProblemType", out.ProblemTypeSchema),
        ("Health", out.HealthSchema),
        ("Ready", out.ReadySchema),
    ]
    for name, schema in schemas:
        description = inspect.cleandoc(schema.__doc__) if schema.__doc__ else None
        component = {"description": description} if description else None
        spec.components.schema(name, component, schema=schema)
    for name, raw in RAW_SCHEMAS.items():
        spec.components.schema(name, raw)
    spec.components.security_scheme(
        BEARER,
        {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "csk_<public id>_<secret>",
            "description": "An integration API key, created with `consent-service keys create`"
            " for one property and shown once. The scopes each operation needs are listed "
            "with it; a missing or revoked key is a 401, a missing scope a 403.",
        },
    )
    for name, header in HEADERS.items():
        spec.components.header(name, header)


def _string(description: str, **schema: Any) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string", **schema}}


def _integer(description: str, **schema: Any) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "integer", **schema}}


HEADERS: dict[str, dict[str, Any]] = {
    "ETag": _string("The representation's entity tag; send it back in `If-None-Match`."),
    "CacheControl": _string("How long caches may keep the response."),
    "Vary": _string("The request headers the response depends on."),
    "AllowOrigin": _string("CORS: the origin (or `*`) allowed to read the response."),
    "Location": _string("Where the resource is.", format="uri-reference"),
    "RateLimitLimit": _integer("Requests this API key may make in the current window."),
    "RateLimitRemaining": _integer("Requests left in the current window."),
    "RateLimitReset": _integer("When the window resets, in seconds since the Unix epoch."),
    "RetryAfter": _integer("Seconds to wait before trying again."),
    "WwwAuthenticate": _string("The authentication scheme: `Bearer`."),
}


def _header(name: str, *, required: bool = False) -> dict[str, Any]:
    ref = {"$ref": f"#/components/headers/{name}"}
    # A $ref carries no siblings in a Header Object, so a required header is spelled out.
    return {**HEADERS[name], "required": True} if required else ref


RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": _header("RateLimitLimit"),
    "X-RateLimit-Remaining": _header("RateLimitRemaining"),
    "X-RateLimit-Reset": _header("RateLimitReset"),
}
# Every integration answer: never cached, and the caller's rate-limit budget.
INTEGRATION_HEADERS = {
    "Cache-Control": _header("CacheControl", required=True),
    **RATE_LIMIT_HEADERS,
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(
    description: str,
    schema: Mapping[str, Any] | None = None,
    *,
    media_type: str = JSON,
    headers: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    if schema is not None:
        response["content"] = {media_type: {"schema": dict(schema)}}
    if headers:
        response["headers"] = dict(headers)
    return response


# Plain HTTP errors carry ``type: about:blank``; these describe when each happens.
_PLAIN: dict[int, str] = {
    404: "No route matches the path.",
    413: "The body is larger than the service accepts.",
    415: "The body is not sent as `application/json`.",
    429: "The API key has used up its rate limit; wait `Retry-After` seconds.",
    503: "The service is not ready.",
}

ProblemKind = type[errors.ConsentServiceError] | int


def _problems(*kinds: ProblemKind) -> dict[str, dict[str, Any]]:
    """4xx/5xx responses: domain errors (each with its class's ``status``) and plain
    HTTP errors by status, each an ``application/problem+json`` Problem."""
    by_status: dict[int, list[ProblemKind]] = {}
    for kind in kinds:
        status = kind if isinstance(kind, int) else int(kind.status)
        by_status.setdefault(status, []).append(kind)
    responses: dict[str, dict[str, Any]] = {}
    for status in sorted(by_status):
        lines: list[str] = []
        codes: list[str] = []
        for kind in by_status[status]:
            if isinstance(kind, int):
                lines.append(f"`about:blank`: {_PLAIN[kind]}")
            else:
                codes.append(kind.code)
                lines.append(f"`{kind.code}`: {kind.description}")
        response = _ok(
            HTTPStatus(status).phrase + ". " + " ".join(lines),
            _ref("Problem"),
            media_type=PROBLEM_MEDIA_TYPE,
        )
        if codes:
            response["x-problem-types"] = codes
        if status == HTTPStatus.UNAUTHORIZED:
            response["headers"] = {"WWW-Authenticate": _header("WwwAuthenticate", required=True)}
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            response["headers"] = {"Retry-After": _header("RetryAfter"), **RATE_LIMIT_HEADERS}
        responses[str(status)] = response
    return responses


def _integration(scope: Scope) -> dict[str, Any]:
    """The bearer key an integration operation needs, with its scope (OpenAPI 3.1 lets a
    non-OAuth requirement list the roles it needs)."""
    return {"security": [{BEARER: [scope.value]}]}


INTEGRATION_PROBLEMS: tuple[ProblemKind, ...] = (
    errors.InvalidCredentials,
    errors.InsufficientScope,
    429,
)
JSON_BODY_PROBLEMS: tuple[ProblemKind, ...] = (
    errors.MalformedRequest,
    errors.ValidationFailed,
    413,
    415,
)


VISITOR = "2b20eaf3-120b-4ce7-8267-637543b6577d"
# Examples name the demo shop (``consent-service demo load``), so they work as they stand.
EXAMPLES: dict[str, dict[str, Any]] = {
    "ConsentRequest": {
        "property": "demo-shop",
        "visitor_id": VISITOR,
        "policy_version": 2,
        "method": "custom",
        "decisions": {
            "preferences": True,
            "analytics": True,
            "marketing": False,
            "advertising": False,
        },
        "gpc": False,
    },
    "BulkDecisionRequest": {
        "subjects": [f"visitor:{VISITOR}", "customer:C-10293", "email:ada@example.com"],
        "purposes": ["analytics", "marketing"],
    },
    "SubjectLinkRequest": {
        "visitor_id": VISITOR,
        "customer": "C-10293",
        "email": "ada@example.com",
    },
    "SubjectConsentRequest": {
        "subject": "customer:C-10293",
        "policy_version": 2,
        "method": "accept_all",
        "region": "DE",
    },
    "IdentifyRequest": {
        "property": "demo-shop",
        "visitor_id": VISITOR,
        "identity_token": "eyJjIjoiQy0xMDI5MyJ9.ZxY0kQ.signature-from-the-shop-backend",
    },
    "PreferencesLinkRequest": {"property": "demo-shop", "visitor_id": VISITOR},
    "WebhookEndpointRequest": {
        "url": "https://shop.northwind.example/hooks/consent",
        "event_types": ["consent.changed", "subject.erased"],
        "description": "CRM sync",
    },
}
# Parameters apispec derives from a query schema get their words and examples here.
QUERY_NOTES: dict[str, tuple[str, str]] = {
    "subject": (
        "Who: `visitor:<uuid>`, `customer:<ref>` or `subject:<uuid>` (not `email:`).",
        f"visitor:{VISITOR}",
    ),
    "purpose": ("The purpose's key, as the banner lists it.", "analytics"),
}


def _json_body(name: str, description: str) -> dict[str, Any]:
    media = {"schema": _ref(name), "example": EXAMPLES[name]}
    return {"required": True, "description": description, "content": {JSON: media}}


def _param(
    where: str, name: str, description: str, example: object, required: bool, **schema: Any
) -> dict[str, Any]:
    param = {
        "in": where,
        "name": name,
        "required": required,
        "description": description,
        "schema": {"type": "string", **schema},
    }
    if example is not None:
        param["example"] = example
    return param


def _path_param(name: str, description: str, example: str) -> dict[str, Any]:
    return _param("path", name, description, example, True, pattern=SLUG_PATTERN)


def _query(
    name: str, description: str, example: str, *, required: bool = False, **schema: Any
) -> dict[str, Any]:
    return _param("query", name, description, example, required, **schema)


def _header_param(
    name: str, description: str, example: str | None = None, *, required: bool = False
) -> dict[str, Any]:
    return _param("header", name, description, example, required)


IF_NONE_MATCH = _header_param("If-None-Match", "An ETag seen before: unchanged, a 304 answers.")
SHOP_ORIGIN = "https://shop.northwind.example"
ORIGIN = _header_param(
    "Origin",
    "The shop's page. A browser sends it; when it is not one of the property's allowed "
    "origins, nothing is recorded (403 `origin-not-allowed`).",
    SHOP_ORIGIN,
)
NOT_MODIFIED = _ok(
    "Not modified: the `If-None-Match` ETag is current.", headers={"ETag": _header("ETag")}
)


def _preflight(what: str) -> dict[str, Any]:
    return {
        "tags": ["Widget"],
        "summary": f"CORS preflight for {what}",
        "description": "Answered for an `Origin` that some property lists as allowed.",
        "parameters": [
            _header_param("Origin", "The page asking.", SHOP_ORIGIN, required=True),
            _header_param("Access-Control-Request-Method", "The method it wants: `POST`.", "POST"),
        ],
        "responses": {
            "204": _ok(
                "The origin may post.",
                headers={
                    "Access-Control-Allow-Origin": _header("AllowOrigin", required=True),
                    "Access-Control-Allow-Methods": _string("`POST`.") | {"required": True},
                    "Access-Control-Allow-Headers": _string("`Content-Type`."),
                    "Access-Control-Max-Age": _integer("Seconds the browser may remember it."),
                },
            ),
            **_problems(errors.OriginNotAllowed),
        },
    }


def _paths() -> dict[str, dict[str, Any]]:
    return {
        "/v1/banner": {
            "get": {
                "operationId": "getBanner",
                "tags": ["Widget"],
                "summary": "The consent banner for the visitor's region and language",
                "description": "The region comes from a trusted CDN header or GeoIP; the "
                "jurisdiction it falls under decides the regime (opt-in, opt-out, notice), "
                "what is pre-ticked and which links the law requires. Cacheable: `Vary` names "
                "what it depends on; `Cache-Control` is `private` when it depends on the "
                "client's address.",
                "parameters": [
                    _query(
                        "property",
                        "The property (shop), as in the widget tag's `data-property`.",
                        "demo-shop",
                        required=True,
                        pattern=SLUG_PATTERN,
                    ),
                    _query(
                        "locale",
                        "A language the visitor chose (BCP 47); else `Accept-Language` decides.",
                        "de",
                    ),
                    _query(
                        "region",
                        "Outside production only (development, previews): pretend the visitor "
                        "is in this region, e.g. `FR` or `US-CA`. Ignored in production.",
                        "FR",
                    ),
                    _header_param(
                        "Accept-Language", "The browser's languages.", "fr-CH, fr;q=0.9, en;q=0.5"
                    ),
                    IF_NONE_MATCH,
                ],
                "responses": {
                    "200": _ok(
                        "The banner configuration.",
                        _ref("Banner"),
                        headers={
                            "ETag": _header("ETag", required=True),
                            "Cache-Control": _header("CacheControl", required=True),
                            "Vary": _header("Vary", required=True),
                            "Access-Control-Allow-Origin": _header("AllowOrigin", required=True),
                            "X-Consent-Jurisdiction": _string(
                                "The jurisdiction whose rules the banner follows."
                            )
                            | {"required": True},
                            "X-Consent-Region": _string(
                                "The visitor's region as resolved, or `unknown`."
                            )
                            | {"required": True},
                        },
                    ),
                    "304": NOT_MODIFIED,
                    **_problems(errors.ValidationFailed, errors.UnknownProperty),
                },
            }
        },
        "/v1/consents": {
            "post": {
                "operationId": "recordConsent",
                "tags": ["Consents"],
                "summary": "Record a visitor's choice and get its signed receipt",
                "description": "Called by the widget from the shop's page. The receipt is a "
                "JWS anyone can verify with the published keys; it names the exact policy "
                "version the visitor saw and chains to the subject's previous receipt. The "
                "widget also honours the `Sec-GPC: 1` header.",
                "parameters": [
                    ORIGIN,
                    _header_param("Sec-GPC", "`1`: the browser sends Global Privacy Control.", "1"),
                ],
                "requestBody": _json_body(
                    "ConsentRequest",
                    "The choice: `decisions` maps purpose keys to true/false; `custom` needs "
                    "one for every non-essential purpose, blanket methods need none.",
                ),
                "responses": {
                    "201": _ok(
                        "Recorded.",
                        _ref("ConsentReceipt"),
                        headers={
                            "Cache-Control": _header("CacheControl", required=True),
                            "Access-Control-Allow-Origin": _header("AllowOrigin"),
                        },
                    ),
                    **_problems(
                        *JSON_BODY_PROBLEMS,
                        errors.UnknownPurpose,
                        errors.OriginNotAllowed,
                        errors.UnknownProperty,
                        errors.UnknownPolicy,
                        errors.PolicyVersionNotCurrent,
                        errors.ConcurrentConsentWrite,
                    ),
                },
            },
            "options": {"operationId": "preflightConsent", **_preflight("posting consents")},
        },
        "/v1/policies/{property_key}/{document_key}/{number}": {
            "get": {
                "operationId": "getPolicyVersion",
                "tags": ["Policies"],
                "summary": "A published policy version, byte-exact",
                "description": "Receipts carry the SHA-256 of exactly these bytes (also sent "
                "as `Repr-Digest`). A published version never changes, so it is cached for "
                "good.",
                "parameters": [
                    _path_param("property_key", "The property.", "demo-shop"),
                    _path_param(
                        "document_key", "The document, e.g. `privacy-policy`.", "privacy-policy"
                    ),
                    {
                        "in": "path",
                        "name": "number",
                        "required": True,
                        "description": "The version number.",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                        "example": 2,
                    },
                    IF_NONE_MATCH,
                ],
                "responses": {
                    "200": _ok(
                        "The policy text (Markdown).",
                        {"type": "string"},
                        media_type="text/markdown",
                        headers={
                            "ETag": _header("ETag", required=True),
                            "Cache-Control": _header("CacheControl", required=True),
                            "Access-Control-Allow-Origin": _header("AllowOrigin", required=True),
                            "Repr-Digest": _string(
                                "RFC 9530 digest: `sha-256=:<base64>:`, the receipts' hash."
                            )
                            | {"required": True},
                            "X-Policy-Version": _integer("The version number.")
                            | {"required": True},
                        },
                    ),
                    "304": NOT_MODIFIED,
                    **_problems(errors.UnknownPolicy, 404),
                },
            }
        },
        "/v1/policies/{property_key}/{document_key}/latest": {
            "get": {
                "operationId": "getLatestPolicyVersion",
                "tags": ["Policies"],
                "summary": "Redirect to the version in effect",
                "parameters": [
                    _path_param("property_key", "The property.", "demo-shop"),
                    _path_param(
                        "document_key", "The document, e.g. `privacy-policy`.", "privacy-policy"
                    ),
                ],
                "responses": {
                    "302": _ok(
                        "The version in effect now (`no-cache`: this moves on publication).",
                        headers={
                            "Location": _header("Location", required=True),
                            "Cache-Control": _header("CacheControl", required=True),
                        },
                    ),
                    **_problems(errors.UnknownPolicy),
                },
            }
        },
        "/v1/decisions": {
            "get": {
                "operationId": "getDecision",
                "tags": ["Decisions"],
                "summary": "May the shop process this subject's data for this purpose?",
                "description": "One subject, one purpose. `subject` is `visitor:<uuid>`, "
                "`customer:<ref>` or `subject:<uuid>`; email subjects must use `POST` (no "
                "email addresses in URLs). Every answer is logged. Fails closed: "
                "`reason: error` is never `allowed`.",
                **_integration(Scope.CONSENT_READ),
                "parameters": [{"in": "query", "schema": into.DecisionQuerySchema}],
                "responses": {
                    "200": _ok(
                        "The decision.",
                        _ref("Decision"),
                        headers=INTEGRATION_HEADERS,
                    ),
                    **_problems(
                        *INTEGRATION_PROBLEMS,
                        errors.SubjectNotAccessible,
                        errors.ValidationFailed,
                        errors.UnknownPurpose,
                    ),
                },
            },
            "post": {
                "operationId": "getDecisions",
                "tags": ["Decisions"],
                "summary": "Decisions for many subjects and purposes at once",
                "description": "Every subject x every purpose, at most 10,000 pairs; "
                "subjects may be `email:<address>` too. Answers come in request order "
                "(subjects, then purposes).",
                **_integration(Scope.CONSENT_READ),
                "requestBody": _json_body("BulkDecisionRequest", "Subjects and purposes."),
                "responses": {
                    "200": _ok(
                        "One decision per pair.",
                        _ref("BulkDecisions"),
                        headers=INTEGRATION_HEADERS,
                    ),
                    **_problems(
                        *INTEGRATION_PROBLEMS,
                        *JSON_BODY_PROBLEMS,
                        errors.SubjectNotAccessible,
                        errors.UnknownPurpose,
                    ),
                },
            },
        },
        "/v1/subjects/link": {
            "post": {
                "operationId": "linkSubject",
                "tags": ["Identities"],
                "summary": "Say who a visitor (or customer) is",
                "description": "From the shop's backend: link a browser (`visitor_id`) to a "
                "customer reference and/or email, or link a reference and an email. At least "
                "`customer` or `email` is required. Customers are never merged implicitly: a "
                "contradicting link is a 409 and changes nothing.",
                **_integration(Scope.SUBJECTS_WRITE),
                "requestBody": _json_body("SubjectLinkRequest", "Who the person is."),
                "responses": {
                    "200": _ok(
                        "Linked.",
                        _ref("SubjectLink"),
                        headers=RATE_LIMIT_HEADERS,
                    ),
                    **_problems(
                        *INTEGRATION_PROBLEMS, *JSON_BODY_PROBLEMS, errors.IdentityConflict
                    ),
                },
            }
        },
        "/v1/subjects/consents": {
            "post": {
                "operationId": "recordSubjectConsent",
                "tags": ["Consents"],
                "summary": "Record consent on a person's behalf (shop backend)",
                "description": "A checkbox at checkout, a phone call, a paper form: the "
                "receipt is like the widget's, with `source` `api:<key id>`, chained under "
                "the customer's account subject (created on first use for `customer:` and "
                "`email:` subjects), so their most recent choice anywhere wins. `region` "
                "(e.g. the billing country) chooses the law; without it the strictest "
                "applies.",
                **_integration(Scope.CONSENT_WRITE),
                "requestBody": _json_body("SubjectConsentRequest", "The person and the choice."),
                "responses": {
                    "201": _ok(
                        "Recorded.",
                        _ref("ConsentReceipt"),
                        headers=INTEGRATION_HEADERS,
                    ),
                    **_problems(
                        *INTEGRATION_PROBLEMS,
                        *JSON_BODY_PROBLEMS,
                        errors.SubjectNotAccessible,
                        errors.UnknownPurpose,
                        errors.UnknownPolicy,
                        errors.PolicyVersionNotCurrent,
                        errors.ConcurrentConsentWrite,
                        errors.IdentityConflict,
                    ),
                },
            }
        },
        "/v1/identity": {
            "post": {
                "operationId": "identifyVisitor",
                "tags": ["Identities"],
                "summary": "Link the browser to a customer with a token the shop signed",
                "description": "Called by the widget with an identity token the shop's "
                "backend signed with one of the property's identity secrets; the browser "
                "cannot forge one. Nothing is linked unless the token verifies.",
                "parameters": [ORIGIN],
                "requestBody": _json_body("IdentifyRequest", "The token and the visitor."),
                "responses": {
                    "204": _ok(
                        "Linked.",
                        headers={
                            "Cache-Control": _header("CacheControl", required=True),
                            "Access-Control-Allow-Origin": _header("AllowOrigin"),
                        },
                    ),
                    **_problems(
                        *JSON_BODY_PROBLEMS,
                        errors.InvalidIdentityToken,
                        errors.OriginNotAllowed,
                        errors.UnknownProperty,
                        errors.IdentityConflict,
                    ),
                },
            },
            "options": {"operationId": "preflightIdentity", **_preflight("identifying visitors")},
        },
        **_visitor_paths(),
        "/v1/webhooks": {
            "get": {
                "operationId": "listWebhooks",
                "tags": ["Webhooks"],
                "summary": "The property's webhook endpoints, disabled ones included",
                "description": "With each endpoint's messages counted by delivery status. "
                "Signing secrets are never listed.",
                **_integration(Scope.WEBHOOKS_MANAGE),
                "responses": {
                    "200": _ok("The endpoints.", _ref("WebhookList"), headers=RATE_LIMIT_HEADERS),
                    **_problems(*INTEGRATION_PROBLEMS),
                },
            },
            "post": {
                "operationId": "createWebhook",
                "tags": ["Webhooks"],
                "summary": "Register a webhook endpoint",
                "description": "Events are signed the Standard Webhooks way with the secret "
                "in this answer, which is shown only here. The URL must be `https` on a "
                "public host.",
                **_integration(Scope.WEBHOOKS_MANAGE),
                "requestBody": _json_body("WebhookEndpointRequest", "The endpoint."),
                "responses": {
                    "201": _ok(
                        "Registered.",
                        _ref("CreatedWebhookEndpoint"),
                        headers=INTEGRATION_HEADERS,
                    ),
                    **_problems(*INTEGRATION_PROBLEMS, *JSON_BODY_PROBLEMS),
                },
            },
        },
        "/v1/webhooks/{endpoint_id}": {
            "delete": {
                "operationId": "deleteWebhook",
                "tags": ["Webhooks"],
                "summary": "Stop sending to a webhook endpoint",
                "description": "Soft: the endpoint and its messages stay on record, "
                "disabled; its pending messages become dead. Deleting twice is harmless.",
                **_integration(Scope.WEBHOOKS_MANAGE),
                "parameters": [
                    {
                        "in": "path",
                        "name": "endpoint_id",
                        "required": True,
                        "description": "The endpoint's `id`.",
                        "schema": {"type": "string", "format": "uuid"},
                    }
                ],
                "responses": {
                    "204": _ok("Disabled.", headers=RATE_LIMIT_HEADERS),
                    **_problems(*INTEGRATION_PROBLEMS, errors.UnknownWebhookEndpoint, 404),
                },
            }
        },
        **_email_paths(),
        **_widget_paths(),
        "/.well-known/jwks.json": {
            "get": {
                "operationId": "getJwks",
                "tags": ["Verification"],
                "summary": "The public keys receipts are signed with",
                "description": "A JWK Set (RFC 7517) of Ed25519 keys; retired keys stay "
                "published so old receipts keep verifying.",
                "responses": {
                    "200": _ok(
                        "The keys.",
                        _ref("Jwks"),
                        headers={"Cache-Control": _header("CacheControl", required=True)},
                    )
                },
            }
        },
        "/problems/{code}": {
            "get": {
                "operationId": "getProblemType",
                "tags": ["Verification"],
                "summary": "What a problem type means and what to do about it",
                "parameters": [
                    {
                        "in": "path",
                        "name": "code",
                        "required": True,
                        "description": "The last segment of a problem's `type` URL.",
                        "schema": {"type": "string", "enum": list(errors.problem_types())},
                    }
                ],
                "responses": {
                    "200": _ok(
                        "The problem type.",
                        _ref("ProblemType"),
                        headers={"Cache-Control": _header("CacheControl", required=True)},
                    ),
                    **_problems(404),
                },
            }
        },
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "tags": ["Operations"],
                "summary": "Liveness: the process answers",
                "responses": {"200": _ok("Alive.", _ref("Health"))},
            }
        },
        "/readyz": {
            "get": {
                "operationId": "readyz",
                "tags": ["Operations"],
                "summary": "Readiness: the database answers and has the schema",
                "responses": {"200": _ok("Ready.", _ref("Ready")), **_problems(503)},
            }
        },
        SPEC_URL: {
            "get": {
                "operationId": "getOpenApi",
                "tags": ["API description"],
                "summary": "This OpenAPI 3.1 document",
                "parameters": [IF_NONE_MATCH],
                "responses": {
                    "200": _ok(
                        "The document.",
                        {"type": "object"},
                        headers={
                            "ETag": _header("ETag", required=True),
                            "Cache-Control": _header("CacheControl", required=True),
                            "Access-Control-Allow-Origin": _header("AllowOrigin", required=True),
                        },
                    ),
                    "304": NOT_MODIFIED,
                },
            }
        },
        "/policies/{property_key}/{document_key}/diff/{old}..{new}": {
            "get": {
                "operationId": "getPolicyDiffPage",
                "tags": ["Policies"],
                "summary": "What changed between two published versions, as a page for people",
                "description": "The page every policy-change notice links to: both versions side "
                "by side, changed words marked, the change summary in the reader's language "
                "(`Accept-Language` or `?lang=`). No scripts; both versions are immutable, so "
                "the page is cacheable.",
                "parameters": [
                    _path_param("property_key", "The property.", "demo-shop"),
                    _path_param(
                        "document_key", "The document, e.g. `privacy-policy`.", "privacy-policy"
                    ),
                    {
                        "in": "path",
                        "name": "old",
                        "required": True,
                        "description": "The version compared from.",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                        "example": 1,
                    },
                    {
                        "in": "path",
                        "name": "new",
                        "required": True,
                        "description": "The version compared to.",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                        "example": 2,
                    },
                    _query("lang", "Language of the change summary, e.g. `de`.", "de"),
                ],
                "responses": {
                    "200": _ok(
                        "An HTML page (no scripts).",
                        {"type": "string"},
                        media_type="text/html",
                        headers={"Cache-Control": _header("CacheControl", required=True)},
                    ),
                    **_problems(
                        errors.UnknownProperty, errors.UnknownPolicy, errors.ValidationFailed
                    ),
                },
            }
        },
        DOCS_URL: {
            "get": {
                "operationId": "getApiDocs",
                "tags": ["API description"],
                "summary": "This document as a readable page",
                "parameters": [IF_NONE_MATCH],
                "responses": {
                    "200": _ok(
                        "An HTML page (no scripts).",
                        {"type": "string"},
                        media_type="text/html",
                        headers={
                            "ETag": _header("ETag", required=True),
                            "Cache-Control": _header("CacheControl", required=True),
                        },
                    ),
                    "304": NOT_MODIFIED,
                },
            }
        },
    }


def _email_paths() -> dict[str, dict[str, Any]]:
    token = _query(
        "token",
        "The opaque signed token from the email's `List-Unsubscribe` header: it names the "
        "customer and the list.",
        "eyJpIjoiMGY4ZC4uLiIsImwiOiJwb2xpY3ktbm90aWNlcyJ9.c2lnbmF0dXJl",
        required=True,
    )
    page = _ok(
        "A small HTML page (no scripts).",
        {"type": "string"},
        media_type="text/html",
        headers={"Cache-Control": _header("CacheControl", required=True)},
    )
    one_click = {
        "type": "object",
        "properties": {"List-Unsubscribe": {"type": "string", "const": "One-Click"}},
    }
    return {
        "/v1/email/unsubscribe": {
            "get": {
                "operationId": "getUnsubscribePage",
                "tags": ["Email"],
                "summary": "Confirm unsubscribing from policy notices",
                "description": "Shows a button that POSTs to the same URL. Changes nothing: "
                "mail scanners prefetch links (RFC 8058 §4).",
                "parameters": [token],
                "responses": {"200": page, **_problems(errors.InvalidUnsubscribeLink)},
            },
            "post": {
                "operationId": "unsubscribeOneClick",
                "tags": ["Email"],
                "summary": "One-click unsubscribe from policy notices (RFC 8058)",
                "description": "What mail clients send for `List-Unsubscribe-Post: "
                "List-Unsubscribe=One-Click`: no cookies, no credentials; the signed token is "
                "the only proof. Idempotent; answers 200, never a redirect.",
                "parameters": [token],
                "requestBody": {
                    "required": False,
                    "description": "`List-Unsubscribe=One-Click`.",
                    "content": {
                        "application/x-www-form-urlencoded": {"schema": one_click},
                        "multipart/form-data": {"schema": one_click},
                    },
                },
                "responses": {"200": page, **_problems(errors.InvalidUnsubscribeLink, 413)},
            },
        }
    }


# Written as JSON Schema (not marshmallow): the members after ``status`` come exactly when it
# is ``recorded``, which only a conditional can say.
RAW_SCHEMAS: dict[str, dict[str, Any]] = {
    "VisitorChoice": {
        "description": "What the service holds as the visitor's current choice: the latest "
        "receipt of the visitor or, once the browser is linked to a customer, of the "
        "customer on any of their browsers or their account. `none`: nothing recorded (or an "
        "unknown visitor); `erased`: the person asked to be erased, so the widget forgets "
        "this visitor id.",
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["recorded", "none", "erased"]},
            "receipt_id": {
                "type": "string",
                "format": "uuid",
                "description": "Only when `recorded`: the latest receipt.",
            },
            "issued_at": {
                "type": "string",
                "format": "date-time",
                "description": "Only when `recorded`: when it was issued (UTC, milliseconds).",
            },
            "policy_version": {
                "type": "integer",
                "minimum": 1,
                "description": "Only when `recorded`: the policy version it cites.",
            },
            "decisions": {
                "type": "object",
                "additionalProperties": {"type": "string", "enum": ["granted", "denied"]},
                "description": "Only when `recorded`: every purpose the property offered then.",
            },
        },
        "required": ["status"],
        "additionalProperties": False,
        "if": {"properties": {"status": {"const": "recorded"}}},
        "then": {"required": ["receipt_id", "issued_at", "policy_version", "decisions"]},
        "else": {"maxProperties": 1},
    },
    "PreferencesLink": {
        "description": "A sign-in link to the self-service preferences page for this visitor.",
        "type": "object",
        "properties": {
            "url": {
                "type": "string",
                "format": "uri",
                "description": "Open it in the visitor's browser within `expires_in` seconds: it "
                "signs that browser in to the preferences page.",
            },
            "expires_in": {
                "type": "integer",
                "minimum": 1,
                "description": "Seconds the link stays valid.",
            },
        },
        "required": ["url", "expires_in"],
        "additionalProperties": False,
    },
}


def _visitor_paths() -> dict[str, dict[str, Any]]:
    origin = _header_param(
        "Origin",
        "The shop's page. A browser sends it; when it is not one of the property's allowed "
        "origins, the answer is 403 `origin-not-allowed`.",
        SHOP_ORIGIN,
    )
    no_store = {
        "Cache-Control": _header("CacheControl", required=True),
        "Access-Control-Allow-Origin": _header("AllowOrigin"),
    }
    return {
        "/v1/visitors/{visitor_id}/choice": {
            "get": {
                "operationId": "getVisitorChoice",
                "tags": ["Widget"],
                "summary": "What the service holds as the visitor's current choice",
                "description": "The widget asks on each page where its cookie holds a choice, "
                "so that a withdrawal on the preferences page or a consent the shop's backend "
                "recorded for the customer reaches the shop's pages: a different `receipt_id` "
                "replaces the cookie's choice, `erased` deletes it. The random visitor id is "
                "the only proof, as for recording consent. Never cached.",
                "parameters": [
                    {
                        "in": "path",
                        "name": "visitor_id",
                        "required": True,
                        "description": "The visitor id from the widget's cookie.",
                        "schema": {"type": "string", "format": "uuid"},
                        "example": VISITOR,
                    },
                    _query(
                        "property",
                        "The property (shop), as in the widget tag's `data-property`.",
                        "demo-shop",
                        required=True,
                        pattern=SLUG_PATTERN,
                    ),
                    origin,
                ],
                "responses": {
                    "200": _ok("The current choice.", _ref("VisitorChoice"), headers=no_store),
                    **_problems(
                        errors.ValidationFailed,
                        errors.OriginNotAllowed,
                        errors.UnknownProperty,
                        404,
                    ),
                },
            }
        },
        "/v1/preferences/link": {
            "post": {
                "operationId": "createPreferencesLink",
                "tags": ["Widget"],
                "summary": "A sign-in link to the self-service preferences page",
                "description": "Called by the widget's preferences layer for a visitor with "
                "a stored choice: the link opens the service's preferences page signed in as "
                "that browser, where every choice, its receipts and the person's data can be "
                "seen and changed. Valid for `expires_in` seconds; a fresh one is made on "
                "each call, nothing is stored.",
                "parameters": [origin],
                "requestBody": _json_body("PreferencesLinkRequest", "The visitor."),
                "responses": {
                    "200": _ok("The link.", _ref("PreferencesLink"), headers=no_store),
                    **_problems(
                        *JSON_BODY_PROBLEMS, errors.OriginNotAllowed, errors.UnknownProperty
                    ),
                },
            },
            "options": {
                "operationId": "preflightPreferencesLink",
                **_preflight("asking for preferences links"),
            },
        },
    }


def _widget_paths() -> dict[str, dict[str, Any]]:
    return {
        f"/v1/{name}": {
            "get": {
                "operationId": "get" + "".join(p.title() for p in re.split(r"[-.]", name)),
                "tags": ["Widget"],
                "summary": description,
                "description": "Minified once per process; gzip when the client accepts it. "
                "Cached for an hour, then revalidated by ETag.",
                "parameters": [
                    _header_param("Accept-Encoding", "`gzip` gets the gzipped file.", "gzip"),
                    IF_NONE_MATCH,
                ],
                "responses": {
                    "200": _ok(
                        "The file.",
                        {"type": "string"},
                        media_type=media_type,
                        headers={
                            "ETag": _header("ETag", required=True),
                            "Cache-Control": _header("CacheControl", required=True),
                            "Vary": _header("Vary", required=True),
                            "Access-Control-Allow-Origin": _header("AllowOrigin", required=True),
                            "Content-Encoding": _string("`gzip` when gzipped."),
                        },
                    ),
                    "304": NOT_MODIFIED,
                },
            }
        }
        for name, (media_type, description) in WIDGET_FILES.items()
    }


# -- serving -----------------------------------------------------------------------------------


@bp.get(SPEC_URL)
def openapi_json() -> Response:
    body, etag = _served_document()
    return _cacheable(body, etag, "application/json")


@bp.get(DOCS_URL)
def openapi_docs() -> Response:
    body, etag, style_hash = _rendered_docs()
    response = _cacheable(body, etag, "text/html")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src '{style_hash}'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )
    return response


def _cacheable(body: bytes, etag: str, mimetype: str) -> Response:
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(body, mimetype=mimetype)
    response.set_etag(etag)
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# -- the HTML page -----------------------------------------------------------------------------

METHODS = ("get", "post", "put", "patch", "delete", "options")
_CODE_SPAN = re.compile(r"(`+)([^`]+)\1")


def _prose(text: str) -> Markup:
    """Escaped text with `code` spans; blank lines separate paragraphs."""
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    rendered = [_CODE_SPAN.sub(r"<code>\2</code>", str(escape(p))) for p in paragraphs]
    return Markup("".join(f"<p>{p}</p>" for p in rendered))


def _inline(text: str) -> Markup:
    return Markup(_CODE_SPAN.sub(r"<code>\2</code>", str(escape(text))))


def _type_of(node: Mapping[str, Any]) -> Markup:
    """A schema's type in a few words, linking to named schemas."""
    if "$ref" in node:
        name = str(node["$ref"]).rsplit("/", 1)[-1]
        return Markup('<a href="#schema-{0}">{0}</a>').format(name)
    kind = node.get("type", "any")
    kinds = kind if isinstance(kind, list) else [kind]
    words: list[Markup] = []
    for each in kinds:
        if each == "array":
            words.append(Markup("array of ") + _type_of(node.get("items", {})))
        elif each == "object" and isinstance(node.get("additionalProperties"), Mapping):
            words.append(Markup("map of ") + _type_of(node["additionalProperties"]))
        elif each == "null":
            words.append(Markup("null"))
        else:
            fmt = f" ({node['format']})" if "format" in node else ""
            words.append(escape(f"{each}{fmt}"))
    return Markup(" or ").join(words)


_CONSTRAINTS = {
    "minimum": "≥ {}",
    "maximum": "≤ {}",
    "minLength": "at least {} characters",
    "maxLength": "at most {} characters",
    "minItems": "at least {} items",
    "maxItems": "at most {} items",
    "minProperties": "at least {} members",
    "maxProperties": "at most {} members",
    "pattern": "matches <code>{}</code>",
    "default": "default <code>{}</code>",
}


def _constraints(node: Mapping[str, Any]) -> Markup:
    parts: list[Markup] = []
    if "enum" in node:
        values = Markup(", ").join(
            Markup("<code>{}</code>").format(json.dumps(v)) for v in node["enum"]
        )
        parts.append(Markup("one of ") + values)
    for key, template in _CONSTRAINTS.items():
        if key in node:
            value = json.dumps(node[key]) if key == "default" else node[key]
            parts.append(Markup(template).format(value))
    names = node.get("propertyNames", {})
    if "pattern" in names:
        parts.append(Markup("keys match <code>{}</code>").format(names["pattern"]))
    if node.get("additionalProperties") is False and "properties" in node:
        parts.append(Markup("no other members"))
    return Markup("; ").join(parts)


def _rows(node: Mapping[str, Any], depth: int = 0) -> list[dict[str, Any]]:
    """A schema's members as table rows, inline objects expanded beneath their member."""
    rows: list[dict[str, Any]] = []
    required = set(node.get("required", []))
    for name, child in node.get("properties", {}).items():
        rows.append(
            {
                "name": name,
                "depth": depth,
                "type": _type_of(child),
                "required": name in required,
                "constraints": _constraints(child),
                "description": _inline(child.get("description", "")),
            }
        )
        if "properties" in child and "$ref" not in child:
            rows.extend(_rows(child, depth + 1))
        items = child.get("items", {})
        if "properties" in items:
            rows.extend(_rows(items, depth + 1))
    return rows


def _parameters(operation: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "name": p["name"],
            "in": p["in"],
            "required": p.get("required", False),
            "type": _type_of(p.get("schema", {})),
            "constraints": _constraints(p.get("schema", {})),
            "description": _inline(p.get("description", "")),
        }
        for p in operation.get("parameters", [])
    ]


def _content(holder: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "media_type": media_type,
            "type": _type_of(media.get("schema", {})),
            "rows": _rows(media.get("schema", {})),
        }
        for media_type, media in holder.get("content", {}).items()
    ]


def _headers(response: Mapping[str, Any], document: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = []
    for name, header in response.get("headers", {}).items():
        if "$ref" in header:
            header = document["components"]["headers"][str(header["$ref"]).rsplit("/", 1)[-1]]
        found.append(
            {
                "name": name,
                "required": header.get("required", False),
                "description": _inline(header.get("description", "")),
            }
        )
    return found


def _operations(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = []
    for path, item in document["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            security = operation.get("security", [])
            scopes = [scope for requirement in security for scope in requirement.get(BEARER, [])]
            body = operation.get("requestBody")
            found.append(
                {
                    "id": operation["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "tag": operation["tags"][0],
                    "summary": operation.get("summary", ""),
                    "description": _prose(operation.get("description", "")),
                    "authenticated": bool(security),
                    "scopes": scopes,
                    "parameters": _parameters(operation),
                    "body": None
                    if body is None
                    else {
                        "description": _inline(body.get("description", "")),
                        "content": _content(body),
                    },
                    "responses": [
                        {
                            "status": status,
                            "description": _inline(response["description"]),
                            "content": _content(response),
                            "headers": _headers(response, document),
                            "problem_types": response.get("x-problem-types", []),
                        }
                        for status, response in operation["responses"].items()
                    ],
                }
            )
    return found


def _problem_types() -> list[dict[str, Any]]:
    return [
        {
            "code": code,
            "title": kind.title,
            "status": int(kind.status),
            "description": _inline(kind.description),
        }
        for code, kind in errors.problem_types().items()
    ]


def _tags(operations: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    operations = list(operations)
    return [
        {**tag, "operations": [op for op in operations if op["tag"] == tag["name"]]}
        for tag in TAGS
        if any(op["tag"] == tag["name"] for op in operations)
    ]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


STYLE = """
:root { color-scheme: light dark; --fg: #1b1b1b; --bg: #fff; --muted: #4a4a4a;
  --line: #c8c8c8; --code-bg: #f1f1f1; --link: #0b57d0; --get: #0a6a2f; --post: #7a3e00;
  --delete: #a00; --other: #444; }
@media (prefers-color-scheme: dark) { :root { --fg: #eee; --bg: #161616; --muted: #c4c4c4;
  --line: #555; --code-bg: #2a2a2a; --link: #8ab4f8; --get: #7fd69a; --post: #f3b37a;
  --delete: #ff8a8a; --other: #ccc; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--fg); background: var(--bg); }
a { color: var(--link); }
a:focus-visible, summary:focus-visible, [tabindex]:focus-visible {
  outline: 3px solid var(--link); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--bg); padding: .5rem; }
.skip:focus { left: .5rem; }
header, main, footer { max-width: 72rem; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 1.5rem; }
h1 { font-size: 2rem; margin: 0 0 .5rem; }
h2 { font-size: 1.5rem; border-bottom: 2px solid var(--line); padding-bottom: .25rem;
  margin-top: 2.5rem; }
h3 { font-size: 1.2rem; margin: 2rem 0 .25rem; }
h4 { font-size: 1rem; margin: 1rem 0 .25rem; }
code { font: .9em/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  background: var(--code-bg); padding: .05em .3em; border-radius: 3px;
  overflow-wrap: anywhere; }
.method { display: inline-block; min-width: 4.5rem; font: 700 .85rem/1.6 ui-monospace,
  monospace; border: 2px solid currentColor; border-radius: 4px; text-align: center;
  padding: 0 .3rem; margin-right: .4rem; color: var(--other); }
.method-get { color: var(--get); } .method-post { color: var(--post); }
.method-delete { color: var(--delete); }
article.operation { border-top: 1px solid var(--line); margin-top: 1.5rem; }
.auth { font-weight: 600; }
.muted { color: var(--muted); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: .25rem 0 1rem; font-size: .95rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; vertical-align: top;
  text-align: left; }
th { background: var(--code-bg); }
td.depth-1 { padding-left: 1.75rem; } td.depth-2 { padding-left: 3rem; }
td.depth-3 { padding-left: 4.25rem; }
nav { max-width: 72rem; margin: 0 auto; padding: 0 1rem; }
nav ul { columns: 2 20rem; padding-left: 1.25rem; }
footer { margin: 3rem auto 2rem; color: var(--muted); }
"""

TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ info.title }} {{ info.version }}: HTTP API reference</title>
<style>{{ style }}</style>
</head>
<body>
<a class="skip" href="#main">Skip to the reference</a>
<header>
<h1>{{ info.title }} HTTP API <span class="muted">{{ info.version }}</span></h1>
{{ intro }}
<p>Machine-readable: <a href="{{ spec_url }}">OpenAPI {{ openapi }} document</a>.</p>
</header>
<nav aria-labelledby="contents-title">
<h2 id="contents-title">Contents</h2>
<ul>
<li><a href="#authentication">Authentication</a></li>
<li><a href="#problem-types">Problem types</a></li>
{% for tag in tags %}<li><a href="#tag-{{ tag.slug }}">{{ tag.name }}</a>
<ul>{% for op in tag.operations %}
<li><a href="#{{ op.id }}"><code>{{ op.method }} {{ op.path }}</code></a></li>{% endfor %}
</ul></li>
{% endfor %}<li><a href="#schemas">Schemas</a></li>
</ul>
</nav>
<main id="main" tabindex="-1">
<section aria-labelledby="authentication">
<h2 id="authentication">Authentication</h2>
{{ auth }}
<p>Operations marked <span class="auth">Public</span> need no credentials.</p>
</section>
<section aria-labelledby="problem-types">
<h2 id="problem-types">Problem types</h2>
<p>Errors are <code>application/problem+json</code> (RFC 9457) with the members of
<a href="#schema-Problem">Problem</a>. Their <code>type</code> ends in
<code>/problems/&lt;code&gt;</code>, which documents it; plain HTTP errors (unknown route, wrong
method, body too large, wrong media type, rate limit) use <code>about:blank</code>.</p>
<div class="table-wrap" role="region" aria-labelledby="problem-types-caption" tabindex="0">
<table>
<caption id="problem-types-caption">Problem types by code</caption>
<thead><tr><th scope="col">Code</th><th scope="col">Status</th><th scope="col">Title</th>
<th scope="col">Meaning and what to do</th></tr></thead>
<tbody>{% for p in problem_types %}
<tr id="problem-{{ p.code }}"><th scope="row"><a href="/problems/{{ p.code }}"><code>{{ p.code
}}</code></a></th><td>{{ p.status or "" }}</td><td>{{ p.title }}</td><td>{{ p.description }}</td>
</tr>{% endfor %}
</tbody>
</table>
</div>
</section>
{% macro fields(rows, caption) %}
<div class="table-wrap" role="region" aria-label="{{ caption }}" tabindex="0">
<table>
<caption>{{ caption }}</caption>
<thead><tr><th scope="col">Member</th><th scope="col">Type</th><th scope="col">Required</th>
<th scope="col">Constraints</th><th scope="col">Description</th></tr></thead>
<tbody>{% for row in rows %}
<tr><td class="depth-{{ row.depth }}"><code>{{ row.name }}</code></td>
<td>{{ row.type }}</td><td>{{ "yes" if row.required else "no" }}</td>
<td>{{ row.constraints }}</td><td>{{ row.description }}</td></tr>{% endfor %}
</tbody>
</table>
</div>
{% endmacro %}
{% macro content(items, what) %}{% for c in items %}
<p><code>{{ c.media_type }}</code>: {{ c.type }}</p>
{% if c.rows %}{{ fields(c.rows, what ~ " members") }}{% endif %}{% endfor %}{% endmacro %}
{% for tag in tags %}
<section aria-labelledby="tag-{{ tag.slug }}">
<h2 id="tag-{{ tag.slug }}">{{ tag.name }}</h2>
<p>{{ tag.description }}</p>
{% for op in tag.operations %}
<article class="operation" aria-labelledby="{{ op.id }}">
<h3 id="{{ op.id }}"><span class="method method-{{ op.method|lower }}">{{ op.method }}</span>
<code>{{ op.path }}</code></h3>
<p><strong>{{ op.summary }}</strong></p>
{{ op.description }}
<p class="auth">{% if op.authenticated %}Authentication: bearer API key with scope
{% for s in op.scopes %}<code>{{ s }}</code>{% if not loop.last %}, {% endif %}{% endfor
%}.{% else %}Public: no credentials.{% endif %}</p>
{% if op.parameters %}
<h4>Parameters</h4>
<div class="table-wrap" role="region" aria-label="{{ op.method }} {{ op.path }} parameters"
 tabindex="0">
<table>
<caption>Parameters of {{ op.method }} {{ op.path }}</caption>
<thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Required</th>
<th scope="col">Type</th><th scope="col">Constraints</th><th scope="col">Description</th>
</tr></thead>
<tbody>{% for p in op.parameters %}
<tr><th scope="row"><code>{{ p.name }}</code></th><td>{{ p.in }}</td>
<td>{{ "yes" if p.required else "no" }}</td><td>{{ p.type }}</td><td>{{ p.constraints }}</td>
<td>{{ p.description }}</td></tr>{% endfor %}
</tbody>
</table>
</div>
{% endif %}
{% if op.body %}
<h4>Request body</h4>
<p>{{ op.body.description }}</p>
{{ content(op.body.content, "Request body") }}
{% endif %}
<h4>Responses</h4>
<dl>{% for r in op.responses %}
<dt><strong>{{ r.status }}</strong></dt>
<dd><p>{{ r.description }}</p>
{{ content(r.content, r.status ~ " response") }}
{% if r.problem_types %}<p>Problem types: {% for code in r.problem_types
%}<a href="#problem-{{ code }}"><code>{{ code }}</code></a>{% if not loop.last %}, {% endif
%}{% endfor %}.</p>{% endif %}
{% if r.headers %}<p>Headers:</p><ul>{% for h in r.headers %}
<li><code>{{ h.name }}</code>{% if h.required %} (always){% endif %}: {{ h.description }}</li>
{% endfor %}</ul>{% endif %}
</dd>{% endfor %}
</dl>
</article>
{% endfor %}
</section>
{% endfor %}
<section aria-labelledby="schemas">
<h2 id="schemas">Schemas</h2>
{% for name, rows, description in schemas %}
<h3 id="schema-{{ name }}">{{ name }}</h3>
{% if description %}<p>{{ description }}</p>{% endif %}
{{ fields(rows, name ~ " members") }}
{% endfor %}
</section>
</main>
<footer><p>Generated from the service's own schemas. The same description, machine-readable:
<a href="{{ spec_url }}"><code>{{ spec_url }}</code></a>.</p></footer>
</body>
</html>
"""


@functools.cache
def _rendered_docs() -> tuple[bytes, str, str]:
    """The page, its ETag and the CSP hash of its one style element."""
    document = openapi_document()
    operations = _operations(document)
    tags = [{**tag, "slug": _slug(tag["name"])} for tag in _tags(operations)]
    scheme = document["components"]["securitySchemes"][BEARER]
    environment = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    html = environment.from_string(TEMPLATE).render(
        info=document["info"],
        openapi=document["openapi"],
        intro=_prose(document["info"]["description"]),
        auth=_prose(
            "Send `Authorization: Bearer csk_<public id>_<secret>`. " + scheme["description"]
        ),
        style=Markup(STYLE),
        spec_url=SPEC_URL,
        tags=tags,
        problem_types=_problem_types(),
        schemas=[
            (name, _rows(schema), _inline(schema.get("description", "")))
            for name, schema in sorted(document["components"]["schemas"].items())
        ],
    )
    body = html.encode()
    style_hash = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    return body, hashlib.sha256(body).hexdigest()[:32], style_hash
