"""Request schemas (marshmallow). Types are strict: JSON ``"true"`` or ``1`` is not a boolean."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from typing import ClassVar

from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import validate

from consent_service.consent.receipts import Method
from consent_service.errors import ValidationFailed
from consent_service.integrations.subject_refs import KINDS
from consent_service.integrations.subject_refs import parse_subject_ref
from consent_service.jurisdictions.regions import COUNTRIES
from consent_service.properties import catalogue

SLUG = validate.Regexp(catalogue.SLUG, error="must be a lowercase slug")
PUBLIC_METHODS = [m.value for m in Method]
# Examples (the OpenAPI document's) name the demo shop (``consent-service demo load``) and this
# visitor, so they work as they stand.
EXAMPLE_VISITOR = "2b20eaf3-120b-4ce7-8267-637543b6577d"


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
        # 2.0 is an integer to JSON Schema (and so to the OpenAPI document); 2.5 and "2" are not.
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return value


class ChoiceSchema(Schema):
    """What a person chose, however it reaches us: the policy version they saw, the method
    and the per-purpose decisions."""

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
    # California (11 CCR §7028): opting back in to sale / sharing after opting out takes a
    # request and then a separate confirmation; true says the person gave that second step.
    reoptin_confirmed = StrictBoolean(
        load_default=False,
        metadata={
            "description": "The person confirmed, in a second step, that they opt back in to "
            "a purpose they had opted out of (required where the jurisdiction says so)."
        },
    )

    # A blanket method fixes every decision sent with it (``consent.receipts``): for the
    # OpenAPI document, which has no other way to say so.
    # Method ``gpc`` records a signal, so it comes with one.
    constraints: ClassVar[dict[str, object]] = {
        "allOf": [
            *(
                {
                    "if": {"properties": {"method": {"const": method}}, "required": ["method"]},
                    "then": {
                        "properties": {"decisions": {"additionalProperties": {"const": value}}}
                    },
                }
                for method, value in (
                    ("accept_all", True),
                    ("reject_all", False),
                    ("withdrawal", False),
                )
            ),
            {
                "if": {"properties": {"method": {"const": "gpc"}}, "required": ["method"]},
                "then": {"properties": {"gpc": {"const": True}}, "required": ["gpc"]},
            },
        ]
    }


class ConsentRequestSchema(ChoiceSchema):
    """``POST /v1/consents``: the widget's choice for its visitor."""

    example: ClassVar[dict[str, object]] = {
        "property": "demo-shop",
        "visitor_id": EXAMPLE_VISITOR,
        "policy_version": 2,
        "method": "custom",
        "decisions": {
            "preferences": True,
            "analytics": True,
            "marketing": False,
            "advertising": False,
        },
        "gpc": False,
    }

    property = fields.String(required=True, validate=SLUG)
    visitor_id = fields.UUID(required=True)


MAX_BULK_ITEMS = 10_000


_SUBJECT_PREFIX = validate.Regexp(
    r"^(visitor|customer|email|subject):.+$",
    error="must be 'visitor:<uuid>', 'customer:<ref>', 'email:<address>' or 'subject:<uuid>'",
)


def _subject_ref(value: str) -> None:
    """The look-up's own check, so every bad reference is reported at once (a reference
    without a known prefix is left to the pattern, which says so)."""
    try:
        parse_subject_ref(value, "")
    except ValidationFailed as exc:
        if ":" in value and value.split(":", 1)[0] in KINDS:
            raise ValidationError(exc.errors[0].detail) from None


SUBJECT_REF: list[Callable[[Any], Any]] = [_SUBJECT_PREFIX, _subject_ref]

# What the OpenAPI document states (``metadata={"pattern": ...}``) where the service accepts
# more than a pattern can say (any printable customer reference, addresses normalised first):
# the ASCII subset, so that every request matching the document is accepted.
_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_CUSTOMER = "[!-~]([ -~]{0,198}[!-~])?"  # printable ASCII, no space at either end
# Printable ASCII, one @, a dot after it, 254 characters at most.
_EMAIL = "[!-?A-~]{1,64}@[!-?A-~]{1,63}[.][!-?A-~]{1,125}"
EMAIL_PATTERN = f"^{_EMAIL}$"
URL_SUBJECT_PATTERN = f"^(visitor:{_UUID}|customer:{_CUSTOMER}|subject:{_UUID})$"
SUBJECT_PATTERN = f"^(visitor:{_UUID}|customer:{_CUSTOMER}|email:{_EMAIL}|subject:{_UUID})$"


LIVE_GPC_DESCRIPTION = (
    "Whether the request you are serving carries Global Privacy Control: pass on the "
    "`Sec-GPC` header of the request you are serving (`Sec-GPC: 1` is `true`). Where the "
    "subject's jurisdiction honours GPC, sale / sharing / targeted-advertising purposes are "
    "then denied with reason `gpc`, whatever was granted before."
)


class DecisionQuerySchema(Schema):
    """``GET /v1/decisions`` query string."""

    subject = fields.String(
        required=True,
        validate=SUBJECT_REF,
        metadata={
            "description": "Who: `visitor:<uuid>`, `customer:<ref>` or `subject:<uuid>` "
            "(not `email:`).",
            "example": f"visitor:{EXAMPLE_VISITOR}",
            "pattern": URL_SUBJECT_PATTERN,
        },
    )
    purpose = fields.String(
        required=True,
        validate=SLUG,
        metadata={
            "description": "The purpose's key, as the banner lists it.",
            "example": "analytics",
        },
    )
    # A query string has no JSON types: exactly these four spellings, nothing else ("yes",
    # "on", "" are refused rather than guessed at).
    gpc = fields.Boolean(
        load_default=False,
        truthy={"true", "1"},
        falsy={"false", "0"},
        error_messages={"invalid": "must be true, false, 1 or 0"},
        metadata={"description": LIVE_GPC_DESCRIPTION, "example": False},
    )


