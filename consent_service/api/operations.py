"""What each API view declares about itself: the OpenAPI operation it is.

``@operation(...)`` goes under the route decorator. It names the operation and its tag, the
parameters the route does not imply, the request body, the answers and the domain errors the
view can raise; the view's docstring gives the summary (its first line) and the description
(the rest). ``openapi.py`` builds the document from the blueprint's rules and these
declarations: the path and its parameters' types come from the route, the security requirement
from ``@integration``, and the problem responses from the error classes (plus what a JSON body
or a query string can fail with). Describing an endpoint is done here, once, beside its view.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import TypeVar

from marshmallow import Schema

from consent_service import errors
from consent_service.api.response_schemas import RawSchema
from consent_service.api.schemas import EXAMPLE_VISITOR
from consent_service.api.schemas import SLUG

JSON = "application/json"
SLUG_PATTERN = SLUG.regex.pattern
SHOP_ORIGIN = "https://shop.northwind.example"
# What text without a pattern of its own may hold: no NUL (``web.request_body`` refuses it).
TEXT_PATTERN = "^[^\\u0000]*$"

# A domain error class, or the status of a plain HTTP error (``type: about:blank``), e.g.
# ``HTTPStatus.NOT_FOUND`` where a route's converter refuses a path.
ProblemKind = type[errors.ConsentServiceError] | int
# A marshmallow schema (a named component), a JSON Schema component, or an inline JSON Schema.
SchemaLike = type[Schema] | RawSchema | Mapping[str, Any]
View = TypeVar("View", bound=Callable[..., object])


# -- headers -----------------------------------------------------------------------------------


def described_header(description: str, kind: str = "string", **schema: Any) -> dict[str, Any]:
    return {"description": description, "schema": {"type": kind, **schema}}


# The response headers several operations send: components of the document, referred to by name.
HEADERS: dict[str, dict[str, Any]] = {
    "ETag": described_header("The representation's entity tag; send it back in `If-None-Match`."),
    "CacheControl": described_header("How long caches may keep the response."),
    "Vary": described_header("The request headers the response depends on."),
    "AllowOrigin": described_header("CORS: the origin (or `*`) allowed to read the response."),
    "Location": described_header("Where the resource is.", format="uri-reference"),
    "RateLimitLimit": described_header(
        "Requests this API key may make in the current window.", "integer"
    ),
    "RateLimitRemaining": described_header("Requests left in the current window.", "integer"),
    "RateLimitReset": described_header(
        "When the window resets, in seconds since the Unix epoch.", "integer"
    ),
    "RetryAfter": described_header("Seconds to wait before trying again.", "integer"),
    "WwwAuthenticate": described_header("The authentication scheme: `Bearer`."),
}


def header(name: str, *, required: bool = False) -> dict[str, Any]:
    """A reference to ``HEADERS[name]``; a ``$ref`` carries no siblings in a Header Object, so
    a required header is spelled out."""
    if required:
        return always(HEADERS[name])
    return {"$ref": f"#/components/headers/{name}"}


def always(described: dict[str, Any]) -> dict[str, Any]:
    return {**described, "required": True}


ETAG = header("ETag", required=True)
CACHE_CONTROL = header("CacheControl", required=True)
VARY = header("Vary", required=True)
ALLOW_ORIGIN = header("AllowOrigin", required=True)
ALLOW_ORIGIN_IF_ALLOWED = header("AllowOrigin")  # sent only to an origin the property lists
# An answer that says only how caches may keep it.
CACHE_HEADERS = {"Cache-Control": CACHE_CONTROL}
# A widget endpoint's answer to a shop's page: never cached, readable by an allowed origin.
WIDGET_ANSWER_HEADERS = {
    "Cache-Control": CACHE_CONTROL,
    "Access-Control-Allow-Origin": ALLOW_ORIGIN_IF_ALLOWED,
}

# -- parameters --------------------------------------------------------------------------------


def parameter(
    where: str,
    name: str,
    description: str,
    example: object = None,
    *,
    required: bool = False,
    **schema: Any,
) -> dict[str, Any]:
    if where == "query" and not {"pattern", "format", "enum"} & schema.keys():
        schema = {**schema, "pattern": TEXT_PATTERN}  # a NUL is refused before any view
    found = {
        "in": where,
        "name": name,
        "required": required,
        "description": description,
        "schema": {"type": "string", **schema},
    }
    if example is not None:
        found["example"] = example
    return found


def query(
    name: str, description: str, example: str, *, required: bool = False, **schema: Any
) -> dict[str, Any]:
    return parameter("query", name, description, example, required=required, **schema)


def header_parameter(
    name: str, description: str, example: str | None = None, *, required: bool = False
) -> dict[str, Any]:
    return parameter("header", name, description, example, required=required)


IF_NONE_MATCH = header_parameter("If-None-Match", "An ETag seen before: unchanged, a 304 answers.")


def origin(refused: str) -> dict[str, Any]:
    """The ``Origin`` header of a widget endpoint; ``refused``: what an unlisted one gets."""
    return header_parameter(
        "Origin",
        "The shop's page. A browser sends it; when it is not one of the property's allowed "
        f"origins, {refused}",
        SHOP_ORIGIN,
    )


RECORDING_ORIGIN = origin("nothing is recorded (403 `origin-not-allowed`).")
PROPERTY_QUERY = query(
    "property",
    "The property (shop), as in the widget tag's `data-property`.",
    "demo-shop",
    required=True,
    pattern=SLUG_PATTERN,
)


@dataclass(frozen=True)
class PathParam:
    """Words for a path parameter; its type comes from the route's converter, ``schema``
    adds to it."""

    description: str
    example: object = None
    schema: Mapping[str, Any] = field(default_factory=dict)


PROPERTY_KEY = PathParam("The property.", "demo-shop", {"pattern": SLUG_PATTERN})
DOCUMENT_KEY = PathParam(
    "The document, e.g. `privacy-policy`.", "privacy-policy", {"pattern": SLUG_PATTERN}
)
VISITOR_ID = PathParam("The visitor id from the widget's cookie.", EXAMPLE_VISITOR)

# -- bodies and answers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Body:
    """A required JSON body, validated with ``schema`` (its ``example`` goes with it)."""

    schema: type[Schema]
    description: str


@dataclass(frozen=True)
class Answer:
    """A successful response."""

    description: str
    schema: SchemaLike | None = None
    media_type: str = JSON
    headers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


NOT_MODIFIED = Answer(
    "Not modified: the `If-None-Match` ETag is current.", headers={"ETag": header("ETag")}
)
HTML_PAGE = {"type": "string"}

# -- the declaration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    operation_id: str
    tag: str
    summary: str
    responses: Mapping[int, Answer]
    description: str | None = None
    parameters: Sequence[Mapping[str, Any]] = ()
    path: Mapping[str, PathParam] = field(default_factory=dict)
    query: type[Schema] | None = None  # parameters from a schema's fields, with their metadata
    body: Body | Mapping[str, Any] | None = None  # a Mapping: a Request Body Object as it is
    raises: Sequence[ProblemKind] = ()


_DECLARED: dict[Callable[..., object], Operation] = {}


def operation(
    operation_id: str,
    tag: str,
    *,
    responses: Mapping[int, Answer],
    parameters: Sequence[Mapping[str, Any]] = (),
    path: Mapping[str, PathParam] | None = None,
    query: type[Schema] | None = None,
    body: Body | None = None,
    raises: Sequence[ProblemKind] = (),
    summary: str | None = None,
    description: str | None = None,
) -> Callable[[View], View]:
    """Declare the view's operation; the summary and description default to its docstring."""

    def declare(view: View) -> View:
        said_summary, said_description = _docstring(view)
        _DECLARED[inspect.unwrap(view)] = Operation(
            operation_id=operation_id,
            tag=tag,
            summary=summary or said_summary,
            description=description or said_description,
            responses=responses,
            parameters=parameters,
            path=path or {},
            query=query,
            body=body,
            raises=raises,
        )
        return view

    return declare


