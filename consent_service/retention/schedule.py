"""The retention schedule: every kind of personal data, its period and why (data in
``policies/retention.toml``), with the operator's overrides (``CONSENT_RETENTION``) and each
property's own (``Property.retention_overrides``, for the kinds that allow it).

A period shorter than its floor, a kind the schedule does not know, or text that is not a
duration is refused with a :class:`ValidationFailed` naming each bad entry, and nothing is
changed: retention that deletes proof too early cannot be undone.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import functools
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from consent_service.errors import FieldError
from consent_service.errors import InternalError
from consent_service.errors import ValidationFailed
from consent_service.models import Property
from consent_service.retention.periods import Period
from consent_service.retention.periods import end_of_year
from policies import RETENTION_SCHEDULE

RECEIPTS = "receipts"
DEFAULT_CODE = "*"
# Starts spread over the calendar, for checking one period against a floor whatever the date.
_REFERENCE_STARTS = tuple(
    dt.datetime(year, month, day, tzinfo=dt.UTC)
    for year in (2023, 2024)
    for month in range(1, 13)
    for day in sorted({1, 28, calendar.monthrange(year, month)[1]})
)


class MalformedSchedule(InternalError):
    """policies/retention.toml contradicts itself: a reviewer's to fix, the service refuses."""


@dataclasses.dataclass(frozen=True)
class Limitation:
    """How long after a consent's expiry its receipts stay: one jurisdiction's limitation."""

    codes: tuple[str, ...]
    period: Period
    minimum: Period
    from_end_of_year: bool
    law: str
    source_confidence: str

    def ends(self, expires_at: dt.datetime) -> dt.datetime:
        """When a receipt that expired at ``expires_at`` has served its purpose."""
        start = end_of_year(expires_at) if self.from_end_of_year else expires_at
        return self.period.after(start)

    def cutoff(self, now: dt.datetime) -> dt.datetime:
        """Receipts that expired before this are past their period at ``now``."""
        start = self.period.before(now)
        if self.from_end_of_year:
            # end_of_year(e) <= start  <=>  e is before the first instant of start's year
            return start.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        return start

    def words(self) -> str:
        return self.period.words() + (" from the end of that year" if self.from_end_of_year else "")


