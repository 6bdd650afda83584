"""What ``ConsentClient`` sends and how it reads the answers, against a scripted service."""

from __future__ import annotations

import gc
import threading
import time
import uuid

import pytest
from client_fakes import FakeService
from client_fakes import answer_everything
from client_fakes import documented_answer

from consent_client import ConsentClient
from consent_client import ConsentDenied
from consent_client import Link
from consent_client import Reason
from consent_client import ServiceError

API_KEY = "csk_0123456789ab_" + "A" * 43
VISITOR = "visitor:0f8fad5b-d9cb-469f-a165-70867728950e"


def even_customers(subject: str, purpose: str) -> bool:
    return subject.startswith("customer:") and int(subject.split(":")[1]) % 2 == 0


@pytest.fixture
def service():
    fake = FakeService(answer_everything(even_customers))
    yield fake
    fake.stop()


@pytest.fixture
def client(service):
    with ConsentClient(service.url, API_KEY) as consent:
        yield consent


def test_a_look_up_is_a_get_with_the_api_key_as_bearer_token(client, service):
    assert client.may_process("customer:2", "analytics") is True
    [seen] = service.seen
    assert (seen.method, seen.path) == ("GET", "/v1/decisions")
    assert seen.query == {"subject": "customer:2", "purpose": "analytics"}
    assert seen.headers["authorization"] == f"Bearer {API_KEY}"


def test_an_email_subject_is_asked_in_a_post_body_never_in_the_url(client, service):
    client.decision("email:jane@example.com", "marketing")
    [seen] = service.seen
    assert (seen.method, seen.path, seen.query) == ("POST", "/v1/decisions", {})
    assert seen.body == {"subjects": ["email:jane@example.com"], "purposes": ["marketing"]}


def test_a_decision_carries_the_services_reason_and_record(client):
    decision = client.decision("customer:3", "analytics")
    assert (decision.allowed, decision.reason, decision.error) == (False, Reason.DENIED, None)
    assert (decision.subject, decision.purpose, decision.jurisdiction) == (
        "customer:3",
        "analytics",
        "EU",
    )


def test_a_bulk_question_goes_in_requests_of_at_most_ten_thousand_pairs(client, service):
    subjects = [f"customer:{i}" for i in range(25_000)]
    answers = client.decisions(subjects, ["marketing"])
    assert [len(seen.body["subjects"]) for seen in service.seen] == [10_000, 10_000, 5_000]
    assert list(answers) == subjects
    assert answers["customer:24998"]["marketing"].allowed is True


def test_filter_allowed_keeps_the_callers_order_and_names_each_subject_once(client):
    subjects = ["customer:8", "customer:1", "customer:4", "customer:8", "customer:2"]
    assert client.filter_allowed(subjects, "marketing") == [
        "customer:8",
        "customer:4",
        "customer:2",
    ]


def test_a_subject_the_service_rejects_costs_only_its_own_answer(service, client):
    def refuse_bad_emails(seen):
        if "email:not-an-address" in seen.body["subjects"]:
            index = seen.body["subjects"].index("email:not-an-address")
            detail = "email: must be followed by an email address"
            problem = {
                "status": 422,
                "errors": [{"pointer": f"/subjects/{index}", "detail": detail}],
            }
            return 422, problem
        return answer_everything(even_customers)(seen)

    service.respond = refuse_bad_emails
    answers = client.decisions(["customer:2", "email:not-an-address", "customer:4"], ["marketing"])
    assert answers["customer:2"]["marketing"].allowed is True
    assert answers["customer:4"]["marketing"].allowed is True
    rejected = answers["email:not-an-address"]["marketing"]
    assert rejected.reason is Reason.ERROR
    assert "must be followed by an email address" in (rejected.error or "")


def test_a_reference_that_is_not_a_subject_reference_is_refused_without_a_request(client, service):
    decision = client.decision("jane@example.com", "marketing")
    assert (decision.allowed, decision.reason) == (False, Reason.ERROR)
    assert "customer:<ref>" in (decision.error or "")
    assert service.seen == []


def test_an_answer_is_reused_from_the_cache_within_its_ttl(client, service):
    client.may_process("customer:2", "analytics")
    client.may_process("customer:2", "analytics")
    client.decisions(["customer:2"], "analytics")
    assert len(service.seen) == 1


def test_a_failure_is_not_reused_the_next_look_up_asks_again(client, service):
    service.respond = lambda seen: (503, {"title": "Service Unavailable", "status": 503})
    assert client.may_process("customer:2", "analytics") is False
    service.respond = answer_everything(even_customers)
    assert client.may_process("customer:2", "analytics") is True


def test_a_cache_ttl_of_zero_asks_every_time(service):
    with ConsentClient(service.url, API_KEY, cache_ttl=0) as client:
        client.may_process("customer:2", "analytics")
        client.may_process("customer:2", "analytics")
    assert len(service.seen) == 2


