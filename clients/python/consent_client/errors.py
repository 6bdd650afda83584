"""Exceptions the client raises, all where the caller asked for it: consent checks themselves
never raise (they answer "not allowed")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from consent_client.decision import Decision


class ServiceError(Exception):
    """The service could not be reached, or refused or garbled the request.

    ``status`` is the HTTP status (None when there was no answer); ``problem`` is the RFC 9457
    problem document when the service sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        problem: Mapping[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.problem = problem
        self.retry_after = retry_after


class ConsentDenied(Exception):
    """Processing was not allowed; ``decision`` says why (``reason``, ``error``)."""

    def __init__(self, decision: Decision) -> None:
        detail = f": {decision.error}" if decision.error else ""
        super().__init__(
            f"no consent to process {decision.subject} for {decision.purpose!r} "
            f"({decision.reason.value}{detail})"
        )
        self.decision = decision


class WebhookVerificationError(ValueError):
    """A webhook did not come from the service, was altered, or is too old or too new."""


class InvalidConsentToken(ValueError):
    """A consent token that must not be acted on: missing, malformed, not a consent token,
    signed by no key of the service, altered, expired, or for another property. Act as if
    there were no consent (fail closed)."""


class ConsentTokenUnverifiable(InvalidConsentToken):
    """The token could not be checked: the service's keys (its JWKS) could not be fetched.
    Still a refusal (fail closed); a subclass so it can be alerted on apart from forgeries."""
