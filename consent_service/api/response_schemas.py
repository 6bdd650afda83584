"""Response schemas (marshmallow): what the endpoints send back.

Views declare them in their ``@operation`` and serialize with them (``schema.dump``), so the
OpenAPI document describes the schema that produced the body; the contract tests check every
response against it. Some answers are described here but built elsewhere: the banner (built and
cached by the banner package), a receipt's ``payload`` (the signed claims, sent as signed), the
decisions (one function builds both answers; the bulk one, 10,000 items, is written with
orjson), and the visitor's choice, whose members depend on its ``status`` in a way only a JSON
Schema conditional can say (``VISITOR_CHOICE``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from consent_service.consent.receipts import Method
from consent_service.decisions.rule import Reason
from consent_service.infra.times import rfc3339_seconds
from consent_service.jurisdictions.rules import FIRST_LAYER_BUTTONS
from consent_service.jurisdictions.rules import Regime
from consent_service.messaging.webhooks import EVENT_TYPES
from consent_service.models import OutboxStatus
from consent_service.properties.settings import BANNER_TEXT_KEYS

SHA256_HEX = validate.Regexp(r"^[0-9a-f]{64}$")
COMPACT_JWS = validate.Regexp(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


def _doc(text: str, **extra: object) -> dict[str, object]:
    return {"description": text, **extra}


@dataclass(frozen=True, eq=False)  # one object per component: compared and hashed by identity
class RawSchema:
    """A component written as JSON Schema, for what marshmallow cannot say."""

    name: str
    schema: Mapping[str, Any]


class Timestamp(fields.DateTime):
    """RFC 3339 in UTC with a ``Z`` to the second, as ``infra.times`` writes every time."""

    def _serialize(
        self, value: dt.datetime | None, attr: str | None, obj: Any, **kwargs: Any
    ) -> str | None:
        return None if value is None else rfc3339_seconds(value)


# -- problems (RFC 9457) -----------------------------------------------------------------------


class FieldErrorSchema(Schema):
    pointer = fields.String(
        required=True,
        metadata=_doc(
            "JSON Pointer (RFC 6901) to the offending member of the request body or query "
            "(`/decisions/analytics`); the empty string means the whole body."
        ),
    )
    detail = fields.String(required=True, metadata=_doc("What is wrong with it."))


class ProblemSchema(Schema):
    """An RFC 9457 problem: every 4xx and 5xx response, as ``application/problem+json``."""

    type = fields.String(
        required=True,
        metadata=_doc(
            "Identifies the problem type: a URL under `/problems/` that documents it, or "
            "`about:blank` for plain HTTP errors (unknown route, wrong method, body too "
            "large, unsupported media type, rate limited, internal error).",
            format="uri",
        ),
    )
    title = fields.String(required=True, metadata=_doc("Short summary of the problem type."))
    status = fields.Integer(
        required=True,
        validate=validate.Range(min=400, max=599),
        metadata=_doc("The HTTP status code."),
    )
    detail = fields.String(metadata=_doc("What went wrong with this request, for people."))
    instance = fields.String(required=True, metadata=_doc("The request path (decoded)."))
    request_id = fields.String(
        required=True,
        metadata=_doc("Also sent as the `X-Request-ID` header; quote it when reporting."),
    )
    errors = fields.List(
        fields.Nested(FieldErrorSchema),
        metadata=_doc("Present on validation problems: one entry per offending field."),
    )


# Dumps an error class (``errors.problem_types()``): its ``code``, ``title`` and ``description``.
class ProblemTypeSchema(Schema):
    type = fields.String(required=True, attribute="code", metadata=_doc("The problem type's code."))
    title = fields.String(required=True)
    description = fields.String(
        required=True, metadata=_doc("What the problem means and what a client should do.")
    )


# -- operations --------------------------------------------------------------------------------


class HealthSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["ok"]))


class ReadySchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["ready"]))


# -- keys --------------------------------------------------------------------------------------


class JwkSchema(Schema):
    """A public Ed25519 key (RFC 8037 OKP JWK). No ``alg``: the key verifies receipts signed
    as ``Ed25519`` (RFC 9864, today) and as ``EdDSA`` (before), and a JWK names only one."""

    kty = fields.String(required=True, validate=validate.OneOf(["OKP"]))
    crv = fields.String(required=True, validate=validate.OneOf(["Ed25519"]))
    x = fields.String(required=True, metadata=_doc("The public key, base64url without padding."))
    kid = fields.String(required=True, metadata=_doc("Matches the `kid` of receipts' headers."))
    use = fields.String(required=True, validate=validate.OneOf(["sig"]))


class JwksSchema(Schema):
    keys = fields.List(fields.Nested(JwkSchema), required=True)


# -- consents ----------------------------------------------------------------------------------


class ReceiptPolicySchema(Schema):
    document = fields.String(required=True, metadata=_doc("The policy document's key."))
    version = fields.Integer(required=True, metadata=_doc("The version the person saw."))
    sha256 = fields.String(
        required=True,
        validate=SHA256_HEX,
        metadata=_doc("Hex SHA-256 of the version's exact bytes (as served)."),
    )
    url = fields.String(required=True, metadata=_doc("Where that version is served.", format="uri"))


class ReceiptPayloadSchema(Schema):
    """The signed claims of a consent receipt, as also carried inside ``receipt``."""

    schema = fields.String(required=True, validate=validate.OneOf(["consent-service/receipt/v1"]))
    receipt_id = fields.UUID(required=True)
    property = fields.String(required=True)
    controller = fields.String(required=True, metadata=_doc("The controller's name."))
    subject = fields.UUID(required=True, metadata=_doc("The subject id (per property)."))
    visitor_id = fields.UUID(required=True)
    seq = fields.Integer(
        required=True,
        validate=validate.Range(min=1),
        metadata=_doc("Position in this subject's receipt chain, from 1."),
    )
    prev = fields.String(
        required=True,
        allow_none=True,
        validate=SHA256_HEX,
        metadata=_doc("Hex SHA-256 of the previous receipt's JWS; null for the first."),
    )
    policy = fields.Nested(ReceiptPolicySchema, required=True)
    jurisdiction = fields.String(
        required=True, metadata=_doc("The jurisdiction whose rules applied (`unknown` if none).")
    )
    region = fields.String(
        required=True,
        allow_none=True,
        metadata=_doc("The visitor's region (ISO 3166-1/-2), null when not known."),
    )
    decisions = fields.Dict(
        keys=fields.String(),
        values=fields.String(validate=validate.OneOf(["granted", "denied"])),
        required=True,
        metadata=_doc("Every purpose the property offers, granted or denied."),
    )
    method = fields.String(required=True, validate=validate.OneOf([m.value for m in Method]))
    source = fields.String(required=True, metadata=_doc("Who recorded it, e.g. `widget`."))
    gpc = fields.Boolean(required=True, metadata=_doc("A Global Privacy Control signal was on."))
    network = fields.String(
        required=True,
        allow_none=True,
        metadata=_doc("The client's network, truncated (IPv4 /24, IPv6 /48)."),
    )
    issued_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    reoptin_confirmed = fields.Boolean(
        metadata=_doc(
            "Present (true) when the person confirmed, in a second step, opting back in after "
            "an opt-out (11 CCR §7028)."
        )
    )


class ConsentReceiptSchema(Schema):
    receipt = fields.String(
        required=True,
        validate=COMPACT_JWS,
        metadata=_doc(
            "The signed receipt: a compact JWS (`alg` `Ed25519`, RFC 9864; `EdDSA` before); "
            "verify it with `/.well-known/jwks.json`."
        ),
    )
    receipt_id = fields.UUID(required=True)
    payload = fields.Nested(ReceiptPayloadSchema, required=True)


CONSENT_TOKEN_DESCRIPTION = (
    "A consent token resting on the visitor's latest receipt: a compact JWS (`alg` "
    "`Ed25519`, `typ` `consent-token+jwt`, verify it with `/.well-known/jwks.json`) whose "
    "claims give each offered purpose's decision as a look-up would (`decisions`: "
    "`{purpose: {allowed, reason}}`), the visitor id (`sub`), `property`, `jurisdiction`, "
    "`receipt_id`, `policy_version`, `iat` and a short `exp`. The widget keeps it in a "
    'first-party cookie for the shop\'s own servers (README "Consent tokens").'
)


class RecordedConsentSchema(ConsentReceiptSchema):
    """The widget's answer: the receipt and a consent token resting on it."""

    token = fields.String(
        required=True, validate=COMPACT_JWS, metadata=_doc(CONSENT_TOKEN_DESCRIPTION)
    )


