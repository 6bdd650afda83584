"""``GET /v1/openapi.json`` and ``GET /v1/docs``: the API described in OpenAPI 3.1.

The document is generated with apispec from the api blueprint itself: each of its rules gives
a path, its method and its path parameters' types, and the view's ``@operation``
(``operations.py``) the rest; ``@integration`` gives the security requirement, and the error
classes a view can raise give its problem responses. The schemas are the ones the views
validate requests with (``schemas.py``) and serialize answers with (``response_schemas.py``).
The few routes other blueprints serve are described in ``_elsewhere()`` (a blueprint never
imports another); a test fails when any route is left undescribed. The document and the page
rendered from it (``docs_page.py``) are built once per process.
"""

from __future__ import annotations

import functools
import importlib.metadata
import inspect
import json
import re
from collections.abc import Iterator
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.field_converter import FieldConverterMixin
from flask import Flask
from flask import Response
from flask import request
from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate
from werkzeug.routing import IntegerConverter
from werkzeug.routing import Map
from werkzeug.routing import Rule
from werkzeug.routing import UUIDConverter

from consent_service import errors
from consent_service.api import bp
from consent_service.api import docs_page
from consent_service.api import response_schemas
from consent_service.api import schemas as into
from consent_service.api.auth import required_scope
from consent_service.api.operations import ALLOW_ORIGIN
from consent_service.api.operations import CACHE_CONTROL
from consent_service.api.operations import CACHE_HEADERS
from consent_service.api.operations import DOCUMENT_KEY
from consent_service.api.operations import ETAG
from consent_service.api.operations import HEADERS
from consent_service.api.operations import HTML_PAGE
from consent_service.api.operations import IF_NONE_MATCH
from consent_service.api.operations import JSON
from consent_service.api.operations import NOT_MODIFIED
from consent_service.api.operations import PROPERTY_KEY
from consent_service.api.operations import SLUG_PATTERN
from consent_service.api.operations import TEXT_PATTERN
from consent_service.api.operations import VARY
from consent_service.api.operations import Answer
from consent_service.api.operations import Body
from consent_service.api.operations import Operation
from consent_service.api.operations import PathParam
from consent_service.api.operations import ProblemKind
from consent_service.api.operations import SchemaLike
from consent_service.api.operations import declared
from consent_service.api.operations import described_header
from consent_service.api.operations import header
from consent_service.api.operations import header_parameter
from consent_service.api.operations import operation
from consent_service.api.operations import query
from consent_service.api.response_schemas import ProblemSchema
from consent_service.api.response_schemas import RawSchema
from consent_service.banner.configuration import LOCALE_TAG
from consent_service.integrations.api_keys import Scope
from consent_service.problems import MEDIA_TYPE as PROBLEM_MEDIA_TYPE
from consent_service.web.etags import content_etag

SPEC_URL = "/v1/openapi.json"
DOCS_URL = "/v1/docs"
CACHE_FOR = "public, max-age=3600"  # changes only with a deployment; revalidated by ETag
BEARER = "apiKey"

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

BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "csk_<public id>_<secret>",
    "description": "An integration API key, created with `consent-service keys create`"
    " for one property and shown once. The scopes each operation needs are listed "
    "with it; a missing or revoked key is a 401, a missing scope a 403.",
}

RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": header("RateLimitLimit"),
    "X-RateLimit-Remaining": header("RateLimitRemaining"),
    "X-RateLimit-Reset": header("RateLimitReset"),
}
# What every integration operation can fail with before its view runs (``@integration``):
# the key is checked against the database, so an outage is among them.
INTEGRATION_PROBLEMS: tuple[ProblemKind, ...] = (
    errors.InvalidCredentials,
    errors.InsufficientScope,
    HTTPStatus.TOO_MANY_REQUESTS,
    errors.DatabaseUnavailable,
)
# What reading a JSON body can fail with (``web.request_body.load_json``).
JSON_BODY_PROBLEMS: tuple[ProblemKind, ...] = (
    errors.MalformedRequest,
    errors.ValidationFailed,
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
)
# What reading a query string with a schema can fail with (``web.request_body.load_query``).
QUERY_PROBLEMS: tuple[ProblemKind, ...] = (errors.ValidationFailed,)
# Plain HTTP errors carry ``type: about:blank``; these describe when each happens.
PLAIN: dict[int, str] = {
    HTTPStatus.NOT_FOUND: "No route matches the path.",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "The body is larger than the service accepts.",
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "The body is not sent as `application/json`.",
    HTTPStatus.TOO_MANY_REQUESTS: "The API key has used up its rate limit; wait `Retry-After` "
    "seconds.",
    HTTPStatus.SERVICE_UNAVAILABLE: "The service is not ready.",
}
_PATH_VARIABLE = re.compile(r"<(?:[^<>]*:)?(\w+)>")


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
    plugin.converter.add_attribute_function(_text)  # type: ignore[no-untyped-call]
    plugin.converter.add_parameter_attribute_function(_parameter_example)
    spec.components.security_scheme(BEARER, BEARER_SCHEME)
    for name, described in HEADERS.items():
        spec.components.header(name, described)
    described_operations = [*_api_operations(), *_elsewhere()]
    _register_schemas(spec, _schemas_of([op for _, _, op, _ in described_operations]))
    paths: dict[str, dict[str, Any]] = {}
    for rule, method, op, scope in described_operations:
        paths.setdefault(_path_of(rule), {})[method] = _operation(rule, op, scope)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@functools.cache
def _served_document() -> tuple[bytes, str]:
    body = json.dumps(openapi_document(), indent=1, sort_keys=False).encode()
    return body, content_etag(body)


def _version() -> str:
    try:
        return importlib.metadata.version("consent-service")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout
        return "0.0.0"


DescribedOperation = tuple[Rule, str, Operation, Scope | None]


def _api_operations() -> Iterator[DescribedOperation]:
    """The api blueprint's rules with their views' declarations, in the order they are routed.

    The blueprint is registered on a bare app to read its rules as Flask builds them (path,
    methods, converters) without settings, a database or the other blueprints."""
    app = Flask(__name__, static_folder=None)
    app.register_blueprint(bp)
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        declaration = declared(view)
        if declaration is None:
            raise LookupError(f"{rule.rule} ({rule.endpoint}) has no @operation declaration")
        methods = set(rule.methods or ()) - {"HEAD"}  # HEAD answers as GET does
        if getattr(rule, "provide_automatic_options", False):  # Flask sets it on the rule
            methods.discard("OPTIONS")  # Flask's automatic answer, not the route's own
        [method] = methods
        yield rule, method.lower(), declaration, required_scope(view)


def _path_of(rule: Rule) -> str:
    return _PATH_VARIABLE.sub(r"{\1}", rule.rule)


def _operation(rule: Rule, op: Operation, scope: Scope | None) -> dict[str, Any]:
    if not op.summary:
        raise ValueError(f"{op.operation_id}: no summary (the view's docstring says it)")
    found: dict[str, Any] = {
        "operationId": op.operation_id,
        "tags": [op.tag],
        "summary": op.summary,
    }
    if op.description:
        found["description"] = op.description
    if scope is not None:
        # OpenAPI 3.1 lets a non-OAuth requirement list the roles it needs.
        found["security"] = [{BEARER: [scope.value]}]
    parameters = [*_path_parameters(rule, op.path), *op.parameters]
    if op.query is not None:
        parameters.append({"in": "query", "schema": op.query})
    if parameters:
        found["parameters"] = parameters
    if isinstance(op.body, Body):
        media = {"schema": _schema(op.body.schema)}
        example = getattr(op.body.schema, "example", None)
        if example is not None:
            media["example"] = example
        found["requestBody"] = {
            "required": True,
            "description": op.body.description,
            "content": {JSON: media},
        }
    elif op.body is not None:
        found["requestBody"] = dict(op.body)
    found["responses"] = {
        **{str(status): _answer(answer, scope) for status, answer in op.responses.items()},
        **_problems(*_problem_kinds(op, scope)),
    }
    return found


