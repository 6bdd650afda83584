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
from consent_service.infra.times import add_months

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
# The longest re-ask floor a rule or a property may set: ten years, far beyond any law's.
MAX_REASK_FLOOR_MONTHS = 120


def first_layer_problems(buttons: Iterable[str], regime: Regime) -> list[str]:
    """Why ``buttons`` cannot be ``regime``'s first layer (empty: they can).

    Known buttons, each once; ``customize`` always (the purposes are one click away); accepting
    only beside refusing with the same weight (11 CCR §7004(a)(2), EDPB taskforce, CO Rule
    7.09); where the law asks for a choice (opt-in, opt-out) refusal on the first layer; and
    no bare acknowledgement where consent is needed.
    """
    layer = list(buttons)
    problems = []
    unknown = [button for button in layer if button not in FIRST_LAYER_BUTTONS]
    if unknown:
        problems.append(
            f"unknown button {', '.join(map(repr, unknown))}; "
            f"the buttons are {', '.join(FIRST_LAYER_BUTTONS)}"
        )
    if len(set(layer)) < len(layer):
        problems.append(f"buttons repeat: {layer}")
    if "customize" not in layer:
        problems.append("customize must be on the first layer")
    if "accept_all" in layer and "reject_all" not in layer:
        problems.append("accept_all needs reject_all beside it (a symmetric choice)")
    if regime is not Regime.NOTICE and "reject_all" not in layer:
        problems.append(f"an {regime} first layer needs reject_all (refusal in one click)")
    if regime is Regime.OPT_IN and "acknowledge" in layer:
        problems.append("acknowledge is no consent: not on an opt_in first layer")
    return problems


