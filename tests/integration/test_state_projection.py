"""The consent state is a projection of the receipts: rebuilding it changes nothing."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from consent_service.consent.state import rebuild_state
from consent_service.models import ConsentState

START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
PURPOSES = ["preferences", "analytics", "marketing", "advertising"]


def projection(session) -> set[tuple]:
    columns = [c for c in ConsentState.__table__.columns]
    return set(session.execute(sa.select(*columns)).all())


acts = st.tuples(
    st.integers(0, 3),  # which visitor
    st.sampled_from(["custom", "accept_all", "reject_all", "withdrawal"]),
    st.fixed_dictionaries({p: st.booleans() for p in PURPOSES}),
    st.booleans(),  # GPC
    st.integers(1, 100_000),  # seconds since the previous act
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=st.lists(acts, min_size=1, max_size=12))
def test_a_rebuilt_projection_equals_the_live_one_after_any_history(session, record, history):
    savepoint = session.begin_nested()
    try:
        visitors = [uuid.uuid4() for _ in range(4)]
        now = START
        for visitor, method, decisions, gpc, gap in history:
            now += dt.timedelta(seconds=gap)
            record(
                visitors[visitor],
                method,
                now=now,
                gpc=gpc,
                **(decisions if method == "custom" else {}),
            )
        live = projection(session)
        assert len(live) == 5 * len({h[0] for h in history})
        rebuild_state(session)
        assert projection(session) == live
    finally:
        savepoint.rollback()


def test_rebuild_restores_a_lost_projection(session, record):
    record(uuid.uuid4(), analytics=True)
    live = projection(session)
    session.execute(sa.delete(ConsentState))
    assert rebuild_state(session) == 5
    assert projection(session) == live
