"""Reading request bodies and query strings into validated values, with precise problems when
they are bad.

The one JSON loader of every API endpoint: a body is UTF-8 JSON nested at most
``MAX_DEPTH`` deep, its integers at most ``MAX_INTEGER_DIGITS`` digits and its numbers finite,
and all of its text (names and values) Unicode text that both databases store: no NUL
(PostgreSQL refuses it) and no lone surrogate (no UTF-8 encodes it). Anything else is a
400 ``malformed-request`` or a 422 ``validation-failed`` naming the member, never a 500.
What every request must be before any view reads it is ``web.request_limits``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from flask import request
from marshmallow import Schema
from marshmallow import ValidationError
from werkzeug.exceptions import UnsupportedMediaType

from consent_service.errors import FieldError
from consent_service.errors import MalformedRequest
from consent_service.errors import ValidationFailed
from consent_service.properties.catalogue import SLUG

# Deeper than any request the API documents (its deepest is 2), shallow enough to walk.
MAX_DEPTH = 16
# Every integer the API takes fits in 64 bits (19 digits); longer ones cost time to convert
# and overflow the databases' columns.
MAX_INTEGER_DIGITS = 20
# What text may not hold: NUL (PostgreSQL's text refuses it) and lone surrogates (not Unicode
# scalar values: no UTF-8 encodes them, so neither database can store them).
NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


def load_json(schema: Schema) -> dict[str, Any]:
    """The request's JSON object, loaded through ``schema``; raises a problem otherwise."""
    if not request.is_json:
        raise UnsupportedMediaType("send the body as application/json")
    raw = request.get_data(cache=False)  # beyond MAX_CONTENT_LENGTH this raises 413 first
    return _load(schema, parse_json(raw), "request")


def parse_json(raw: bytes) -> dict[str, Any]:
    """``raw`` as a JSON object within the limits above; a problem otherwise."""
    try:
        text = raw.decode("utf-8")  # strict: refuses encoded surrogates too
    except UnicodeDecodeError:
        raise MalformedRequest("the body is not UTF-8 text") from None
    try:
        data = json.loads(
            text,
            parse_int=_integer,
            parse_float=_finite_float,
            parse_constant=_no_constant,
        )
    except json.JSONDecodeError as exc:
        raise MalformedRequest(
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise MalformedRequest(_too_deep()) from None
    if not isinstance(data, dict):
        raise ValidationFailed(
            "the body must be a JSON object", errors=[FieldError("", "expected an object")]
        )
    # Both walks are skipped unless the raw text could hold what they look for: a NUL or a
    # surrogate arrives only as a \u escape, and nesting needs brackets.
    if text.count("[") + text.count("{") > MAX_DEPTH:
        _check_depth(data, 1)
    if "\\u" in text:
        not_text = _not_text(data, "")
        if not_text:
            summary = "; ".join(f"{e.pointer or '/'}: {e.detail}" for e in not_text[:5])
            raise ValidationFailed(f"the request is not valid: {summary}", errors=not_text[:100])
    return data


def text_problem(value: str) -> str | None:
    """Why ``value`` is not text a field may hold (a NUL, a lone surrogate), or None."""
    found = NOT_TEXT.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain the NUL character (U+0000)"
    return "must not contain a lone surrogate (U+D800 to U+DFFF): it is not Unicode text"


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise MalformedRequest(
            f"the body holds an integer of {len(digits.lstrip('-')):,} digits; "
            f"at most {MAX_INTEGER_DIGITS} are read"
        )
    return int(digits)


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise MalformedRequest(f"the body holds a number too large to read: {literal[:40]}")
    return value


def _no_constant(name: str) -> float:
    raise MalformedRequest(f"the body holds {name}, which is not a JSON number")


def _too_deep() -> str:
    return f"the body is nested too deep: at most {MAX_DEPTH} levels of arrays and objects"


def _check_depth(value: dict[str, Any] | list[Any], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise MalformedRequest(_too_deep())
    for item in value.values() if isinstance(value, dict) else value:
        if isinstance(item, dict | list):
            _check_depth(item, depth + 1)


def _not_text(value: object, pointer: str) -> list[FieldError]:
    """Every string in ``value`` (member names too) that is not storable text."""
    if isinstance(value, str):
        problem = text_problem(value)
        return [] if problem is None else [FieldError(pointer, problem)]
    found: list[FieldError] = []
    if isinstance(value, dict):
        for key, item in value.items():
            inside = f"{pointer}/{pointer_segment(key)}"
            if (problem := text_problem(key)) is not None:
                found.append(FieldError(inside, f"the member's name {problem}"))
            found.extend(_not_text(item, inside))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_not_text(item, f"{pointer}/{index}"))
    return found


def pointer_segment(name: str) -> str:
    """``name`` as one JSON Pointer segment (RFC 6901), what is not text shown as U+FFFD."""
    return NOT_TEXT.sub(chr(0xFFFD), name).replace("~", "~0").replace("/", "~1")


def load_query(schema: Schema) -> dict[str, Any]:
    """The query string loaded through ``schema`` (one value per name); a problem otherwise."""
    repeated = [name for name in request.args if len(request.args.getlist(name)) > 1]
    if repeated:
        raise ValidationFailed(
            f"give {repeated[0]!r} once",
            errors=[FieldError(f"/{name}", "given more than once") for name in repeated],
        )
    return _load(schema, request.args.to_dict(), "query")


def property_query() -> str:
    """The ``?property=`` the widget's GET endpoints are asked about: a property key."""
    property_key = request.args.get("property", "")
    if not SLUG.match(property_key):
        raise ValidationFailed(
            "the 'property' query parameter must name a property, e.g. ?property=demo-shop",
            errors=[FieldError("/property", "a lowercase slug is required")],
        )
    return property_key


def _load(schema: Schema, data: dict[str, Any], what: str) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        field_errors = list(_field_errors(exc.messages, ""))
        summary = "; ".join(f"{e.pointer or '/'}: {e.detail}" for e in field_errors[:5])
        raise ValidationFailed(f"the {what} is not valid: {summary}", errors=field_errors) from None
    return loaded


def _field_errors(messages: Any, pointer: str) -> list[FieldError]:
    """Flatten marshmallow's nested messages into JSON Pointers (RFC 6901)."""
    if isinstance(messages, Mapping):
        found: list[FieldError] = []
        for key, value in messages.items():
            if (
                key in ("key", "value") and pointer
            ) or key == "_schema":  # a Dict field's key/value error
                found.extend(_field_errors(value, pointer))
            else:
                found.extend(_field_errors(value, f"{pointer}/{pointer_segment(str(key))}"))
        return found
    if isinstance(messages, list):
        return [FieldError(pointer, str(m)) for m in messages if not isinstance(m, Mapping)] + [
            e for m in messages if isinstance(m, Mapping) for e in _field_errors(m, pointer)
        ]
    return [FieldError(pointer, str(messages))]
