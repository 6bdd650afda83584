"""The consent-state projection: the latest decision per (subject, purpose).

Live writes and the rebuild share :func:`state_rows`, so a rebuilt projection is the live one
by construction; a property-based test checks it against random histories anyway.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from consent_service.infra.database import dialect_insert_for
from consent_service.infra.driver_statements import DriverStatement
from consent_service.infra.driver_statements import bound_value
from consent_service.models import ConsentReceipt
from consent_service.models import ConsentState
from consent_service.models import PolicyVersion
from consent_service.models import Purpose
from consent_service.models.base import table_of

GRANTED = "granted"

_STATE_COLUMNS = (
    "property_id",
    "granted",
    "receipt_id",
    "policy_version",
    "jurisdiction",
    "method",
    "gpc",
    "given_at",
    "expires_at",
)


def state_rows(
    receipt: Mapping[Any, Any], policy_number: int, purpose_ids: Mapping[str, int]
) -> list[dict[str, object]]:
    """The state rows one receipt (its column values) produces; purposes no longer offered
    are skipped."""
    return [
        {
            "subject_id": receipt["subject_id"],
            "purpose_id": purpose_ids[key],
            "property_id": receipt["property_id"],
            "granted": value == GRANTED,
            "receipt_id": receipt["id"],
            "policy_version": policy_number,
            "jurisdiction": receipt["jurisdiction"],
            "method": receipt["method"],
            "gpc": receipt["gpc"],
            "given_at": receipt["issued_at"],
            "expires_at": receipt["expires_at"],
        }
        for key, value in receipt["decisions"].items()
        if key in purpose_ids
    ]


def upsert_state(session: Session, rows: list[dict[str, object]]) -> None:
    """Insert or replace state rows in the caller's transaction, by a statement compiled once
    per dialect and run on the driver (``infra.driver_statements``).

    On PostgreSQL the rows travel as one JSON parameter unpacked by the server
    (``json_to_recordset``): one round trip, and the SQL text is the same for any number of
    rows, so psycopg parses it once and prepares it (a multi-row VALUES of five rows was
    longer than psycopg caches and was re-parsed for every consent: ~0.3 ms of CPU). SQLite
    has no round trips: the single-row upsert is stepped once per row by the driver's
    ``executemany``."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        _JSON_UPSERT.run(session, {"rows": _as_json_rows(rows, dialect)})
    else:
        _UPSERT.run_many(session, rows)


_ROW_COLUMNS = ("subject_id", "purpose_id", *_STATE_COLUMNS)


def _upsert_statement(dialect: str) -> sa.Insert:
    table = table_of(ConsentState)
    return _replacing(
        dialect_insert_for(dialect, table).values(
            {name: sa.bindparam(name) for name in _ROW_COLUMNS}
        )
    )


def _json_upsert_statement(_dialect: str) -> sa.Insert:
    """PostgreSQL: ``INSERT ... SELECT`` from the rows' JSON, typed as the table's columns."""
    table = table_of(ConsentState)
    rows = sa.cast(sa.bindparam("rows", type_=sa.Text()), postgresql.JSON)
    source = (
        sa.func.json_to_recordset(rows)
        .table_valued(*(sa.column(name, table.c[name].type) for name in _ROW_COLUMNS))
        .render_derived(name="r", with_types=True)
    )
    return _replacing(
        postgresql.insert(table).from_select(
            list(_ROW_COLUMNS), sa.select(*(source.c[name] for name in _ROW_COLUMNS))
        )
    )


def _replacing(insert: Any) -> sa.Insert:
    """``insert``, replacing the state row of a (subject, purpose) already there."""
    upsert: sa.Insert = insert.on_conflict_do_update(
        index_elements=["subject_id", "purpose_id"],
        set_={name: insert.excluded[name] for name in _STATE_COLUMNS},
    )
    return upsert


_UPSERT = DriverStatement(_upsert_statement)
_JSON_UPSERT = DriverStatement(_json_upsert_statement)


def _as_json_rows(rows: list[dict[str, object]], dialect: sa.Dialect) -> str:
    """The rows as JSON, each value first converted as its column binds it (UTC times stored
    naive, as ``UTCDateTime`` says)."""
    processors = _bind_processors(dialect)
    converted = [
        {name: bound_value(processor, row[name]) for name, processor in processors} for row in rows
    ]
    return orjson.dumps(converted).decode()


@functools.cache
def _bind_processors(dialect: sa.Dialect) -> tuple[tuple[str, Any], ...]:
    table = table_of(ConsentState)
    return tuple(
        (name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in _ROW_COLUMNS
    )


def rebuild_state(session: Session, *, batch_size: int = 1000) -> int:
    """Recompute the whole projection from receipts; returns the number of state rows."""
    session.execute(sa.delete(ConsentState))
    purpose_ids: dict[int, dict[str, int]] = {}
    for purpose in session.scalars(sa.select(Purpose)):
        purpose_ids.setdefault(purpose.property_id, {})[purpose.key] = purpose.id
    receipts = table_of(ConsentReceipt)
    query = (
        sa.select(receipts, PolicyVersion.number.label("policy_number"))
        .join(PolicyVersion, PolicyVersion.id == receipts.c.policy_version_id)
        .order_by(receipts.c.subject_id, receipts.c.seq)
        .execution_options(yield_per=batch_size)
    )
    written = 0
    latest: dict[tuple[uuid.UUID, int], dict[str, object]] = {}
    for row in session.execute(query).mappings():
        ids = purpose_ids.get(row["property_id"], {})
        for state in state_rows(row, row["policy_number"], ids):
            latest[(state["subject_id"], state["purpose_id"])] = state  # type: ignore[index]
        if len(latest) >= batch_size * 10:
            written += _flush_subjects(session, latest, keep=row["subject_id"])
    written += _flush_subjects(session, latest, keep=None)
    return written


def _flush_subjects(
    session: Session,
    latest: dict[tuple[uuid.UUID, int], dict[str, object]],
    keep: uuid.UUID | None,
) -> int:
    """Write finished subjects' rows; the subject still being read (``keep``) stays buffered."""
    done = [key for key in latest if key[0] != keep]
    rows = [latest.pop(key) for key in done]
    upsert_state(session, rows)
    return len(rows)
