"""The rulebook as reviewed data: what it must contain (standards.md §7) and what it refuses."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from consent_service.jurisdictions.rulebook import MalformedRulebook
from consent_service.jurisdictions.rulebook import load_rulebook
from consent_service.jurisdictions.rulebook import rulebook
from consent_service.jurisdictions.rules import STRICTEST
from consent_service.jurisdictions.rules import Regime
from policies import RULEBOOK_DIR

D = dt.date

# standards.md §7.2: state, law in force from, universal opt-out (GPC) duty from (None: no duty).
US_STATE_LAWS = [
    ("US-CA", D(2020, 1, 1), D(2020, 1, 1)),
    ("US-VA", D(2023, 1, 1), None),
    ("US-CO", D(2023, 7, 1), D(2024, 7, 1)),
    ("US-CT", D(2023, 7, 1), D(2025, 1, 1)),
    ("US-UT", D(2023, 12, 31), None),
    ("US-TX", D(2024, 7, 1), D(2025, 1, 1)),
    ("US-OR", D(2024, 7, 1), D(2026, 1, 1)),
    ("US-FL", D(2024, 7, 1), None),
    ("US-MT", D(2024, 10, 1), D(2025, 1, 1)),
    ("US-DE", D(2025, 1, 1), D(2026, 1, 1)),
    ("US-IA", D(2025, 1, 1), None),
    ("US-NE", D(2025, 1, 1), D(2025, 1, 1)),
    ("US-NH", D(2025, 1, 1), D(2025, 1, 1)),
    ("US-NJ", D(2025, 1, 15), D(2025, 7, 15)),
    ("US-TN", D(2025, 7, 1), None),
    ("US-MN", D(2025, 7, 31), D(2025, 7, 31)),
    ("US-MD", D(2025, 10, 1), D(2025, 10, 1)),
    ("US-IN", D(2026, 1, 1), None),
    ("US-KY", D(2026, 1, 1), None),
    ("US-RI", D(2026, 1, 1), None),
    # Legal review 2026-12 item 10: in the book before they apply.
    ("US-OK", D(2027, 1, 1), None),
    ("US-LA", D(2027, 1, 1), D(2027, 1, 1)),
    ("US-AL", D(2027, 5, 1), D(2027, 5, 1)),
]
# fmt: off
EU_EEA = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
]
# standards.md §7.1, the legal review's new rows (IL, MX, VN), and the fallbacks: the strictest
# rule, and a country's rule for a visitor whose subdivision is unknown.
OTHERS = [
    "GB", "CH", "TR", "BR", "CA", "CA-QC", "JP", "KR", "CN", "IN", "AU", "SG", "ZA",
    "IL", "MX", "VN", "US", "unknown", "US-unknown", "CA-unknown",
]
# fmt: on

RULE = """
[[rule]]
code = "FR"
name = "France"
regime = "opt_in"
first_layer = ["accept_all", "reject_all", "customize"]
gpc = false
consent_lifetime_days = 180
reask_floor_months = 6
gpc_status_display = false
reoptin_confirmation = false
material_change_consent = false
links = []
law = "GDPR"
source_confidence = "S"
effective_from = 2018-05-25

