"""The jurisdiction rulebook (``policies/rulebook/*.toml``): read once, a bad one refused, and
asked which rule is in force in a region on a day (ARCHITECTURE §5).

Each file is one family of rules: an optional ``[defaults]`` table that every ``[[rule]]`` in
the file starts from, and the rules themselves. The book is law turned into data, so a rule
that is incomplete, mistyped or contradicts itself stops the service instead of being guessed
at; every message names the file and the rule.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import tomllib
from collections.abc import Iterator
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from consent_service.errors import InternalError
from consent_service.jurisdictions.rules import ESSENTIAL_PURPOSE
from consent_service.jurisdictions.rules import REGION_PATTERN
from consent_service.jurisdictions.rules import STANDARD_PURPOSES
from consent_service.jurisdictions.rules import STRICTEST
from consent_service.jurisdictions.rules import Jurisdiction
from consent_service.jurisdictions.rules import Link
from consent_service.jurisdictions.rules import PurposeDefaults
from consent_service.jurisdictions.rules import Regime
from consent_service.jurisdictions.rules import Rule
from policies import RULEBOOK_DIR

_RULE_FIELDS: Mapping[str, type] = {
    "code": str,
    "name": str,
    "regime": str,
    "reject_all_first_layer": bool,
    "gpc": bool,
    "consent_lifetime_days": int,
    "reprompt_days": int,
    "links": list,
    "purpose_defaults": dict,
    "law": str,
    "source_confidence": str,
    "effective_from": dt.date,
}
_RULE_OPTIONAL: Mapping[str, type] = {"gpc_from": dt.date}
_LINK_FIELDS: Mapping[str, type] = {"key": str, "text": str, "exact_wording": bool}
_LINK_OPTIONAL: Mapping[str, type] = {"alternative_to": list}
_KINDS = {
    str: "a string",
    bool: "true or false",
    int: "a whole number",
    list: "an array",
    dict: "a table",
    dt.date: "a date (YYYY-MM-DD, unquoted)",
}
# standards.md's confidence tags: [V]erified, [S]econdary source, [U]nverified, or a mix.
_CONFIDENCE = frozenset({"V", "S", "U", "V/S", "S/U"})
_MAX_DAYS = 3650


class MalformedRulebook(InternalError):
    """The rulebook cannot be trusted as it stands; the message says where and why. Data the
    service ships and loads at start-up, so an InternalError, not a documented problem type."""


class _Problem(ValueError):
    """What is wrong with one rule; the caller adds the file and the rule."""


def load_rulebook(directory: Path) -> dict[str, Rule]:
    """Every rule in ``directory``'s ``*.toml`` files by code, or MalformedRulebook."""
    rules: dict[str, Rule] = {}
    origins: dict[str, str] = {}
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise MalformedRulebook(f"{directory}: no rulebook files (*.toml)")
    for path in files:
        for rule in _read(path):
            code = rule.jurisdiction.code
            if code in origins:
                raise MalformedRulebook(
                    f"{path.name}: rule {code!r}: duplicate code, already in {origins[code]}"
                )
            rules[code] = rule
            origins[code] = path.name
    _check_floor(rules, origins)
    return rules


def _read(path: Path) -> Iterator[Rule]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise MalformedRulebook(f"{path.name}: not valid TOML: {error}") from error
    defaults, entries = data.pop("defaults", {}), data.pop("rule", None)
    tables = isinstance(entries, list) and all(isinstance(entry, dict) for entry in entries)
    if data or not isinstance(defaults, dict) or not tables or not entries:
        raise MalformedRulebook(
            f"{path.name}: expected an optional [defaults] table and [[rule]] entries only"
        )
    for number, entry in enumerate(entries, start=1):
        fields = {**defaults, **entry}
        code = fields.get("code")
        where = f"rule {code!r}" if isinstance(code, str) else f"rule #{number}"
        try:
            yield _rule(fields)
        except _Problem as problem:
            raise MalformedRulebook(f"{path.name}: {where}: {problem}") from None


def _rule(fields: Mapping[str, Any]) -> Rule:
    _check_fields(fields, _RULE_FIELDS, _RULE_OPTIONAL)
    code = fields["code"]
    lifetime, reprompt = fields["consent_lifetime_days"], fields["reprompt_days"]
    if code != STRICTEST.code and not REGION_PATTERN.fullmatch(code):
        raise _Problem("code must be ISO 3166-1 alpha-2, optionally with a subdivision (US-CA)")
    if fields["regime"] not in {regime.value for regime in Regime}:
        raise _Problem(f"regime must be one of {', '.join(Regime)}, not {fields['regime']!r}")
    regime = Regime(fields["regime"])
    if not all(0 < days <= _MAX_DAYS for days in (lifetime, reprompt)):
        raise _Problem(f"consent_lifetime_days and reprompt_days must be 1 to {_MAX_DAYS}")
    if reprompt > lifetime:
        raise _Problem("reprompt_days exceeds consent_lifetime_days: a lapsed choice goes unasked")
    if fields["source_confidence"] not in _CONFIDENCE:
        raise _Problem(f"source_confidence must be one of {', '.join(sorted(_CONFIDENCE))}")
    if not fields["name"].strip() or not fields["law"].strip():
        raise _Problem("name and law must not be empty")
    gpc_from = fields.get("gpc_from")
    if gpc_from is not None and (not fields["gpc"] or gpc_from < fields["effective_from"]):
        raise _Problem("gpc_from needs gpc = true and must not precede effective_from")
    jurisdiction = Jurisdiction(
        code=code,
        regime=regime,
        honours_gpc=fields["gpc"],
        consent_lifetime=dt.timedelta(days=lifetime),
        name=fields["name"],
        reject_all_first_layer=fields["reject_all_first_layer"],
        reprompt_after=dt.timedelta(days=reprompt),
        links=_links(fields["links"]),
        purpose_defaults=_purpose_defaults(fields["purpose_defaults"], regime),
        law=fields["law"],
        source_confidence=fields["source_confidence"],
    )
    return Rule(jurisdiction, effective_from=fields["effective_from"], gpc_from=gpc_from)


