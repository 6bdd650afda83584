"""The audit log: who changed what, when, with the state before and after (ARCHITECTURE §7).

Every admin change calls :func:`record` in the transaction that makes the change, so an entry
exists exactly when the change does. Rows are append-only (a database trigger refuses UPDATE and
DELETE). Secrets never reach the log: values under secret-sounding keys are redacted.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import re
import uuid
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.models import AuditEntry

REDACTED = "[redacted]"
_SECRET_KEY = re.compile(
    r"password|secret|token|hash|ciphertext|api_key|private_key", re.IGNORECASE
)
EXPORT_FIELDS = (
    "id",
    "at",
    "actor",
    "admin_user_id",
    "action",
    "target_type",
    "target_id",
    "before",
    "after",
    "network",
    "request_id",
)


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who acts: an admin's email (and id) or ``cli:<os user>``, and where from."""

    name: str
    admin_user_id: uuid.UUID | None = None
    network: str | None = None
    request_id: str | None = None


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: str | None,
    before: Mapping[str, object] | None,
    after: Mapping[str, object] | None,
    admin_user_id: uuid.UUID | None = None,
    network: str | None = None,
    request_id: str | None = None,
) -> AuditEntry:
    """Add one entry to the session's transaction (committed, or not, with the change)."""
    entry = AuditEntry(
        actor=actor[:254],
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=redact(before),
        after=redact(after),
        admin_user_id=admin_user_id,
        network=network,
        request_id=request_id,
    )
    session.add(entry)
    return entry


def record_as(
    session: Session,
    who: Actor,
    action: str,
    *,
    target_type: str,
    target_id: str | None,
    before: Mapping[str, object] | None,
    after: Mapping[str, object] | None,
) -> AuditEntry:
    """:func:`record` for an :class:`Actor`."""
    return record(
        session,
        actor=who.name,
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=before,
        after=after,
        admin_user_id=who.admin_user_id,
        network=who.network,
        request_id=who.request_id,
    )


def redact(values: Mapping[str, object] | None) -> dict[str, object] | None:
    """A JSON-safe copy with every secret-sounding key's value replaced, at any depth."""
    if values is None:
        return None
    return {str(key): _redacted_value(str(key), value) for key, value in values.items()}


def _redacted_value(key: str, value: object) -> object:
    if _SECRET_KEY.search(key) and value is not None and not isinstance(value, bool):
        return REDACTED
    if isinstance(value, Mapping):
        return redact(value)
    if isinstance(value, list | tuple):
        return [_redacted_value(key, item) for item in value]
    if isinstance(value, dt.datetime | dt.date | uuid.UUID):
        return value.isoformat() if not isinstance(value, uuid.UUID) else str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


@dataclasses.dataclass(frozen=True)
class AuditFilter:
    """Which entries to show; every field optional. Dates are whole UTC days, inclusive."""

    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        conditions: list[sa.ColumnElement[bool]] = []
        if self.actor:
            conditions.append(AuditEntry.actor == self.actor)
        if self.action:
            conditions.append(AuditEntry.action == self.action)
        if self.target_type:
            conditions.append(AuditEntry.target_type == self.target_type)
        if self.target_id:
            conditions.append(AuditEntry.target_id == self.target_id)
        if self.since:
            conditions.append(AuditEntry.at >= _day_start(self.since))
        if self.until:
            conditions.append(AuditEntry.at < _day_start(self.until + dt.timedelta(days=1)))
        return conditions


@dataclasses.dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def list_entries(
    session: Session, filters: AuditFilter, *, page: int = 1, per_page: int = 50
) -> AuditPage:
    """One page of matching entries, newest first."""
    page = max(1, page)
    total = session.scalar(
        sa.select(sa.func.count()).select_from(AuditEntry).where(*filters.conditions())
    )
    entries = session.scalars(_ordered(filters).limit(per_page).offset((page - 1) * per_page)).all()
    return AuditPage(list(entries), page, per_page, int(total or 0))


def iter_entries(session: Session, filters: AuditFilter) -> Iterator[AuditEntry]:
    """Every matching entry, newest first, fetched in batches (for exports)."""
    return iter(session.scalars(_ordered(filters).execution_options(yield_per=500)))


def distinct_actions(session: Session) -> list[str]:
    return list(session.scalars(sa.select(AuditEntry.action).distinct().order_by("action")))


def as_dict(entry: AuditEntry) -> dict[str, object]:
    return {
        "id": str(entry.id),
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "admin_user_id": str(entry.admin_user_id) if entry.admin_user_id else None,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "before": entry.before,
        "after": entry.after,
        "network": entry.network,
        "request_id": entry.request_id,
    }


def export_json(entries: Iterable[AuditEntry]) -> str:
    return json.dumps([as_dict(entry) for entry in entries], indent=2, sort_keys=True)


def export_csv(entries: Iterable[AuditEntry]) -> str:
    """One row per entry; ``before``/``after`` as JSON text. Cells that a spreadsheet would
    run as a formula are prefixed with ``'`` (CSV injection)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for entry in entries:
        row = as_dict(entry)
        for name in ("before", "after"):
            row[name] = "" if row[name] is None else json.dumps(row[name], sort_keys=True)
        writer.writerow({name: _csv_safe(row[name]) for name in EXPORT_FIELDS})
    return buffer.getvalue()


def _csv_safe(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _ordered(filters: AuditFilter) -> sa.Select[AuditEntry]:
    return (
        sa.select(AuditEntry)
        .where(*filters.conditions())
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    )


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
