"""What loading the rulebook refuses about first layers, re-ask floors, duties and the
fallbacks for an unknown subdivision: each refusal names the file, the rule and why."""

from __future__ import annotations

import shutil

import pytest

from consent_service.jurisdictions.rulebook import MalformedRulebook
from consent_service.jurisdictions.rulebook import _fallback_of
from consent_service.jurisdictions.rulebook import load_rulebook
from policies import RULEBOOK_DIR
from tests.unit.test_rulebook import RULE

# California's duties, which the fallback must match.
CALIFORNIAN = """
gpc = true
gpc_status_display = true
reoptin_confirmation = true
material_change_consent = true
links = [
    { key = "dns", text = "Do Not Sell or Share My Personal Information", exact_wording = true },
]
"""
US = """
[defaults]
regime = "opt_out"
first_layer = ["accept_all", "reject_all", "customize"]
gpc = false
gpc_status_display = false
consent_lifetime_days = 365
reask_floor_months = 12
reoptin_confirmation = false
material_change_consent = false
links = []
law = "a law"
source_confidence = "S"
effective_from = 2020-01-01
purpose_defaults.necessary = true
purpose_defaults.preferences = true
purpose_defaults.analytics = true
purpose_defaults.marketing = true
purpose_defaults.advertising = true

[[rule]]
code = "US"
name = "United States"
regime = "notice"
first_layer = ["acknowledge", "customize"]
subdivisions_decide = true

[[rule]]
code = "US-unknown"
name = "United States (state unknown)"
@CALIFORNIAN@

[[rule]]
code = "US-CA"
name = "California"
@CALIFORNIAN@

[[rule]]
code = "US-CO"
name = "Colorado"
gpc = true
gpc_from = 2024-07-01
effective_from = 2023-07-01
links = [{ key = "opt_out", text = "Our wording", exact_wording = false }]
""".replace("@CALIFORNIAN@", CALIFORNIAN)


@pytest.fixture
def book(tmp_path):
    shutil.copy(RULEBOOK_DIR / "default.toml", tmp_path / "default.toml")
    return tmp_path


def load_with(book, name: str, text: str):
    (book / name).write_text(text, encoding="utf-8")
    return load_rulebook(book)


def refused(book, name: str, text: str) -> str:
    with pytest.raises(MalformedRulebook) as error:
        load_with(book, name, text)
    return str(error.value)


LAYER = 'first_layer = ["accept_all", "reject_all", "customize"]'


@pytest.mark.parametrize(
    ("layer", "complaint"),
    [
        pytest.param(
            '["accept_all", "reject_all", "maybe", "customize"]',
            "unknown button 'maybe'",
            id="unknown button",
        ),
        pytest.param(
            '["accept_all", "reject_all", "reject_all", "customize"]',
            "buttons repeat",
            id="repeated button",
        ),
        pytest.param('["accept_all", "reject_all"]', "customize must be", id="no customize"),
        pytest.param(
            '["accept_all", "customize"]', "accept_all needs reject_all", id="accept alone"
        ),
        pytest.param(
            '["customize"]', "an opt_in first layer needs reject_all", id="consent without refusal"
        ),
        pytest.param(
            '["acknowledge", "reject_all", "customize"]',
            "acknowledge is no consent",
            id="acknowledge under opt-in",
        ),
        pytest.param('"accept_all"', "first_layer must be an array", id="not a list"),
        pytest.param('["accept_all", 1, "customize"]', "must list button names", id="not names"),
    ],
)
def test_a_first_layer_the_law_does_not_allow_is_refused(book, layer, complaint):
    message = refused(book, "eu.toml", RULE.replace(LAYER, f"first_layer = {layer}"))
    assert message.startswith("eu.toml: rule 'FR': ")
    assert complaint in message


def test_an_opt_out_first_layer_without_refusal_is_refused(book):
    text = US.replace(LAYER, 'first_layer = ["accept_all", "customize"]', 1)
    assert "an opt_out first layer needs reject_all" in refused(book, "us.toml", text)


def test_a_notice_may_be_acknowledged_without_a_refusal(book):
    rules = load_with(book, "us.toml", US)
    assert rules["US"].jurisdiction.first_layer == ("acknowledge", "customize")
    assert rules["US"].jurisdiction.reject_all_first_layer is False


def test_a_re_ask_floor_beyond_the_strictest_rules_is_refused(book):
    text = RULE.replace("reask_floor_months = 6", "reask_floor_months = 13")
    assert refused(book, "eu.toml", text).startswith(
        "eu.toml: rule 'FR': re-ask floor longer than the strictest rule's 12 months"
    )


def test_a_gpc_status_without_gpc_is_refused(book):
    text = RULE.replace("gpc_status_display = false", "gpc_status_display = true")
    assert "gpc_status_display needs gpc = true" in refused(book, "eu.toml", text)


@pytest.mark.parametrize(
    "field", ["reask_floor_months", "first_layer", "reoptin_confirmation", "gpc_status_display"]
)
def test_each_new_field_is_required(book, field):
    text = "\n".join(line for line in RULE.splitlines() if not line.startswith(f"{field} ="))
    assert f"rule 'FR': missing {field}" in refused(book, "eu.toml", text)


