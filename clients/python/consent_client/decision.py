"""What the service answered about one (subject, purpose), and the strict reading of it.

Anything that does not look exactly like the documented answer is treated as a failure: a
client that guessed at a half-understood reply could read "yes" where the service meant "no".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any

from consent_client.refs import same_subject


class Reason(enum.StrEnum):
    """Why the answer is what it is (ARCHITECTURE §4); ``ERROR`` means "we could not ask"."""

    ESSENTIAL = "essential"
    GRANTED = "granted"
    DENIED = "denied"
    OPTED_OUT = "opted_out"
    NO_RECORD = "no_record"
    OPT_OUT_DEFAULT = "opt_out_default"
    GPC = "gpc"
    EXPIRED = "expired"
    STALE_POLICY = "stale_policy"
    # A grant from before a material change to this purpose, where the law wants fresh consent.
    MATERIAL_CHANGE = "material_change"
    ERROR = "error"


# The only reasons under which the service may say "allowed".
ALLOWING_REASONS = frozenset({Reason.ESSENTIAL, Reason.GRANTED, Reason.OPT_OUT_DEFAULT})


@dataclasses.dataclass(frozen=True)
class Decision:
    """May ``subject``'s data be processed for ``purpose``? ``allowed`` is the whole answer;
    the rest says why, and on what record, so it can be logged next to the processing."""

    allowed: bool
    reason: Reason
    receipt_id: str | None = None
    policy_version: int | None = None
    jurisdiction: str | None = None
    expires_at: dt.datetime | None = None
    error: str | None = None
    subject: str = ""
    purpose: str = ""

    @classmethod
    def failed(cls, subject: str, purpose: str, error: str) -> Decision:
        """Fail closed: whatever went wrong, the answer is no."""
        return cls(
            allowed=False, reason=Reason.ERROR, error=error, subject=subject, purpose=purpose
        )


class MalformedDecision(ValueError):
    """The service's answer does not have the documented shape."""


def parse_decision(raw: object, *, subject: str, purpose: str) -> Decision:
    """The answer in ``raw`` for exactly (``subject``, ``purpose``), or MalformedDecision.

    The decision keeps ``subject`` as the caller wrote it, so answers can be looked up by it.
    """
    if not isinstance(raw, Mapping):
        raise MalformedDecision(f"a decision must be a JSON object, not {type(raw).__name__}")
    if not same_subject(subject, raw.get("subject")) or raw.get("purpose") != purpose:
        raise MalformedDecision(
            f"asked about ({subject!r}, {purpose!r}) but the answer is about "
            f"({raw.get('subject')!r}, {raw.get('purpose')!r})"
        )
    allowed = _field(raw, "allowed", bool)
    reason = _reason(raw.get("reason"))
    if allowed and reason not in ALLOWING_REASONS:
        raise MalformedDecision(f"'allowed' is true but the reason is {reason.value!r}")
    return Decision(
        allowed=allowed,
        reason=reason,
        receipt_id=_optional(raw, "receipt_id", str),
        policy_version=_optional(raw, "policy_version", int),
        jurisdiction=_optional(raw, "jurisdiction", str),
        expires_at=_timestamp(raw.get("expires_at")),
        error=_optional(raw, "error", str) if reason is Reason.ERROR else None,
        subject=subject,
        purpose=purpose,
    )


def _field(raw: Mapping[str, Any], name: str, kind: type[Any]) -> Any:
    value = raw.get(name)
    # bool is an int in Python; the service's JSON never means one as the other.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise MalformedDecision(f"{name!r} must be {kind.__name__}, not {value!r}")
    return value


def _optional(raw: Mapping[str, Any], name: str, kind: type[Any]) -> Any:
    return None if raw.get(name) is None else _field(raw, name, kind)


def _reason(value: object) -> Reason:
    if isinstance(value, str) and value in Reason.__members__.values():
        return Reason(value)
    raise MalformedDecision(f"unknown reason {value!r}")


def _timestamp(value: object) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedDecision(f"'expires_at' must be a timestamp string, not {value!r}")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise MalformedDecision(f"'expires_at' is not an ISO 8601 timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        raise MalformedDecision(f"'expires_at' has no time zone: {value!r}")
    return parsed.astimezone(dt.UTC)
