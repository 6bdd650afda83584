"""The banner's built-in words (``default_texts.toml`` beside this module): shared ones and, per
regime, the ones that must match how the law presents the choice, in en, de and fr.

They are a starting point, copied into a property (the demo loader, migration f12a7b3c0002),
never read when a banner is served: what a visitor sees is what the property's admin sees and
edits, and a new release of these words never changes a shop's banner behind its back."""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from collections.abc import Iterable
from collections.abc import Mapping
from pathlib import Path

from consent_service.errors import InternalError
from consent_service.jurisdictions.rules import Regime
from consent_service.properties.settings import REGIME_TEXT_ORDER
from consent_service.properties.settings import SHARED_TEXT_ORDER

DEFAULT_TEXTS_FILE = Path(__file__).with_name("default_texts.toml")
# The language whose words a property gets when it has no built-in words in its own default
# language: an empty title or button would be worse than words its admin must then translate.
FALLBACK_LOCALE = "en"

Texts = dict[str, dict[str, str]]  # {locale: {key: text}}


class MalformedDefaultTexts(InternalError):
    """The shipped file lacks a key or has one no banner knows: a bug in a release."""


@dataclasses.dataclass(frozen=True)
class DefaultTexts:
    shared: Mapping[str, Mapping[str, str]]
    regimes: Mapping[Regime, Mapping[str, Mapping[str, str]]]

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(self.shared)


@functools.cache
def default_texts() -> DefaultTexts:
    """The shipped words, read and checked once: every locale has every key of its section."""
    data = tomllib.loads(DEFAULT_TEXTS_FILE.read_text(encoding="utf-8"))
    shared = _section(data, "shared", SHARED_TEXT_ORDER)
    regimes = {regime: _section(data, regime.value, REGIME_TEXT_ORDER[regime]) for regime in Regime}
    for regime, by_locale in regimes.items():
        if set(by_locale) != set(shared):
            raise MalformedDefaultTexts(f"{regime.value}: not the same languages as shared")
    return DefaultTexts(shared=shared, regimes=regimes)


def _section(data: Mapping[str, object], name: str, keys: tuple[str, ...]) -> Texts:
    table = data.get(name)
    if not isinstance(table, dict) or not table:
        raise MalformedDefaultTexts(f"{DEFAULT_TEXTS_FILE.name}: no [{name}.<locale>] tables")
    for locale, texts in table.items():
        if not isinstance(texts, dict) or set(texts) != set(keys):
            given = set(texts) if isinstance(texts, dict) else set()
            raise MalformedDefaultTexts(
                f"{name}.{locale}: lacks {sorted(set(keys) - given)}, "
                f"has unknown {sorted(given - set(keys))}"
            )
    return {locale: dict(texts) for locale, texts in table.items()}


def completed(
    texts: Mapping[str, Mapping[str, str]],
    section: Mapping[str, Mapping[str, str]],
    keys: Iterable[str],
    *,
    locales: Iterable[str],
    default_locale: str,
) -> Texts:
    """``texts`` with each of ``keys`` it lacks in a language taken from ``section``: the same
    language (``de-CH`` takes ``de``), or, in the default language only, English. A language
    with no built-in words keeps what it has and falls back to the default one when shown."""
    result = {locale: dict(values) for locale, values in texts.items()}
    for locale in locales:
        builtin = section.get(locale) or section.get(locale.split("-")[0])
        if builtin is None and locale == default_locale:
            builtin = section[FALLBACK_LOCALE]
        if builtin is None:
            continue
        own = result.setdefault(locale, {})
        for key in keys:
            if not own.get(key, "").strip():
                own[key] = builtin[key]
    return {locale: values for locale, values in result.items() if values}


def completed_regime_texts(
    regime_texts: Mapping[str, Mapping[str, Mapping[str, str]]],
    *,
    locales: Iterable[str],
    default_locale: str,
) -> dict[str, Texts]:
    """``regime_texts`` ({regime: {locale: {key: text}}}) with every regime's missing words
    taken from the built-in ones, as :func:`completed` does."""
    builtin = default_texts()
    locales = list(locales)
    return {
        regime.value: completed(
            regime_texts.get(regime.value, {}),
            builtin.regimes[regime],
            REGIME_TEXT_ORDER[regime],
            locales=locales,
            default_locale=default_locale,
        )
        for regime in Regime
    }
