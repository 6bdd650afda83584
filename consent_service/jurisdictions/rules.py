"""Jurisdiction rules: which consent regime applies in a visitor's region on a given day.

The types a rule is made of, ``STRICTEST`` for anything we cannot place, and ``tighten()``:
a property may make a rule stricter, never laxer. The rules themselves are reviewed data,
read and matched to a region by ``jurisdictions.rulebook``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping

from consent_service.errors import ValidationFailed

ESSENTIAL_PURPOSE = "necessary"
STANDARD_PURPOSES = ("necessary", "preferences", "analytics", "marketing", "advertising")
# ISO 3166-1 alpha-2, optionally with an ISO 3166-2 subdivision: FR, US-CA, FR-75C.
# US-state opt-out categories (what a purpose does that a consumer may opt out of); a GPC signal
# opts out of all of them.
OPT_OUT_CATEGORIES = ("sale", "sharing", "targeted_advertising")
REGION_PATTERN = re.compile(r"([A-Z]{2})(?:-[A-Z0-9]{1,3})?")


class Regime(enum.StrEnum):
    OPT_IN = "opt_in"
    OPT_OUT = "opt_out"
    NOTICE = "notice"


# The buttons a first layer may show, each a way to answer (or, for "customize", to open the
# preferences layer). Which ones, in what order, is the rulebook's ``first_layer``.
FIRST_LAYER_BUTTONS = ("accept_all", "reject_all", "acknowledge", "customize")


# Laxest first: tighten() may only move a rule to the right.
_STRICTNESS = (Regime.NOTICE, Regime.OPT_OUT, Regime.OPT_IN)


class LooseningRefused(ValidationFailed, ValueError):
    """A property asked for a rule laxer than the law's; only stricter is allowed. A request
    that asks for one fails validation (``validation-failed``, no problem type of its own);
    a ValueError too, for callers that map bad input."""


@dataclasses.dataclass(frozen=True)
class Link:
    """A link the law wants on the page. ``exact_wording``: the law fixes ``text``;
    ``alternative_to``: this one link may replace the links with those keys."""

    key: str
    text: str
    exact_wording: bool = True
    alternative_to: tuple[str, ...] = ()


class PurposeDefaults(Mapping[str, bool]):
    """Whether each purpose is on when there is no record; immutable and hashable, so a
    Jurisdiction stays a value (the banner cache keys on it)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, bool] | Iterable[tuple[str, bool]] = ()) -> None:
        self._items = dict(items)

    def __getitem__(self, key: str) -> bool:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return f"PurposeDefaults({self._items!r})"


@dataclasses.dataclass(frozen=True)
class Jurisdiction:
    """One rule as it applies on one day (``honours_gpc`` already evaluated for that day).

    ``reprompt_after`` left at zero means "when the choice lapses" (``consent_lifetime``).
    ``first_layer``: the buttons of the first layer, in order (FIRST_LAYER_BUTTONS); left
    empty, derived from ``reject_all_first_layer``. ``reask_floor_months``: after a refusal
    or opt-out, do not ask again before this many calendar months (0: no floor).
    ``gpc_status_display``: the page shows, persistently, that an opt-out preference signal
    was honoured. ``reoptin_confirmation``: opting back in after an opt-out takes two steps.
    ``material_change_consent``: in an opt-out regime, a purpose a material change touched
    needs fresh consent from those whose choice predates it.
    """

    code: str
    regime: Regime
    honours_gpc: bool
    consent_lifetime: dt.timedelta
    name: str = ""
    reject_all_first_layer: bool = False
    reprompt_after: dt.timedelta = dt.timedelta(0)
    links: tuple[Link, ...] = ()
    purpose_defaults: Mapping[str, bool] = PurposeDefaults()
    law: str = ""
    source_confidence: str = ""
    first_layer: tuple[str, ...] = ()
    reask_floor_months: int = 0
    gpc_status_display: bool = False
    reoptin_confirmation: bool = False
    material_change_consent: bool = False

    def __post_init__(self) -> None:
        if not self.first_layer:
            buttons = (
                ("accept_all", "reject_all") if self.reject_all_first_layer else ("accept_all",)
            )
            object.__setattr__(self, "first_layer", (*buttons, "customize"))
        if not self.reprompt_after:
            object.__setattr__(self, "reprompt_after", self.consent_lifetime)
        if not isinstance(self.purpose_defaults, PurposeDefaults):
            object.__setattr__(self, "purpose_defaults", PurposeDefaults(self.purpose_defaults))