@dataclasses.dataclass(frozen=True)
class Kind:
    """One kind of stored personal data and its retention."""

    key: str
    name: str
    stored_in: str
    starts: str
    action: str
    period: Period | None  # None for receipts: per jurisdiction (``Schedule.limitations``)
    minimum: Period | None
    per_property: bool
    reason: str
    source_confidence: str


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Every kind's period (overrides applied) and the receipts' limitation per jurisdiction."""

    kinds: Mapping[str, Kind]
    limitations: Mapping[str, Limitation]  # jurisdiction code (or "*") -> limitation

    def period(self, key: str, overrides: Mapping[str, str] | None = None) -> Period:
        """``key``'s period, a property's own (``overrides``) first where the kind allows it."""
        kind = self.kinds[key]
        if overrides and kind.per_property and key in overrides:
            return Period.parse(overrides[key])
        assert kind.period is not None, f"{key} has periods per jurisdiction"
        return kind.period

    def limitation(self, jurisdiction: str) -> Limitation:
        return self.limitations.get(jurisdiction) or self.limitations[DEFAULT_CODE]

    def with_overrides(self, overrides: Mapping[str, str]) -> Schedule:
        """This schedule with the operator's ``overrides`` (``kind`` or ``receipts.<code>`` ->
        duration); ValidationFailed naming every bad entry, nothing applied."""
        errors: list[FieldError] = []
        kinds, limitations = dict(self.kinds), dict(self.limitations)
        for key, text in overrides.items():
            pointer = f"/{key}"
            period = _period_or_error(text, pointer, errors)
            if period is None:
                continue
            kind_key, _, code = key.partition(".")
            if kind_key == RECEIPTS:
                base = self.limitation(code or DEFAULT_CODE)
                if _shorter(period, base.minimum, pointer, errors):
                    continue
                limitations[code or DEFAULT_CODE] = dataclasses.replace(
                    base, codes=(code or DEFAULT_CODE,), period=period
                )
            elif kind_key in self.kinds and not code:
                kind = self.kinds[kind_key]
                if kind.minimum is not None and _shorter(period, kind.minimum, pointer, errors):
                    continue
                kinds[kind_key] = dataclasses.replace(kind, period=period)
            else:
                errors.append(FieldError(pointer, f"{key!r} is not a kind of data: {self.keys()}"))
        if errors:
            raise ValidationFailed("retention periods refused, nothing changed", errors=errors)
        return Schedule(kinds=kinds, limitations=limitations)

    def checked_property_overrides(self, overrides: Mapping[str, str]) -> dict[str, str]:
        """A property's overrides, normalised (``P6M``), or ValidationFailed: only kinds that
        allow one, never below a floor, blank entries dropped (the default again)."""
        errors: list[FieldError] = []
        checked: dict[str, str] = {}
        for key, text in overrides.items():
            pointer = f"/{key}"
            kind = self.kinds.get(key)
            if kind is None or not kind.per_property:
                allowed = ", ".join(k for k, v in self.kinds.items() if v.per_property)
                errors.append(FieldError(pointer, f"a property may set only: {allowed}"))
                continue
            if not text.strip():
                continue
            period = _period_or_error(text, pointer, errors)
            if period is None:
                continue
            if kind.minimum is not None and _shorter(period, kind.minimum, pointer, errors):
                continue
            checked[key] = str(period)
        if errors:
            raise ValidationFailed("retention periods refused, nothing changed", errors=errors)
        return checked

    def keys(self) -> str:
        return ", ".join([*self.kinds, *(f"{RECEIPTS}.{c}" for c in self.limitations if c != "*")])


def _period_or_error(text: str, pointer: str, errors: list[FieldError]) -> Period | None:
    try:
        return Period.parse(text)
    except ValueError as exc:
        errors.append(FieldError(pointer, str(exc)))
        return None


def below(period: Period, floor: Period) -> bool:
    """Whether ``period`` ends before ``floor`` from some start date (P12M is not below P1Y,
    P30D is below P1M)."""
    return any(period.after(start) < floor.after(start) for start in _REFERENCE_STARTS)


def _shorter(period: Period, floor: Period, pointer: str, errors: list[FieldError]) -> bool:
    """Whether ``period`` is below ``floor`` (then an error is added)."""
    if not below(period, floor):
        return False
    errors.append(
        FieldError(pointer, f"{period} is shorter than the legal minimum of {floor.words()}")
    )
    return True


def parse_setting(text: str) -> dict[str, str]:
    """``CONSENT_RETENTION``: ``kind=duration`` pairs separated by commas, e.g.
    ``decision_log=P90D,receipts.DE=P4Y``; checked against the schedule (ValueError)."""
    pairs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"{item!r} is not kind=duration (e.g. decision_log=P90D)")
        pairs[key.strip()] = value.strip()
    try:
        default_schedule().with_overrides(pairs)
    except ValidationFailed as exc:
        raise ValueError("; ".join(f"{e.pointer[1:]}: {e.detail}" for e in exc.errors)) from None
    return pairs


def schedule_for(overrides: Mapping[str, str]) -> Schedule:
    """The schedule in force: the data file's with the operator's ``CONSENT_RETENTION``."""
    return default_schedule().with_overrides(overrides)


@functools.cache
def default_schedule() -> Schedule:
    return load_schedule(RETENTION_SCHEDULE)


def load_schedule(path: Path) -> Schedule:
    """Read and check the data file: every kind once, a period or (receipts) limitations,
    defaults not below their floors."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    try:
        kinds = {entry["key"]: _kind(entry) for entry in data["kind"]}
        limitations: dict[str, Limitation] = {}
        for entry in data["limitation"]:
            period = Period.parse(entry["period"])
            limitation = Limitation(
                codes=tuple(entry["codes"]),
                period=period,
                minimum=Period.parse(entry.get("minimum", entry["period"])),
                from_end_of_year=bool(entry.get("from_end_of_year", False)),
                law=entry["law"],
                source_confidence=entry["source_confidence"],
            )
            for code in limitation.codes:
                if code in limitations:
                    raise MalformedSchedule(f"{path.name}: limitation for {code} given twice")
                limitations[code] = limitation
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedSchedule(f"{path.name}: {exc!r}") from None
    if len(kinds) != len(data["kind"]) or RECEIPTS not in kinds or DEFAULT_CODE not in limitations:
        raise MalformedSchedule(f"{path.name}: each kind once, receipts and a '*' limitation")
    for kind in kinds.values():
        if kind.period and kind.minimum and below(kind.period, kind.minimum):
            raise MalformedSchedule(f"{path.name}: {kind.key}'s default is below its floor")
    return Schedule(kinds=kinds, limitations=limitations)


def _kind(entry: Mapping[str, Any]) -> Kind:
    receipts = entry["key"] == RECEIPTS
    if receipts == ("period" in entry):
        raise ValueError(f"{entry['key']}: a period (receipts: limitations instead)")
    return Kind(
        key=entry["key"],
        name=entry["name"],
        stored_in=entry["stored_in"],
        starts=entry["starts"],
        action=entry["action"],
        period=None if receipts else Period.parse(entry["period"]),
        minimum=Period.parse(entry["minimum"]) if "minimum" in entry else None,
        per_property=bool(entry["per_property"]),
        reason=entry["reason"],
        source_confidence=entry.get("source_confidence", "S"),
    )


def set_property_overrides(
    session: Session, prop: Property, overrides: Mapping[str, str], *, schedule: Schedule
) -> dict[str, str]:
    """Replace ``prop``'s own retention periods with ``overrides`` (blank: the default), or
    raise ValidationFailed and change nothing; returns what is stored."""
    checked = schedule.checked_property_overrides(overrides)
    prop.retention_overrides = checked
    session.flush()
    return checked