def declared(view: Callable[..., object]) -> Operation | None:
    return _DECLARED.get(inspect.unwrap(view))


def _docstring(view: Callable[..., object]) -> tuple[str, str | None]:
    """First paragraph: the summary; the others: the description (lines joined)."""
    paragraphs = [" ".join(p.split("\n")) for p in (inspect.getdoc(view) or "").split("\n\n")]
    return paragraphs[0], "\n\n".join(paragraphs[1:]) or None


def preflight_operation(operation_id: str, what: str) -> Callable[[View], View]:
    """A CORS preflight route of a widget endpoint (``web.cors.preflight``)."""
    return operation(
        operation_id,
        "Widget",
        summary=f"CORS preflight for {what}",
        description="Answered for an `Origin` that some property lists as allowed.",
        parameters=[
            header_parameter("Origin", "The page asking.", SHOP_ORIGIN, required=True),
            header_parameter(
                "Access-Control-Request-Method", "The method it wants: `POST`.", "POST"
            ),
        ],
        responses={
            204: Answer(
                "The origin may post.",
                headers={
                    "Access-Control-Allow-Origin": ALLOW_ORIGIN,
                    "Access-Control-Allow-Methods": always(described_header("`POST`.")),
                    "Access-Control-Allow-Headers": described_header("`Content-Type`."),
                    "Access-Control-Max-Age": described_header(
                        "Seconds the browser may remember it.", "integer"
                    ),
                },
            )
        },
        raises=(errors.OriginNotAllowed,),
    )
