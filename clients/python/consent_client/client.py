"""``ConsentClient``: ask the consent service before processing someone's data.

Every consent check fails closed. The service being down, slow, misconfigured or answering
something unexpected all read as "not allowed" (``reason="error"`` and the error text), and
the checks never raise: a shop's order flow must not break because a consent look-up did,
and it must not process data on a guess either.
"""

from __future__ import annotations

import dataclasses
import logging
import ssl
import uuid
from collections.abc import Callable
from collections.abc import Iterable
from types import TracebackType
from typing import Any
from typing import Literal
from typing import ParamSpec
from typing import TypeVar
from typing import overload

from consent_client.bulk import batches
from consent_client.bulk import rejected_items
from consent_client.cache import DecisionCache
from consent_client.decision import Decision
from consent_client.decision import MalformedDecision
from consent_client.decision import parse_decision
from consent_client.errors import ConsentDenied
from consent_client.errors import ServiceError
from consent_client.guard import consent_guard
from consent_client.refs import InvalidReference
from consent_client.refs import check_purpose
from consent_client.refs import check_subject
from consent_client.refs import is_email
from consent_client.tokens import ConsentTokenClaims
from consent_client.tokens import ConsentTokenVerifier
from consent_client.transport import Transport

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger("consent_client")

# What a failed check can run into; anything else is a bug, still answered with "no".
_EXPECTED = (ServiceError, MalformedDecision, InvalidReference)


@dataclasses.dataclass(frozen=True)
class Link:
    """The result of linking a visitor, customer reference and/or email to one identity."""

    identity_id: uuid.UUID
    subject_id: uuid.UUID | None
    created: bool


