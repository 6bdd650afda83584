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
from consent_service.jurisdictions.rules import MAX_REASK_FLOOR_MONTHS
from consent_service.jurisdictions.rules import REGION_PATTERN
from consent_service.jurisdictions.rules import STANDARD_PURPOSES
from consent_service.jurisdictions.rules import STRICTEST
from consent_service.jurisdictions.rules import STRICTNESS
from consent_service.jurisdictions.rules import Jurisdiction
from consent_service.jurisdictions.rules import Link
from consent_service.jurisdictions.rules import PurposeDefaults
from consent_service.jurisdictions.rules import Regime
from consent_service.jurisdictions.rules import Rule
from consent_service.jurisdictions.rules import first_layer_problems
from policies import RULEBOOK_DIR

_RULE_FIELDS: Mapping[str, type] = {
    "code": str,
    "name": str,
    "regime": str,
    "first_layer": list,
    "gpc": bool,
    "consent_lifetime_days": int,
    "reask_floor_months": int,
    "gpc_status_display": bool,
    "reoptin_confirmation": bool,
    "material_change_consent": bool,
    "links": list,
    "purpose_defaults": dict,
    "law": str,
    "source_confidence": str,
    "effective_from": dt.date,
}
_RULE_OPTIONAL: Mapping[str, type] = {"gpc_from": dt.date, "subdivisions_decide": bool}
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
# A country whose law is set per subdivision holds this rule for a visitor whose subdivision is
# unknown ("US-unknown": 10 characters, within the 16 of every jurisdiction column).
FALLBACK_SUFFIX = "-unknown"
# The duties a rule may switch on; a fallback needs each one that any of its subdivisions has.
_DUTIES = ("gpc_status_display", "reoptin_confirmation", "material_change_consent")


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
    _check_fallbacks(rules, origins)
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
    code, lifetime, floor = (
        fields["code"],
        fields["consent_lifetime_days"],
        fields["reask_floor_months"],
    )
    if not (code == STRICTEST.code or REGION_PATTERN.fullmatch(code) or _fallback_of(code)):
        raise _Problem(
            "code must be ISO 3166-1 alpha-2, optionally with a subdivision (US-CA), or a "
            f"country's fallback for an unknown subdivision (US{FALLBACK_SUFFIX})"
        )
    if fields["regime"] not in {regime.value for regime in Regime}:
        raise _Problem(f"regime must be one of {', '.join(Regime)}, not {fields['regime']!r}")
    regime = Regime(fields["regime"])
    if not 0 < lifetime <= _MAX_DAYS:
        raise _Problem(f"consent_lifetime_days must be 1 to {_MAX_DAYS}")
    if not 0 <= floor <= MAX_REASK_FLOOR_MONTHS:
        raise _Problem(f"reask_floor_months must be 0 to {MAX_REASK_FLOOR_MONTHS}")
    layer = fields["first_layer"]
    if not all(isinstance(button, str) for button in layer):
        raise _Problem("first_layer must list button names")
    problems = first_layer_problems(layer, regime)
    if problems:
        raise _Problem("first_layer: " + "; ".join(problems))
    if fields["source_confidence"] not in _CONFIDENCE:
        raise _Problem(f"source_confidence must be one of {', '.join(sorted(_CONFIDENCE))}")
    if not fields["name"].strip() or not fields["law"].strip():
        raise _Problem("name and law must not be empty")
    gpc_from = fields.get("gpc_from")
    if gpc_from is not None and (not fields["gpc"] or gpc_from < fields["effective_from"]):
        raise _Problem("gpc_from needs gpc = true and must not precede effective_from")
    if fields["gpc_status_display"] and not fields["gpc"]:
        raise _Problem("gpc_status_display needs gpc = true: no signal, no status to show")
    subdivisions_decide = fields.get("subdivisions_decide", False)
    if subdivisions_decide and "-" in code:
        raise _Problem("subdivisions_decide belongs on a country's rule (US), not a subdivision's")
    jurisdiction = Jurisdiction(
        code=code,
        regime=regime,
        honours_gpc=fields["gpc"],
        consent_lifetime=dt.timedelta(days=lifetime),
        name=fields["name"],
        links=_links(fields["links"]),
        purpose_defaults=_purpose_defaults(fields["purpose_defaults"], regime),
        law=fields["law"],
        source_confidence=fields["source_confidence"],
        first_layer=tuple(layer),
        reask_floor_months=floor,
        gpc_status_display=fields["gpc_status_display"],
        reoptin_confirmation=fields["reoptin_confirmation"],
        material_change_consent=fields["material_change_consent"],
    )
    return Rule(
        jurisdiction,
        effective_from=fields["effective_from"],
        gpc_from=gpc_from,
        subdivisions_decide=subdivisions_decide,
    )


