"""Reading a purpose's answer in every shape a shop backend holds it: only an unambiguous
"allowed" counts, so the signal helpers never grant on a half-understood answer."""

from __future__ import annotations

import dataclasses

import pytest

from consent_client import Decision
from consent_client import Reason
from consent_client import consent_mode
from consent_client.answers import PurposeAnswer
from consent_client.answers import allowed_purposes
from consent_client.answers import read_answer
from consent_client.answers import read_answers


@dataclasses.dataclass(frozen=True)
class TokenDecision:
    """A stand-in for a consent token's own decision type: only its attributes matter."""

    allowed: bool
    reason: str


def test_a_client_decision_is_read_with_its_reason():
    decision = Decision(True, Reason.GRANTED, subject="visitor:x", purpose="marketing")
    assert read_answer(decision) == PurposeAnswer(allowed=True, reason=Reason.GRANTED)


def test_decision_json_as_a_look_up_or_a_token_carries_it_is_read_strictly():
    assert read_answer({"allowed": True, "reason": "opt_out_default"}) == PurposeAnswer(
        True, Reason.OPT_OUT_DEFAULT
    )
    assert read_answer({"allowed": False, "reason": "gpc"}) == PurposeAnswer(False, Reason.GPC)


def test_any_object_with_allowed_and_reason_is_read_like_a_decision():
    assert read_answer(TokenDecision(True, "essential")) == PurposeAnswer(True, Reason.ESSENTIAL)
    assert read_answer(TokenDecision(False, "opted_out")) == PurposeAnswer(False, Reason.OPTED_OUT)


def test_plain_booleans_allow_only_when_true():
    assert read_answer(True) == PurposeAnswer(True)
    assert read_answer(False) == PurposeAnswer(False)


@pytest.mark.parametrize(
    "value",
    [
        {"allowed": True, "reason": "denied"},  # contradicts itself
        {"allowed": True, "reason": "error"},
        {"allowed": True, "reason": "telepathy"},  # a reason this client does not know
        {"allowed": True, "reason": 1},
        {"allowed": "true"},  # a string is not a boolean
        {"allowed": 1},
        {"reason": "granted"},  # no verdict at all
        {},
        "granted",  # a webhook's receipt value is a choice, not a decision
        1,
        None,
        TokenDecision(True, "no_record"),
    ],
)
def test_anything_but_an_unambiguous_allowed_reads_as_denied(value):
    assert read_answer(value).allowed is False


def test_a_set_of_purpose_keys_means_those_are_allowed():
    assert read_answers({"analytics", "marketing"}) == {
        "analytics": PurposeAnswer(True),
        "marketing": PurposeAnswer(True),
    }


def test_a_lone_string_is_refused_rather_than_read_as_its_characters():
    with pytest.raises(TypeError, match="not a str"):
        read_answers("analytics")


def test_allowed_purposes_keeps_only_the_allowing_answers():
    decisions = {
        "analytics": True,
        "marketing": {"allowed": False, "reason": "denied"},
        "advertising": Decision.failed("visitor:x", "advertising", "timed out"),
    }
    assert allowed_purposes(decisions) == {"analytics"}


def test_consent_mode_reads_token_shaped_decisions_the_same_way():
    from_json = consent_mode({"marketing": {"allowed": True, "reason": "granted"}})
    from_client = consent_mode(
        {"marketing": Decision(True, Reason.GRANTED, subject="visitor:x", purpose="marketing")}
    )
    assert from_json == from_client
    assert from_json["ad_user_data"] == "granted"
