"""``GET/POST /v1/decisions``: may the shop process this person's data for this purpose?

Each request is one call of :func:`consent_service.decisions.answer.answer_lookup`, which
logs the answers before they leave (if the log cannot be written, no answer is given).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import orjson
from flask import Response
from flask import jsonify
from flask import request

from consent_service.api import bp
from consent_service.api import operations as doc
from consent_service.api.auth import current_caller
from consent_service.api.auth import integration
from consent_service.api.response_schemas import BulkDecisionsSchema
from consent_service.api.response_schemas import DecisionSchema
from consent_service.api.schemas import MAX_BULK_ITEMS
from consent_service.api.schemas import BulkDecisionRequestSchema
from consent_service.api.schemas import DecisionQuerySchema
from consent_service.decisions.answer import answer_lookup
from consent_service.decisions.lookups import Answer
from consent_service.decisions.rule import Decision
from consent_service.errors import FieldError
from consent_service.errors import SubjectNotAccessible
from consent_service.errors import UnknownPurpose
from consent_service.errors import ValidationFailed
from consent_service.extensions import committed
from consent_service.extensions import context_cache
from consent_service.extensions import current_session
from consent_service.extensions import lookup_log
from consent_service.extensions import vault
from consent_service.infra.times import rfc3339_millis
from consent_service.integrations.api_keys import Scope
from consent_service.integrations.subject_refs import SubjectRef
from consent_service.integrations.subject_refs import parse_subject_ref
from consent_service.integrations.subject_refs import parse_subject_refs
from consent_service.models.base import utcnow
from consent_service.web.request_body import load_json
from consent_service.web.request_body import load_query
from consent_service.web.request_ids import request_id

# 10,000 email subjects of up to 254 characters, with JSON overhead.
BULK_BODY_BYTES = 4 * 1024 * 1024
_query_schema = DecisionQuerySchema()
_bulk_schema = BulkDecisionRequestSchema()


@bp.get("/v1/decisions")
@doc.operation(
    "getDecision",
    "Decisions",
    query=DecisionQuerySchema,
    responses={200: doc.Answer("The decision.", DecisionSchema, headers=doc.CACHE_HEADERS)},
    raises=(SubjectNotAccessible, UnknownPurpose),
)
@integration(Scope.CONSENT_READ)
def decision() -> Response:
    """May the shop process this subject's data for this purpose?

    One subject, one purpose. `subject` is `visitor:<uuid>`, `customer:<ref>` or
    `subject:<uuid>`; email subjects must use `POST` (no email addresses in URLs). Every answer
    is logged. Fails closed: `reason: error` is never `allowed`. Pass on the `Sec-GPC` header
    of the request you are serving as `gpc`: where the subject's law honours Global Privacy
    Control, it denies sale / sharing / targeted advertising (`reason: gpc`).
    """
    query = load_query(_query_schema)
    if query["subject"].startswith("email:"):
        raise ValidationFailed(
            "email addresses must not travel in URLs (they end up in access logs): "
            "ask with POST /v1/decisions instead",
            errors=[FieldError("/subject", "use POST /v1/decisions for email: subjects")],
        )
    ref = parse_subject_ref(query["subject"], "/subject")
    [answer] = _answer([ref], [query["purpose"]], "", live_gpc=query["gpc"])
    response = jsonify(_as_json(answer))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/v1/decisions")
@doc.operation(
    "getDecisions",
    "Decisions",
    body=doc.Body(BulkDecisionRequestSchema, "Subjects and purposes."),
    responses={
        200: doc.Answer("One decision per pair.", BulkDecisionsSchema, headers=doc.CACHE_HEADERS)
    },
    raises=(SubjectNotAccessible, UnknownPurpose),
)
@integration(Scope.CONSENT_READ)
def bulk_decisions() -> Response:
    """Decisions for many subjects and purposes at once

    Every subject x every purpose, at most 10,000 pairs; subjects may be `email:<address>` too.
    Answers come in request order (subjects, then purposes). `gpc` is the live signal of
    the request you are serving (pass on its `Sec-GPC` header), applied to every subject.
    """
    request.max_content_length = BULK_BODY_BYTES
    body = load_json(_bulk_schema)
    subjects, purposes = body["subjects"], body["purposes"]
    if len(subjects) * len(purposes) > MAX_BULK_ITEMS:
        raise ValidationFailed(
            f"{len(subjects)} subjects x {len(purposes)} purposes is more than "
            f"{MAX_BULK_ITEMS:,} items; split the request",
            errors=[FieldError("/subjects", f"at most {MAX_BULK_ITEMS:,} items per request")],
        )
    refs = parse_subject_refs(subjects, "/subjects")
    answers = _answer(refs, purposes, "/purposes", live_gpc=body["gpc"])
    # orjson: 10,000 answers serialise in ~6 ms instead of ~60 ms with the standard library.
    response = Response(
        orjson.dumps({"decisions": [_as_json(a) for a in answers]}), mimetype="application/json"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _answer(
    refs: Sequence[SubjectRef], purpose_keys: Sequence[str], pointer: str, *, live_gpc: bool
) -> list[Answer]:
    caller = current_caller()
    log = lookup_log()
    # Buffered, the log leaves the request nothing to commit: its reads ran without a
    # transaction (``answer_lookup``), and the session's teardown returns the connection.
    unit = contextlib.nullcontext(current_session()) if log.buffered else committed()
    with unit as session:
        return answer_lookup(
            session,
            context_cache(),
            log,
            property_key=caller.property_key,
            refs=refs,
            purpose_keys=purpose_keys,
            pointer=pointer,
            vault=vault(),
            api_key_id=caller.key_id,
            request_id=request_id(),
            now=utcnow(),
            live_gpc=live_gpc,
        )


def _as_json(answer: Answer) -> dict[str, object]:
    decision: Decision = answer.decision
    return {
        "subject": f"{answer.ref.kind}:{answer.ref.value}",
        "purpose": decision.purpose,
        "allowed": decision.allowed,
        "reason": decision.reason,  # a StrEnum: written as its value, without the lookup
        "receipt_id": decision.receipt_id,
        "policy_version": decision.policy_version,
        "jurisdiction": decision.jurisdiction,
        "expires_at": _timestamp(decision),
    }


def _timestamp(decision: Decision) -> str | None:
    if decision.expires_at is None:
        return None
    return rfc3339_millis(decision.expires_at)