class ConsentClient:
    """A thread-safe client for one property's integration API key.

    ``timeout`` bounds connecting and each read, in seconds. ``cache_ttl`` is how long an
    answer may be reused (0 turns the cache off); answers are never reused past their own
    ``expires_at``, and failures are never reused at all.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 2.0,
        cache_ttl: float = 30.0,
        max_cache_entries: int = 10_000,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._transport = Transport(base_url, api_key, timeout=timeout, ssl_context=ssl_context)
        self._cache = DecisionCache(cache_ttl, max_cache_entries)
        # Consent tokens verify offline, against the same service's published keys.
        self.tokens = ConsentTokenVerifier(base_url, timeout=timeout, ssl_context=ssl_context)

    # --- one subject --------------------------------------------------------------------

    def may_process(self, subject: str, purpose: str, *, gpc: bool = False) -> bool:
        """Whether ``subject``'s data may be processed for ``purpose``; False on any failure.
        ``gpc``: pass on the ``Sec-GPC`` header of the request you are serving
        (``request.headers.get("Sec-GPC") == "1"``)."""
        return self.decision(subject, purpose, gpc=gpc).allowed

    def decision(self, subject: str, purpose: str, *, gpc: bool = False) -> Decision:
        """The service's answer with its reason and record; never raises. With ``gpc`` (the
        live Global Privacy Control signal) the answer is asked for, never cached."""
        try:
            check_subject(subject)
            check_purpose(purpose)
            cached = None if gpc else self._cache.get(subject, purpose)
            if cached is not None:
                return cached
            answer = self._ask_one(subject, purpose, gpc=gpc)
        except Exception as exc:  # fail closed: no answer is a "no"
            return Decision.failed(_text(subject), _text(purpose), _describe(exc, purpose))
        if not gpc:
            self._cache.put(answer)
        return answer

    def check(self, subject: str, purpose: str, *, gpc: bool = False) -> Decision:
        """The decision when processing is allowed; ConsentDenied (carrying it) when not."""
        decision = self.decision(subject, purpose, gpc=gpc)
        if not decision.allowed:
            raise ConsentDenied(decision)
        return decision

    # --- many subjects ------------------------------------------------------------------

    def decisions(
        self, subjects: Iterable[str], purposes: Iterable[str] | str, *, gpc: bool = False
    ) -> dict[str, dict[str, Decision]]:
        """``{subject: {purpose: Decision}}`` for every pair, in the order given (repeats
        asked once). Sent in requests of at most 10,000 pairs; a request that fails makes
        each of its pairs an error decision, the others keep their answers. ``gpc``: the live
        signal of the request you are serving, applied to every subject (never cached)."""
        wanted_purposes = list(dict.fromkeys([purposes] if isinstance(purposes, str) else purposes))
        wanted_subjects = list(dict.fromkeys(subjects))
        found: dict[tuple[str, str], Decision] = {}
        valid_purposes = self._valid_purposes(wanted_purposes, wanted_subjects, found)
        askable = self._known_or_askable(valid_purposes, wanted_subjects, found, gpc=gpc)
        for some_subjects, some_purposes in batches(askable, valid_purposes):
            self._ask_batch(some_subjects, some_purposes, found, gpc=gpc)
        return {s: {p: found[(s, p)] for p in wanted_purposes} for s in wanted_subjects}

    def filter_allowed(
        self, subjects: Iterable[str], purpose: str, *, gpc: bool = False
    ) -> list[str]:
        """The subjects whose data may be processed for ``purpose``, in the order given.
        Anyone whose answer failed is left out; on total failure the list is empty."""
        try:
            answers = self.decisions(subjects, [purpose], gpc=gpc)
        except Exception as exc:  # e.g. the subjects iterable itself raised
            log.warning("bulk consent look-up failed; allowing nobody: %s", exc)
            return []
        return [subject for subject, by in answers.items() if by[purpose].allowed]

    # --- consent tokens -----------------------------------------------------------------

    def verify_consent_token(
        self, token: str | None, *, property: str, now: float | None = None
    ) -> ConsentTokenClaims:
        """The claims of the widget's consent token (from the request's cookie), verified
        offline; InvalidConsentToken on any doubt. See :class:`ConsentTokenVerifier`."""
        return self.tokens.verify_consent_token(token, property=property, now=now)

    # --- guard --------------------------------------------------------------------------

    @overload
    def requires(
        self,
        purpose: str,
        *,
        subject: Callable[..., str],
        raise_on_denied: Literal[False] = False,
    ) -> Callable[[Callable[P, R]], Callable[P, R | None]]: ...

    @overload
    def requires(
        self,
        purpose: str,
        *,
        subject: Callable[..., str],
        raise_on_denied: Literal[True],
    ) -> Callable[[Callable[P, R]], Callable[P, R]]: ...

    def requires(
        self,
        purpose: str,
        *,
        subject: Callable[..., str],
        raise_on_denied: bool = False,
    ) -> Callable[[Callable[P, R]], Callable[P, R | None]]:
        """Decorator: run the function only if ``subject(*args, **kwargs)`` may be processed
        for ``purpose``; otherwise skip it (returning None) or raise ConsentDenied."""
        return consent_guard(self.decision, purpose, subject, raise_on_denied=raise_on_denied)

    # --- identities ---------------------------------------------------------------------

    def link(
        self,
        *,
        visitor_id: uuid.UUID | str | None = None,
        customer: str | None = None,
        email: str | None = None,
        locale: str | None = None,
    ) -> Link:
        """Record that a visitor (browser) is a known customer (scope ``subjects:write``),
        with their language for emails (``locale``, one of the property's) when given.

        Not a consent check, so it raises ServiceError on failure instead of guessing.
        """
        body = {
            name: str(value)
            for name, value in (
                ("visitor_id", visitor_id),
                ("customer", customer),
                ("email", email),
                ("locale", locale),
            )
            if value is not None
        }
        raw = self._transport.post("/v1/subjects/link", body)
        try:
            link = Link(
                identity_id=uuid.UUID(raw["identity_id"]),
                subject_id=uuid.UUID(raw["subject_id"]) if raw["subject_id"] else None,
                created=_bool(raw["created"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ServiceError(f"the link answer is malformed: {exc!r}") from None
        # Who these references are has just changed, and with it what they may be asked.
        self.forget(*_refs(visitor_id=visitor_id, customer=customer, email=email))
        return link

    def record(
        self,
        subject: str,
        *,
        policy_version: int,
        decisions: dict[str, bool],
        method: str = "custom",
        region: str | None = None,
    ) -> dict[str, Any]:
        """Record consent on the person's behalf (scope ``consent:write``): a checkout box, a
        phone call. Returns ``{"receipt", "receipt_id", "payload"}``: the signed receipt.

        Not a consent check, so it raises ServiceError on failure instead of guessing.
        """
        body: dict[str, Any] = {
            "subject": subject,
            "policy_version": policy_version,
            "method": method,
            "decisions": decisions,
        }
        if region is not None:
            body["region"] = region
        receipt = self._transport.post("/v1/subjects/consents", body)
        if not isinstance(receipt, dict) or not isinstance(receipt.get("receipt_id"), str):
            raise ServiceError("the consent answer is malformed")
        self.forget(subject)
        return receipt

    # --- housekeeping -------------------------------------------------------------------

    def forget(self, *subjects: str) -> None:
        """Drop cached answers for ``subjects`` (all when none is named); call it from the
        ``consent.changed`` webhook so a withdrawal takes effect before the TTL runs out."""
        self._cache.forget(*subjects)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> ConsentClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- internals ----------------------------------------------------------------------

    def _ask_one(self, subject: str, purpose: str, *, gpc: bool) -> Decision:
        if is_email(subject):  # never in a URL: URLs end up in access logs
            found: dict[tuple[str, str], Decision] = {}
            self._post_decisions([subject], [purpose], found, gpc=gpc)
            return found[(subject, purpose)]
        query = {"subject": subject, "purpose": purpose}
        if gpc:
            query["gpc"] = "true"
        raw = self._transport.get("/v1/decisions", query)
        return parse_decision(raw, subject=subject, purpose=purpose)

    def _valid_purposes(
        self, purposes: list[str], subjects: list[str], found: dict[tuple[str, str], Decision]
    ) -> list[str]:
        valid = []
        for purpose in purposes:
            try:
                valid.append(check_purpose(purpose))
            except InvalidReference as exc:
                error = _describe(exc, purpose)
                found.update(
                    {(s, purpose): Decision.failed(s, _text(purpose), error) for s in subjects}
                )
        return valid

    def _known_or_askable(
        self,
        purposes: list[str],
        subjects: list[str],
        found: dict[tuple[str, str], Decision],
        *,
        gpc: bool,
    ) -> list[str]:
        """Fills ``found`` with what needs no request (bad references, cached answers) and
        returns the subjects to ask about, each for every purpose (keeping batches simple)."""
        askable = []
        for subject in subjects:
            try:
                check_subject(subject)
            except InvalidReference as exc:
                error = _describe(exc, None)
                found.update(
                    {(subject, p): Decision.failed(_text(subject), p, error) for p in purposes}
                )
                continue
            if gpc:  # a live signal's answers are never cached, nor answered from the cache
                askable.append(subject)
                continue
            cached = {p: self._cache.get(subject, p) for p in purposes}
            if all(answer is not None for answer in cached.values()):
                found.update({(subject, p): a for p, a in cached.items() if a is not None})
            else:
                askable.append(subject)
        return askable

    def _ask_batch(
        self,
        subjects: list[str],
        purposes: list[str],
        found: dict[tuple[str, str], Decision],
        *,
        gpc: bool,
        retry_without_rejected: bool = True,
    ) -> None:
        try:
            self._post_decisions(subjects, purposes, found, gpc=gpc)
            return
        except ServiceError as exc:
            bad_subjects, bad_purposes = (
                rejected_items(exc.problem, subjects, purposes) if exc.status == 422 else ({}, {})
            )
            failure: Exception = exc
        except Exception as exc:  # fail closed for this batch only
            bad_subjects, bad_purposes, failure = {}, {}, exc
        if not (retry_without_rejected and (bad_subjects or bad_purposes)):
            error = _describe(failure, ", ".join(purposes))
            found.update({(s, p): Decision.failed(s, p, error) for s in subjects for p in purposes})
            return
        # The service named the bad items: they fail, the rest are asked again, once.
        _describe(failure, ", ".join(purposes))
        for s in subjects:
            for p in purposes:
                if s in bad_subjects or p in bad_purposes:
                    error = f"rejected by the service: {bad_subjects.get(s) or bad_purposes[p]}"
                    found[(s, p)] = Decision.failed(s, p, error)
        rest_s = [s for s in subjects if s not in bad_subjects]
        rest_p = [p for p in purposes if p not in bad_purposes]
        if rest_s and rest_p:
            self._ask_batch(rest_s, rest_p, found, gpc=gpc, retry_without_rejected=False)

    def _post_decisions(
        self,
        subjects: list[str],
        purposes: list[str],
        found: dict[tuple[str, str], Decision],
        *,
        gpc: bool,
    ) -> None:
        body: dict[str, object] = {"subjects": subjects, "purposes": purposes}
        if gpc:
            body["gpc"] = True
        raw = self._transport.post("/v1/decisions", body)
        answers = raw.get("decisions") if isinstance(raw, dict) else None
        pairs = [(s, p) for s in subjects for p in purposes]  # the documented order
        if not isinstance(answers, list) or len(answers) != len(pairs):
            raise MalformedDecision(f"expected {len(pairs)} decisions in a 'decisions' list")
        parsed = [
            parse_decision(a, subject=s, purpose=p)
            for a, (s, p) in zip(answers, pairs, strict=True)
        ]
        for decision in parsed:
            found[(decision.subject, decision.purpose)] = decision
            if not gpc:
                self._cache.put(decision)


def _describe(exc: Exception, purpose: object) -> str:
    """The error text for a failed look-up, logged once (not once per subject)."""
    if not isinstance(exc, _EXPECTED):
        log.exception("consent client bug; answering 'not allowed'")
        return f"client error ({type(exc).__name__}: {exc})"
    # The purpose and the error only: a subject reference can be an email address.
    log.warning("consent look-up for %s failed; answering 'not allowed': %s", purpose, exc)
    return str(exc)


def _text(value: object) -> str:
    return value if isinstance(value, str) else repr(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"'created' must be a boolean, not {value!r}")
    return value


def _refs(*, visitor_id: object, customer: str | None, email: str | None) -> list[str]:
    refs = [f"visitor:{visitor_id}"] if visitor_id is not None else []
    refs += [f"customer:{customer}"] if customer is not None else []
    refs += [f"email:{email}"] if email is not None else []
    return refs
