"""Identity linking and consent recorded by shop backends.

A visitor becomes a known customer only on a credential the browser
cannot forge — an API key (``POST /v1/subjects/link``) or a token the shop's backend signed
that the widget passes on (``POST /v1/identity``)."""

from __future__ import annotations

from flask import Response
from flask import jsonify

from consent_service.api import bp
from consent_service.api import operations as doc
from consent_service.api.auth import current_caller
from consent_service.api.auth import integration
from consent_service.api.recording import receipt_response
from consent_service.api.response_schemas import ConsentReceiptSchema
from consent_service.api.response_schemas import SubjectLinkSchema
from consent_service.api.schemas import IdentifyRequestSchema
from consent_service.api.schemas import SubjectConsentRequestSchema
from consent_service.api.schemas import SubjectLinkRequestSchema
from consent_service.consent.receipts import ConsentRequest
from consent_service.consent.receipts import Method
from consent_service.consent.receipts import ReoptinConfirmationRequired
from consent_service.consent.receipts import record_consent
from consent_service.errors import ConcurrentConsentWrite
from consent_service.errors import FieldError
from consent_service.errors import IdentityConflict
from consent_service.errors import InvalidIdentityToken
from consent_service.errors import OriginNotAllowed
from consent_service.errors import PolicyVersionNotCurrent
from consent_service.errors import SubjectNotAccessible
from consent_service.errors import UnknownPolicy
from consent_service.errors import UnknownProperty
from consent_service.errors import UnknownPurpose
from consent_service.errors import ValidationFailed
from consent_service.extensions import committed
from consent_service.extensions import current_session
from consent_service.extensions import receipt_issuer
from consent_service.extensions import settings
from consent_service.extensions import vault
from consent_service.infra.database import begin_write
from consent_service.integrations.api_keys import Scope
from consent_service.integrations.identity import link_identity
from consent_service.integrations.identity import redeem_identity_token
from consent_service.integrations.identity import validate_claims
from consent_service.integrations.subject_consents import visitor_for
from consent_service.integrations.subject_refs import parse_subject_ref
from consent_service.jurisdictions.regions import normalise_region
from consent_service.models.base import utcnow
from consent_service.properties.lookup import consent_context
from consent_service.web.cors import answer_page
from consent_service.web.cors import check_page_origin
from consent_service.web.cors import preflight
from consent_service.web.request_body import load_json

_link_schema = SubjectLinkRequestSchema()
_identify_schema = IdentifyRequestSchema()
_consent_schema = SubjectConsentRequestSchema()
_link_answer = SubjectLinkSchema()


@bp.post("/v1/subjects/link")
@doc.operation(
    "linkSubject",
    "Identities",
    body=doc.Body(SubjectLinkRequestSchema, "Who the person is."),
    responses={200: doc.Answer("Linked.", SubjectLinkSchema)},
    raises=(IdentityConflict,),
)
@integration(Scope.SUBJECTS_WRITE)
def link_subject() -> Response:
    """Say who a visitor (or customer) is

    From the shop's backend: link a browser (`visitor_id`) to a customer reference and/or
    email, or link a reference and an email. At least `customer` or `email` is required.
    `locale` sets the customer's language for the emails they get.
    Customers are never merged implicitly: a contradicting link is a 409 and changes nothing.
    """
    body = load_json(_link_schema)
    claims = validate_claims(body["customer"], body["email"], body["locale"])
    caller = current_caller()
    with committed() as session:
        link = link_identity(
            session,
            vault(),
            caller.property_id,
            claims,
            visitor_id=body["visitor_id"],
        )
    return jsonify(_link_answer.dump(link))


@bp.post("/v1/subjects/consents")
@doc.operation(
    "recordSubjectConsent",
    "Consents",
    body=doc.Body(SubjectConsentRequestSchema, "The person and the choice."),
    responses={201: doc.Answer("Recorded.", ConsentReceiptSchema, headers=doc.CACHE_HEADERS)},
    raises=(
        SubjectNotAccessible,
        UnknownPurpose,
        UnknownPolicy,
        PolicyVersionNotCurrent,
        ConcurrentConsentWrite,
        IdentityConflict,
        ReoptinConfirmationRequired,
    ),
)
@integration(Scope.CONSENT_WRITE)
def record_subject_consent() -> Response:
    """Record consent on a person's behalf (shop backend)

    A checkbox at checkout, a phone call, a paper form: the receipt is like the widget's, with
    `source` `api:<key id>`, chained under the customer's account subject (created on first use
    for `customer:` and `email:` subjects), so their most recent choice anywhere wins. `region`
    (e.g. the billing country) chooses the law; without it the strictest applies.
    """
    body = load_json(_consent_schema)
    if body["region"] is not None and normalise_region(body["region"]) is None:
        raise ValidationFailed(
            f"{body['region']!r} is not an ISO 3166 country or subdivision",
            errors=[FieldError("/region", "not an ISO 3166 code")],
        )
    caller = current_caller()
    ref = parse_subject_ref(body["subject"], "/subject")
    # One transaction: a refused consent also undoes an identity created for it.
    with committed() as session:
        visitor_id = visitor_for(session, vault(), caller.property_id, ref)
        recorded = record_consent(
            session,
            ConsentRequest(
                property_key=caller.property_key,
                visitor_id=visitor_id,
                policy_version=body["policy_version"],
                method=Method(body["method"]),
                decisions=body["decisions"],
                gpc=body["gpc"],
                source=f"api:{caller.public_id}",
                reoptin_confirmed=body["reoptin_confirmed"],
                region=body["region"],
            ),
            issuer=receipt_issuer(),
        )
    return receipt_response(recorded)


@bp.post("/v1/identity", provide_automatic_options=False)
@doc.operation(
    "identifyVisitor",
    "Identities",
    parameters=[doc.RECORDING_ORIGIN],
    body=doc.Body(IdentifyRequestSchema, "The token and the visitor."),
    responses={204: doc.Answer("Linked.", headers=doc.WIDGET_ANSWER_HEADERS)},
    raises=(InvalidIdentityToken, OriginNotAllowed, UnknownProperty, IdentityConflict),
)
def identify_visitor() -> Response:
    """Link the browser to a customer with a token the shop signed

    Called by the widget with an identity token the shop's backend signed with one of the
    property's identity secrets for this visitor; the browser cannot forge one. Nothing is
    linked unless the token verifies, names this `visitor_id`, and has not been used before
    (a token links once).
    """
    return answer_page(_identify)


@bp.route("/v1/identity", methods=["OPTIONS"])
@doc.preflight_operation("preflightIdentity", "identifying visitors")
def identity_preflight() -> Response:
    return preflight("POST", "link visitors")


def _identify(origin: str | None) -> Response:
    body = load_json(_identify_schema)
    session = current_session()
    # It writes (the token's nonce, the link) after reading: on SQLite, queue as a writer first.
    begin_write(session)
    context = consent_context(session, body["property"], now=utcnow())
    check_page_origin(origin, context.allowed_origins, context.property_key)
    # One transaction: the token is used up only if the link is made, and only once.
    with committed():
        claims = redeem_identity_token(
            session,
            vault(),
            context.property_id,
            context.property_key,
            body["visitor_id"],
            body["identity_token"],
            settings().identity_token_max_age,
        )
        link_identity(session, vault(), context.property_id, claims, visitor_id=body["visitor_id"])
    response = Response(status=204)
    response.headers["Cache-Control"] = "no-store"
    return response
