"""Bulk questions are cut into requests the service accepts, and a 422 that names bad items
costs only those items."""

from __future__ import annotations

from consent_client.bulk import MAX_PAIRS
from consent_client.bulk import batches
from consent_client.bulk import rejected_items


def test_batches_cover_every_pair_exactly_once_in_order():
    subjects = [f"customer:{i}" for i in range(25_001)]
    purposes = ["analytics", "marketing", "advertising"]
    pairs = [
        (s, p) for some_s, some_p in batches(subjects, purposes) for s in some_s for p in some_p
    ]
    assert pairs == [(s, p) for s in subjects for p in purposes]


def test_no_batch_exceeds_the_services_limits():
    subjects = [f"customer:{i}" for i in range(30_000)]
    purposes = [f"purpose-{i}" for i in range(70)]
    for some_subjects, some_purposes in batches(subjects, purposes):
        assert len(some_subjects) * len(some_purposes) <= MAX_PAIRS
        assert len(some_subjects) <= MAX_PAIRS
        assert len(some_purposes) <= 64


def test_a_single_purpose_sends_ten_thousand_subjects_per_request():
    sizes = [len(s) for s, _ in batches([f"customer:{i}" for i in range(25_000)], ["marketing"])]
    assert sizes == [10_000, 10_000, 5_000]


def test_no_subjects_means_no_requests():
    assert list(batches([], ["marketing"])) == []


def test_the_items_a_problem_points_at_are_named_with_what_is_wrong():
    problem = {
        "status": 422,
        "errors": [
            {"pointer": "/subjects/1", "detail": "email: must be followed by an email address"},
            {"pointer": "/purposes/0", "detail": "not offered"},
            {"pointer": "/subjects/99", "detail": "out of range, ignored"},
            {"pointer": "/", "detail": "not about one item"},
        ],
    }
    bad_subjects, bad_purposes = rejected_items(
        problem, ["customer:1", "email:nope", "customer:3"], ["newsletter", "marketing"]
    )
    assert bad_subjects == {"email:nope": "email: must be followed by an email address"}
    assert bad_purposes == {"newsletter": "not offered"}


def test_a_problem_without_pointers_names_nothing():
    assert rejected_items({"title": "Too Many Requests"}, ["customer:1"], ["marketing"]) == ({}, {})
    assert rejected_items(None, ["customer:1"], ["marketing"]) == ({}, {})
