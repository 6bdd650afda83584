"""Cutting a bulk question into requests the service accepts.

``POST /v1/decisions`` takes at most 10,000 subjects, 64 purposes, and 10,000 (subject,
purpose) pairs per request; a send list of a million addresses becomes a series of requests
that each fit, in the caller's order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

MAX_PAIRS = 10_000
MAX_PURPOSES = 64


def batches(
    subjects: Sequence[str],
    purposes: Sequence[str],
    *,
    max_pairs: int = MAX_PAIRS,
    max_purposes: int = MAX_PURPOSES,
) -> Iterator[tuple[list[str], list[str]]]:
    """(subjects, purposes) per request; together they cover every pair exactly once."""
    for p in range(0, len(purposes), max_purposes):
        some_purposes = list(purposes[p : p + max_purposes])
        per_request = max(1, max_pairs // len(some_purposes))
        for s in range(0, len(subjects), per_request):
            yield list(subjects[s : s + per_request]), some_purposes


_POINTER = re.compile(r"^/(subjects|purposes)/(\d+)$")


def rejected_items(
    problem: Mapping[str, Any] | None, subjects: Sequence[str], purposes: Sequence[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The subjects and purposes a 422 problem points at (``/subjects/3``), with what is wrong
    with each; so one bad reference costs its own answers, not those of 9,999 others."""
    bad: dict[str, dict[str, str]] = {"subjects": {}, "purposes": {}}
    items = {"subjects": subjects, "purposes": purposes}
    errors = problem.get("errors") if problem else None
    for error in errors if isinstance(errors, list) else ():
        if not isinstance(error, Mapping):
            continue
        match = _POINTER.match(str(error.get("pointer", "")))
        if match and int(match[2]) < len(items[match[1]]):
            bad[match[1]][items[match[1]][int(match[2])]] = str(error.get("detail", "invalid"))
    return bad["subjects"], bad["purposes"]
