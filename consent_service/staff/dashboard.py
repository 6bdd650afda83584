"""What the admin's dashboard shows: consent rates per purpose and jurisdiction by day,
receipts per day, look-ups per integration, and one subject's verified receipt history.

Each series is one grouped query over a bounded window (at most a year of days), so the
dashboard's cost does not grow with the store's age.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.consent.receipts import SCAN_SOURCE
from consent_service.errors import FieldError
from consent_service.errors import ValidationFailed
from consent_service.infra.pii import Vault
from consent_service.integrations.subject_refs import SubjectRef
from consent_service.models import ApiKey
from consent_service.models import ConsentReceipt
from consent_service.models import DecisionLogEntry
from consent_service.models import Identity
from consent_service.models import Subject
from consent_service.properties.lookup import ConsentContext
from consent_service.self_service.proof import ReceiptLine
from consent_service.self_service.proof import receipt_history

MAX_DAYS = 366


@dataclasses.dataclass(frozen=True)
class Window:
    """Whole UTC days, ``first`` to ``last`` inclusive."""

    first: dt.date
    last: dt.date

    @classmethod
    def ending(cls, last: dt.date, days: int) -> Window:
        if not 1 <= days <= MAX_DAYS:
            raise ValidationFailed(
                f"the window must be 1 to {MAX_DAYS} days",
                errors=[FieldError("/days", f"1 to {MAX_DAYS}")],
            )
        return cls(last - dt.timedelta(days=days - 1), last)

    @property
    def days(self) -> list[dt.date]:
        count = (self.last - self.first).days + 1
        return [self.first + dt.timedelta(days=i) for i in range(count)]

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        start = dt.datetime.combine(self.first, dt.time(), tzinfo=dt.UTC)
        return start, dt.datetime.combine(self.last, dt.time(), tzinfo=dt.UTC) + dt.timedelta(
            days=1
        )


@dataclasses.dataclass(frozen=True)
class DayRate:
    day: dt.date
    receipts: int
    granted: int

    @property
    def rate(self) -> float | None:
        return self.granted / self.receipts if self.receipts else None


@dataclasses.dataclass(frozen=True)
class PurposeRates:
    purpose: str
    jurisdiction: str | None  # None: every jurisdiction together
    days: tuple[DayRate, ...]

    @property
    def receipts(self) -> int:
        return sum(d.receipts for d in self.days)

    @property
    def granted(self) -> int:
        return sum(d.granted for d in self.days)


def consent_rates(
    session: Session,
    context: ConsentContext,
    window: Window,
    *,
    by_jurisdiction: bool = False,
) -> list[PurposeRates]:
    """For each non-essential purpose: of the receipts issued each day, how many granted it.

    A receipt is one act of choosing, so this is the share of choices that said yes, which
    is what a banner's design moves (not the share of all visitors, who may never choose).
    """
    start, end = window.bounds()
    day = sa.func.date(ConsentReceipt.issued_at).label("day")
    purposes = [p for p in context.purposes if not p.essential]
    granted = [
        sa.func.sum(
            sa.case((ConsentReceipt.decisions[p.key].as_string() == "granted", 1), else_=0)
        ).label(f"g{i}")
        for i, p in enumerate(purposes)
    ]
    group: list[sa.ColumnElement[Any]] = [day]
    if by_jurisdiction:
        group.append(ConsentReceipt.jurisdiction.expression)
    query = (
        sa.select(*group, sa.func.count().label("receipts"), *granted)
        .where(
            ConsentReceipt.property_id == context.property_id,
            ConsentReceipt.issued_at >= start,
            ConsentReceipt.issued_at < end,
            # A compliance scan's clicks are not people's choices.
            ConsentReceipt.source != SCAN_SOURCE,
        )
        .group_by(*group)
    )
    counts: dict[tuple[str | None, dt.date], tuple[int, list[int]]] = {}
    for row in session.execute(query):
        code = row.jurisdiction if by_jurisdiction else None
        counts[(code, _as_date(row.day))] = (
            int(row.receipts),
            [int(getattr(row, f"g{i}") or 0) for i in range(len(purposes))],
        )
    codes = sorted({code for code, _ in counts}, key=str) if by_jurisdiction else [None]
    series = []
    for code in codes:
        for i, purpose in enumerate(purposes):
            days = []
            for day_ in window.days:
                total, grants = counts.get((code, day_), (0, [0] * len(purposes)))
                days.append(DayRate(day_, total, grants[i]))
            series.append(PurposeRates(purpose.key, code, tuple(days)))
    return series


@dataclasses.dataclass(frozen=True)
class IntegrationUsage:
    key_public_id: str | None
    key_name: str
    requests: int
    items: int
    allowed: int


def lookups_per_integration(
    session: Session, property_id: int, window: Window
) -> list[IntegrationUsage]:
    """Who asked how often (all internal data usage is logged): per API key, in the window."""
    start, end = window.bounds()
    query = (
        sa.select(
            ApiKey.public_id,
            ApiKey.name,
            sa.func.count().label("requests"),
            sa.func.sum(DecisionLogEntry.item_count).label("items"),
            sa.func.sum(DecisionLogEntry.allowed_count).label("allowed"),
        )
        .select_from(DecisionLogEntry)
        .outerjoin(ApiKey, ApiKey.id == DecisionLogEntry.api_key_id)
        .where(
            DecisionLogEntry.property_id == property_id,
            DecisionLogEntry.requested_at >= start,
            DecisionLogEntry.requested_at < end,
        )
        .group_by(ApiKey.public_id, ApiKey.name)
        .order_by(sa.func.count().desc())
    )
    return [
        IntegrationUsage(
            row.public_id,
            row.name or "(the service itself)",
            row.requests,
            row.items or 0,
            row.allowed or 0,
        )
        for row in session.execute(query)
    ]


def subject_history(
    session: Session, vault: Vault, context: ConsentContext, ref: SubjectRef
) -> list[ReceiptLine]:
    """Every receipt of the person a reference names (all their browsers and their account),
    oldest first, each verified: signature against the published keys, chain link, row."""
    return receipt_history(session, _subjects_of(session, vault, context, ref))


def _subjects_of(
    session: Session, vault: Vault, context: ConsentContext, ref: SubjectRef
) -> Sequence[uuid.UUID]:
    query = sa.select(Subject.id).where(Subject.property_id == context.property_id)
    if ref.kind == "visitor":
        query = query.where(Subject.visitor_id == uuid.UUID(ref.value))
    elif ref.kind == "subject":
        query = query.where(Subject.id == uuid.UUID(ref.value))
    else:
        if ref.kind == "customer":
            index = vault.customer_index(context.property_id, ref.value)
            # An earlier release's row keeps the plain reference until converted.
            named = sa.or_(Identity.customer_ref_index == index, Identity.customer_ref == ref.value)
        else:
            named = Identity.email_index == vault.email_index(context.property_id, ref.value)
        query = query.join(Identity, Identity.id == Subject.identity_id).where(
            Identity.property_id == context.property_id, named
        )
    return list(session.scalars(query))


def _as_date(value: object) -> dt.date:
    """``date()`` comes back as a date (PostgreSQL) or as ``YYYY-MM-DD`` text (SQLite)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
