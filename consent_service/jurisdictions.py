"""Jurisdiction rules as the decision rule and receipts need them.

The full rulebook (per-country and per-state data in ``policies/``) and region resolution
come with the banner work; until then every visitor is in an unknown region and gets the
strictest rule, which is what ARCHITECTURE §5 prescribes for unknown regions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum


class Regime(enum.StrEnum):
    OPT_IN = "opt_in"
    OPT_OUT = "opt_out"
    NOTICE = "notice"


@dataclasses.dataclass(frozen=True)
class Jurisdiction:
    code: str
    regime: Regime
    honours_gpc: bool
    consent_lifetime: dt.timedelta


# Opt-in, GPC honoured, six months (CNIL's recommended lifetime, inside the EU's 13-month cap).
STRICTEST = Jurisdiction(
    code="unknown", regime=Regime.OPT_IN, honours_gpc=True, consent_lifetime=dt.timedelta(days=180)
)

_KNOWN: dict[str, Jurisdiction] = {STRICTEST.code: STRICTEST}


def jurisdiction_for_region(region: str | None) -> Jurisdiction:
    """The rule that applies in ``region`` (ISO 3166-1/-2); unknown regions get the strictest."""
    return STRICTEST


def jurisdiction_by_code(code: str) -> Jurisdiction:
    """The rule recorded on a receipt; a code we no longer know falls back to the strictest."""
    return _KNOWN.get(code, STRICTEST)
