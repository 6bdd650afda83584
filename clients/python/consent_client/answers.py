"""Reading per-purpose answers in any of the shapes a shop backend holds them.

The signal helpers (Consent Mode, the ad platforms' server APIs) accept the client's
decisions, the decisions of a verified consent token, a decision look-up's raw JSON, plain
booleans, or just the set of allowed purpose keys. Whatever the shape, only an unambiguous
"allowed" counts: anything else reads as denied, so a half-understood answer never grants.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Protocol
from typing import TypeAlias

from consent_client.decision import ALLOWING_REASONS
from consent_client.decision import Reason


class DecisionLike(Protocol):
    """Anything with the decision's ``allowed`` (a ``Decision``, a token's decision)."""

    @property
    def allowed(self) -> bool: ...


Answer: TypeAlias = DecisionLike | bool | Mapping[str, object]
Answers: TypeAlias = Mapping[str, Answer] | Iterable[str]


@dataclasses.dataclass(frozen=True)
class PurposeAnswer:
    """One purpose's answer, read strictly: ``reason`` is None when the shape carries none."""

    allowed: bool
    reason: Reason | None = None


def read_answers(decisions: Answers) -> dict[str, PurposeAnswer]:
    """Every purpose key in ``decisions`` with its strictly read answer.

    ``decisions`` maps purpose keys to decisions, booleans or decision JSON
    (``{"allowed": true, "reason": "granted", ...}``), or is the set of allowed purpose keys.
    A purpose it does not name is simply absent, which every caller reads as denied.
    """
    if isinstance(decisions, str | bytes):
        # A lone string is an iterable of characters, never a set of purpose keys.
        raise TypeError("decisions must be a mapping or a collection of purpose keys, not a str")
    if isinstance(decisions, Mapping):
        return {str(key): read_answer(value) for key, value in decisions.items()}
    return {str(key): PurposeAnswer(allowed=True) for key in decisions}


def read_answer(value: object) -> PurposeAnswer:
    """One answer: allowed only when it says so exactly and with a reason that allows."""
    if isinstance(value, bool):
        return PurposeAnswer(allowed=value)
    if isinstance(value, Mapping):
        return _strict(value.get("allowed"), value.get("reason", None))
    if hasattr(value, "allowed"):
        return _strict(getattr(value, "allowed", None), getattr(value, "reason", None))
    return PurposeAnswer(allowed=False)


def allowed_purposes(decisions: Answers) -> set[str]:
    """The purpose keys whose answer allows."""
    return {key for key, answer in read_answers(decisions).items() if answer.allowed}


def _strict(allowed: object, raw_reason: object) -> PurposeAnswer:
    if raw_reason is None:
        return PurposeAnswer(allowed=allowed is True)
    if not isinstance(raw_reason, str) or raw_reason not in Reason.__members__.values():
        return PurposeAnswer(allowed=False)  # a reason we do not know never allows
    reason = Reason(raw_reason)
    return PurposeAnswer(allowed=allowed is True and reason in ALLOWING_REASONS, reason=reason)