# -- banner ------------------------------------------------------------------------------------


class BannerLinkSchema(Schema):
    key = fields.String(required=True)
    text = fields.String(required=True)
    exact_wording = fields.Boolean(
        required=True, metadata=_doc("The law fixes `text`: show it word for word.")
    )
    alternative_to = fields.List(
        fields.String(),
        required=True,
        metadata=_doc("This one link may replace the links with these keys."),
    )


class BannerJurisdictionSchema(Schema):
    code = fields.String(
        required=True,
        metadata=_doc(
            "The rule applied: an ISO 3166 code (`FR`, `US-CA`), `unknown`, or a country's "
            "rule for an unknown subdivision (`US-unknown`, `CA-unknown`: the strictest of its "
            "subdivisions)."
        ),
    )
    regime = fields.String(required=True, validate=validate.OneOf([r.value for r in Regime]))
    reject_all_first_layer = fields.Boolean(
        required=True,
        metadata=_doc('Whether `first_layer` holds "reject_all" (kept for older clients).'),
    )
    gpc_honoured = fields.Boolean(required=True)
    consent_lifetime_days = fields.Integer(required=True)
    first_layer = fields.List(
        fields.String(validate=validate.OneOf(FIRST_LAYER_BUTTONS)),
        required=True,
        metadata=_doc("The first layer's buttons, in order; none may be more prominent."),
    )
    reask_floor_months = fields.Integer(
        required=True,
        metadata=_doc(
            "After a refusal or opt-out, do not ask again for this many calendar months."
        ),
    )
    gpc_status_display = fields.Boolean(
        required=True,
        metadata=_doc("Show persistently on the page that an opt-out signal was honoured."),
    )
    reoptin_confirmation = fields.Boolean(
        required=True,
        metadata=_doc("Opting back in after an opt-out takes a second, confirming step."),
    )
    material_change_consent = fields.Boolean(
        required=True,
        metadata=_doc(
            "Opt-out regime that still wants fresh consent for a purpose a material change "
            "touched: a grant made before it is off until asked again."
        ),
    )
    links = fields.List(fields.Nested(BannerLinkSchema), required=True)


