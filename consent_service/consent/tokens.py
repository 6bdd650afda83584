"""Consent tokens (ARCHITECTURE §10): what the service decided for one browser, signed, so a
shop's own servers can act on it without asking.

A token is a compact JWS signed with the receipts' Ed25519 key (``kid`` in the header,
verifiable with ``/.well-known/jwks.json``). Its header says ``typ`` :data:`TOKEN_TYP` and its
claims ``schema`` :data:`TOKEN_SCHEMA`, so a receipt (``typ`` ``JOSE``, schema
``consent-service/receipt/v1``) can never pass for a token, nor a token for a receipt. Claims::

    {"schema": "consent-service/consent-token/v1", "property": "demo-shop",
     "sub": "<visitor id>", "jurisdiction": "EU", "receipt_id": "<the receipt it rests on>",
     "policy_version": 2,
     "decisions": {"analytics": {"allowed": true, "reason": "granted"}, ...},
     "iat": 1767225600, "exp": 1767226500}

``sub`` is the widget's random visitor id, never an email or a customer reference (the token
sits in a cookie page scripts can read). ``decisions`` are the decision rule's, for every
purpose the property offers (``decisions.tokens`` makes them). ``exp`` is ``iat`` plus the
configured lifetime, or earlier when a granted consent lapses sooner: a token never says
"granted" past the consent it rests on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Protocol

from consent_service.consent.visitor_choice import LatestReceipt
from consent_service.infra.signing import SigningKey
from consent_service.models.base import utcnow

TOKEN_TYP = "consent-token+jwt"
TOKEN_SCHEMA = "consent-service/consent-token/v1"
# The one reason under which an allowed decision can lapse (its consent expires).
_LAPSING_REASON = "granted"


@dataclasses.dataclass(frozen=True)
class TokenBasis:
    """The receipt a token rests on: the visitor's latest (or, once the browser is linked to a
    customer, the customer's latest on any browser), as much of it as the rule needs."""

    receipt_id: str
    jurisdiction: str
    gpc: bool
    policy_version: int
    decisions: Mapping[str, str]  # {purpose: "granted" | "denied"}
    issued_at: dt.datetime
    expires_at: dt.datetime

    @classmethod
    def of_receipt(cls, payload: Mapping[str, object]) -> TokenBasis:
        """From a receipt's signed payload, just recorded (its schema is ours)."""
        policy = payload["policy"]
        decisions = payload["decisions"]
        assert isinstance(policy, Mapping) and isinstance(decisions, Mapping)
        return cls(
            receipt_id=str(payload["receipt_id"]),
            jurisdiction=str(payload["jurisdiction"]),
            gpc=bool(payload["gpc"]),
            policy_version=int(policy["version"]),
            decisions={str(k): str(v) for k, v in decisions.items()},
            issued_at=_timestamp(payload["issued_at"]),
            expires_at=_timestamp(payload["expires_at"]),
        )

    @classmethod
    def of_latest(cls, receipt: LatestReceipt) -> TokenBasis:
        """From the latest receipt the visitor-choice look-up found."""
        return cls(
            receipt_id=str(receipt.receipt_id),
            jurisdiction=receipt.jurisdiction,
            gpc=receipt.gpc,
            policy_version=receipt.policy_version,
            decisions=receipt.decisions,
            issued_at=receipt.issued_at,
            expires_at=receipt.expires_at,
        )


class TokenDecision(Protocol):
    """One purpose's answer, as the decision rule gives it (``decisions.rule.Decision``)."""

    @property
    def purpose(self) -> str: ...
    @property
    def allowed(self) -> bool: ...
    @property
    def reason(self) -> str: ...
    @property
    def expires_at(self) -> dt.datetime | None: ...


class TokenIssuer:
    """Signs consent tokens with the receipts' current key; one per process.

    ``clock`` is the tokens' time (``iat``, ``exp``, and the ``now`` the rule judges at):
    injectable so tests can age a token without waiting.
    """

    def __init__(
        self, key: SigningKey, ttl: dt.timedelta, *, clock: Callable[[], dt.datetime] = utcnow
    ) -> None:
        if ttl <= dt.timedelta(0):
            raise ValueError("a consent token's lifetime must be positive")
        self.key = key
        self.ttl = ttl
        self.clock = clock

    def now(self) -> dt.datetime:
        return self.clock()

    def issue(
        self,
        *,
        property_key: str,
        visitor_id: uuid.UUID,
        basis: TokenBasis,
        decisions: Iterable[TokenDecision],
        now: dt.datetime,
    ) -> str:
        """The compact JWS of ``decisions`` (one signature)."""
        return self.key.sign(
            token_claims(property_key, visitor_id, basis, decisions, now=now, ttl=self.ttl),
            typ=TOKEN_TYP,
        )


def token_claims(
    property_key: str,
    visitor_id: uuid.UUID,
    basis: TokenBasis,
    decisions: Iterable[TokenDecision],
    *,
    now: dt.datetime,
    ttl: dt.timedelta,
) -> dict[str, object]:
    """The claims a token signs (see the module's docstring)."""
    answers: dict[str, object] = {}
    ends = now + ttl
    for decision in decisions:
        answers[decision.purpose] = {"allowed": decision.allowed, "reason": str(decision.reason)}
        lapses = decision.expires_at
        if decision.allowed and decision.reason == _LAPSING_REASON and lapses is not None:
            ends = min(ends, lapses)
    return {
        "schema": TOKEN_SCHEMA,
        "property": property_key,
        "sub": str(visitor_id),
        "jurisdiction": basis.jurisdiction,
        "receipt_id": basis.receipt_id,
        "policy_version": basis.policy_version,
        "decisions": answers,
        "iat": int(now.timestamp()),
        "exp": int(ends.timestamp()),
    }


def _timestamp(value: object) -> dt.datetime:
    """A receipt's RFC 3339 time (``...Z``) as an aware datetime."""
    return dt.datetime.fromisoformat(str(value))
