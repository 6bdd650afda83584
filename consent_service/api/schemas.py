"""Request schemas (marshmallow). Types are strict: JSON ``"true"`` or ``1`` is not a boolean."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from consent_service.receipts import Method

SLUG = validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,63}$", error="must be a lowercase slug")
PUBLIC_METHODS = [m.value for m in Method]


class StrictBoolean(fields.Field[bool]):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"invalid": "must be true or false"})
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class StrictInteger(fields.Integer):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"invalid": "must be an integer"})
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return value


class ConsentRequestSchema(Schema):
    property = fields.String(required=True, validate=SLUG)
    visitor_id = fields.UUID(required=True)
    policy_version = StrictInteger(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    method = fields.String(
        required=True,
        validate=validate.OneOf(
            PUBLIC_METHODS, error="must be one of: " + ", ".join(PUBLIC_METHODS)
        ),
    )
    decisions = fields.Dict(
        keys=fields.String(validate=SLUG),
        values=StrictBoolean(),
        load_default=dict,
        validate=validate.Length(max=64),
    )
    gpc = StrictBoolean(load_default=False)
