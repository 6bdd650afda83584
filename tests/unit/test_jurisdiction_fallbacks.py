"""A visitor whose country is known but whose subdivision is not gets the strictest rule among
that country's subdivisions (issue #12 statement 3): US -> US-unknown (California's rule with
every state's duties), CA -> CA-unknown (Quebec's opt-in)."""

from __future__ import annotations

import datetime as dt

import pytest

from consent_service.jurisdictions.rulebook import jurisdiction_by_code
from consent_service.jurisdictions.rulebook import jurisdiction_for_region
from consent_service.jurisdictions.rulebook import rulebook
from consent_service.jurisdictions.rules import STRICTNESS
from consent_service.jurisdictions.rules import Regime

ON = dt.date(2026, 12, 6)
CA_LINKS = {
    "Do Not Sell or Share My Personal Information",
    "Limit the Use of My Sensitive Personal Information",
    "Your Privacy Choices",
}


def test_a_visitor_known_only_to_be_in_the_us_gets_californias_protections():
    found = jurisdiction_for_region("US", on=ON)
    assert (found.code, found.regime, found.honours_gpc) == ("US-unknown", Regime.OPT_OUT, True)
    assert found.first_layer == ("accept_all", "reject_all", "customize")
    assert {link.text for link in found.links} == CA_LINKS
    assert (found.reask_floor_months, found.gpc_status_display, found.reoptin_confirmation) == (
        12,
        True,
        True,
    )
    assert found.material_change_consent is True


def test_a_state_without_a_rule_still_gets_the_federal_notice():
    found = jurisdiction_for_region("US-WY", on=ON)
    assert (found.code, found.regime, found.honours_gpc) == ("US", Regime.NOTICE, False)
    assert found.first_layer == ("acknowledge", "customize")


def test_a_visitor_known_only_to_be_in_canada_gets_quebecs_opt_in():
    found = jurisdiction_for_region("CA", on=ON)
    assert (found.code, found.regime) == ("CA-unknown", Regime.OPT_IN)
    assert not any(on for purpose, on in found.purpose_defaults.items() if purpose != "necessary")


def test_a_province_without_a_rule_still_gets_the_federal_rule():
    assert jurisdiction_for_region("CA-ON", on=ON).code == "CA"


def test_before_quebecs_law_applied_a_canadian_got_the_federal_rule():
    assert jurisdiction_for_region("CA", on=dt.date(2023, 9, 21)).code == "CA"


@pytest.mark.parametrize("code", ["US-unknown", "CA-unknown"])
def test_a_recorded_fallback_code_gives_back_its_rule(code):
    assert jurisdiction_by_code(code, on=ON).code == code
    assert len(code) <= 16  # the receipts' and states' jurisdiction columns


@pytest.mark.parametrize("region", ["US-UNKNOWN", "us-unknown", "CA-unknown"])
def test_a_visitor_cannot_name_a_fallback_as_a_region(region):
    # A region is ISO 3166: a fallback is only ever chosen by the book.
    assert jurisdiction_for_region(region, on=ON).code == "unknown"


@pytest.mark.parametrize("country", ["US", "CA"])
def test_the_fallback_is_at_least_as_strict_as_every_subdivision_in_the_book(country):
    book = rulebook()
    fallback = book[f"{country}-unknown"]
    mine = fallback.jurisdiction
    subdivisions = [
        rule
        for code, rule in book.items()
        if code.startswith(f"{country}-") and code != f"{country}-unknown"
    ]
    assert subdivisions
    for rule in subdivisions:
        theirs = rule.jurisdiction
        assert STRICTNESS.index(mine.regime) >= STRICTNESS.index(theirs.regime), theirs.code
        assert mine.consent_lifetime <= theirs.consent_lifetime, theirs.code
        assert mine.reask_floor_months >= theirs.reask_floor_months, theirs.code
        assert mine.honours_gpc >= theirs.honours_gpc, theirs.code
        if theirs.honours_gpc:
            assert fallback.gpc_duty_from <= rule.gpc_duty_from, theirs.code
        assert mine.reject_all_first_layer >= theirs.reject_all_first_layer, theirs.code
        for purpose, on in mine.purpose_defaults.items():
            assert on <= theirs.purpose_defaults[purpose], (theirs.code, purpose)
        exact = {link.text for link in theirs.links if link.exact_wording}
        assert exact <= {link.text for link in mine.links}, theirs.code


def test_us_and_canada_declare_that_their_subdivisions_decide():
    book = rulebook()
    decided = sorted(code for code, rule in book.items() if rule.subdivisions_decide)
    assert decided == ["CA", "US"]
