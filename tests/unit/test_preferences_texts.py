"""The preferences page's UI texts: every locale says everything English says, with the same
{placeholders}, and nothing is left blank."""

from __future__ import annotations

import json
import string

import pytest

from consent_service.preferences.view import TEXTS_DIR

LOCALES = ("en", "de", "fr")
TRANSLATIONS = tuple(locale for locale in LOCALES if locale != "en")


def load(locale: str) -> dict[str, str]:
    with (TEXTS_DIR / f"{locale}.json").open(encoding="utf-8") as file:
        return json.load(file)


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


@pytest.mark.parametrize("locale", TRANSLATIONS)
def test_every_locale_has_exactly_the_english_keys(locale):
    assert set(load(locale)) == set(load("en"))


@pytest.mark.parametrize("locale", TRANSLATIONS)
def test_every_text_uses_the_same_placeholders_as_english(locale):
    english = load("en")
    texts = load(locale)
    mismatched = {
        key: (placeholders(english[key]), placeholders(text))
        for key, text in texts.items()
        if key in english and placeholders(text) != placeholders(english[key])
    }
    assert mismatched == {}


@pytest.mark.parametrize("locale", LOCALES)
def test_no_text_is_empty(locale):
    texts = load(locale)
    empty = [key for key, text in texts.items() if not isinstance(text, str) or not text.strip()]
    assert empty == []
