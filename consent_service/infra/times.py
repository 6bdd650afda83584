"""Times as the service writes them in JSON: RFC 3339 in UTC with a "Z", in two precisions.

Receipts and webhook events are signed, so what these return is part of what was signed:
change the spelling and every verifier's copy of an old payload stops matching.
"""

from __future__ import annotations

import datetime as dt


def rfc3339_seconds(moment: dt.datetime) -> str:
    """``2025-01-31T09:30:00Z``: for exports and records people read."""
    return _in_utc(moment).isoformat(timespec="seconds").replace("+00:00", "Z")


def rfc3339_millis(moment: dt.datetime) -> str:
    """``2025-01-31T09:30:00.123Z``: for receipts, events and answers machines compare."""
    return _in_utc(moment).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _in_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)