# The floor, in code so that it never depends on reading a file: opt-in, GPC honoured, reject on
# the first layer, the book's shortest lifetime (CNIL's six months). policies/rulebook/default.toml
# holds the same rule as data; loading the book checks that the two agree.
STRICTEST = Jurisdiction(
    code="unknown",
    regime=Regime.OPT_IN,
    honours_gpc=True,
    consent_lifetime=dt.timedelta(days=180),
    name="Unknown region",
    reject_all_first_layer=True,
    reprompt_after=dt.timedelta(days=180),
    purpose_defaults=PurposeDefaults((p, p == ESSENTIAL_PURPOSE) for p in STANDARD_PURPOSES),
    law="None determined: the strictest rule in the book applies",
    source_confidence="V/S",
)


@dataclasses.dataclass(frozen=True)
class Rule:
    """A rulebook entry: its jurisdiction (with GPC as it is once that duty starts), the day
    the law applies from, and the day its GPC duty starts when that is later."""

    jurisdiction: Jurisdiction
    effective_from: dt.date
    gpc_from: dt.date | None = None

    def on(self, day: dt.date) -> Jurisdiction:
        if self.gpc_from is None or day >= self.gpc_from:
            return self.jurisdiction
        return dataclasses.replace(self.jurisdiction, honours_gpc=False)


def tighten(
    base: Jurisdiction,
    *,
    regime: Regime | None = None,
    honours_gpc: bool | None = None,
    reject_all_first_layer: bool | None = None,
    consent_lifetime: dt.timedelta | None = None,
    purpose_defaults: Mapping[str, bool] | None = None,
) -> Jurisdiction:
    """``base`` as a property makes it stricter (ARCHITECTURE §5).

    Stricter is: opt-in over opt-out over notice, GPC honoured, reject-all on the first layer, a
    shorter consent lifetime, a purpose off by default. Anything laxer raises LooseningRefused
    naming every offending setting. An opt-in result has every non-essential purpose off (nothing
    is pre-ticked), and its re-prompt never comes after the choice lapses.
    """
    new_regime = regime or base.regime
    lifetime = base.consent_lifetime if consent_lifetime is None else consent_lifetime
    defaults = dict(base.purpose_defaults)
    refused = []
    if _STRICTNESS.index(new_regime) < _STRICTNESS.index(base.regime):
        refused.append(f"regime {new_regime} is laxer than {base.regime}")
    if base.honours_gpc and honours_gpc is False:
        refused.append("GPC must stay honoured")
    if base.reject_all_first_layer and reject_all_first_layer is False:
        refused.append("reject-all must stay on the first layer")
    if lifetime > base.consent_lifetime:
        refused.append(
            f"a consent lifetime of {lifetime.days} days exceeds {base.consent_lifetime.days}"
        )
    for key, value in (purpose_defaults or {}).items():
        if value and defaults.get(key) is False:
            refused.append(f"purpose {key!r} must stay off by default")
        defaults[key] = value
    if refused:
        raise LooseningRefused(f"{base.code}: " + "; ".join(refused))
    if new_regime is Regime.OPT_IN:
        defaults = {key: value and key == ESSENTIAL_PURPOSE for key, value in defaults.items()}
    return dataclasses.replace(
        base,
        regime=new_regime,
        honours_gpc=base.honours_gpc or bool(honours_gpc),
        reject_all_first_layer=base.reject_all_first_layer or bool(reject_all_first_layer),
        consent_lifetime=lifetime,
        reprompt_after=min(base.reprompt_after, lifetime),
        purpose_defaults=PurposeDefaults(defaults),
    )
