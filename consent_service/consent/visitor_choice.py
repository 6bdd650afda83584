"""What the service holds as a visitor's current choice, for the widget to check its cookie
against (``GET /v1/visitors/<id>/choice``).

The widget keeps the choice in a first-party cookie on the shop's domain, which nothing else
can change: a withdrawal on the self-service page or a consent a shop backend records for the
customer would otherwise go unnoticed there. Each receipt is a full snapshot of every offered
purpose, so the person's latest receipt, whole, is their current choice. A browser linked to a
customer answers with the customer's latest receipt on any of their browsers or their account
(as decisions do: the most recent choice anywhere wins). An erased visitor has no choice any
more, and the widget forgets its visitor id; erasure first withdrew that browser's consent by
receipt, and that withdrawal counts for the customer's other browsers as it does in look-ups.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm import aliased

from consent_service.errors import UnknownProperty
from consent_service.infra.database import execute_core
from consent_service.models import ConsentReceipt
from consent_service.models import PolicyVersion
from consent_service.models import Property
from consent_service.models import Subject


class ChoiceStatus(enum.StrEnum):
    RECORDED = "recorded"
    NONE = "none"  # no such visitor, or nothing recorded for them
    ERASED = "erased"


@dataclasses.dataclass(frozen=True)
class LatestReceipt:
    receipt_id: uuid.UUID
    issued_at: dt.datetime
    policy_version: int
    decisions: Mapping[str, str]  # {purpose: "granted" | "denied"}, every offered purpose
    # What a consent token resting on it needs too (``consent.tokens.TokenBasis``).
    jurisdiction: str
    gpc: bool
    expires_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class CurrentChoice:
    status: ChoiceStatus
    receipt: LatestReceipt | None = None  # set exactly when ``status`` is RECORDED


@dataclasses.dataclass(frozen=True)
class WidgetProperty:
    """What the widget's per-visitor endpoints need of a property: one indexed row."""

    id: int
    allowed_origins: frozenset[str]


def widget_property(session: Session, property_key: str) -> WidgetProperty:
    row = execute_core(session, _property_query(), {"key": property_key}).first()
    if row is None:
        raise UnknownProperty(f"there is no property {property_key!r}")
    return WidgetProperty(row.id, frozenset(row.allowed_origins or ()))


def current_choice(session: Session, property_id: int, visitor_id: uuid.UUID) -> CurrentChoice:
    """The visitor's (or, once linked, their customer's) latest receipt on ``property_id``.

    Two indexed statements: the subject by its unique (property, visitor), then the newest
    receipt of each candidate subject by the unique (subject, seq), the newest of those by
    ``issued_at``.
    """
    subject = execute_core(
        session, _subject_query(), {"property_id": property_id, "visitor_id": visitor_id}
    ).first()
    if subject is None:
        return CurrentChoice(ChoiceStatus.NONE)
    if subject.erased_at is not None:
        return CurrentChoice(ChoiceStatus.ERASED)
    if subject.identity_id is None:
        latest = execute_core(session, _latest_query(False), {"subject_id": subject.id}).first()
    else:
        latest = execute_core(
            session, _latest_query(True), {"identity_id": subject.identity_id}
        ).first()
    if latest is None:
        return CurrentChoice(ChoiceStatus.NONE)
    return CurrentChoice(
        ChoiceStatus.RECORDED,
        LatestReceipt(
            receipt_id=latest.id,
            issued_at=latest.issued_at,
            policy_version=latest.number,
            decisions=dict(latest.decisions),
            jurisdiction=latest.jurisdiction,
            gpc=latest.gpc,
            expires_at=latest.expires_at,
        ),
    )


@functools.cache
def _property_query() -> sa.Select[*tuple[Any, ...]]:
    return sa.select(Property.id, Property.allowed_origins).where(
        Property.key == sa.bindparam("key")
    )


@functools.cache
def _subject_query() -> sa.Select[*tuple[Any, ...]]:
    return sa.select(Subject.id, Subject.identity_id, Subject.erased_at).where(
        Subject.property_id == sa.bindparam("property_id"),
        Subject.visitor_id == sa.bindparam("visitor_id"),
    )


@functools.cache
def _latest_query(by_identity: bool) -> sa.Select[*tuple[Any, ...]]:
    """The newest receipt of one subject, or among an identity's subjects.

    One subject: a backward probe of the unique (subject_id, seq) index (``seq`` is the
    chain's own order). An identity: its handful of subjects through the index on
    ``identity_id``, each one's ``max(seq)`` a probe of that same index on both engines, and
    the newest of those by ``issued_at``. Ties (the same millisecond on two browsers) go to
    the later id: receipt ids are UUIDv7, ordered by time.
    """
    columns = sa.select(
        ConsentReceipt.id,
        ConsentReceipt.issued_at,
        ConsentReceipt.decisions,
        ConsentReceipt.jurisdiction,
        ConsentReceipt.gpc,
        ConsentReceipt.expires_at,
        PolicyVersion.number,
    )
    if not by_identity:
        return (
            columns.join(PolicyVersion, PolicyVersion.id == ConsentReceipt.policy_version_id)
            .where(ConsentReceipt.subject_id == sa.bindparam("subject_id"))
            .order_by(ConsentReceipt.seq.desc())
            .limit(1)
        )
    receipts = aliased(ConsentReceipt)
    newest_seq = (
        sa.select(sa.func.max(receipts.seq))
        .where(receipts.subject_id == Subject.id)
        .correlate(Subject)
        .scalar_subquery()
    )
    return (
        columns.select_from(Subject)
        .join(
            ConsentReceipt,
            sa.and_(ConsentReceipt.subject_id == Subject.id, ConsentReceipt.seq == newest_seq),
        )
        .join(PolicyVersion, PolicyVersion.id == ConsentReceipt.policy_version_id)
        .where(Subject.identity_id == sa.bindparam("identity_id"))
        .order_by(ConsentReceipt.issued_at.desc(), ConsentReceipt.id.desc())
        .limit(1)
    )
