"""The bench's ceiling server (``tests/bench/ceiling_wsgi.py``) does each path's database
work for real: a look-up finds a seeded subject's row, a consent leaves a row behind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.bench import ceiling_wsgi
from tests.bench.workloads import lookup_path
from tests.support import demo_consent
from tests.support import own_database_url


@pytest.fixture
def database_url(tmp_path) -> str:
    url = own_database_url(tmp_path, "ceiling")
    ceiling_wsgi.prepare(url)
    return url


@pytest.fixture
def ceiling(database_url) -> Iterator[Flask]:
    app = ceiling_wsgi.ceiling_app(database_url)
    yield app
    ceiling_wsgi.close(app)


def test_a_look_up_reads_the_seeded_subjects_row(ceiling):
    client = ceiling.test_client()
    found = client.get(lookup_path(7)).json
    missing = client.get("/v1/decisions?subject=customer:nobody&purpose=marketing").json
    assert (found["found"], missing["found"]) == (True, False)


def test_a_consent_is_written_and_committed(ceiling, database_url):
    assert ceiling.test_client().post("/v1/consents", json=demo_consent()).status_code == 201
    assert _rows(database_url) == ceiling_wsgi.ROWS + 1  # seen from another connection


def _rows(database_url: str) -> int:
    connection = ceiling_wsgi.connect(database_url)
    try:
        (count,) = connection.execute(f"SELECT count(*) FROM {ceiling_wsgi.TABLE}").fetchone()
        return int(count)
    finally:
        connection.close()
