"""The rulebook as a Markdown table, for the README (``consent-service rulebook table``): one
row per rule, whatever today's date, so the README changes only when the book does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from consent_service.jurisdictions.rules import STRICTEST
from consent_service.jurisdictions.rules import Rule

_ALWAYS = dt.date(1970, 1, 1)
_HEADER = (
    "| jurisdiction | in force from | regime | first-layer buttons | GPC from | "
    "re-ask floor | consent lifetime | links |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
)


def rulebook_table(book: Mapping[str, Rule]) -> str:
    """Every rule, the strictest first, then by code; each cell as the book says it."""
    codes = sorted(book, key=lambda code: (code != STRICTEST.code, code))
    return "\n".join([*_HEADER, *(_row(book[code]) for code in codes)]) + "\n"


def _row(rule: Rule) -> str:
    law = rule.jurisdiction
    floor = f"{law.reask_floor_months} months" if law.reask_floor_months else "none"
    cells = [
        f"`{law.code}` {law.name}",
        _day(rule.effective_from),
        law.regime.value,
        ", ".join(law.first_layer),
        _day(rule.gpc_duty_from) if law.honours_gpc else "no",
        floor,
        f"{law.consent_lifetime.days} days",
        "; ".join(f"“{link.text}”" for link in law.links) or "none",
    ]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _day(day: dt.date) -> str:
    """The book's "no start date" (1970-01-01) reads as "always"."""
    return "always" if day == _ALWAYS else day.isoformat()