def _fallback_of(code: str) -> str | None:
    """``US-unknown`` -> ``US``; anything else -> None."""
    country = code.removesuffix(FALLBACK_SUFFIX)
    if country != code and len(country) == 2 and country.isascii() and country.isupper():
        return country
    return None


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
        if rule.jurisdiction.reask_floor_months > STRICTEST.reask_floor_months:
            raise MalformedRulebook(
                f"{origins[code]}: rule {code!r}: re-ask floor longer than the strictest "
                f"rule's {STRICTEST.reask_floor_months} months; lengthen STRICTEST first"
            )


def _check_fallbacks(rules: Mapping[str, Rule], origins: Mapping[str, str]) -> None:
    """Each country whose subdivisions decide has its fallback, and the fallback is at least
    as strict as every subdivision rule of that country: a visitor whose state is unknown may
    be in any of them, so a fallback laxer than one of them stops the load."""
    for code, rule in rules.items():
        country = _fallback_of(code)
        if country is not None and not (country in rules and rules[country].subdivisions_decide):
            raise MalformedRulebook(
                f"{origins[code]}: rule {code!r}: a fallback for a country whose rule does not "
                "say subdivisions_decide = true"
            )
        if not rule.subdivisions_decide:
            continue
        fallback_code = code + FALLBACK_SUFFIX
        fallback = rules.get(fallback_code)
        if fallback is None:
            raise MalformedRulebook(
                f"{origins[code]}: rule {code!r}: subdivisions_decide needs a rule "
                f"{fallback_code!r} for visitors whose subdivision is unknown"
            )
        for sub_code, sub in rules.items():
            if not sub_code.startswith(f"{code}-") or sub_code == fallback_code:
                continue
            laxer = _laxer_than(fallback, sub)
            if laxer:
                raise MalformedRulebook(
                    f"{origins[fallback_code]}: rule {fallback_code!r} is laxer than "
                    f"{sub_code!r} ({origins[sub_code]}) in: {'; '.join(laxer)}"
                )


def _laxer_than(fallback: Rule, sub: Rule) -> list[str]:
    """Where ``fallback`` protects less than ``sub`` (empty: nowhere)."""
    mine, theirs = fallback.jurisdiction, sub.jurisdiction
    laxer = []
    if STRICTNESS.index(mine.regime) < STRICTNESS.index(theirs.regime):
        laxer.append(f"regime {mine.regime} < {theirs.regime}")
    if fallback.effective_from > sub.effective_from:
        laxer.append(f"effective_from {fallback.effective_from} after {sub.effective_from}")
    if theirs.honours_gpc and not (
        mine.honours_gpc and fallback.gpc_duty_from <= sub.gpc_duty_from
    ):
        laxer.append(f"GPC honoured from {sub.gpc_duty_from}")
    if mine.consent_lifetime > theirs.consent_lifetime:
        laxer.append(f"consent lifetime longer than {theirs.consent_lifetime.days} days")
    if mine.reask_floor_months < theirs.reask_floor_months:
        laxer.append(f"re-ask floor shorter than {theirs.reask_floor_months} months")
    if theirs.reject_all_first_layer and not mine.reject_all_first_layer:
        laxer.append("no reject_all on the first layer")
    off = [key for key, value in theirs.purpose_defaults.items() if not value]
    laxer += [f"purpose {key!r} on by default" for key in off if mine.purpose_defaults.get(key)]
    laxer += [duty for duty in _DUTIES if getattr(theirs, duty) and not getattr(mine, duty)]
    # A law that fixes a link's words needs those words; one that does not is served by any
    # opt-out link (the wording of such links in the book is ours).
    texts = {link.text for link in mine.links}
    laxer += [
        f"link {link.text!r} missing"
        for link in theirs.links
        if link.exact_wording and link.text not in texts
    ]
    if theirs.links and not mine.links:
        laxer.append("no links")
    return laxer


@functools.cache
def rulebook() -> Mapping[str, Rule]:
    """Every rule by code, read and checked on first use (call it at start-up to fail early)."""
    return load_rulebook(RULEBOOK_DIR)


def jurisdiction_for_region(region: str | None, *, on: dt.date | None = None) -> Jurisdiction:
    """The most specific rule in force in ``region`` on ``on`` (default: today, UTC).

    ``US-CA`` is tried before ``US``; a rule whose law is not yet in force gives way to its
    parent. A bare country whose subdivisions decide (``US``, ``CA``) gets its fallback
    (``US-unknown``): the visitor may be in its strictest subdivision. A known subdivision
    without a rule (``US-WY``) gets the country's own rule. Unknown or malformed regions, and
    countries without a rule in force, get STRICTEST.
    """
    candidate = (region or "").strip().upper()
    match = REGION_PATTERN.fullmatch(candidate)
    if match is None:
        return STRICTEST
    day = on or _today()
    book = rulebook()
    country = match[1]
    codes = [candidate, country]
    if candidate == country and (parent := book.get(country)) and parent.subdivisions_decide:
        codes.insert(0, country + FALLBACK_SUFFIX)  # the subdivision that decides is unknown
    for code in dict.fromkeys(codes):
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