# What a few of the words are for; the others say it in their names.
_TEXT_DOCS = {
    "acknowledge": 'The notice\'s button that acknowledges it ("OK"); a notice has no refusal.',
    "gpc_status": "Shown persistently once an opt-out preference signal was honoured "
    '(11 CCR §7025(c)(6): "Opt-Out Request Honored").',
    "reoptin_confirm": "The second step's question when opting back in after an opt-out.",
    "confirm": "The button that confirms the second step.",
}
BannerTextsSchema = Schema.from_dict(
    {
        key: fields.String(
            required=True, metadata=_doc(_TEXT_DOCS[key]) if key in _TEXT_DOCS else {}
        )
        for key in sorted(BANNER_TEXT_KEYS)
    },
    name="BannerTextsSchema",
)


class BannerPurposeSchema(Schema):
    key = fields.String(required=True)
    essential = fields.Boolean(required=True, metadata=_doc("Always on; cannot be refused."))
    legal_basis = fields.String(required=True, metadata=_doc("E.g. `consent`, `contract`."))
    name = fields.String(required=True)
    description = fields.String(required=True)
    default = fields.Boolean(
        required=True, metadata=_doc("Pre-ticked in the preferences (never where opt-in rules).")
    )
    consent_mode = fields.List(
        fields.String(), required=True, metadata=_doc("Google Consent Mode v2 types it grants.")
    )
    opt_out_categories = fields.List(
        fields.String(),
        required=True,
        metadata=_doc("US-state opt-out categories: `sale`, `sharing`, `targeted_advertising`."),
    )
    vendors = fields.List(fields.String(), required=True, metadata=_doc("Vendor keys."))
    platform_signals = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata=_doc(
            "Each enabled platform's signals this purpose grants (`{platform: [signal]}`); a "
            "signal is granted only when every purpose listing it is."
        ),
    )
    changed_in = fields.Integer(
        required=True,
        allow_none=True,
        metadata=_doc(
            "The latest material policy version in effect that affects this purpose (changed "
            "or added it); null if none. A stored choice for it under an earlier version is "
            "stale: ask about this purpose again."
        ),
    )


