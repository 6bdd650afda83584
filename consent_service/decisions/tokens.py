"""The decisions a consent token carries: the decision rule applied to the receipt it rests on.

A token must say exactly what a look-up (``GET /v1/decisions``) would have said at ``iat``:
for the browser (``visitor:``) or, once it is linked to a customer, for the customer
(``customer:``), whose most recent choice on any browser the widget adopts too. So each
purpose is judged by :func:`decide` with the facts a look-up loads for it: the receipt's
choice for the purpose (the state projection holds the same row), its jurisdiction as the
property tightened it, the GPC signal on record or live, and the last material policy
version that touched the purpose. Nothing here reads the database beyond the property's
consent context (cached like look-ups'), so a token costs one signature.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.orm import Session

from consent_service.consent.state import GRANTED
from consent_service.consent.tokens import TokenBasis
from consent_service.consent.tokens import TokenIssuer
from consent_service.decisions.rule import Decision
from consent_service.decisions.rule import EarlierChoice
from consent_service.decisions.rule import RecordedChoice
from consent_service.decisions.rule import decide
from consent_service.jurisdictions.rulebook import jurisdiction_by_code
from consent_service.properties.context_cache import ContextCache
from consent_service.properties.jurisdiction_overrides import apply_overrides
from consent_service.properties.lookup import ConsentContext


def token_decisions(
    context: ConsentContext, basis: TokenBasis, *, now: dt.datetime, live_gpc: bool = False
) -> list[Decision]:
    """Every offered purpose's decision for the subject whose latest receipt is ``basis``."""
    jurisdiction = apply_overrides(
        jurisdiction_by_code(basis.jurisdiction, on=now.date()), context.overrides
    )
    # For a purpose added since the receipt, as a look-up judges it (``lookups._Judge``).
    refused = frozenset(
        category
        for purpose in context.purposes
        if basis.decisions.get(purpose.key) not in (None, GRANTED)
        for category in purpose.opt_out_categories
    )
    earlier = EarlierChoice(basis.policy_version, refused)
    return [
        decide(
            purpose.facts,
            jurisdiction,
            _choice(basis, purpose.key),
            last_material_version=purpose.changed_in,
            gpc_on_record=basis.gpc,
            now=now,
            live_gpc=live_gpc,
            earlier=earlier,
        )
        for purpose in context.purposes
    ]


def issue_token(
    session: Session,
    contexts: ContextCache,
    issuer: TokenIssuer,
    *,
    property_key: str,
    visitor_id: uuid.UUID,
    basis: TokenBasis,
    live_gpc: bool = False,
) -> str:
    """A signed token for ``visitor_id`` resting on ``basis``, judged at the issuer's now.

    ``live_gpc``: the request carries ``Sec-GPC: 1`` (or the choice was sent with ``gpc``).
    """
    now = issuer.now()
    context = contexts.confirmed(session, property_key, now=now)
    return issue_token_in(context, issuer, visitor_id=visitor_id, basis=basis, live_gpc=live_gpc)


def issue_token_in(
    context: ConsentContext,
    issuer: TokenIssuer,
    *,
    visitor_id: uuid.UUID,
    basis: TokenBasis,
    live_gpc: bool = False,
) -> str:
    """A signed token judged by ``context``, which the caller has just confirmed as the
    property's (a consent's write reads ``config_version`` in its own transaction, so the
    token it answers with needs no query of its own)."""
    now = issuer.now()
    decisions = token_decisions(context, basis, now=now, live_gpc=live_gpc)
    return issuer.issue(
        property_key=context.property_key,
        visitor_id=visitor_id,
        basis=basis,
        decisions=decisions,
        now=now,
    )


def _choice(basis: TokenBasis, purpose_key: str) -> RecordedChoice | None:
    """The receipt's choice for one purpose, as the state projection would hold it (None: the
    purpose was not offered when the receipt was made)."""
    given = basis.decisions.get(purpose_key)
    if given is None:
        return None
    return RecordedChoice(
        granted=given == GRANTED,
        receipt_id=basis.receipt_id,
        policy_version=basis.policy_version,
        given_at=basis.issued_at,
        expires_at=basis.expires_at,
        gpc=basis.gpc,
    )
