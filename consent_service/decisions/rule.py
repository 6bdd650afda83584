"""The decision rule (ARCHITECTURE §4): may this subject's data be processed for this purpose?

``decide`` is pure: every surface (API, client, webhooks, preferences page) loads the facts and
asks it, so there is exactly one place where the answer is made.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import NamedTuple

from consent_service.jurisdictions.rules import Jurisdiction
from consent_service.jurisdictions.rules import Regime
from consent_service.properties.lookup import PurposeFacts


class Reason(enum.StrEnum):
    ESSENTIAL = "essential"
    GRANTED = "granted"
    DENIED = "denied"
    OPTED_OUT = "opted_out"
    NO_RECORD = "no_record"
    OPT_OUT_DEFAULT = "opt_out_default"
    GPC = "gpc"
    EXPIRED = "expired"
    STALE_POLICY = "stale_policy"
    # Opt-out regime, but the law wants fresh consent for a purpose a material change touched.
    MATERIAL_CHANGE = "material_change"
    ERROR = "error"


class RecordedChoice(NamedTuple):
    """The subject's latest choice for one purpose, as the state projection holds it.

    A NamedTuple, like :class:`Decision`: a bulk look-up makes 10,000 of each, and a frozen
    dataclass's ``__init__`` costs several times a tuple's."""

    granted: bool
    receipt_id: str
    policy_version: int
    given_at: dt.datetime
    expires_at: dt.datetime
    gpc: bool = False


class EarlierChoice(NamedTuple):
    """What the subject's latest choice says about a purpose it did not answer (one added
    since): the policy version it was made under, and the opt-out categories of the purposes
    it refused. The look-ups and consent tokens hand it to :func:`decide` for such purposes."""

    policy_version: int
    refused_categories: frozenset[str]


class Decision(NamedTuple):
    allowed: bool
    reason: Reason
    purpose: str
    jurisdiction: str | None = None
    receipt_id: str | None = None
    policy_version: int | None = None
    expires_at: dt.datetime | None = None
    error: str | None = None

    @classmethod
    def failed(cls, purpose: str, error: str) -> Decision:
        """Fail closed: whatever went wrong, the answer is no."""
        return cls(False, Reason.ERROR, purpose, error=error)


def decide(
    purpose: PurposeFacts,
    jurisdiction: Jurisdiction,
    choice: RecordedChoice | None,
    *,
    last_material_version: int | None,
    gpc_on_record: bool,
    now: dt.datetime,
    live_gpc: bool = False,
    earlier: EarlierChoice | None = None,
) -> Decision:
    """Apply the decision table to one purpose.

    ``choice`` is the latest recorded choice for the purpose (None: never asked);
    ``last_material_version`` the latest material policy version in effect that touched
    *this* purpose (a choice made under an earlier one is stale; None: none did);
    ``gpc_on_record`` is whether the subject's latest receipt carried a GPC signal, and
    ``live_gpc`` whether the request the asker serves carries one now (``Sec-GPC: 1``). A
    later explicit choice outranks a recorded signal; nothing outranks the live one.
    ``earlier``: the subject chose before, but not about this purpose (None: never chose).
    """

    def answer(allowed: bool, reason: Reason, basis: RecordedChoice | None = None) -> Decision:
        if basis is None:
            return Decision(allowed, reason, purpose.key, jurisdiction.code)
        return Decision(
            allowed,
            reason,
            purpose.key,
            jurisdiction.code,
            basis.receipt_id,
            basis.policy_version,
            basis.expires_at,
        )

    if purpose.essential:
        return answer(True, Reason.ESSENTIAL, choice)

    opt_out = jurisdiction.regime is not Regime.OPT_IN
    gpc = live_gpc or gpc_on_record or (choice is not None and choice.gpc)
    if gpc and jurisdiction.honours_gpc and purpose.gpc_applies:
        return answer(False, Reason.GPC, choice)

    if choice is not None and not choice.granted:
        return answer(False, Reason.OPTED_OUT if opt_out else Reason.DENIED, choice)

    if choice is not None:
        if choice.expires_at <= now:
            lapse = Reason.EXPIRED
        elif last_material_version is not None and choice.policy_version < last_material_version:
            lapse = Reason.STALE_POLICY
        else:
            return answer(True, Reason.GRANTED, choice)
        if not opt_out:
            return answer(False, lapse, choice)
        if lapse is Reason.STALE_POLICY and jurisdiction.material_change_consent:
            # CO Rule 6.04(B): a material change to this purpose is a new use that needs
            # consent, which a grant made before it cannot be.
            return answer(False, Reason.MATERIAL_CHANGE, choice)

    if choice is None and earlier is not None and opt_out:
        if not purpose.opt_out_categories.isdisjoint(earlier.refused_categories):
            # An opt-out covers its categories: a purpose added since in a category the
            # subject opted out of (a new sale purpose) stays off until they say otherwise.
            return answer(False, Reason.OPTED_OUT)
        if (
            jurisdiction.material_change_consent
            and last_material_version is not None
            and earlier.policy_version < last_material_version
        ):
            # CO Rule 6.04(B): a purpose a material change added since the subject chose is
            # a new use of their data, which needs their consent.
            return answer(False, Reason.MATERIAL_CHANGE)

    # No (valid) record: opt-in denies; opt-out allows unless the rulebook defaults it off.
    if opt_out and jurisdiction.purpose_defaults.get(purpose.key, True):
        return answer(True, Reason.OPT_OUT_DEFAULT)
    return answer(False, Reason.NO_RECORD)
