"""Decorating a function so it runs only with consent: the check sits next to the processing
it protects, and cannot be forgotten at one of the call sites."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec
from typing import TypeVar

from consent_client.decision import Decision
from consent_client.errors import ConsentDenied

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger("consent_client")


def consent_guard(
    decide: Callable[[str, str], Decision],
    purpose: str,
    subject: Callable[..., str],
    *,
    raise_on_denied: bool,
) -> Callable[[Callable[P, R]], Callable[P, R | None]]:
    """Run the decorated function only when ``decide(subject(*args, **kwargs), purpose)``
    allows it; otherwise return None, or raise ConsentDenied when ``raise_on_denied``.

    ``subject`` receives the decorated function's own arguments, so the reference is built
    from the very object being processed (``lambda order: f"customer:{order.customer_id}"``).
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R | None]:
        @functools.wraps(func)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | None:
            decision = decide(subject(*args, **kwargs), purpose)
            if decision.allowed:
                return func(*args, **kwargs)
            if raise_on_denied:
                raise ConsentDenied(decision)
            log.debug(
                "skipped %s: %s not allowed (%s)", func.__qualname__, purpose, decision.reason
            )
            return None

        return guarded

    return decorate
