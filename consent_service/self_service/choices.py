"""A person's choices as the preferences page shows and changes them.

What each purpose is, why it is processed (legal basis), who does it (vendors), and where the
person stands with the reason, decided by the same rule and the same look-up the shops'
backends ask (``lookups.look_up``), so the page can never say something the API contradicts.
A change is an ordinary receipt (method ``custom`` or ``withdrawal``, source
``preferences-page``): signed, chained, projected, and announced by the ``consent.changed``
webhook like any other.

A customer's changes are chained on their *account* subject: the customer's most recent
choice anywhere wins, so a choice made here governs every browser linked to them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Collection
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from consent_service.banner.configuration import build_banner
from consent_service.consent.receipts import ConsentRequest
from consent_service.consent.receipts import Issuer
from consent_service.consent.receipts import Method
from consent_service.consent.receipts import RecordedReceipt
from consent_service.consent.receipts import record_consent
from consent_service.decisions.lookups import look_up
from consent_service.decisions.rule import Reason
from consent_service.integrations.identity import ensure_account_subject
from consent_service.integrations.subject_refs import SubjectRef
from consent_service.jurisdictions.rulebook import jurisdiction_for_region
from consent_service.models import Property
from consent_service.properties.jurisdiction_overrides import apply_overrides
from consent_service.properties.lookup import ConsentContext
from consent_service.properties.lookup import OfferedPurpose
from consent_service.properties.lookup import consent_context
from consent_service.self_service.access import Access

SOURCE = "preferences-page"


@dataclasses.dataclass(frozen=True)
class PurposeChoice:
    key: str
    name: str
    description: str
    legal_basis: str
    essential: bool
    vendors: tuple[Mapping[str, Any], ...]
    allowed: bool
    reason: Reason
    # The receipt behind the answer (None: no choice on record for this purpose).
    receipt_id: str | None
    policy_version: int | None
    expires_at: dt.datetime | None
    # The browser's Global Privacy Control signal switches this purpose off here.
    locked_by_gpc: bool


@dataclasses.dataclass(frozen=True)
class ChoicesPage:
    property_key: str
    property_name: str
    controller: Mapping[str, str]
    locale: str
    direction: str
    jurisdiction: Mapping[str, Any]  # the rule where the person is now (as the banner has it)
    purposes: tuple[PurposeChoice, ...]
    policy: Mapping[str, Any]
    documents: tuple[Mapping[str, Any], ...]
    gpc_honoured: bool  # the browser sends GPC and the law here honours it

    @property
    def can_record(self) -> bool:
        """Only a published policy in effect can be consented to."""
        return self.policy.get("version") is not None


def person_ref(access: Access) -> SubjectRef:
    """How look-ups name the person: the customer (every browser of theirs) or one browser."""
    if access.identity_id is not None:
        return SubjectRef("identity", str(access.identity_id))
    assert access.visitor_id is not None
    return SubjectRef("visitor", str(access.visitor_id))


def load_choices(
    session: Session,
    access: Access,
    *,
    region: str | None,
    locale: str,
    gpc: bool,
    base_url: str,
    now: dt.datetime,
) -> ChoicesPage:
    prop = session.get(Property, access.property_id)
    assert prop is not None
    context = consent_context(session, prop.key, now=now)
    here = apply_overrides(jurisdiction_for_region(region, on=now.date()), context.overrides)
    banner = build_banner(
        session, prop.key, jurisdiction=here, locale=locale, base_url=base_url, now=now
    )
    answers = {
        answer.decision.purpose: answer.decision
        # The browser's own GPC applies to what the page shows, as it does to a shop's look-up.
        for answer in look_up(
            session,
            context,
            [person_ref(access)],
            context.purposes,
            vault=None,
            now=now,
            live_gpc=gpc,
        )
    }
    vendors = {vendor["key"]: vendor for vendor in banner["vendors"]}
    gpc_honoured = gpc and here.honours_gpc
    purposes = []
    for purpose in banner["purposes"]:
        decision = answers[purpose["key"]]
        purposes.append(
            PurposeChoice(
                key=purpose["key"],
                name=purpose["name"] or purpose["key"],
                description=purpose["description"],
                legal_basis=purpose["legal_basis"],
                essential=purpose["essential"],
                vendors=tuple(vendors[key] for key in purpose["vendors"] if key in vendors),
                allowed=decision.allowed,
                reason=decision.reason,
                receipt_id=decision.receipt_id,
                policy_version=decision.policy_version,
                expires_at=decision.expires_at,
                locked_by_gpc=gpc_honoured
                and not purpose["essential"]
                and bool(purpose["opt_out_categories"]),
            )
        )
    return ChoicesPage(
        property_key=prop.key,
        property_name=prop.name,
        controller=dict(prop.controller or {}),
        locale=banner["locale"],
        direction=banner["direction"],
        jurisdiction={**banner["jurisdiction"], "name": here.name, "law": here.law},
        purposes=tuple(purposes),
        policy=banner["policy"],
        documents=tuple(banner["documents"]),
        gpc_honoured=gpc_honoured,
    )


def recording_visitor(session: Session, access: Access, now: dt.datetime) -> uuid.UUID:
    """The visitor id a change is chained under: the browser itself, or the customer's
    account subject (linked to the customer the first time)."""
    if access.identity_id is not None:
        return ensure_account_subject(session, access.property_id, access.identity_id, now)
    assert access.visitor_id is not None
    return access.visitor_id


def change_choices(
    session: Session,
    access: Access,
    chosen: Collection[str] | None,
    *,
    issuer: Issuer,
    region: str | None,
    gpc: bool,
    network: str | None,
    origin: str | None,
    now: dt.datetime,
    reoptin_confirmed: bool = False,
) -> RecordedReceipt:
    """Record the person's new choices (``chosen``: the purposes they allow; any key the
    property does not offer is ignored), or withdraw every consent (``chosen`` None), as one
    receipt in the caller's transaction.

    Refusing everything after having granted something is a withdrawal, as in the widget.
    Opting back in to a sale / sharing purpose after an opt-out where the law wants two steps
    raises ``ReoptinConfirmationRequired`` unless the person confirmed it in the page's second
    step (``reoptin_confirmed``, 11 CCR §7028)."""
    prop = session.get(Property, access.property_id)
    assert prop is not None
    context = consent_context(session, prop.key, now=now)
    optional = [p for p in context.purposes if not p.essential]
    granted = {p.key: p.key in chosen for p in optional} if chosen is not None else None
    refuses_all = granted is not None and not any(granted.values())
    if granted is None or (refuses_all and _allows_any(session, context, access, optional, now)):
        method, decisions = Method.WITHDRAWAL, {}
    else:
        method, decisions = Method.CUSTOM, granted
    request = ConsentRequest(
        property_key=prop.key,
        visitor_id=recording_visitor(session, access, now),
        policy_version=context.current.number if context.current else 0,
        method=method,
        decisions=decisions,
        gpc=gpc,
        source=SOURCE,
        region=region,
        network=network,
        origin=origin,
        reoptin_confirmed=reoptin_confirmed,
    )
    return record_consent(session, request, issuer=issuer, now=now)


def _allows_any(
    session: Session,
    context: ConsentContext,
    access: Access,
    purposes: Sequence[OfferedPurpose],
    now: dt.datetime,
) -> bool:
    """Whether any of ``purposes`` is allowed for the person at this moment."""
    answers = look_up(session, context, [person_ref(access)], purposes, vault=None, now=now)
    return any(answer.decision.allowed for answer in answers)
