"""The decision rule, row by row (ARCHITECTURE §4), then as properties over random facts."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consent_service.decisions.rule import Decision
from consent_service.decisions.rule import Reason
from consent_service.decisions.rule import RecordedChoice
from consent_service.decisions.rule import decide
from consent_service.jurisdictions.rules import STRICTEST
from consent_service.jurisdictions.rules import Jurisdiction
from consent_service.jurisdictions.rules import Regime
from consent_service.properties.lookup import PurposeFacts

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
EU = Jurisdiction("EU-FR", Regime.OPT_IN, honours_gpc=False, consent_lifetime=dt.timedelta(180))
US_CA = Jurisdiction("US-CA", Regime.OPT_OUT, honours_gpc=True, consent_lifetime=dt.timedelta(365))

NECESSARY = PurposeFacts("necessary", essential=True)
ANALYTICS = PurposeFacts("analytics", essential=False)
ADVERTISING = PurposeFacts(
    "advertising",
    essential=False,
    opt_out_categories=frozenset({"sale", "sharing", "targeted_advertising"}),
)


def choice(
    granted: bool, *, version: int = 2, expires_in_days: int = 30, gpc: bool = False
) -> RecordedChoice:
    return RecordedChoice(
        granted=granted,
        receipt_id="r-1",
        policy_version=version,
        given_at=NOW - dt.timedelta(days=1),
        expires_at=NOW + dt.timedelta(days=expires_in_days),
        gpc=gpc,
    )


# (jurisdiction, purpose, recorded choice, last material version, GPC on record) -> answer
TABLE = [
    pytest.param(EU, NECESSARY, None, 2, False, True, Reason.ESSENTIAL, id="opt-in essential"),
    pytest.param(US_CA, NECESSARY, None, 2, True, True, Reason.ESSENTIAL, id="opt-out essential"),
    pytest.param(EU, ANALYTICS, choice(True), 2, False, True, Reason.GRANTED, id="opt-in granted"),
    pytest.param(
        US_CA, ANALYTICS, choice(True), 2, False, True, Reason.GRANTED, id="opt-out granted"
    ),
    pytest.param(EU, ANALYTICS, choice(False), 2, False, False, Reason.DENIED, id="opt-in denied"),
    pytest.param(
        US_CA, ANALYTICS, choice(False), 2, False, False, Reason.OPTED_OUT, id="opt-out opted out"
    ),
    pytest.param(EU, ANALYTICS, None, 2, False, False, Reason.NO_RECORD, id="opt-in no record"),
    pytest.param(
        US_CA, ANALYTICS, None, 2, False, True, Reason.OPT_OUT_DEFAULT, id="opt-out no record"
    ),
    pytest.param(
        US_CA,
        ADVERTISING,
        None,
        2,
        True,
        False,
        Reason.GPC,
        id="opt-out no record but GPC for a sale purpose",
    ),
    pytest.param(
        US_CA,
        ANALYTICS,
        None,
        2,
        True,
        True,
        Reason.OPT_OUT_DEFAULT,
        id="opt-out GPC leaves non-sale purposes alone",
    ),
    pytest.param(
        US_CA,
        ADVERTISING,
        choice(True, gpc=True),
        2,
        True,
        False,
        Reason.GPC,
        id="opt-out GPC on the latest receipt beats a grant",
    ),
    pytest.param(
        EU,
        ADVERTISING,
        choice(True, gpc=True),
        2,
        True,
        True,
        Reason.GRANTED,
        id="opt-in GPC has no defined effect on explicit consent",
    ),
    pytest.param(
        EU,
        ANALYTICS,
        choice(True, expires_in_days=-1),
        2,
        False,
        False,
        Reason.EXPIRED,
        id="opt-in expired",
    ),
    pytest.param(
        US_CA,
        ANALYTICS,
        choice(True, expires_in_days=-1),
        2,
        False,
        True,
        Reason.OPT_OUT_DEFAULT,
        id="opt-out expired is as no record",
    ),
    pytest.param(
        EU,
        ANALYTICS,
        choice(True, version=1),
        2,
        False,
        False,
        Reason.STALE_POLICY,
        id="opt-in consent before the last material version",
    ),
    pytest.param(
        US_CA,
        ANALYTICS,
        choice(True, version=1),
        2,
        False,
        True,
        Reason.OPT_OUT_DEFAULT,
        id="opt-out stale policy is as no record",
    ),
    pytest.param(
        EU,
        ANALYTICS,
        choice(True, version=3),
        2,
        False,
        True,
        Reason.GRANTED,
        id="consent after the last material version is valid",
    ),
    pytest.param(
        STRICTEST,
        ADVERTISING,
        None,
        None,
        False,
        False,
        Reason.NO_RECORD,
        id="unknown region is opt-in",
    ),
    pytest.param(
        STRICTEST,
        ADVERTISING,
        None,
        None,
        True,
        False,
        Reason.GPC,
        id="unknown region honours GPC too",
    ),
]


@pytest.mark.parametrize(
    ("jurisdiction", "purpose", "recorded", "material", "gpc", "allowed", "reason"), TABLE
)
def test_decision_table_row(jurisdiction, purpose, recorded, material, gpc, allowed, reason):
    decision = decide(
        purpose, jurisdiction, recorded, last_material_version=material, gpc_on_record=gpc, now=NOW
    )
    assert (decision.allowed, decision.reason) == (allowed, reason)
    assert decision.jurisdiction == jurisdiction.code


def test_a_decision_names_the_receipt_it_rests_on():
    recorded = choice(True)
    decision = decide(
        ANALYTICS, EU, recorded, last_material_version=2, gpc_on_record=False, now=NOW
    )
    assert decision.receipt_id == "r-1"
    assert decision.policy_version == 2
    assert decision.expires_at == recorded.expires_at


def test_a_failure_is_a_denial_with_the_error():
    decision = Decision.failed("analytics", "database unavailable")
    assert decision.allowed is False
    assert decision.reason is Reason.ERROR
    assert decision.error == "database unavailable"


jurisdictions = st.builds(
    Jurisdiction,
    code=st.sampled_from(["A", "B"]),
    regime=st.sampled_from(list(Regime)),
    honours_gpc=st.booleans(),
    consent_lifetime=st.just(dt.timedelta(days=180)),
)
purposes = st.builds(
    PurposeFacts,
    key=st.just("p"),
    essential=st.booleans(),
    opt_out_categories=st.frozensets(st.sampled_from(["sale", "sharing", "targeted_advertising"])),
)
choices = st.none() | st.builds(
    RecordedChoice,
    granted=st.booleans(),
    receipt_id=st.just("r"),
    policy_version=st.integers(1, 5),
    given_at=st.just(NOW - dt.timedelta(days=1)),
    expires_at=st.sampled_from([NOW - dt.timedelta(seconds=1), NOW + dt.timedelta(days=9)]),
    gpc=st.booleans(),
)
materials = st.none() | st.integers(1, 5)


@given(jurisdictions, purposes, choices, materials, st.booleans())
def test_essential_purposes_are_always_allowed(jurisdiction, purpose, recorded, material, gpc):
    essential = PurposeFacts(purpose.key, True, purpose.opt_out_categories)
    decision = decide(
        essential,
        jurisdiction,
        recorded,
        last_material_version=material,
        gpc_on_record=gpc,
        now=NOW,
    )
    assert decision.allowed and decision.reason is Reason.ESSENTIAL


@given(jurisdictions, purposes, choices, materials, st.booleans())
def test_a_withdrawal_always_wins_over_an_earlier_grant(
    jurisdiction, purpose, recorded, material, gpc
):
    """The latest choice is a refusal, whatever came before: nothing non-essential is allowed."""
    purpose = PurposeFacts(purpose.key, False, purpose.opt_out_categories)
    withdrawn = (
        None
        if recorded is None
        else RecordedChoice(
            False,
            recorded.receipt_id,
            recorded.policy_version,
            recorded.given_at,
            recorded.expires_at,
            recorded.gpc,
        )
    )
    decision = decide(
        purpose,
        jurisdiction,
        withdrawn or choice(False),
        last_material_version=material,
        gpc_on_record=gpc,
        now=NOW,
    )
    assert not decision.allowed


@given(jurisdictions, purposes, materials, st.booleans())
def test_no_record_is_denied_in_opt_in_regimes(jurisdiction, purpose, material, gpc):
    purpose = PurposeFacts(purpose.key, False, purpose.opt_out_categories)
    opt_in = Jurisdiction(
        jurisdiction.code, Regime.OPT_IN, jurisdiction.honours_gpc, jurisdiction.consent_lifetime
    )
    decision = decide(
        purpose, opt_in, None, last_material_version=material, gpc_on_record=gpc, now=NOW
    )
    assert not decision.allowed


@given(jurisdictions, purposes, choices, materials, st.booleans())
def test_an_allowed_non_essential_purpose_is_never_past_its_expiry(
    jurisdiction, purpose, recorded, material, gpc
):
    purpose = PurposeFacts(purpose.key, False, purpose.opt_out_categories)
    decision = decide(
        purpose, jurisdiction, recorded, last_material_version=material, gpc_on_record=gpc, now=NOW
    )
    if decision.allowed and decision.reason is Reason.GRANTED:
        assert recorded is not None and recorded.expires_at > NOW