# --- fallbacks for an unknown subdivision -------------------------------------------------------


def test_a_fallback_at_least_as_strict_as_every_subdivision_loads(book):
    rules = load_with(book, "us.toml", US)
    assert rules["US"].subdivisions_decide
    assert rules["US-unknown"].jurisdiction.honours_gpc


def test_a_country_whose_subdivisions_decide_needs_its_fallback(book):
    text = US.replace('code = "US-unknown"', 'code = "US-ZZ"')
    assert refused(book, "us.toml", text) == (
        "us.toml: rule 'US': subdivisions_decide needs a rule 'US-unknown' for visitors "
        "whose subdivision is unknown"
    )


def test_a_fallback_for_a_country_that_does_not_declare_it_is_refused(book):
    text = US.replace("subdivisions_decide = true\n", "")
    assert "rule 'US-unknown': a fallback for a country whose rule does not say" in refused(
        book, "us.toml", text
    )


def test_subdivisions_decide_on_a_subdivision_is_refused(book):
    text = US.replace('name = "Colorado"', 'name = "Colorado"\nsubdivisions_decide = true')
    assert "rule 'US-CO': subdivisions_decide belongs on a country's rule" in refused(
        book, "us.toml", text
    )


def fallback_changed(old: str, new: str) -> str:
    head, _, tail = US.partition('code = "US-unknown"')
    block, _, rest = tail.partition("[[rule]]")
    assert old in block
    return head + 'code = "US-unknown"' + block.replace(old, new, 1) + "[[rule]]" + rest


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        pytest.param(
            "gpc = true\ngpc_status_display = true",
            "gpc = false\ngpc_status_display = false",
            "GPC honoured from 2020-01-01",
            id="no GPC",
        ),
        pytest.param(
            "gpc = true",
            "gpc = true\ngpc_from = 2025-01-01",
            "GPC honoured from 2020-01-01",
            id="GPC later than a state's",
        ),
        pytest.param(
            'name = "United States (state unknown)"',
            'name = "United States (state unknown)"\neffective_from = 2021-01-01',
            "effective_from 2021-01-01 after 2020-01-01",
            id="in force later",
        ),
        pytest.param(
            'name = "United States (state unknown)"',
            'name = "United States (state unknown)"\nregime = "notice"\n'
            'first_layer = ["acknowledge", "customize"]',
            "regime notice < opt_out",
            id="laxer regime",
        ),
        pytest.param(
            'name = "United States (state unknown)"',
            'name = "United States (state unknown)"\nconsent_lifetime_days = 400',
            "consent lifetime longer than 365 days",
            id="longer lifetime",
        ),
        pytest.param(
            'name = "United States (state unknown)"',
            'name = "United States (state unknown)"\nreask_floor_months = 6',
            "re-ask floor shorter than 12 months",
            id="shorter floor",
        ),
        pytest.param(
            "reoptin_confirmation = true",
            "reoptin_confirmation = false",
            "reoptin_confirmation",
            id="one-step re-opt-in",
        ),
        pytest.param(
            "material_change_consent = true",
            "material_change_consent = false",
            "material_change_consent",
            id="no material-change consent",
        ),
        pytest.param(
            "gpc_status_display = true",
            "gpc_status_display = false",
            "gpc_status_display",
            id="no GPC status",
        ),
        pytest.param(
            'text = "Do Not Sell or Share My Personal Information"',
            'text = "Do Not Sell My Info"',
            "link 'Do Not Sell or Share My Personal Information' missing",
            id="a statutory link's words missing",
        ),
    ],
)
def test_a_fallback_laxer_than_a_subdivision_stops_the_load(book, old, new, complaint):
    message = refused(book, "us.toml", fallback_changed(old, new))
    assert message.startswith("us.toml: rule 'US-unknown' is laxer than 'US-")
    assert complaint in message


def test_a_fallback_without_refusal_on_its_layer_is_laxer(book):
    # A notice fallback (its layer valid for a notice) beside opt-out states is laxer twice over.
    text = fallback_changed(
        'name = "United States (state unknown)"',
        'name = "United States (state unknown)"\nregime = "notice"\n'
        'first_layer = ["acknowledge", "customize"]',
    )
    assert "no reject_all on the first layer" in refused(book, "us.toml", text)


def test_a_fallback_must_not_pre_tick_what_a_subdivision_keeps_off(book):
    text = US.replace(
        'name = "Colorado"',
        'name = "Colorado"\npurpose_defaults = { necessary = true, preferences = true, '
        "analytics = true, marketing = false, advertising = true }",
    )
    assert "purpose 'marketing' on by default" in refused(book, "us.toml", text)


def test_a_link_whose_words_the_law_does_not_fix_is_served_by_any_link(book):
    # Colorado's "Our wording" link is not among the fallback's texts, and need not be.
    assert "US-CO" in load_with(book, "us.toml", US)


def test_a_fallback_code_must_name_a_country():
    assert [_fallback_of(code) for code in ("US-unknown", "usa-unknown", "us-unknown", "US")] == [
        "US",
        None,
        None,
        None,
    ]
