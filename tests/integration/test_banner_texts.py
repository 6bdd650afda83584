"""``GET /v1/banner``'s words: the property's shared words merged with its words for the
visitor's regime (opt-in, opt-out, notice), in the visitor's language or else the default one.
The demo shop carries the built-in words, so they are what these visitors read."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from consent_service.banner.default_texts import default_texts
from consent_service.jurisdictions.rules import Regime
from consent_service.models import Property
from consent_service.properties.config_version import bump_config_version
from consent_service.properties.settings import REGIME_TEXT_ORDER
from consent_service.properties.settings import SHARED_TEXT_ORDER

# autouse: tests roll back, so a config_version recurs; no banner cached by another may show
from tests.integration.test_admin_purposes import fresh_banner_cache  # noqa: F401


def texts(client, region: str, locale: str) -> dict[str, str]:
    response = client.get(f"/v1/banner?property=demo-shop&region={region}&locale={locale}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["texts"]


def regime_words(body: dict[str, str], regime: Regime) -> dict[str, str]:
    return {key: body[key] for key in REGIME_TEXT_ORDER[regime]}


@pytest.mark.parametrize(
    "region, regime",
    [("IT", Regime.OPT_IN), ("US-VA", Regime.OPT_OUT), ("JP", Regime.NOTICE)],
)
@pytest.mark.parametrize("locale", ["en", "de", "fr"])
def test_each_regime_gets_its_own_words_in_each_language(client, region, regime, locale):
    body = texts(client, region, locale)
    assert regime_words(body, regime) == default_texts().regimes[regime][locale]
    assert {key: body[key] for key in SHARED_TEXT_ORDER} == default_texts().shared[locale]


def test_an_eu_visitor_is_asked_for_permission_and_offered_to_reject_all(client):
    body = texts(client, "DE", "de")
    assert "mit Ihrer Einwilligung" in body["description"]
    assert (body["accept_all"], body["reject_all"]) == ("Alle akzeptieren", "Alle ablehnen")


@pytest.mark.parametrize(
    "locale, sold, opt_out, refusal",
    [
        ("en", "may be sold", "You can opt out at any time", "Opt out"),
        ("de", "verkauft", "Sie können dem jederzeit widersprechen", "Widersprechen"),
        ("fr", "peuvent être vendues", "Vous pouvez vous y opposer à tout moment", "Refuser"),
    ],
)
def test_an_opt_out_visitor_learns_data_may_be_sold_and_how_to_opt_out(
    client, locale, sold, opt_out, refusal
):
    body = texts(client, "US-VA", locale)
    assert sold in body["description"] and opt_out in body["description"]
    assert body["reject_all"] == refusal
    for permission in ("with your permission", "Einwilligung", "Erlaubnis", "avec votre accord"):
        assert permission not in body["description"]


@pytest.mark.parametrize(
    "locale, acknowledge, reject",
    [("en", "OK", "reject"), ("de", "Verstanden", "ablehnen"), ("fr", "J'ai compris", "refuser")],
)
def test_a_notice_visitor_is_informed_and_acknowledges(client, locale, acknowledge, reject):
    body = texts(client, "JP", locale)
    assert body["acknowledge"] == acknowledge
    assert reject not in body["description"].lower()


def test_a_californian_gets_the_words_for_the_opt_out_status_and_the_second_step(client):
    body = texts(client, "US-CA", "en")
    assert body["gpc_status"] == "Opt-Out Request Honored"
    assert body["reoptin_confirm"].endswith("Do you want to opt back in?")
    assert body["confirm"] == "Yes, opt back in"


def test_an_unknown_language_gets_the_regimes_words_in_the_default_language(client):
    assert texts(client, "US-VA", "ja")["reject_all"] == "Opt out"


def demo(session) -> Property:
    return session.scalar(sa.select(Property).where(Property.key == "demo-shop"))


def changed(session, prop: Property) -> None:
    session.flush()
    bump_config_version(session, prop.id)
    session.flush()


def test_a_word_missing_in_a_language_comes_from_the_default_language_of_the_same_regime(
    client, session
):
    prop = demo(session)
    by_regime = {regime: dict(values) for regime, values in prop.regime_texts.items()}
    by_regime["opt_out"] = {**by_regime["opt_out"], "de": {"title": "Nur der Titel"}}
    prop.regime_texts = by_regime
    changed(session, prop)
    body = texts(client, "US-VA", "de")
    assert body["title"] == "Nur der Titel"
    assert body["reject_all"] == default_texts().regimes[Regime.OPT_OUT]["en"]["reject_all"]
    assert body["save"] == "Auswahl speichern"  # shared words stay German


def test_where_a_regime_has_no_words_the_shared_ones_show(client, session):
    prop = demo(session)
    prop.regime_texts = {key: value for key, value in prop.regime_texts.items() if key != "notice"}
    prop.banner_texts = {**prop.banner_texts, "en": {**prop.banner_texts["en"], "title": "Ours"}}
    changed(session, prop)
    body = texts(client, "JP", "en")
    assert body["title"] == "Ours"
    assert body["acknowledge"] == ""
    assert texts(client, "US-VA", "en")["title"] != "Ours"  # a regime's own words win
