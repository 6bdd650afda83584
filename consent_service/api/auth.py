"""Integration endpoints' guard: an API key with the right scope, within its rate limit."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec
from typing import TypeVar

from flask import current_app
from flask import g
from flask import request

from consent_service.api_keys import Caller
from consent_service.api_keys import CallerCache
from consent_service.api_keys import Scope
from consent_service.api_keys import authenticate
from consent_service.api_keys import mark_used
from consent_service.errors import InvalidCredentials
from consent_service.extensions import current_session
from consent_service.extensions import db
from consent_service.extensions import limiter
from consent_service.models.base import utcnow

P = ParamSpec("P")
R = TypeVar("R")


def integration(scope: Scope) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Authenticate the bearer key (401), check ``scope`` (403), then the key's limit (429)."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        limited = limiter.limit(_limit_of_caller, key_func=_caller_key)(view)

        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            caller = _authenticated_caller()
            caller.require(scope)
            g.caller = caller
            return limited(*args, **kwargs)

        return guarded

    return decorate


def current_caller() -> Caller:
    caller: Caller = g.caller
    return caller


def _authenticated_caller() -> Caller:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidCredentials("send the API key as 'Authorization: Bearer csk_...'")
    cache: CallerCache = current_app.extensions["caller_cache"]
    session = current_session()
    caller = cache.caller(token.strip(), lambda: authenticate(session, token.strip()))
    if cache.due_for_last_used(caller):
        try:
            mark_used(session, caller.key_id, utcnow())
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    return caller


def _limit_of_caller() -> str:
    caller = current_caller()
    return caller.rate_limit or current_app.extensions["consent_settings"].api_rate_limit


def _caller_key() -> str:
    return f"api-key:{current_caller().public_id}"
