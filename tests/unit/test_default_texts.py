"""The built-in banner words (``banner/default_texts.toml``): complete, and saying only what is
true under each regime and of the buttons the rulebook's first layers have."""

from __future__ import annotations

import datetime as dt

import pytest

from consent_service.banner.default_texts import completed
from consent_service.banner.default_texts import default_texts
from consent_service.jurisdictions.rulebook import rulebook
from consent_service.jurisdictions.rules import Regime
from consent_service.properties.settings import REGIME_TEXT_ORDER
from consent_service.properties.settings import REQUIRED_TEXT_KEYS
from consent_service.properties.settings import SHARED_TEXT_ORDER

PERMISSION = {
    "en": "with your permission",
    "de": "mit Ihrer Einwilligung",
    "fr": "avec votre accord",
}
REJECT = {"en": "reject", "de": "ablehnen", "fr": "refuser"}
LOCALES = ("en", "de", "fr")


def test_every_language_has_every_word_of_every_regime():
    builtin = default_texts()
    assert builtin.locales == LOCALES
    for locale in LOCALES:
        assert set(builtin.shared[locale]) == set(SHARED_TEXT_ORDER)
        for regime in Regime:
            assert set(builtin.regimes[regime][locale]) == set(REGIME_TEXT_ORDER[regime])
            assert all(text.strip() for text in builtin.regimes[regime][locale].values())


@pytest.mark.parametrize("locale", LOCALES)
def test_only_the_opt_in_banner_asks_for_permission(locale):
    regimes = default_texts().regimes
    assert PERMISSION[locale] in regimes[Regime.OPT_IN][locale]["description"]
    for regime in (Regime.OPT_OUT, Regime.NOTICE):
        assert PERMISSION[locale] not in regimes[regime][locale]["description"]


@pytest.mark.parametrize("locale", LOCALES)
def test_the_notice_names_no_refusal_and_is_acknowledged(locale):
    notice = default_texts().regimes[Regime.NOTICE][locale]
    assert REJECT[locale] not in notice["description"].lower()
    assert notice["acknowledge"] in ("OK", "Verstanden", "J'ai compris")


def test_california_gets_its_required_opt_out_status_wording():
    # 11 CCR §7025(c)(6)
    assert default_texts().shared["en"]["gpc_status"] == "Opt-Out Request Honored"


def rules_in_force() -> list:
    today = dt.date(2026, 12, 6)
    return [rule.on(today) for rule in rulebook().values()]


def test_every_first_layer_button_has_a_word_the_admin_must_fill_for_its_regime():
    for rule in rules_in_force():
        for button in rule.first_layer:
            if button == "customize":
                assert button in REQUIRED_TEXT_KEYS
            else:
                assert button in REGIME_TEXT_ORDER[rule.regime], (rule.code, button)


def test_the_opt_in_description_promises_only_buttons_every_opt_in_first_layer_has():
    # It reads "You can accept all, reject all, or choose for each purpose".
    for rule in rules_in_force():
        if rule.regime is Regime.OPT_IN:
            assert {"accept_all", "reject_all", "customize"} <= set(rule.first_layer), rule.code


def test_completing_takes_the_language_then_english_for_the_default_only():
    section = default_texts().shared
    result = completed(
        {"es": {"save": "Guardar"}, "de-CH": {"save": "Speichern"}},
        section,
        ["save", "close"],
        locales=["es", "de-CH", "it"],
        default_locale="es",
    )
    assert result == {
        "es": {"save": "Guardar", "close": "Close"},  # the default language: English words
        "de-CH": {"save": "Speichern", "close": "Schließen"},  # de-CH takes de
    }  # "it" has no built-in words and is not the default: it falls back when shown
