"""Integration endpoints' guard: an API key with the right scope, within its rate limit."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import ParamSpec
from typing import TypeVar

import sqlalchemy as sa
from flask import g
from flask import request

from consent_service.errors import DatabaseUnavailable
from consent_service.errors import InvalidCredentials
from consent_service.extensions import api_key_marks
from consent_service.extensions import caller_cache
from consent_service.extensions import current_session
from consent_service.extensions import db
from consent_service.extensions import rate_limiter
from consent_service.extensions import settings
from consent_service.integrations.api_keys import Caller
from consent_service.integrations.api_keys import Scope
from consent_service.integrations.api_keys import authenticate
from consent_service.models.base import utcnow

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
_SCOPES: dict[Callable[..., object], Scope] = {}


def integration(scope: Scope) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Authenticate the bearer key (401), check ``scope`` (403), then the key's limit (429)."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            caller = _authenticated_caller()
            caller.require(scope)
            limits = rate_limiter()
            default = settings().api_rate_limit
            limits.check(f"api-key:{caller.public_id}", caller.rate_limit or default)
            g.caller = caller
            return view(*args, **kwargs)

        _SCOPES[inspect.unwrap(view)] = scope
        return guarded

    return decorate


def required_scope(view: Callable[..., object]) -> Scope | None:
    """The scope ``@integration`` demands of ``view``'s callers; None for a public view."""
    return _SCOPES.get(inspect.unwrap(view))


def current_caller() -> Caller:
    caller: Caller = g.caller
    return caller


def _authenticated_caller() -> Caller:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidCredentials("send the API key as 'Authorization: Bearer csk_...'")
    cache = caller_cache()
    session = current_session()
    caller = cache.caller(token.strip(), lambda: authenticate(session, token.strip()))
    if cache.due_for_last_used(caller):
        try:
            api_key_marks().write(session, {"key_id": caller.key_id, "used_at": utcnow()})
            db.session.commit()
        except (sa.exc.SQLAlchemyError, DatabaseUnavailable):
            # Bookkeeping: a busy database must not turn a valid call away.
            db.session.rollback()
            log.warning("could not record API key %s as used", caller.public_id)
    return caller
