"""decide() look-ups per second against the state projection."""

from __future__ import annotations

import random
import time
import uuid

import sqlalchemy as sa
from flask import Flask

from consent_service.decisions.for_visitor import decide_for_visitor
from consent_service.extensions import db
from consent_service.models import Subject

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
            decision = decide_for_visitor(db.session(), "demo-shop", visitor, purpose)
            db.session.rollback()
            reasons[decision.reason.value] = reasons.get(decision.reason.value, 0) + 1
        elapsed = time.perf_counter() - started
    if "error" in reasons:
        raise RuntimeError(f"{reasons['error']} look-ups failed")
    return calls / elapsed, reasons
