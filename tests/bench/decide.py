"""decide() look-ups per second against the state projection, one visitor and purpose at a
time as the look-up API makes them (without its access log)."""

from __future__ import annotations

import random
import time
import uuid

import sqlalchemy as sa
from flask import Flask

from consent_service.decisions.lookups import look_up
from consent_service.decisions.lookups import offered_purposes
from consent_service.decisions.rule import Decision
from consent_service.extensions import db
from consent_service.integrations.subject_refs import SubjectRef
from consent_service.models import Subject
from consent_service.models.base import utcnow
from consent_service.properties.lookup import consent_context

PURPOSES = ["necessary", "preferences", "analytics", "marketing", "advertising"]


def decide_rate(app: Flask, calls: int, *, seed: int = 7) -> tuple[float, dict[str, int]]:
    """Look up random (known visitor, purpose) pairs, one short transaction per look-up as a
    request would have; returns calls per second and how often each reason came back."""
    rng = random.Random(seed)
    with app.app_context():
        visitors = list(db.session.scalars(sa.select(Subject.visitor_id)))
        db.session.rollback()
        if not visitors:
            raise RuntimeError("record some consents first")
        pairs = [(rng.choice(visitors), rng.choice(PURPOSES)) for _ in range(calls)]
        pairs[::10] = [(uuid.uuid4(), "analytics")] * len(pairs[::10])  # 10% unknown visitors
        reasons: dict[str, int] = {}
        started = time.perf_counter()
        for visitor, purpose in pairs:
            decision = _decide(visitor, purpose)
            db.session.rollback()
            reasons[decision.reason.value] = reasons.get(decision.reason.value, 0) + 1
        elapsed = time.perf_counter() - started
    return calls / elapsed, reasons


def _decide(visitor: uuid.UUID, purpose: str) -> Decision:
    session, now = db.session(), utcnow()
    context = consent_context(session, "demo-shop", now=now)
    purposes = offered_purposes(context, [purpose], "")
    ref = SubjectRef("visitor", str(visitor))
    [answer] = look_up(session, context, [ref], purposes, vault=None, now=now)
    return answer.decision