class BannerVendorSchema(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    country = fields.String(required=True, allow_none=True)
    privacy_policy_url = fields.String(required=True, allow_none=True)
    purposes = fields.List(fields.String(), required=True, metadata=_doc("Purpose keys."))
    cookies = fields.List(
        fields.Dict(keys=fields.String(), values=fields.String()),
        required=True,
        metadata=_doc("Each cookie's `name`, `domain`, `duration` and `description`."),
    )


class BannerPolicySchema(Schema):
    document = fields.String(required=True, metadata=_doc("The document consent refers to."))
    version = fields.Integer(required=True, allow_none=True, metadata=_doc("Null: none yet."))
    sha256 = fields.String(required=True, allow_none=True, validate=SHA256_HEX)
    url = fields.String(required=True, allow_none=True, metadata={"format": "uri"})
    last_material_version = fields.Integer(
        required=True,
        allow_none=True,
        metadata=_doc("Consents to versions before this one are asked again."),
    )


class BannerDocumentSchema(Schema):
    key = fields.String(required=True)
    title = fields.String(required=True)
    version = fields.Integer(required=True)
    url = fields.String(required=True, metadata={"format": "uri"})


class BannerSchema(Schema):
    """Everything the widget needs for one property, jurisdiction and language."""

    property = fields.String(required=True)
    controller = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata=_doc("The controller's `name`, `address` and `contact`."),
    )
    locale = fields.String(required=True, metadata=_doc("The language chosen for this banner."))
    locales = fields.List(fields.String(), required=True)
    direction = fields.String(required=True, validate=validate.OneOf(["ltr", "rtl"]))
    jurisdiction = fields.Nested(BannerJurisdictionSchema, required=True)
    texts = fields.Nested(BannerTextsSchema, required=True)
    purposes = fields.List(fields.Nested(BannerPurposeSchema), required=True)
    vendors = fields.List(fields.Nested(BannerVendorSchema), required=True)
    policy = fields.Nested(BannerPolicySchema, required=True)
    platforms = fields.List(
        fields.String(),
        required=True,
        metadata=_doc(
            "The ad and shop platforms the property enables (`microsoft_uet`, "
            "`microsoft_clarity`, `meta_pixel`, `tiktok_pixel`, `amazon_ads`, `shopify`, "
            "`wp_consent`): the widget loads `widget-ads.js` to tell them the choice."
        ),
    )
    documents = fields.List(
        fields.Nested(BannerDocumentSchema),
        required=True,
        metadata=_doc("Every policy document's version in effect, for the banner's links."),
    )
    consents_url = fields.String(
        required=True, metadata=_doc("Where to post the choice.", format="uri")
    )
    config_version = fields.Integer(
        required=True, metadata=_doc("Changes whenever anything on the banner changes.")
    )


# -- integration: decisions and identities -----------------------------------------------------


