"""Reading JSON request bodies into validated dicts, with precise problems when they are bad."""

from __future__ import annotations

import json
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


def load_json(schema: Schema) -> dict[str, Any]:
    """The request's JSON object, loaded through ``schema``; raises a problem otherwise."""
    if not request.is_json:
        raise UnsupportedMediaType("send the body as application/json")
    raw = request.get_data(cache=False)  # beyond MAX_CONTENT_LENGTH this raises 413 first
    try:
        data = json.loads(raw)
    except UnicodeDecodeError:
        raise MalformedRequest("the body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise MalformedRequest(
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(data, dict):
        raise ValidationFailed(
            "the body must be a JSON object", errors=[FieldError("", "expected an object")]
        )
    return _load(schema, data, "request")


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
                escaped = str(key).replace("~", "~0").replace("/", "~1")
                found.extend(_field_errors(value, f"{pointer}/{escaped}"))
        return found
    if isinstance(messages, list):
        return [FieldError(pointer, str(m)) for m in messages if not isinstance(m, Mapping)] + [
            e for m in messages if isinstance(m, Mapping) for e in _field_errors(m, pointer)
        ]
    return [FieldError(pointer, str(messages))]