def _links(entries: list[Any]) -> tuple[Link, ...]:
    links = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise _Problem(f"each link must be a table, not {entry!r}")
        _check_fields(entry, _LINK_FIELDS, _LINK_OPTIONAL, within="link: ")
        alternative_to = entry.get("alternative_to", [])
        if not all(isinstance(key, str) for key in alternative_to):
            raise _Problem("link: alternative_to must list link keys")
        links.append(
            Link(entry["key"], entry["text"], entry["exact_wording"], tuple(alternative_to))
        )
    keys = [link.key for link in links]
    if len(set(keys)) < len(keys):
        raise _Problem(f"link keys repeat: {keys}")
    for link in links:
        if not set(link.alternative_to) <= set(keys) - {link.key}:
            raise _Problem(f"link {link.key!r} is an alternative to links that are not listed")
    return tuple(links)


def _purpose_defaults(table: Mapping[str, Any], regime: Regime) -> PurposeDefaults:
    if sorted(table) != sorted(STANDARD_PURPOSES) or not all(
        isinstance(value, bool) for value in table.values()
    ):
        raise _Problem(
            f"purpose_defaults must set each of {', '.join(STANDARD_PURPOSES)} to a bool"
        )
    if not table[ESSENTIAL_PURPOSE]:
        raise _Problem(f"purpose_defaults: {ESSENTIAL_PURPOSE} must be true")
    if regime is Regime.OPT_IN and any(v for k, v in table.items() if k != ESSENTIAL_PURPOSE):
        raise _Problem("purpose_defaults: opt-in means every non-essential purpose starts false")
    return PurposeDefaults((key, table[key]) for key in STANDARD_PURPOSES)


def _check_fields(
    fields: Mapping[str, Any],
    required: Mapping[str, type],
    optional: Mapping[str, type],
    *,
    within: str = "",
) -> None:
    """Every required field present, nothing unknown (a typo would otherwise vanish), and each
    of the TOML type its meaning needs."""
    missing = [key for key in required if key not in fields]
    if missing:
        raise _Problem(f"{within}missing {', '.join(missing)}")
    unknown = sorted(fields.keys() - required.keys() - optional.keys())
    if unknown:
        raise _Problem(f"{within}unknown field {', '.join(unknown)}")
    for key, value in fields.items():
        kind = required.get(key) or optional[key]
        if not _is_a(value, kind):
            raise _Problem(f"{within}{key} must be {_KINDS[kind]}, not {value!r}")


def _is_a(value: object, kind: type) -> bool:
    # TOML's true is an int to Python, and a date-time is a date: neither may pass for the other.
    if isinstance(value, bool) and kind is not bool:
        return False
    if isinstance(value, dt.datetime) and kind is dt.date:
        return False
    return isinstance(value, kind)


def _check_floor(rules: Mapping[str, Rule], origins: Mapping[str, str]) -> None:
    """The book's unknown rule is STRICTEST, and nothing in the book lapses sooner."""
    floor = rules.get(STRICTEST.code)
    if floor is None:
        raise MalformedRulebook(f"no rule {STRICTEST.code!r}: unknown regions need the strictest")
    differing = [
        field.name
        for field in dataclasses.fields(Jurisdiction)
        if getattr(floor.jurisdiction, field.name) != getattr(STRICTEST, field.name)
    ]
    if differing:
        raise MalformedRulebook(
            f"{origins[STRICTEST.code]}: rule {STRICTEST.code!r}: differs from STRICTEST in "
            f"consent_service/jurisdictions.py in {', '.join(differing)}"
        )
    for code, rule in rules.items():
        if rule.jurisdiction.consent_lifetime < STRICTEST.consent_lifetime:
            raise MalformedRulebook(
                f"{origins[code]}: rule {code!r}: consent lifetime shorter than the strictest "
                f"rule's {STRICTEST.consent_lifetime.days} days; shorten STRICTEST first"
            )


@functools.cache
def rulebook() -> Mapping[str, Rule]:
    """Every rule by code, read and checked on first use (call it at start-up to fail early)."""
    return load_rulebook(RULEBOOK_DIR)


def jurisdiction_for_region(region: str | None, *, on: dt.date | None = None) -> Jurisdiction:
    """The most specific rule in force in ``region`` on ``on`` (default: today, UTC).

    ``US-CA`` is tried before ``US``; a rule whose law is not yet in force gives way to its
    parent. Unknown or malformed regions, and countries without a rule in force, get STRICTEST.
    """
    candidate = (region or "").strip().upper()
    match = REGION_PATTERN.fullmatch(candidate)
    if match is None:
        return STRICTEST
    day = on or _today()
    book = rulebook()
    for code in dict.fromkeys((candidate, match[1])):
        rule = book.get(code)
        if rule is not None and rule.effective_from <= day:
            return rule.on(day)
    return STRICTEST


def jurisdiction_by_code(code: str, *, on: dt.date | None = None) -> Jurisdiction:
    """The rule a receipt recorded, with its GPC duty as of ``on`` (default: today, UTC).

    It applied when it was recorded, so its start date is not checked again; a code the book no
    longer has gets STRICTEST.
    """
    rule = rulebook().get(code)
    return STRICTEST if rule is None else rule.on(on or _today())


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
