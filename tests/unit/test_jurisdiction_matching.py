"""Matching a region to its rule on a given day, and properties tightening a rule (ARCHITECTURE §5).

The expectations come from standards.md §7; the dates are pinned, never "today", except where
the default date itself is the subject.
"""

from __future__ import annotations

import datetime as dt

import pytest

from consent_service.jurisdictions import rulebook
from consent_service.jurisdictions.rulebook import jurisdiction_by_code
from consent_service.jurisdictions.rulebook import jurisdiction_for_region
from consent_service.jurisdictions.rules import STRICTEST
from consent_service.jurisdictions.rules import Jurisdiction
from consent_service.jurisdictions.rules import LooseningRefused
from consent_service.jurisdictions.rules import Regime
from consent_service.jurisdictions.rules import tighten

ON = dt.date(2026, 11, 22)  # every law in the book except India's is in force
DAYS_180 = dt.timedelta(days=180)
# fmt: off
EU_EEA = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
]
STATES_WITHOUT_GPC_DUTY = ["US-VA", "US-UT", "US-FL", "US-IA", "US-TN", "US-IN", "US-KY", "US-RI"]
STATES_WITH_GPC_DUTY = [
    "US-CA", "US-CO", "US-CT", "US-TX", "US-OR", "US-MT", "US-DE", "US-NE", "US-NH", "US-NJ",
    "US-MN", "US-MD",
]
# fmt: on


def rule(region: str | None, on: dt.date = ON) -> Jurisdiction:
    return jurisdiction_for_region(region, on=on)


@pytest.mark.parametrize("country", EU_EEA)
def test_an_eu_or_eea_country_is_opt_in_with_reject_all_on_the_first_layer(country):
    found = rule(country)
    assert (found.code, found.regime, found.reject_all_first_layer) == (
        country,
        Regime.OPT_IN,
        True,
    )
    assert dict(found.purpose_defaults) == {
        "necessary": True,
        "preferences": False,
        "analytics": False,
        "marketing": False,
        "advertising": False,
    }


@pytest.mark.parametrize("country", EU_EEA)
def test_gpc_has_no_legal_effect_in_the_eu_or_eea(country):
    assert rule(country).honours_gpc is False


def test_california_is_opt_out_honours_gpc_and_offers_opting_out_on_the_first_layer():
    found = rule("US-CA")
    assert (found.regime, found.honours_gpc, found.reject_all_first_layer) == (
        Regime.OPT_OUT,
        True,
        True,
    )
    assert all(found.purpose_defaults.values())


def test_california_wants_its_two_links_or_the_single_alternative():
    links = {link.key: link for link in rule("US-CA").links}
    assert links["do_not_sell_or_share"].text == "Do Not Sell or Share My Personal Information"
    assert links["limit_sensitive"].text == "Limit the Use of My Sensitive Personal Information"
    alternative = links["your_privacy_choices"]
    assert alternative.text == "Your Privacy Choices"
    assert set(alternative.alternative_to) == {"do_not_sell_or_share", "limit_sensitive"}
    assert all(link.exact_wording for link in links.values())


@pytest.mark.parametrize("state", STATES_WITHOUT_GPC_DUTY)
def test_a_state_without_a_universal_opt_out_duty_does_not_honour_gpc(state):
    found = rule(state)
    assert (found.code, found.regime, found.honours_gpc) == (state, Regime.OPT_OUT, False)


@pytest.mark.parametrize("state", STATES_WITH_GPC_DUTY)
def test_a_state_with_a_universal_opt_out_duty_honours_gpc(state):
    found = rule(state)
    assert (found.code, found.honours_gpc) == (state, True)


def test_switzerland_is_a_symmetric_opt_out_with_third_party_purposes_off():
    found = rule("CH")
    assert (found.regime, found.first_layer, found.honours_gpc) == (
        Regime.OPT_OUT,
        ("accept_all", "reject_all", "customize"),
        False,
    )
    assert dict(found.purpose_defaults) == {
        "necessary": True,
        "preferences": True,
        "analytics": True,
        "marketing": False,
        "advertising": False,
    }


@pytest.mark.parametrize("region", [None, "", "ZZ", "XX", "EU", "AQ", "UK"])
def test_an_unknown_region_gets_the_strictest_rule(region):
    assert rule(region) is STRICTEST


@pytest.mark.parametrize(
    "region", ["USA", "U", "US-", "-CA", "US-CALI", "US_CA", "12", "FR-75-01", "F R", "ÉU", "US-C@"]
)
def test_a_malformed_region_gets_the_strictest_rule(region):
    assert rule(region) is STRICTEST