def test_forget_makes_the_next_look_up_ask_again(client, service):
    client.may_process("customer:2", "analytics")
    client.forget("customer:2")
    client.may_process("customer:2", "analytics")
    assert len(service.seen) == 2


def test_look_ups_share_one_kept_alive_connection(client, service):
    for i in range(5):
        client.may_process(f"customer:{i}", "analytics")
    assert service.connections == 1


def test_a_threads_connection_is_closed_when_the_thread_ends(client, service):
    worker = threading.Thread(target=client.may_process, args=("customer:2", "analytics"))
    worker.start()
    worker.join()
    gc.collect()
    deadline = time.monotonic() + 5
    while service.open_connections and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (service.connections, service.open_connections) == (1, 0)


def test_a_connection_the_server_closed_while_idle_is_replaced_without_failing():
    service = FakeService(answer_everything(even_customers), hang_up_after_each=True)
    try:
        with ConsentClient(service.url, API_KEY, cache_ttl=0) as client:
            assert [client.may_process("customer:2", "analytics") for _ in range(3)] == [True] * 3
    finally:
        service.stop()


def test_a_rate_limited_look_up_is_denied_and_says_when_to_retry(client, service):
    service.respond = lambda seen: (429, {"title": "Too Many Requests", "status": 429})
    decision = client.decision("customer:2", "analytics")
    assert (decision.allowed, decision.reason) == (False, Reason.ERROR)
    assert "HTTP 429 Too Many Requests" in (decision.error or "")


def test_a_bulk_answer_with_the_wrong_number_of_decisions_denies_the_whole_request(client, service):
    service.respond = lambda seen: (200, {"decisions": [documented_answer("customer:2", "ads")]})
    answers = client.decisions(["customer:2", "customer:4"], ["ads"])
    assert {a["ads"].reason for a in answers.values()} == {Reason.ERROR}


def test_the_guard_runs_the_function_when_processing_is_allowed(client):
    @client.requires("analytics", subject=lambda order: f"customer:{order['customer']}")
    def track(order):
        return f"tracked {order['id']}"

    assert track({"id": "o-1", "customer": 2}) == "tracked o-1"


def test_the_guard_skips_the_function_and_returns_none_when_not_allowed(client):
    calls = []

    @client.requires("analytics", subject=lambda order: f"customer:{order['customer']}")
    def track(order):
        calls.append(order)

    assert track({"id": "o-1", "customer": 3}) is None
    assert calls == []


def test_the_guard_can_raise_consent_denied_instead_of_skipping(client):
    @client.requires(
        "analytics", subject=lambda customer: f"customer:{customer}", raise_on_denied=True
    )
    def track(customer):
        return "tracked"

    with pytest.raises(ConsentDenied) as denied:
        track(3)
    assert denied.value.decision.reason is Reason.DENIED


def test_check_returns_the_decision_when_allowed_and_raises_when_not(client):
    assert client.check("customer:2", "analytics").allowed is True
    with pytest.raises(ConsentDenied, match="customer:3"):
        client.check("customer:3", "analytics")


def test_link_posts_the_identity_and_returns_what_the_service_linked(client, service):
    identity = "6f1c1d8e-5b7a-4f0e-9d55-1b2f3c4d5e6f"
    service.respond = lambda seen: (
        200,
        {"identity_id": identity, "subject_id": None, "created": True},
    )
    link = client.link(customer="C-1042", email="jane@example.com")
    assert service.seen[0].body == {"customer": "C-1042", "email": "jane@example.com"}
    assert link == Link(identity_id=uuid.UUID(identity), subject_id=None, created=True)


def test_link_raises_with_the_services_problem_when_it_refuses(client, service):
    conflict = {
        "title": "Identity conflict",
        "status": 409,
        "detail": "belongs to another customer",
    }
    service.respond = lambda seen: (409, conflict)
    with pytest.raises(ServiceError, match="belongs to another customer") as refused:
        client.link(visitor_id="0f8fad5b-d9cb-469f-a165-70867728950e", customer="C-1")
    assert refused.value.status == 409


def test_https_is_verified_tls_so_a_server_without_it_means_not_allowed(service):
    https_url = service.url.replace("http://", "https://")
    with ConsentClient(https_url, API_KEY) as client:
        decision = client.decision("customer:2", "analytics")
    assert (decision.allowed, decision.reason) == (False, Reason.ERROR)
    assert "SSL" in (decision.error or "")


@pytest.mark.parametrize(
    ("base_url", "api_key"),
    [("consent.example", API_KEY), ("ftp://consent.example", API_KEY), ("http://x", "csk bad")],
)
def test_a_misconfigured_client_is_refused_at_construction_not_at_the_first_look_up(
    base_url, api_key
):
    with pytest.raises(ValueError):
        ConsentClient(base_url, api_key)
