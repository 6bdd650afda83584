"""Re-ask floors are calendar months, and floors, not ceilings (issue #12 statement 5): a
property may lengthen the wait after a refusal, never shorten it, while a shorter consent
lifetime remains the stricter direction."""

from __future__ import annotations

import datetime as dt

import pytest

from consent_service.infra.times import add_months
from consent_service.jurisdictions.rulebook import jurisdiction_for_region
from consent_service.jurisdictions.rules import LooseningRefused
from consent_service.jurisdictions.rules import Regime
from consent_service.jurisdictions.rules import tighten

ON = dt.date(2026, 12, 6)


def at(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 9, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        pytest.param(at(2027, 1, 31), 1, at(2027, 2, 28), id="Jan 31 + 1 month, common year"),
        pytest.param(at(2028, 1, 31), 1, at(2028, 2, 29), id="Jan 31 + 1 month, leap year"),
        pytest.param(at(2028, 2, 29), 12, at(2029, 2, 28), id="12 months from Feb 29"),
        pytest.param(at(2027, 3, 1), 12, at(2028, 3, 1), id="12 months across Feb 29"),
        pytest.param(at(2026, 8, 31), 6, at(2027, 2, 28), id="6 months to a short month"),
        pytest.param(at(2026, 12, 6), 6, at(2027, 6, 6), id="across the new year"),
        pytest.param(at(2026, 12, 6), 0, at(2026, 12, 6), id="no floor"),
    ],
)
def test_months_are_calendar_months_clamped_to_the_last_day(start, months, end):
    assert add_months(start, months) == end


def test_twelve_months_across_a_leap_day_is_longer_than_365_days():
    # Why days could not express California's 12 months (legal review 2026-12 item 4).
    refused = at(2027, 3, 1)
    assert add_months(refused, 12) - refused == dt.timedelta(days=366)


def test_six_calendar_months_are_never_shorter_than_the_garantes_six_months():
    # 180 days fell up to 4 days short of Italy's "at least 6 months" (review item 12).
    italy = jurisdiction_for_region("IT", on=ON)
    refused = at(2027, 1, 1)
    assert italy.reask_after(refused) == at(2027, 7, 1)
    assert italy.reask_after(refused) - refused == dt.timedelta(days=181)


@pytest.mark.parametrize(("region", "months"), [("US-CA", 12), ("IT", 6), ("FR", 6), ("US-TX", 12)])
def test_each_floor_is_the_laws(region, months):
    assert jurisdiction_for_region(region, on=ON).reask_floor_months == months


def test_a_longer_floor_is_stricter():
    assert (
        tighten(jurisdiction_for_region("IT", on=ON), reask_floor_months=9).reask_floor_months == 9
    )


def test_a_shorter_floor_is_refused():
    with pytest.raises(
        LooseningRefused, match="re-ask floor of 6 months is shorter than the law's 12"
    ):
        tighten(jurisdiction_for_region("US-CA", on=ON), reask_floor_months=6)


def test_a_shorter_lifetime_and_a_longer_floor_tighten_together():
    tightened = tighten(
        jurisdiction_for_region("US-CA", on=ON),
        consent_lifetime=dt.timedelta(days=90),
        reask_floor_months=24,
    )
    assert (tightened.consent_lifetime.days, tightened.reask_floor_months) == (90, 24)


def test_a_notice_may_gain_a_refusal_on_its_first_layer():
    notice = jurisdiction_for_region("JP", on=ON)
    tightened = tighten(notice, first_layer=("acknowledge", "reject_all", "customize"))
    assert tightened.reject_all_first_layer


def test_a_first_layer_must_stay_a_valid_set():
    with pytest.raises(LooseningRefused, match="accept_all needs reject_all"):
        tighten(jurisdiction_for_region("JP", on=ON), first_layer=("accept_all", "customize"))


def test_a_notice_made_opt_in_gets_the_symmetric_consent_layer():
    tightened = tighten(jurisdiction_for_region("AU", on=ON), regime=Regime.OPT_IN)
    assert tightened.first_layer == ("accept_all", "reject_all", "customize")


def test_an_acknowledgement_cannot_be_kept_when_made_opt_in():
    with pytest.raises(LooseningRefused, match="acknowledge is no consent"):
        tighten(
            jurisdiction_for_region("AU", on=ON),
            regime=Regime.OPT_IN,
            first_layer=("acknowledge", "reject_all", "customize"),
        )