def test_the_strictest_rule_is_opt_in_honours_gpc_and_rejects_on_the_first_layer():
    assert (STRICTEST.code, STRICTEST.regime, STRICTEST.honours_gpc) == (
        "unknown",
        Regime.OPT_IN,
        True,
    )
    assert STRICTEST.reject_all_first_layer is True
    assert STRICTEST.consent_lifetime == DAYS_180
    assert not any(value for key, value in STRICTEST.purpose_defaults.items() if key != "necessary")


@pytest.mark.parametrize(
    ("region", "code"),
    [
        pytest.param("US-CA", "US-CA", id="a state rule beats the national one"),
        pytest.param("US-NV", "US", id="a state without a rule gets the national one"),
        pytest.param("CA-QC", "CA-QC", id="a province rule beats the federal one"),
        pytest.param("CA-ON", "CA", id="a province without a rule gets the federal one"),
        pytest.param("FR-75C", "FR", id="an EU subdivision resolves to its country"),
        pytest.param("DE-BY", "DE", id="every EU subdivision resolves to its country"),
        pytest.param("GB-SCT", "GB", id="a UK nation resolves to the UK"),
        pytest.param("XK-01", "unknown", id="a subdivision of an unknown country is unknown"),
    ],
)
def test_the_most_specific_rule_in_force_wins(region, code):
    assert rule(region).code == code


@pytest.mark.parametrize(
    ("region", "code"), [("fr", "FR"), (" us-ca ", "US-CA"), ("ca-qc", "CA-QC")]
)
def test_a_region_is_matched_whatever_its_case_and_surrounding_space(region, code):
    assert rule(region).code == code


@pytest.mark.parametrize(
    ("state", "before", "from_"),
    [
        ("US-OR", dt.date(2025, 12, 31), dt.date(2026, 1, 1)),
        ("US-CO", dt.date(2024, 6, 30), dt.date(2024, 7, 1)),
        ("US-CT", dt.date(2024, 12, 31), dt.date(2025, 1, 1)),
        ("US-TX", dt.date(2024, 12, 31), dt.date(2025, 1, 1)),
        ("US-MT", dt.date(2024, 12, 31), dt.date(2025, 1, 1)),
        ("US-DE", dt.date(2025, 12, 31), dt.date(2026, 1, 1)),
        ("US-NJ", dt.date(2025, 7, 14), dt.date(2025, 7, 15)),
    ],
)
def test_a_gpc_duty_starts_on_its_day_not_before(state, before, from_):
    assert (rule(state, before).code, rule(state, before).honours_gpc) == (state, False)
    assert (rule(state, from_).code, rule(state, from_).honours_gpc) == (state, True)


@pytest.mark.parametrize(
    ("region", "before", "from_", "fallback"),
    [
        ("US-IN", dt.date(2025, 12, 31), dt.date(2026, 1, 1), "US"),
        ("US-KY", dt.date(2025, 12, 31), dt.date(2026, 1, 1), "US"),
        ("US-RI", dt.date(2025, 12, 31), dt.date(2026, 1, 1), "US"),
        ("US-NJ", dt.date(2025, 1, 14), dt.date(2025, 1, 15), "US"),
        ("US-CA", dt.date(2019, 12, 31), dt.date(2020, 1, 1), "US"),
        ("CA-QC", dt.date(2023, 9, 21), dt.date(2023, 9, 22), "CA"),
        ("CH", dt.date(2023, 8, 31), dt.date(2023, 9, 1), "unknown"),
        ("IN", dt.date(2027, 5, 12), dt.date(2027, 5, 13), "unknown"),
    ],
)
def test_a_law_not_yet_in_force_gives_way_to_its_parent(region, before, from_, fallback):
    assert rule(region, before).code == fallback
    assert rule(region, from_).code == region


def test_the_us_fallback_is_notice_without_gpc():
    found = rule("US-NV")
    assert (found.regime, found.honours_gpc, found.links) == (Regime.NOTICE, False, ())


def test_the_default_day_is_today(monkeypatch):
    monkeypatch.setattr(rulebook, "_today", lambda: dt.date(2025, 12, 31))
    assert jurisdiction_for_region("US-OR").honours_gpc is False
    assert jurisdiction_for_region("US-IN").code == "US"
    assert jurisdiction_by_code("US-OR").honours_gpc is False


def test_a_recorded_code_gives_back_its_rule():
    assert jurisdiction_by_code("US-CA", on=ON) == rule("US-CA")
    assert jurisdiction_by_code("unknown", on=ON) == STRICTEST