class StringList(fields.Field[list[str]]):
    """A JSON array of strings checked in one pass: a bulk body holds 10,000 of them, and a
    field object per item costs more than the look-up itself. Items are validated further by
    the domain (which reports every bad one with its pointer)."""

    def __init__(
        self,
        *,
        min_items: int,
        max_items: int,
        max_length: int,
        item_pattern: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.min_items, self.max_items, self.max_length = min_items, max_items, max_length
        self.item_pattern = item_pattern  # what the document states of each item

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        if not isinstance(value, list):
            raise ValidationError("must be an array of strings")
        if not self.min_items <= len(value) <= self.max_items:
            raise ValidationError(
                f"must hold {self.min_items} to {self.max_items:,} items, not {len(value):,}"
            )
        bad = {
            i: [f"must be a string of 1 to {self.max_length} characters"]
            for i, item in enumerate(value)
            if not isinstance(item, str) or not 0 < len(item) <= self.max_length
        }
        if bad:
            raise ValidationError(dict(list(bad.items())[:100]))
        return value


class BulkDecisionRequestSchema(Schema):
    """``POST /v1/decisions``: every subject x every purpose, at most 10,000 items."""

    example: ClassVar[dict[str, object]] = {
        "subjects": [f"visitor:{EXAMPLE_VISITOR}", "customer:C-10293", "email:ada@example.com"],
        "purposes": ["analytics", "marketing"],
    }

    subjects = StringList(
        required=True,
        min_items=1,
        max_items=MAX_BULK_ITEMS,
        max_length=300,
        item_pattern=SUBJECT_PATTERN,
        metadata={"description": "subject references, as for GET /v1/decisions"},
    )
    purposes = fields.List(
        fields.String(validate=SLUG), required=True, validate=validate.Length(min=1, max=64)
    )
    gpc = StrictBoolean(load_default=False, metadata={"description": LIVE_GPC_DESCRIPTION})


class SubjectLinkRequestSchema(Schema):
    """``POST /v1/subjects/link``: the shop backend says who a visitor (or customer) is."""

    example: ClassVar[dict[str, object]] = {
        "visitor_id": EXAMPLE_VISITOR,
        "customer": "C-10293",
        "email": "ada@example.com",
        "locale": "de",
    }
    # At least one of the two (``validate_claims`` says so too), for the OpenAPI document.
    constraints: ClassVar[dict[str, object]] = {
        "anyOf": [
            {"required": [name], "properties": {name: {"type": "string"}}}
            for name in ("customer", "email")
        ]
    }

    visitor_id = fields.UUID(load_default=None)
    customer = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=200),
        metadata={"pattern": f"^{_CUSTOMER}$"},
    )
    email = fields.String(
        load_default=None,
        validate=validate.Length(min=3, max=254),
        metadata={"pattern": EMAIL_PATTERN},
    )
    locale = fields.String(
        load_default=None,
        validate=validate.Length(min=2, max=35),
        metadata={
            "pattern": "^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,4}$",
            "description": "The customer's language for the emails sent to them: one of the"
            " property's languages (`de-AT` is stored as `de`; one it lacks is a 422).",
        },
    )


class IdentifyRequestSchema(Schema):
    """``POST /v1/identity``: the widget passes on a token the shop backend signed."""

    example: ClassVar[dict[str, object]] = {
        "property": "demo-shop",
        "visitor_id": EXAMPLE_VISITOR,
        "identity_token": "eyJjIjoiQy0xMDI5MyJ9.ZxY0kQ.signature-from-the-shop-backend",
    }

    property = fields.String(required=True, validate=SLUG)
    visitor_id = fields.UUID(required=True)
    identity_token = fields.String(required=True, validate=validate.Length(min=1, max=2048))


class PreferencesLinkRequestSchema(Schema):
    """``POST /v1/preferences/link``: the widget asks for a sign-in link to the self-service
    page for its visitor; knowing the visitor id is the proof, as for recording consent."""

    example: ClassVar[dict[str, object]] = {"property": "demo-shop", "visitor_id": EXAMPLE_VISITOR}

    property = fields.String(required=True, validate=SLUG)
    visitor_id = fields.UUID(required=True)


class SubjectConsentRequestSchema(ChoiceSchema):
    """``POST /v1/subjects/consents``: a shop backend records consent on a person's behalf."""

    example: ClassVar[dict[str, object]] = {
        "subject": "customer:C-10293",
        "policy_version": 2,
        "method": "accept_all",
        "region": "DE",
    }

    subject = fields.String(
        required=True, validate=SUBJECT_REF, metadata={"pattern": SUBJECT_PATTERN}
    )
    # Where the person is (e.g. the billing country): it chooses the law; unknown is strictest.
    region = fields.String(
        load_default=None,
        validate=validate.Regexp(
            r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$", error="an ISO 3166 code such as 'FR' or 'US-CA'"
        ),
        # The document names the countries the service knows (``normalise_region``).
        metadata={"pattern": f"^({'|'.join(sorted(COUNTRIES))})(-[A-Z0-9]{{1,3}})?$"},
    )
