"""Retention periods as ISO 8601 durations of calendar units (``P3Y``, ``P6M``, ``P30D``).

Calendar arithmetic, not a fixed number of seconds: the law counts limitation periods in years
and months (BGB §188, Limitation Act 1980 s. 2), so ``P1Y`` after 29 February ends on
28 February, never a day early or late. A period may also run "from the end of the year" in
which it starts (BGB §199(1)), which ``ends_after`` applies before adding.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from consent_service.infra.times import add_months

_DURATION = re.compile(r"P(?:(\d{1,3})Y)?(?:(\d{1,4})M)?(?:(\d{1,4})W)?(?:(\d{1,5})D)?")


@dataclasses.dataclass(frozen=True, order=True)
class Period:
    """A span of whole years, months and days (weeks are read as 7 days)."""

    years: int = 0
    months: int = 0
    days: int = 0

    @classmethod
    def parse(cls, text: str) -> Period:
        """``P3Y``, ``P1Y6M``, ``P2W``, ``P0D`` ...; ValueError for anything else."""
        match = _DURATION.fullmatch(text.strip().upper())
        if match is None or text.strip().upper() == "P":
            raise ValueError(f"{text!r} is not a duration such as P6M, P3Y or P30D")
        years, months, weeks, days = (int(group or 0) for group in match.groups())
        return cls(years=years, months=months, days=weeks * 7 + days)

    def after(self, start: dt.datetime) -> dt.datetime:
        """``start`` plus this period, months clamped to the month's last day."""
        return add_months(start, 12 * self.years + self.months) + dt.timedelta(days=self.days)

    def before(self, end: dt.datetime) -> dt.datetime:
        """The start whose period ends at ``end`` at the latest (a conservative inverse of
        :meth:`after`: ``p.after(p.before(t)) <= t``), so a row older than it is past."""
        return add_months(end - dt.timedelta(days=self.days), -(12 * self.years + self.months))

    def __str__(self) -> str:
        parts = [(self.years, "Y"), (self.months, "M"), (self.days, "D")]
        text = "".join(f"{n}{unit}" for n, unit in parts if n)
        return f"P{text or '0D'}"

    def words(self) -> str:
        """For people: "3 years", "6 months", "30 days", "1 year 6 months"."""
        parts = [(self.years, "year"), (self.months, "month"), (self.days, "day")]
        said = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n]
        return " ".join(said) or "0 days"


def end_of_year(moment: dt.datetime) -> dt.datetime:
    """The first instant of the next year (BGB §199(1): the period starts at the close of the
    year in which the claim arose)."""
    return moment.replace(
        year=moment.year + 1, month=1, day=1, hour=0, minute=0, second=0, microsecond=0
    )