def _path_parameters(rule: Rule, declared: Mapping[str, PathParam]) -> list[dict[str, Any]]:
    """The rule's variables in order: typed by their converters, worded by the declaration."""
    names = _PATH_VARIABLE.findall(rule.rule)
    if set(names) != set(declared):
        raise ValueError(f"{rule.rule}: path parameters {names}, declared {sorted(declared)}")
    found = []
    for name in names:
        words = declared[name]
        parameter = {
            "in": "path",
            "name": name,
            "required": True,
            "description": words.description,
            "schema": {**_converter_schema(rule, name), **words.schema},
        }
        if words.example is not None:
            parameter["example"] = words.example
        found.append(parameter)
    return found


def _converter_schema(rule: Rule, name: str) -> dict[str, Any]:
    converter = rule._converters[name]  # werkzeug's parsed converters (no public accessor)
    if isinstance(converter, IntegerConverter):
        bounds = {"minimum": converter.min, "maximum": converter.max}
        return {"type": "integer", **{k: v for k, v in bounds.items() if v is not None}}
    if isinstance(converter, UUIDConverter):
        return {"type": "string", "format": "uuid"}
    return {"type": "string"}


def _answer(answer: Answer, scope: Scope | None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": answer.description}
    if answer.schema is not None:
        response["content"] = {answer.media_type: {"schema": _schema(answer.schema)}}
    headers = dict(answer.headers)
    if scope is not None:
        headers.update(RATE_LIMIT_HEADERS)  # every answer to an API key tells its budget
    if headers:
        response["headers"] = headers
    return response


def _problem_kinds(op: Operation, scope: Scope | None) -> list[ProblemKind]:
    # Any query value or form field holding a NUL is refused before the view runs
    # (``web.request_limits.refuse_unreadable_requests``).
    reads_text = (
        op.query is not None
        or op.body is not None
        or any(parameter.get("in") == "query" for parameter in op.parameters)
    )
    kinds = [
        *(INTEGRATION_PROBLEMS if scope is not None else ()),
        *(JSON_BODY_PROBLEMS if isinstance(op.body, Body) else ()),
        *(QUERY_PROBLEMS if reads_text else ()),
        *op.raises,
    ]
    return list(dict.fromkeys(kinds))


def _problems(*kinds: ProblemKind) -> dict[str, dict[str, Any]]:
    """4xx/5xx responses: domain errors (each with its class's ``status``) and plain
    HTTP errors by status, each an ``application/problem+json`` Problem."""
    by_status: dict[int, list[ProblemKind]] = {}
    for kind in kinds:
        status = int(kind) if isinstance(kind, int) else int(kind.status)
        by_status.setdefault(status, []).append(kind)
    responses: dict[str, dict[str, Any]] = {}
    for status in sorted(by_status):
        lines: list[str] = []
        codes: list[str] = []
        for kind in by_status[status]:
            if isinstance(kind, int):
                lines.append(f"`about:blank`: {PLAIN[int(kind)]}")
            else:
                codes.append(kind.code)
                lines.append(f"`{kind.code}`: {kind.description}")
        response: dict[str, Any] = {
            "description": errors.status_title(status) + ". " + " ".join(lines),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": _schema(ProblemSchema)}},
        }
        if codes:
            response["x-problem-types"] = codes
        if status == HTTPStatus.UNAUTHORIZED:
            response["headers"] = {"WWW-Authenticate": header("WwwAuthenticate", required=True)}
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            response["headers"] = {"Retry-After": header("RetryAfter"), **RATE_LIMIT_HEADERS}
        responses[str(status)] = response
    return responses


# -- schemas -----------------------------------------------------------------------------------


def _name(schema: type[Schema]) -> str:
    return schema.__name__.removesuffix("Schema")  # apispec's name for nested schemas too


def _schema(schema: SchemaLike) -> dict[str, Any]:
    if isinstance(schema, RawSchema):
        return {"$ref": f"#/components/schemas/{schema.name}"}
    if isinstance(schema, type):
        return {"$ref": f"#/components/schemas/{_name(schema)}"}
    return dict(schema)


def _schemas_of(operations: list[Operation]) -> list[type[Schema] | RawSchema]:
    """The named schemas the operations refer to, ``Problem`` first (every error's)."""
    found: list[type[Schema] | RawSchema] = [ProblemSchema]
    for op in operations:
        if isinstance(op.body, Body):
            found.append(op.body.schema)
        found.extend(
            a.schema for a in op.responses.values() if isinstance(a.schema, type | RawSchema)
        )
    return list(dict.fromkeys(found))


def _register_schemas(spec: APISpec, schemas: list[type[Schema] | RawSchema]) -> None:
    """Named components, each described by its docstring. A schema nested in another is
    registered first, so that it is not registered (undescribed) as the other's member."""
    ordered = sorted(schemas, key=lambda s: 0 if isinstance(s, RawSchema) else len(_nested_in(s)))
    for schema in ordered:
        if isinstance(schema, RawSchema):
            spec.components.schema(schema.name, dict(schema.schema))
            continue
        description = inspect.cleandoc(schema.__doc__) if schema.__doc__ else None
        component = {"description": description} if description else {}
        # Rules across fields a schema states itself (marshmallow has no JSON Schema for them).
        component.update(getattr(schema, "constraints", {}))
        spec.components.schema(_name(schema), component or None, schema=schema)


def _nested_in(schema: type[Schema]) -> set[type[Schema]]:
    found: set[type[Schema]] = set()
    for member in schema().fields.values():
        while isinstance(member, fields.List):
            member = member.inner
        if isinstance(member, fields.Nested) and isinstance(member.nested, type):
            found |= {member.nested, *_nested_in(member.nested)}
    return found


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
    items = {"type": "string", "minLength": 1, "maxLength": field.max_length}
    if field.item_pattern is not None:
        items["pattern"] = field.item_pattern
    return {
        "type": "array",
        "minItems": field.min_items,
        "maxItems": field.max_items,
        "items": items,
    }


def _text(
    self: FieldConverterMixin, field: fields.Field[Any], ret: dict[str, Any], **_: Any
) -> dict[str, Any]:
    """Text is refused with a NUL in it (``request_body.NOT_TEXT``; lone surrogates are no
    JSON text either way): a string without a stricter pattern says so."""
    if (
        isinstance(field, fields.String)
        and not {"pattern", "format", "enum"} & ret.keys()
        and type(field.root).__module__ != response_schemas.__name__  # what it answers
    ):
        return {"pattern": TEXT_PATTERN}
    return {}


def _parameter_example(
    self: FieldConverterMixin, field: fields.Field[Any], ret: dict[str, Any], **_: Any
) -> dict[str, Any]:
    """A query field's ``example`` belongs to its Parameter Object, not to its schema."""
    example = ret["schema"].pop("example", None)
    return {} if example is None else {"example": example}


# -- routes other blueprints serve -------------------------------------------------------------

WIDGET_FILES = {
    "widget.js": ("text/javascript", "The consent widget: the one script a shop's pages embed."),
    "widget.css": ("text/css", "The banner's stylesheet (the widget links it itself)."),
    "widget-preferences.js": (
        "text/javascript",
        "The preferences layer, fetched only when a visitor opens it.",
    ),
    "widget-preferences.css": ("text/css", "The preferences layer's stylesheet."),
    "widget-gpp.js": (
        "text/javascript",
        "The IAB GPP CMP API (`__gpp`), fetched once the banner's answer is in.",
    ),
    "widget-ads.js": (
        "text/javascript",
        "The other ad and shop platforms' adapters, fetched where a property enables any "
        "(by the stub, or by the widget on a page without it).",
    ),
}
STUB_URL = "/v1/stub.js"
UNSUBSCRIBE_URL = "/v1/email/unsubscribe"
POLICY_PAGE_RULE = "/policies/<property_key>/<document_key>/<int(min=1, max=2147483647):number>"
POLICY_DIFF_RULE = (
    "/policies/<property_key>/<document_key>/diff/"
    "<int(min=1, max=2147483647):old>..<int(min=1, max=2147483647):new>"
)


def _elsewhere() -> Iterator[DescribedOperation]:
    """The widget blueprint's files and the preferences blueprint's unsubscribe, policy and
    policy diff pages: described here, since a blueprint never imports another."""
    yield from _widget_files()
    yield _stub_file()
    token = query(
        "token",
        "The opaque signed token from the email's `List-Unsubscribe` header: it names the "
        "customer and the list.",
        "eyJpIjoiMGY4ZC4uLiIsImwiOiJwb2xpY3ktbm90aWNlcyJ9.c2lnbmF0dXJl",
        required=True,
        pattern="^[A-Za-z0-9_.-]+$",  # base64url parts and dots, as the service signs them
    )
    page = Answer(
        "A small HTML page (no scripts).", HTML_PAGE, media_type="text/html", headers=CACHE_HEADERS
    )
    html_page = Answer(
        "An HTML page (no scripts).", HTML_PAGE, media_type="text/html", headers=CACHE_HEADERS
    )
    one_click = {
        "type": "object",
        "properties": {"List-Unsubscribe": {"type": "string", "const": "One-Click"}},
        "additionalProperties": False,  # others are ignored, but nothing else is sent
    }
    yield (
        _rule(UNSUBSCRIBE_URL),
        "get",
        Operation(
            "getUnsubscribePage",
            "Email",
            "Confirm unsubscribing from policy notices",
            description="Shows a button that POSTs to the same URL. Changes nothing: mail "
            "scanners prefetch links (RFC 8058 §4).",
            parameters=[token],
            responses={200: page},
            raises=(errors.InvalidUnsubscribeLink,),
        ),
        None,
    )
    yield (
        _rule(UNSUBSCRIBE_URL),
        "post",
        Operation(
            "unsubscribeOneClick",
            "Email",
            "One-click unsubscribe from policy notices (RFC 8058)",
            description="What mail clients send for `List-Unsubscribe-Post: "
            "List-Unsubscribe=One-Click`: no cookies, no credentials; the signed token is "
            "the only proof. Idempotent; answers 200, never a redirect.",
            parameters=[token],
            body={
                "required": False,
                "description": "`List-Unsubscribe=One-Click`.",
                "content": {
                    "application/x-www-form-urlencoded": {"schema": one_click},
                    "multipart/form-data": {"schema": one_click},
                },
            },
            responses={200: page},
            raises=(errors.InvalidUnsubscribeLink, HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
        ),
        None,
    )
    yield (
        _rule(POLICY_DIFF_RULE),
        "get",
        Operation(
            "getPolicyDiffPage",
            "Policies",
            "What changed between two published versions, as a page for people",
            description="The page every policy-change notice links to: both versions side "
            "by side, changed words marked, the change summary in the reader's language "
            "(`Accept-Language` or `?lang=`). No scripts; both versions are immutable, so "
            "the page is cacheable.",
            path={
                "property_key": PROPERTY_KEY,
                "document_key": DOCUMENT_KEY,
                "old": PathParam("The version compared from.", 1),
                "new": PathParam("The version compared to.", 2),
            },
            parameters=[
                query(
                    "lang",
                    "Language of the change summary, e.g. `de`.",
                    "de",
                    pattern=LOCALE_TAG.pattern,
                )
            ],
            responses={200: html_page},
            raises=(errors.UnknownProperty, errors.UnknownPolicy, errors.ValidationFailed),
        ),
        None,
    )
    yield (
        _rule(POLICY_PAGE_RULE),
        "get",
        Operation(
            "getPolicyPage",
            "Policies",
            "One published version as a page for people",
            description="Where the banner's and the layer's policy links, the preferences "
            "page and every policy-change email lead: the text rendered (sanitised), its "
            "version, effective date, change summary and a link to the diff with the previous "
            "version, in the reader's language (`Accept-Language` or `?lang=`). The exact "
            "bytes receipts hash are `getPolicyVersionText`. An unknown property, document or "
            "version, or a draft, is a 404: an HTML page in the reader's language for a "
            "client that prefers `text/html` (a browser), else the problem below.",
            path={
                "property_key": PROPERTY_KEY,
                "document_key": DOCUMENT_KEY,
                "number": PathParam("The version number.", 2),
            },
            parameters=[
                query("lang", "Language of the page, e.g. `de`.", "de", pattern=LOCALE_TAG.pattern)
            ],
            responses={200: html_page},
            raises=(errors.UnknownProperty, errors.UnknownPolicy),
        ),
        None,
    )


def _widget_file_answers(summary: str, media_type: str) -> dict[int, Any]:
    """A widget file's 200 (gzip when accepted, cached, revalidated by ETag) and 304."""
    headers = {
        "ETag": ETAG,
        "Cache-Control": CACHE_CONTROL,
        "Vary": VARY,
        "Access-Control-Allow-Origin": ALLOW_ORIGIN,
        "Content-Encoding": described_header("`gzip` when gzipped."),
    }
    return {
        200: Answer(summary, {"type": "string"}, media_type=media_type, headers=headers),
        304: NOT_MODIFIED,
    }


def _widget_files() -> Iterator[DescribedOperation]:
    for name, (media_type, summary) in WIDGET_FILES.items():
        yield (
            _rule(f"/v1/{name}"),
            "get",
            Operation(
                "get" + "".join(p.title() for p in re.split(r"[-.]", name)),
                "Widget",
                summary,
                description="Minified once per process; gzip when the client accepts it. "
                "Cached for an hour, then revalidated by ETag.",
                parameters=[
                    header_parameter("Accept-Encoding", "`gzip` gets the gzipped file.", "gzip"),
                    IF_NONE_MATCH,
                ],
                responses=_widget_file_answers("The file.", media_type),
            ),
            None,
        )


def _stub_file() -> DescribedOperation:
    return (
        _rule(STUB_URL),
        "get",
        Operation(
            "getStubJs",
            "Widget",
            "The synchronous stub a shop's page loads before any tag",
            description="Pushes Google Consent Mode's denied default at once, sets the denied "
            "defaults of the platforms the property enables that take one before their tag, "
            "fetches their adapters, and keeps a `window.consent` queue the widget adopts. "
            "Without `property`, Consent Mode's default and the queue only. gzip when the "
            "client accepts it; cached for five minutes, then revalidated by ETag.",
            parameters=[
                query(
                    "property",
                    "The property whose enabled platforms the stub sets defaults for.",
                    "demo-shop",
                    pattern=SLUG_PATTERN,
                ),
                header_parameter("Accept-Encoding", "`gzip` gets the gzipped file.", "gzip"),
                IF_NONE_MATCH,
            ],
            responses=_widget_file_answers("The stub.", "text/javascript"),
            raises=(errors.UnknownProperty,),
        ),
        None,
    )


def _rule(rule: str) -> Rule:
    bound = Rule(rule, endpoint=rule)
    Map([bound])  # binding parses the rule's converters
    return bound


# -- serving -----------------------------------------------------------------------------------


@bp.get(SPEC_URL)
@operation(
    "getOpenApi",
    "API description",
    parameters=[IF_NONE_MATCH],
    responses={
        200: Answer(
            "The document.",
            {"type": "object"},
            headers={
                "ETag": ETAG,
                "Cache-Control": CACHE_CONTROL,
                "Access-Control-Allow-Origin": ALLOW_ORIGIN,
            },
        ),
        304: NOT_MODIFIED,
    },
)
def openapi_json() -> Response:
    """This OpenAPI 3.1 document"""
    body, etag = _served_document()
    return _cacheable(body, etag, "application/json")


@bp.get(DOCS_URL)
@operation(
    "getApiDocs",
    "API description",
    parameters=[IF_NONE_MATCH],
    responses={
        200: Answer(
            "An HTML page (no scripts).",
            HTML_PAGE,
            media_type="text/html",
            headers={"ETag": ETAG, "Cache-Control": CACHE_CONTROL},
        ),
        304: NOT_MODIFIED,
    },
)
def openapi_docs() -> Response:
    """This document as a readable page"""
    page = _rendered_docs()
    response = _cacheable(page.body, page.etag, "text/html")
    response.headers["Content-Security-Policy"] = page.content_security_policy
    return response


@functools.cache
def _rendered_docs() -> docs_page.RenderedPage:
    return docs_page.render(openapi_document(), SPEC_URL)


def _cacheable(body: bytes, etag: str, mimetype: str) -> Response:
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(body, mimetype=mimetype)
    response.set_etag(etag)
    response.headers["Cache-Control"] = CACHE_FOR
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
