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


class ScanCountsSchema(Schema):
    """Findings per kind (``scanning.report.FindingKind``), every kind present."""

    before_consent = fields.Integer(required=True)
    after_refusal = fields.Integer(required=True)
    undeclared = fields.Integer(required=True)
    not_cleared = fields.Integer(required=True)
    signal_mismatch = fields.Integer(required=True)


class ScanCompletedEventSchema(Schema):
    """The ``data`` of a ``scan.completed`` event (``scanning.storage.completed_event``): which
    scan, how it went and its counts; the findings themselves are in the stored report."""

    property = fields.String(required=True)
    scan_id = fields.UUID(required=True)
    trigger = fields.String(required=True, validate=validate.OneOf(["cli", "schedule"]))
    status = fields.String(
        required=True, validate=validate.OneOf(["completed", "partial", "failed"])
    )
    started_at = fields.String(required=True)
    finished_at = fields.String(required=True)
    config_version = fields.Integer(required=True)
    policy_versions = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    regions = fields.List(fields.String(), required=True)
    situations = fields.List(fields.String(), required=True)
    pages = fields.Integer(required=True)
    counts = fields.Nested(ScanCountsSchema, required=True)
    violations = fields.Integer(required=True)
    warnings = fields.Integer(required=True)
    unscanned = fields.Integer(required=True)
    report_sha256 = fields.String(required=True, validate=validate.Length(equal=64))
