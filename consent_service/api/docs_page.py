"""``GET /v1/docs``: the OpenAPI document as a page people read, with no script.

The page is ``templates/api/docs.html``; its stylesheet, ``static/docs.css``, is inlined in the
one ``<style>`` element, which the page's Content-Security-Policy allows by its hash (and
nothing else: no script, no other style, no other origin).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from markupsafe import escape

from consent_service import errors
from consent_service.web.etags import content_etag

HERE = Path(__file__).resolve().parent
STYLESHEET = HERE / "static" / "docs.css"


@dataclass(frozen=True)
class RenderedPage:
    body: bytes
    etag: str
    content_security_policy: str


def render(document: Mapping[str, Any], spec_url: str) -> RenderedPage:
    """The page for ``document``, its ETag and its Content-Security-Policy."""
    style = STYLESHEET.read_text(encoding="utf-8")
    [scheme] = document["components"]["securitySchemes"].values()
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    html = environment.get_template("api/docs.html").render(
        info=document["info"],
        openapi=document["openapi"],
        intro=_prose(document["info"]["description"]),
        auth=_prose(
            "Send `Authorization: Bearer csk_<public id>_<secret>`. " + scheme["description"]
        ),
        style=Markup(style),
        spec_url=spec_url,
        tags=_tags(document),
        problem_types=_problem_types(),
        schemas=[
            (name, _rows(schema), _inline(schema.get("description", "")))
            for name, schema in sorted(document["components"]["schemas"].items())
        ],
    )
    body = html.encode()
    style_hash = "sha256-" + base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    return RenderedPage(
        body,
        content_etag(body),
        f"default-src 'none'; style-src '{style_hash}'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'",
    )


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
            scopes = [
                scope for requirement in security for each in requirement.values() for scope in each
            ]
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


def _tags(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    operations = _operations(document)
    return [
        {
            **tag,
            "slug": _slug(tag["name"]),
            "operations": [op for op in operations if op["tag"] == tag["name"]],
        }
        for tag in document["tags"]
        if any(op["tag"] == tag["name"] for op in operations)
    ]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
