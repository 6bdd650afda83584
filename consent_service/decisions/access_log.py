"""The record of every consent look-up: which integration asked about whom, for which
purposes, and what it was told ("all internal data usage is logged").

One row per request, written in the request's own transaction, so an answer that was given
is an answer that was logged; a bulk request of 10,000 items is still one insert.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.decisions.lookups import Answer
from consent_service.infra.database import execute_core
from consent_service.models import DecisionLogEntry
from consent_service.models.base import new_id
from consent_service.models.base import table_of


def log_lookup(
    session: Session,
    *,
    property_id: int,
    api_key_id: uuid.UUID | None,
    request_id: str | None,
    purposes: Sequence[str],
    answers: Sequence[Answer],
    now: dt.datetime,
) -> None:
    execute_core(
        session,
        _insert(),
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
                [a.log_label, a.decision.purpose, a.decision.allowed, a.decision.reason.value]
                for a in answers
            ],
        },
    )


@functools.cache
def _insert() -> sa.Insert:
    return sa.insert(table_of(DecisionLogEntry))