class DecisionSchema(Schema):
    """May the shop process this subject's data for this purpose, and why."""

    subject = fields.String(
        required=True, metadata=_doc("The subject reference as asked, normalised.")
    )
    purpose = fields.String(required=True)
    allowed = fields.Boolean(required=True)
    reason = fields.String(required=True, validate=validate.OneOf([r.value for r in Reason]))
    receipt_id = fields.UUID(
        required=True, allow_none=True, metadata=_doc("The receipt the answer rests on.")
    )
    policy_version = fields.Integer(required=True, allow_none=True)
    jurisdiction = fields.String(required=True, allow_none=True)
    expires_at = fields.DateTime(
        required=True, allow_none=True, metadata=_doc("When the recorded choice lapses.")
    )


class BulkDecisionsSchema(Schema):
    decisions = fields.List(
        fields.Nested(DecisionSchema),
        required=True,
        metadata=_doc("One per subject x purpose, subjects in the order asked, then purposes."),
    )


class SubjectLinkSchema(Schema):
    identity_id = fields.UUID(required=True, metadata=_doc("The known customer."))
    subject_id = fields.UUID(
        required=True,
        allow_none=True,
        metadata=_doc("The browser's subject, when a visitor was linked and has one."),
    )
    created = fields.Boolean(required=True, metadata=_doc("A new identity was created."))


# -- integration: webhooks ---------------------------------------------------------------------


class WebhookEndpointSchema(Schema):
    id = fields.UUID(required=True)
    url = fields.String(required=True, metadata=_doc("Where events are posted.", format="uri"))
    description = fields.String(required=True)
    event_types = fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)),
        required=True,
        metadata=_doc("The events sent to it."),
    )
    created_at = Timestamp(required=True)
    disabled_at = Timestamp(
        required=True, allow_none=True, metadata=_doc("Null while it is in use.")
    )
    disabled_reason = fields.String(required=True, allow_none=True)


class ListedWebhookEndpointSchema(WebhookEndpointSchema):
    deliveries = fields.Dict(
        keys=fields.String(validate=validate.OneOf([s.value for s in OutboxStatus])),
        values=fields.Integer(validate=validate.Range(min=1)),
        required=True,
        metadata=_doc("Messages to it by delivery status; `dead` ones can be re-driven."),
    )


class WebhookListSchema(Schema):
    webhooks = fields.List(fields.Nested(ListedWebhookEndpointSchema), required=True)


class CreatedWebhookEndpointSchema(WebhookEndpointSchema):
    """A new endpoint, with the signing secret: shown this once, never again."""

    secret = fields.String(
        required=True,
        validate=validate.Regexp(r"^whsec_"),
        metadata=_doc(
            "The Standard Webhooks signing secret (`whsec_<base64>`): verify every delivery's "
            "`webhook-signature` with it."
        ),
    )


# -- the widget's per-visitor answers ----------------------------------------------------------


class PreferencesLinkSchema(Schema):
    """A sign-in link to the self-service preferences page for this visitor."""

    url = fields.String(
        required=True,
        metadata=_doc(
            "Open it in the visitor's browser within `expires_in` seconds: it signs that "
            "browser in to the preferences page.",
            format="uri",
        ),
    )
    expires_in = fields.Integer(
        required=True,
        validate=validate.Range(min=1),
        metadata=_doc("Seconds the link stays valid."),
    )


# The members after ``status`` come exactly when it is ``recorded``, which only a conditional
# can say.
VISITOR_CHOICE = RawSchema(
    "VisitorChoice",
    {
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
            "token": {
                "type": "string",
                "pattern": COMPACT_JWS.regex.pattern,
                "description": "Only when `recorded` and asked for (`token`), and the token "
                "the widget holds does not already rest on this receipt. "
                + CONSENT_TOKEN_DESCRIPTION,
            },
        },
        "required": ["status"],
        "additionalProperties": False,
        "if": {"properties": {"status": {"const": "recorded"}}},
        "then": {"required": ["receipt_id", "issued_at", "policy_version", "decisions"]},
        "else": {"maxProperties": 1},
    },
)