def test_a_recorded_code_gets_its_gpc_duty_as_of_the_day_asked():
    assert jurisdiction_by_code("US-OR", on=dt.date(2025, 12, 31)).honours_gpc is False
    assert jurisdiction_by_code("US-OR", on=dt.date(2026, 1, 1)).honours_gpc is True


@pytest.mark.parametrize("code", ["EU-FR", "us-ca", "", "XX", "retired-rule"])
def test_a_code_the_book_does_not_have_gets_the_strictest_rule(code):
    assert jurisdiction_by_code(code, on=ON) is STRICTEST


def test_a_jurisdiction_is_a_hashable_value():
    assert hash(rule("US-CA")) == hash(rule("US-CA"))
    assert {rule("FR"), rule("FR")} == {rule("FR")}


# --- tightening -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "change", "field", "expected"),
    [
        pytest.param(
            "JP", {"regime": Regime.OPT_OUT}, "regime", Regime.OPT_OUT, id="notice->opt-out"
        ),
        pytest.param(
            "US-CA", {"regime": Regime.OPT_IN}, "regime", Regime.OPT_IN, id="opt-out->opt-in"
        ),
        pytest.param("US-VA", {"honours_gpc": True}, "honours_gpc", True, id="GPC on"),
        pytest.param(
            "JP",
            {"first_layer": ("acknowledge", "reject_all", "customize")},
            "reject_all_first_layer",
            True,
            id="reject-all",
        ),
        pytest.param(
            "GB",
            {"consent_lifetime": DAYS_180},
            "consent_lifetime",
            DAYS_180,
            id="shorter lifetime",
        ),
        pytest.param(
            "FR", {"regime": Regime.OPT_IN}, "regime", Regime.OPT_IN, id="the same is fine"
        ),
    ],
)
def test_a_property_may_make_a_rule_stricter(region, change, field, expected):
    tightened = tighten(rule(region), **change)
    assert getattr(tightened, field) == expected
    assert tightened.code == region


def test_a_property_may_switch_a_purpose_off_by_default():
    tightened = tighten(rule("US-CA"), purpose_defaults={"advertising": False})
    assert tightened.purpose_defaults["advertising"] is False
    assert tightened.purpose_defaults["analytics"] is True


def test_tightening_to_opt_in_switches_every_non_essential_purpose_off():
    tightened = tighten(rule("US-CA"), regime=Regime.OPT_IN)
    assert dict(tightened.purpose_defaults) == {
        "necessary": True,
        "preferences": False,
        "analytics": False,
        "marketing": False,
        "advertising": False,
    }


def test_a_shorter_lifetime_leaves_the_re_ask_floor_after_a_refusal_alone():
    # The lifetime bounds a grant; the floor protects a refusal: shortening one never
    # shortens the other (the re-prompt that followed the lifetime is gone).
    tightened = tighten(rule("US-CA"), consent_lifetime=dt.timedelta(days=90))
    assert (tightened.consent_lifetime, tightened.reask_floor_months) == (
        dt.timedelta(days=90),
        12,
    )


@pytest.mark.parametrize(
    ("region", "change", "complaint"),
    [
        pytest.param(
            "FR", {"regime": Regime.OPT_OUT}, "regime opt_out is laxer", id="opt-in->opt-out"
        ),
        pytest.param(
            "US-CA", {"regime": Regime.NOTICE}, "regime notice is laxer", id="opt-out->notice"
        ),
        pytest.param("US-CA", {"honours_gpc": False}, "GPC must stay honoured", id="GPC off"),
        pytest.param(
            "FR",
            {"first_layer": ("accept_all", "customize")},
            "reject_all must stay",
            id="reject-all off",
        ),
        pytest.param(
            "FR", {"consent_lifetime": dt.timedelta(days=181)}, "exceeds 180", id="longer lifetime"
        ),
        pytest.param(
            "FR",
            {"purpose_defaults": {"marketing": True}},
            "'marketing' must stay off",
            id="pre-tick",
        ),
    ],
)
def test_a_property_may_not_make_a_rule_laxer(region, change, complaint):
    with pytest.raises(LooseningRefused, match=complaint):
        tighten(rule(region), **change)


def test_a_refusal_names_every_loosening_and_the_rule():
    with pytest.raises(LooseningRefused) as refused:
        tighten(rule("US-CA"), regime=Regime.NOTICE, honours_gpc=False)
    assert str(refused.value).startswith("US-CA: ")
    assert "regime" in str(refused.value) and "GPC" in str(refused.value)


def test_a_refusal_is_a_value_error_for_callers_that_map_bad_input():
    assert issubclass(LooseningRefused, ValueError)
