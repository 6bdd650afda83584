"""The client's cache saves look-ups without ever outliving an answer or remembering a failure."""

from __future__ import annotations

import datetime as dt
import threading

from consent_client import Decision
from consent_client import Reason
from consent_client.cache import DecisionCache

T0 = dt.datetime(2026, 5, 1, 10, 0, tzinfo=dt.UTC)


class Clocks:
    """One settable time for both the monotonic deadline and the wall clock."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def monotonic(self) -> float:
        return self.seconds

    def now(self) -> dt.datetime:
        return T0 + dt.timedelta(seconds=self.seconds)


def cache(ttl: float = 30.0, max_entries: int = 100) -> tuple[DecisionCache, Clocks]:
    clocks = Clocks()
    return DecisionCache(ttl, max_entries, monotonic=clocks.monotonic, now=clocks.now), clocks


def granted(subject: str = "customer:1", *, expires_in: float | None = None) -> Decision:
    expires = None if expires_in is None else T0 + dt.timedelta(seconds=expires_in)
    return Decision(True, Reason.GRANTED, expires_at=expires, subject=subject, purpose="analytics")


def test_an_answer_is_reused_within_the_ttl():
    answers, clocks = cache(ttl=30)
    answers.put(granted())
    clocks.seconds = 29
    assert answers.get("customer:1", "analytics") == granted()


def test_an_answer_is_forgotten_once_the_ttl_has_passed():
    answers, clocks = cache(ttl=30)
    answers.put(granted())
    clocks.seconds = 30
    assert answers.get("customer:1", "analytics") is None


def test_a_failure_is_never_remembered():
    answers, _ = cache()
    answers.put(Decision.failed("customer:1", "analytics", "timed out"))
    assert answers.get("customer:1", "analytics") is None


def test_a_denial_is_remembered_like_a_grant():
    answers, _ = cache()
    no = Decision(False, Reason.DENIED, subject="customer:1", purpose="analytics")
    answers.put(no)
    assert answers.get("customer:1", "analytics") == no


def test_an_answer_is_never_reused_past_its_own_expiry_even_within_the_ttl():
    answers, clocks = cache(ttl=30)
    answers.put(granted(expires_in=5))
    clocks.seconds = 4.9
    assert answers.get("customer:1", "analytics") is not None
    clocks.seconds = 5
    assert answers.get("customer:1", "analytics") is None


def test_an_answer_that_has_already_expired_is_not_stored():
    answers, _ = cache()
    answers.put(granted(expires_in=-1))
    assert len(answers) == 0


def test_a_ttl_of_zero_turns_the_cache_off():
    answers, _ = cache(ttl=0)
    answers.put(granted())
    assert answers.get("customer:1", "analytics") is None


def test_forgetting_a_subject_drops_only_that_subjects_answers():
    answers, _ = cache()
    answers.put(granted("customer:1"))
    answers.put(granted("customer:2"))
    answers.forget("customer:1")
    assert answers.get("customer:1", "analytics") is None
    assert answers.get("customer:2", "analytics") is not None


def test_forgetting_without_subjects_drops_everything():
    answers, _ = cache()
    answers.put(granted("customer:1"))
    answers.put(granted("customer:2"))
    answers.forget()
    assert len(answers) == 0


def test_the_least_recently_used_answer_makes_room_when_the_cache_is_full():
    answers, _ = cache(max_entries=2)
    answers.put(granted("customer:1"))
    answers.put(granted("customer:2"))
    answers.get("customer:1", "analytics")  # customer:2 is now the least recently used
    answers.put(granted("customer:3"))
    assert answers.get("customer:2", "analytics") is None
    assert answers.get("customer:1", "analytics") is not None


def test_many_threads_reading_and_writing_at_once_leave_a_consistent_cache():
    answers = DecisionCache(ttl=60, max_entries=50)
    failures = []

    def work(n: int) -> None:
        try:
            for i in range(2000):
                subject = f"customer:{(n * 7 + i) % 120}"
                answers.put(granted(subject))
                found = answers.get(subject, "analytics")
                assert found is None or found.subject == subject
                if i % 500 == 0:
                    answers.forget(subject)
        except Exception as exc:  # surfaced below; a thread cannot fail the test itself
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(answers) <= 50