# Laxest first: tighten() may only move a rule to the right.
STRICTNESS = (Regime.NOTICE, Regime.OPT_OUT, Regime.OPT_IN)


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

    ``first_layer``: the buttons of the first layer, in order (FIRST_LAYER_BUTTONS); the
    default is the symmetric consent layer. ``reask_floor_months``: after a refusal or opt-out,
    do not ask again before this many calendar months (0: no floor). ``gpc_status_display``:
    the page shows, persistently, that an opt-out preference signal was honoured.
    ``reoptin_confirmation``: opting back in after an opt-out takes two steps.
    ``material_change_consent``: in an opt-out regime, a purpose a material change touched
    needs fresh consent from those whose choice predates it.
    """

    code: str
    regime: Regime
    honours_gpc: bool
    consent_lifetime: dt.timedelta
    name: str = ""
    links: tuple[Link, ...] = ()
    purpose_defaults: Mapping[str, bool] = PurposeDefaults()
    law: str = ""
    source_confidence: str = ""
    first_layer: tuple[str, ...] = ("accept_all", "reject_all", "customize")
    reask_floor_months: int = 0
    gpc_status_display: bool = False
    reoptin_confirmation: bool = False
    material_change_consent: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.purpose_defaults, PurposeDefaults):
            object.__setattr__(self, "purpose_defaults", PurposeDefaults(self.purpose_defaults))

    @property
    def reject_all_first_layer(self) -> bool:
        """Whether refusing takes one click on the first layer (what clients before
        ``first_layer`` read)."""
        return "reject_all" in self.first_layer

    def reask_after(self, refused_at: dt.datetime) -> dt.datetime:
        """The earliest moment a person who refused or opted out at ``refused_at`` may be asked
        again: the floor counted in calendar months, as the laws count it."""
        return add_months(refused_at, self.reask_floor_months)


# The floor, in code so that it never depends on reading a file: opt-in, GPC honoured, reject on
# the first layer, the book's shortest lifetime (CNIL's six months) and its longest re-ask floor
# (California's 12 months), and the persistent status of an honoured GPC signal. Two-step
# re-opt-in and material-change consent stay off: they are opt-out regimes' duties, and under
# opt-in every grant is already a fresh, explicit consent. policies/rulebook/default.toml holds
# the same rule as data; loading the book checks that the two agree, and that no rule in the
# book lapses sooner or re-asks sooner.
STRICTEST = Jurisdiction(
    code="unknown",
    regime=Regime.OPT_IN,
    honours_gpc=True,
    consent_lifetime=dt.timedelta(days=180),
    name="Unknown region",
    purpose_defaults=PurposeDefaults((p, p == ESSENTIAL_PURPOSE) for p in STANDARD_PURPOSES),
    law="None determined: the strictest rule in the book applies",
    source_confidence="V/S",
    first_layer=("accept_all", "reject_all", "customize"),
    reask_floor_months=12,
    gpc_status_display=True,
)


@dataclasses.dataclass(frozen=True)
class Rule:
    """A rulebook entry: its jurisdiction (with GPC as it is once that duty starts), the day
    the law applies from, the day its GPC duty starts when that is later, and, for a country,
    whether its subdivisions set the law (then ``<CC>-unknown`` serves a visitor whose
    subdivision is unknown)."""

    jurisdiction: Jurisdiction
    effective_from: dt.date
    gpc_from: dt.date | None = None
    subdivisions_decide: bool = False

    @property
    def gpc_duty_from(self) -> dt.date:
        """The first day GPC binds (meaningful when the jurisdiction honours it)."""
        return self.gpc_from or self.effective_from

    def on(self, day: dt.date) -> Jurisdiction:
        if self.gpc_from is None or day >= self.gpc_from:
            return self.jurisdiction
        return dataclasses.replace(self.jurisdiction, honours_gpc=False)


def tighten(
    base: Jurisdiction,
    *,
    regime: Regime | None = None,
    honours_gpc: bool | None = None,
    first_layer: tuple[str, ...] | None = None,
    consent_lifetime: dt.timedelta | None = None,
    reask_floor_months: int | None = None,
    purpose_defaults: Mapping[str, bool] | None = None,
) -> Jurisdiction:
    """``base`` as a property makes it stricter (ARCHITECTURE §5).

    Stricter is: opt-in over opt-out over notice, GPC honoured, refusal on the first layer (a
    layer that keeps ``reject_all`` and is valid for the regime), a *shorter* consent lifetime,
    a *longer* re-ask floor (the wait after a refusal protects the person), a purpose off by
    default. Anything laxer raises LooseningRefused naming every offending setting. An opt-in
    result has every non-essential purpose off (nothing is pre-ticked); a result that must offer
    a choice, given no layer of its own, gets the symmetric one.
    """
    new_regime = regime or base.regime
    lifetime = base.consent_lifetime if consent_lifetime is None else consent_lifetime
    floor = base.reask_floor_months if reask_floor_months is None else reask_floor_months
    layer = base.first_layer if first_layer is None else tuple(first_layer)
    if first_layer is None and first_layer_problems(layer, new_regime):
        layer = STRICTEST.first_layer  # e.g. a notice's acknowledgement made opt-in
    defaults = dict(base.purpose_defaults)
    refused = []
    if STRICTNESS.index(new_regime) < STRICTNESS.index(base.regime):
        refused.append(f"regime {new_regime} is laxer than {base.regime}")
    if base.honours_gpc and honours_gpc is False:
        refused.append("GPC must stay honoured")
    if base.reject_all_first_layer and "reject_all" not in layer:
        refused.append("reject_all must stay on the first layer")
    refused += [f"first layer: {problem}" for problem in first_layer_problems(layer, new_regime)]
    if lifetime > base.consent_lifetime:
        refused.append(
            f"a consent lifetime of {lifetime.days} days exceeds {base.consent_lifetime.days}"
        )
    if floor < base.reask_floor_months:
        refused.append(
            f"a re-ask floor of {floor} months is shorter than the law's "
            f"{base.reask_floor_months} (a person who refused would be asked again too soon)"
        )
    for key, value in (purpose_defaults or {}).items():
        if value and defaults.get(key) is False:
            refused.append(f"purpose {key!r} must stay off by default")
        defaults[key] = value
    if refused:
        raise LooseningRefused(f"{base.code}: " + "; ".join(dict.fromkeys(refused)))
    if new_regime is Regime.OPT_IN:
        defaults = {key: value and key == ESSENTIAL_PURPOSE for key, value in defaults.items()}
    return dataclasses.replace(
        base,
        regime=new_regime,
        honours_gpc=base.honours_gpc or bool(honours_gpc),
        first_layer=layer,
        consent_lifetime=lifetime,
        reask_floor_months=floor,
        purpose_defaults=PurposeDefaults(defaults),
    )