[rule.purpose_defaults]
necessary = true
preferences = false
analytics = false
marketing = false
advertising = false
"""


@pytest.fixture
def book(tmp_path):
    """A rulebook folder holding the real default.toml, for one bad file at a time."""
    shutil.copy(RULEBOOK_DIR / "default.toml", tmp_path / "default.toml")
    return tmp_path


def write(book, name: str, text: str) -> None:
    (book / name).write_text(text, encoding="utf-8")


# --- what the packaged book holds -------------------------------------------------------------


def test_the_packaged_rulebook_loads_and_is_the_one_in_use():
    assert load_rulebook(RULEBOOK_DIR) == rulebook()


@pytest.mark.parametrize(("state", "effective_from", "gpc_from"), US_STATE_LAWS)
def test_each_us_state_law_in_standards_7_2_is_in_the_book_with_its_dates(
    state, effective_from, gpc_from
):
    rule = rulebook()[state]
    assert rule.effective_from == effective_from
    duty_from = (rule.gpc_from or rule.effective_from) if rule.jurisdiction.honours_gpc else None
    assert duty_from == gpc_from


@pytest.mark.parametrize("code", EU_EEA + OTHERS)
def test_each_country_in_standards_7_1_is_in_the_book(code):
    assert code in rulebook()


def test_the_book_holds_nothing_it_was_not_reviewed_for():
    assert set(rulebook()) == {state for state, _, _ in US_STATE_LAWS} | set(EU_EEA) | set(OTHERS)


@pytest.mark.parametrize("code", sorted(rulebook()))
def test_every_rule_names_its_law_and_how_sure_we_are(code):
    jurisdiction = rulebook()[code].jurisdiction
    assert jurisdiction.name and jurisdiction.law
    assert jurisdiction.source_confidence in {"V", "S", "U", "V/S", "S/U"}


@pytest.mark.parametrize("code", sorted(rulebook()))
def test_every_rule_sets_the_five_standard_purposes_with_necessary_on(code):
    defaults = rulebook()[code].jurisdiction.purpose_defaults
    assert list(defaults) == ["necessary", "preferences", "analytics", "marketing", "advertising"]
    assert defaults["necessary"] is True


@pytest.mark.parametrize(
    "code", sorted(c for c, r in rulebook().items() if r.jurisdiction.regime is Regime.OPT_IN)
)
def test_an_opt_in_rule_pre_ticks_nothing(code):
    defaults = rulebook()[code].jurisdiction.purpose_defaults
    assert not any(on for purpose, on in defaults.items() if purpose != "necessary")


def test_the_books_unknown_rule_is_the_strictest_rule_in_code():
    assert rulebook()["unknown"].jurisdiction == STRICTEST


def test_no_rule_lapses_sooner_than_the_strictest():
    lifetimes = [rule.jurisdiction.consent_lifetime for rule in rulebook().values()]
    assert min(lifetimes) == STRICTEST.consent_lifetime


def test_a_family_default_applies_to_each_rule_unless_the_rule_overrides_it(book):
    family = "[defaults]\nconsent_lifetime_days = 365\nreask_floor_months = 12\n"
    germany = (
        RULE.replace('code = "FR"', 'code = "DE"')
        .replace("consent_lifetime_days = 180\n", "")
        .replace("reask_floor_months = 6\n", "")
    )
    write(book, "eu.toml", family + germany + RULE)
    rules = load_rulebook(book)
    assert rules["DE"].jurisdiction.consent_lifetime == dt.timedelta(days=365)
    assert rules["FR"].jurisdiction.consent_lifetime == dt.timedelta(days=180)
    floors = [rules[code].jurisdiction.reask_floor_months for code in ("DE", "FR")]
    assert floors == [12, 6]


# --- what it refuses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        pytest.param(
            'regime = "opt_in"',
            'regime = "opt_maybe"',
            "rule 'FR': regime must be one of",
            id="unknown regime",
        ),
        pytest.param('law = "GDPR"\n', "", "rule 'FR': missing law", id="missing field"),
        pytest.param('code = "FR"\n', "", "rule #1: missing code", id="missing code"),
        pytest.param(
            "effective_from = 2018-05-25",
            'effective_from = "25.05.2018"',
            "rule 'FR': effective_from must be a date",
            id="date as a string",
        ),
        pytest.param(
            "effective_from = 2018-05-25",
            "effective_from = 2018-05-25T00:00:00Z",
            "rule 'FR': effective_from must be a date",
            id="date-time for a date",
        ),
        pytest.param(
            "consent_lifetime_days = 180",
            "consent_lifetime_days = true",
            "rule 'FR': consent_lifetime_days must be a whole number",
            id="bool for a number",
        ),
        pytest.param(
            "consent_lifetime_days = 180",
            "consent_lifetime_days = 0",
            "rule 'FR': consent_lifetime_days must be 1 to",
            id="zero lifetime",
        ),
        pytest.param(
            "reask_floor_months = 6",
            "reask_floor_months = 121",
            "rule 'FR': reask_floor_months must be 0 to 120",
            id="a floor of more than ten years",
        ),
        pytest.param(
            "reask_floor_months = 6",
            "reask_floor_months = -1",
            "rule 'FR': reask_floor_months must be 0 to 120",
            id="a negative floor",
        ),
        pytest.param(
            "gpc = false",
            "gpc = false\nconsent_lifetime = 180",
            "rule 'FR': unknown field consent_lifetime",
            id="misspelt field",
        ),
        pytest.param(
            'code = "FR"',
            'code = "France"',
            "rule 'France': code must be ISO 3166-1",
            id="not a region code",
        ),
        pytest.param(
            "analytics = false",
            "analytics = true",
            "rule 'FR': purpose_defaults: opt-in means every non-essential",
            id="pre-ticked opt-in",
        ),
        pytest.param(
            "marketing = false\n",
            "",
            "rule 'FR': purpose_defaults must set each of",
            id="missing purpose",
        ),
        pytest.param(
            "gpc = false",
            "gpc = false\ngpc_from = 2026-01-01",
            "rule 'FR': gpc_from needs gpc = true",
            id="GPC date without GPC",
        ),
        pytest.param(
            'source_confidence = "S"',
            'source_confidence = "sure"',
            "rule 'FR': source_confidence must be one of",
            id="unknown confidence tag",
        ),
        pytest.param(
            "links = []",
            'links = [{ key = "a", text = "A", exact_wording = true, alternative_to = ["b"] }]',
            "rule 'FR': link 'a' is an alternative to links that are not listed",
            id="dangling alternative",
        ),
        pytest.param(
            "links = []",
            'links = [{ key = "a", text = "A" }]',
            "rule 'FR': link: missing exact_wording",
            id="incomplete link",
        ),
    ],
)
def test_a_malformed_rule_is_refused_naming_the_file_and_the_rule(book, old, new, complaint):
    assert old in RULE
    write(book, "eu.toml", RULE.replace(old, new, 1))
    with pytest.raises(MalformedRulebook, match=rf"^eu\.toml: {complaint}"):
        load_rulebook(book)


def test_a_code_defined_twice_is_refused(book):
    write(book, "a.toml", RULE)
    write(book, "b.toml", RULE)
    with pytest.raises(
        MalformedRulebook, match=r"^b\.toml: rule 'FR': duplicate code, already in a\.toml"
    ):
        load_rulebook(book)


def test_a_file_that_is_not_toml_is_refused(book):
    write(
        book, "eu.toml", RULE.replace("effective_from = 2018-05-25", "effective_from = 2018-02-30")
    )
    with pytest.raises(MalformedRulebook, match=r"^eu\.toml: not valid TOML"):
        load_rulebook(book)


def test_a_file_without_rules_is_refused(book):
    write(book, "eu.toml", RULE.replace("[[rule]]", "[[rules]]"))
    with pytest.raises(MalformedRulebook, match=r"^eu\.toml: expected an optional \[defaults\]"):
        load_rulebook(book)


def test_a_book_without_the_unknown_rule_is_refused(book):
    (book / "default.toml").unlink()
    write(book, "eu.toml", RULE)
    with pytest.raises(MalformedRulebook, match="no rule 'unknown'"):
        load_rulebook(book)


def test_a_book_whose_unknown_rule_drifts_from_the_code_is_refused(book):
    default = (book / "default.toml").read_text(encoding="utf-8")
    drifted = default.replace("gpc = true", "gpc = false")
    drifted = drifted.replace("gpc_status_display = true", "gpc_status_display = false")
    write(book, "default.toml", drifted)
    with pytest.raises(MalformedRulebook, match=r"^default\.toml: rule 'unknown': .* honours_gpc"):
        load_rulebook(book)


def test_a_rule_that_lapses_sooner_than_the_strictest_is_refused(book):
    write(book, "eu.toml", RULE.replace("= 180", "= 90"))
    with pytest.raises(MalformedRulebook, match=r"^eu\.toml: rule 'FR': consent lifetime shorter"):
        load_rulebook(book)


def test_an_empty_folder_is_refused(tmp_path):
    with pytest.raises(MalformedRulebook, match="no rulebook files"):
        load_rulebook(tmp_path)
