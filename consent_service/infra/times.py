"""Times as the service writes them in JSON (RFC 3339 in UTC with a "Z", in two precisions),
and calendar months, the unit laws count in.

Receipts and webhook events are signed, so what the RFC 3339 functions return is part of what
was signed: change the spelling and every verifier's copy of an old payload stops matching.
"""

from __future__ import annotations

import calendar
import datetime as dt


def rfc3339_seconds(moment: dt.datetime) -> str:
    """``2025-01-31T09:30:00Z``: for exports and records people read."""
    return _in_utc(moment).isoformat(timespec="seconds").replace("+00:00", "Z")


def rfc3339_millis(moment: dt.datetime) -> str:
    """``2025-01-31T09:30:00.123Z``: for receipts, events and answers machines compare."""
    if moment.tzinfo is dt.UTC:  # most are, and a bulk look-up formats 10,000: same spelling
        return moment.isoformat(timespec="milliseconds")[:-6] + "Z"
    return _in_utc(moment).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _in_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """``moment`` ``months`` calendar months later, the day clamped to the month's last: one
    month from 31 January is 28 (or 29) February (Reg. 1182/71 Art. 3(2)(c) counts so), and
    12 months from 29 February 2028 is 28 February 2029. Laws count in months ("6 months",
    "12 months"), which no fixed number of days matches."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
