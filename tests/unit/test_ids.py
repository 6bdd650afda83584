"""Row ids and request ids are made without a system call each, and stay unique: across
threads, and in a forked worker whose parent made ids from the same buffered randomness."""

from __future__ import annotations

import os
import threading

import pytest
from flask import Flask

from consent_service.models.base import new_id
from consent_service.web.request_ids import request_id


def test_ids_are_version_7_and_unique_across_threads():
    made: list[list[object]] = [[] for _ in range(4)]

    def make(into: list[object]) -> None:
        into.extend(new_id() for _ in range(5_000))

    threads = [threading.Thread(target=make, args=(each,)) for each in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for each in made for i in each]
    assert len(set(every)) == len(every) == 20_000
    assert {i.version for i in every} == {7}  # type: ignore[attr-defined]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_does_not_repeat_its_parents_randomness():
    new_id()  # the parent's buffer now holds the bytes a careless child would reuse
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, as text, to the parent
        os.close(read)
        os.write(write, ",".join(str(new_id()) for _ in range(50)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = set(pipe.read().split(","))
    os.waitpid(pid, 0)
    parent = {str(new_id()) for _ in range(50)}
    assert len(child) == 50
    # Ids made in the same millisecond differ only in their random bits: none may repeat.
    assert {i[14:] for i in child}.isdisjoint({i[14:] for i in parent})


def test_request_ids_are_unique_and_well_formed():
    app = Flask(__name__)
    seen = set()
    for _ in range(1_000):
        with app.test_request_context("/"):
            seen.add(request_id())
    assert len(seen) == 1_000
    assert all(8 <= len(i) <= 64 and i.isalnum() for i in seen)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_numbers_its_request_ids_under_a_prefix_of_its_own():
    app = Flask(__name__)
    with app.test_request_context("/"):
        parent = request_id()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next request id, to the parent
        os.close(read)
        with app.test_request_context("/"):
            os.write(write, request_id().encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = pipe.read()
    os.waitpid(pid, 0)
    # Both count on from the same counter: only the prefix tells them apart.
    assert child[:12] != parent[:12]
