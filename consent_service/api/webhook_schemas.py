"""Request schemas of the webhook management API (strict: unknown fields are refused)."""

from __future__ import annotations

from typing import ClassVar

from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from consent_service.messaging.webhooks import EVENT_TYPES

# What the OpenAPI document states of a URL: a subset of what the service takes (production
# also wants a public host; development takes http:// and private ones), so that every URL
# matching it is accepted. An https URL with a host name, a port and a path of ASCII that
# RFC 3986 allows unescaped; no credentials, no #fragment.
_LABEL = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PATH = "[A-Za-z0-9._~!$&'()*+,;=:@/?-]"  # RFC 3986 path and query characters, unescaped
URL_PATTERN = f"^https://{_LABEL}([.]{_LABEL})*(:[1-9][0-9]{{0,3}})?(/{_PATH}*)?$"


class WebhookEndpointRequestSchema(Schema):
    """``POST /v1/webhooks``. The URL's finer rules (https, public host) are the domain's."""

    example: ClassVar[dict[str, object]] = {
        "url": "https://shop.northwind.example/hooks/consent",
        "event_types": ["consent.changed", "subject.erased"],
        "description": "CRM sync",
    }

    url = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"pattern": URL_PATTERN},
    )
    event_types = fields.List(
        fields.String(
            validate=validate.OneOf(EVENT_TYPES, error="must be one of: " + ", ".join(EVENT_TYPES))
        ),
        required=True,
        validate=validate.Length(min=1, max=len(EVENT_TYPES), error="give 1 to {max} types"),
    )
    description = fields.String(load_default="", validate=validate.Length(max=200))
