"""The record of every consent look-up: which integration asked about whom, for which
purposes, and what it was told ("all internal data usage is logged").

One row per request; a bulk request of 10,000 items is still one row. The row is made before
the answer leaves, and written in one of two ways (:func:`lookup_log`): buffered (the
default: a background thread inserts the rows in batches, so a look-up never waits for the
database's writer; ``infra.deferred_writes`` says what a crash can lose), or in the request's
own transaction (``flush_seconds=0``: an answer given is an answer logged, at the price of a
write per look-up; the test suite's per-test transactions need it).

Rows are never rewritten but in one way: erasing a person replaces the labels that name them
by :data:`ERASED_LABEL` (the table's trigger allows that update and no other), so what was
asked and answered, and how often, stays on record without saying about whom.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Collection
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.decisions.lookups import Answer
from consent_service.infra.database import execute_core
from consent_service.infra.database import keyset_batches
from consent_service.infra.database import relax_commit_durability
from consent_service.infra.deferred_writes import DeferredWrites
from consent_service.models import DecisionLogEntry
from consent_service.models.base import new_id
from consent_service.models.base import table_of


def lookup_log(engine: sa.Engine, *, flush_seconds: float, wait_seconds: float) -> DeferredWrites:
    """This process's writer of look-up log rows (``flush_seconds`` 0: inline)."""
    return DeferredWrites(
        engine,
        _insert(),
        flush_seconds=flush_seconds,
        wait_seconds=wait_seconds,
        # The log may lose its last few hundred milliseconds in a database crash too:
        # nothing next to a disk flush per batch.
        prepare=relax_commit_durability,
        name="look-up log",
    )


def log_lookup(
    session: Session,
    log: DeferredWrites,
    *,
    property_id: int,
    api_key_id: uuid.UUID | None,
    request_id: str | None,
    purposes: Sequence[str],
    answers: Sequence[Answer],
    now: dt.datetime,
) -> None:
    log.write(
        session,
        {
            "id": new_id(),
            "property_id": property_id,
            "api_key_id": api_key_id,
            "requested_at": now,
            "request_id": request_id,
            "purposes": list(purposes),
            "item_count": len(answers),
            "allowed_count": sum(1 for a in answers if a.decision.allowed),
            "answers": [
                [a.log_label, a.decision.purpose, a.decision.allowed, a.decision.reason]
                for a in answers
            ],
        },
        weight=len(answers),
    )


@functools.cache
def _insert() -> sa.Insert:
    return sa.insert(table_of(DecisionLogEntry))


ERASED_LABEL = "erased"
BATCH_SIZE = 500


def pseudonymise_entries(
    session: Session,
    *,
    property_id: int,
    labels: Collection[str],
    now: dt.datetime,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Replace ``labels`` (an erased person's, see ``lookups.log_label``) by ERASED_LABEL in
    every entry of the property naming one of them; how many entries were rewritten.

    Entries are found by their JSON text (one indexed-by-property scan, in batches of
    ``batch_size`` ordered by id, so memory stays flat however long the log) and rewritten
    in Python, where the JSON is read exactly; item and allowed counts stay as they were.
    """
    wanted = set(labels)
    if not wanted:
        return 0
    log = table_of(DecisionLogEntry)
    text = sa.cast(log.c.answers, sa.Text)
    # Each label as the stored JSON spells it (a quoted JSON string).
    names_one = sa.or_(*(text.contains(json.dumps(label), autoescape=True) for label in wanted))
    rewrite = (
        sa.update(log)
        .where(log.c.id == sa.bindparam("_id"))
        .values(answers=sa.bindparam("_answers", type_=log.c.answers.type), pseudonymised_at=now)
    )
    rewritten = 0
    query = sa.select(log.c.id, log.c.answers).where(log.c.property_id == property_id, names_one)
    for rows in keyset_batches(session, query, log.c.id, batch_size):
        changes = []
        for row in rows:
            answers = [
                [ERASED_LABEL if answer[0] in wanted else answer[0], *answer[1:]]
                for answer in row.answers
            ]
            if answers != row.answers:
                changes.append({"_id": row.id, "_answers": answers})
        if changes:
            execute_core(session, rewrite, changes)
            rewritten += len(changes)
    return rewritten
