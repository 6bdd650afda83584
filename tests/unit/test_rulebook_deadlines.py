"""Erasure deadlines per jurisdiction (policies/rights/erasure_deadlines.toml) as the legal
review corrected them, and in step with the rulebook's codes."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest

from consent_service.jurisdictions.rulebook import rulebook
from consent_service.self_service.erasure import deadline_for
from policies import ERASURE_DEADLINES

REQUESTED = dt.datetime(2027, 1, 31, 12, tzinfo=dt.UTC)


def days(code: str) -> int:
    return (deadline_for(code).due(REQUESTED) - REQUESTED).days


def test_florida_gives_45_days_and_only_15_more():
    # Fla. Stat. §501.706(2) (review item 8): the extension was 30 days too long.
    assert days("US-FL") == 45
    assert deadline_for("US-FL").extension.startswith("15 further days")


def test_iowa_gives_90_days_and_45_more():
    # Iowa Code §715D.3(2) (review item 8).
    assert days("US-IA") == 90
    assert deadline_for("US-IA").extension.startswith("45 further days")


def test_a_gdpr_month_is_a_calendar_month():
    assert deadline_for("IT").due(REQUESTED) == dt.datetime(2027, 2, 28, 12, tzinfo=dt.UTC)


def test_an_unknown_state_is_given_no_longer_than_any_state():
    states = [code for code in rulebook() if code.startswith("US-") and code != "US-unknown"]
    assert days("US-unknown") <= min(days(code) for code in states)


def test_an_unknown_province_is_given_quebecs_deadline():
    assert days("CA-unknown") == days("CA-QC")


@pytest.mark.parametrize("code", ["VN", "IL", "MX"])
def test_the_new_rows_keep_the_deadline_they_had_as_unknown_regions(code):
    assert days(code) == days("unknown") == 10


def test_every_code_in_the_deadlines_is_a_rulebook_jurisdiction():
    with ERASURE_DEADLINES.open("rb") as file:
        entries = tomllib.load(file)["deadline"]
    codes = {code for entry in entries for code in entry["codes"]} - {"*"}
    assert codes <= set(rulebook())
