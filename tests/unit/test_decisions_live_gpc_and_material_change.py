"""The decision rule's issue-#12 rows: the live GPC signal a shop backend passes on, and a
grant made stale by a material change in opt-out regimes (ARCHITECTURE §4)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from consent_service.decisions.rule import EarlierChoice
from consent_service.decisions.rule import Reason
from consent_service.decisions.rule import RecordedChoice
from consent_service.decisions.rule import decide
from consent_service.jurisdictions.rules import Jurisdiction
from consent_service.jurisdictions.rules import Regime
from consent_service.properties.lookup import PurposeFacts

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
US_CA = Jurisdiction(
    "US-CA",
    Regime.OPT_OUT,
    honours_gpc=True,
    consent_lifetime=dt.timedelta(365),
    material_change_consent=True,
)
US_MN = dataclasses.replace(US_CA, code="US-MN", material_change_consent=False)
US_VA = dataclasses.replace(US_CA, code="US-VA", honours_gpc=False)
FR = Jurisdiction("FR", Regime.OPT_IN, honours_gpc=False, consent_lifetime=dt.timedelta(180))
MARKETING = PurposeFacts("marketing", essential=False, opt_out_categories=frozenset({"sharing"}))
ANALYTICS = PurposeFacts("analytics", essential=False)
GRANTED_UNDER_2 = RecordedChoice(
    granted=True,
    receipt_id="r-1",
    policy_version=2,
    given_at=NOW - dt.timedelta(days=10),
    expires_at=NOW + dt.timedelta(days=300),
)


def answer(
    jurisdiction, purpose=MARKETING, choice=GRANTED_UNDER_2, *, changed_in=None, live=False, **ea
):
    decision = decide(
        purpose,
        jurisdiction,
        choice,
        last_material_version=changed_in,
        gpc_on_record=False,
        now=NOW,
        live_gpc=live,
        earlier=EarlierChoice(**ea) if ea else None,
    )
    return decision.allowed, decision.reason


def test_the_live_signal_denies_a_granted_sharing_purpose_where_gpc_is_honoured():
    assert answer(US_CA, live=True) == (False, Reason.GPC)


def test_the_live_signal_denies_without_any_record_too():
    assert answer(US_CA, choice=None, live=True) == (False, Reason.GPC)


def test_the_live_signal_changes_nothing_where_gpc_has_no_legal_effect():
    assert answer(US_VA, live=True) == (True, Reason.GRANTED)


def test_the_live_signal_leaves_a_purpose_it_does_not_switch_off_alone():
    assert answer(US_CA, ANALYTICS, live=True) == (True, Reason.GRANTED)


def test_a_grant_made_before_a_material_change_to_its_purpose_needs_consent_where_required():
    assert answer(US_CA, changed_in=3) == (False, Reason.MATERIAL_CHANGE)


def test_other_opt_out_regimes_allow_a_stale_grant_by_default():
    assert answer(US_MN, changed_in=3) == (True, Reason.OPT_OUT_DEFAULT)


def test_opt_in_regimes_deny_a_stale_grant_as_stale():
    assert answer(FR, changed_in=3) == (False, Reason.STALE_POLICY)


def test_a_grant_is_stale_only_if_its_own_purpose_changed_since():
    assert answer(US_CA, changed_in=2) == (True, Reason.GRANTED)
    assert answer(US_CA, changed_in=None) == (True, Reason.GRANTED)


def test_a_refusal_stays_a_refusal_after_a_material_change():
    refused = GRANTED_UNDER_2._replace(granted=False)
    assert answer(US_CA, choice=refused, changed_in=3) == (False, Reason.OPTED_OUT)


CHOSE_UNDER_2 = {"policy_version": 2, "refused_categories": frozenset()}


def test_a_purpose_a_material_change_added_since_the_choice_needs_consent_where_required():
    assert answer(US_CA, choice=None, changed_in=3, **CHOSE_UNDER_2) == (
        False,
        Reason.MATERIAL_CHANGE,
    )
    assert answer(US_MN, choice=None, changed_in=3, **CHOSE_UNDER_2) == (
        True,
        Reason.OPT_OUT_DEFAULT,
    )
    assert answer(FR, choice=None, changed_in=3, **CHOSE_UNDER_2) == (False, Reason.NO_RECORD)


def test_a_purpose_added_before_the_choice_or_without_a_material_change_is_the_default():
    assert answer(US_CA, choice=None, changed_in=2, **CHOSE_UNDER_2) == (
        True,
        Reason.OPT_OUT_DEFAULT,
    )
    assert answer(US_CA, choice=None, **CHOSE_UNDER_2) == (True, Reason.OPT_OUT_DEFAULT)
    assert answer(US_CA, choice=None, changed_in=3) == (True, Reason.OPT_OUT_DEFAULT)  # a stranger


def test_an_opt_out_covers_a_purpose_added_since_in_a_refused_category():
    refused = {"policy_version": 2, "refused_categories": frozenset({"sharing"})}
    assert answer(US_MN, choice=None, **refused) == (False, Reason.OPTED_OUT)
    assert answer(US_MN, ANALYTICS, choice=None, **refused) == (True, Reason.OPT_OUT_DEFAULT)


def test_the_python_client_knows_every_reason_the_service_gives():
    from consent_client import Reason as ClientReason

    assert {reason.value for reason in Reason} <= {reason.value for reason in ClientReason}
