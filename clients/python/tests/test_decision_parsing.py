"""The client reads the service's answer strictly: anything off-contract is a failure, never
a guess that might read "yes"."""

from __future__ import annotations

import datetime as dt

import pytest
from client_fakes import documented_answer

from consent_client import Reason
from consent_client.decision import MalformedDecision
from consent_client.decision import parse_decision

VISITOR = "visitor:0f8fad5b-d9cb-469f-a165-70867728950e"


def granted(**overrides):
    fields = {
        "allowed": True,
        "reason": "granted",
        "receipt_id": "5f0c3b9e-1d2a-4c1e-9a52-3c1f2b7d8e90",
        "policy_version": 2,
        "expires_at": "2027-05-01T10:00:00.000Z",
    }
    answer = documented_answer(VISITOR, "analytics", **fields)
    return {**answer, **overrides}


def test_a_documented_answer_becomes_a_decision_with_an_aware_utc_expiry():
    decision = parse_decision(granted(), subject=VISITOR, purpose="analytics")
    assert decision.allowed is True
    assert decision.reason is Reason.GRANTED
    assert decision.policy_version == 2
    assert decision.jurisdiction == "EU"
    assert decision.expires_at == dt.datetime(2027, 5, 1, 10, 0, tzinfo=dt.UTC)
    assert decision.error is None


def test_the_decision_keeps_the_reference_as_sent_when_the_service_echoes_its_canonical_form():
    sent_visitor = VISITOR.upper().replace("VISITOR:", "visitor:")
    decision = parse_decision(granted(), subject=sent_visitor, purpose="analytics")
    assert decision.subject == sent_visitor
    echoed_email = documented_answer("email:jane@example.com", "marketing")
    assert parse_decision(echoed_email, subject="email: Jane@Example.COM", purpose="marketing")


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(granted(allowed="true"), id="allowed-as-string"),
        pytest.param(granted(allowed=1), id="allowed-as-number"),
        pytest.param({k: v for k, v in granted().items() if k != "allowed"}, id="allowed-missing"),
        pytest.param(granted(reason="consented"), id="unknown-reason"),
        pytest.param(granted(reason="denied"), id="allowed-but-reason-denies"),
        pytest.param(granted(reason="error"), id="allowed-with-error"),
        pytest.param(granted(subject="customer:someone-else"), id="other-subject"),
        pytest.param(granted(purpose="marketing"), id="other-purpose"),
        pytest.param(granted(expires_at="2027-05-01T10:00:00"), id="expiry-without-zone"),
        pytest.param(granted(expires_at="next tuesday"), id="expiry-not-a-timestamp"),
        pytest.param(granted(policy_version=True), id="version-as-boolean"),
        pytest.param(granted(receipt_id=42), id="receipt-id-as-number"),
        pytest.param([granted()], id="a-list"),
    ],
)
def test_an_answer_off_the_contract_is_refused(answer):
    with pytest.raises(MalformedDecision):
        parse_decision(answer, subject=VISITOR, purpose="analytics")


def test_fields_the_contract_does_not_name_are_ignored():
    decision = parse_decision(granted(basis="consent"), subject=VISITOR, purpose="analytics")
    assert decision.allowed is True
