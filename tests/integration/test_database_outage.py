"""A database that stops answering: the service still answers, in bounded time, and fails closed.

The app is served over real HTTP (a threaded server) on a PostgreSQL cluster of this module's
own, which each test freezes (``SIGSTOP`` on every server process: connections stay open and
nothing answers) or stops, and thaws afterwards. Times are asserted only against a generous
bound that catches a hang; each test prints the real figure (``pytest -s``).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from email.message import Message

import pytest
import sqlalchemy as sa

from consent_client import ConsentClient
from consent_client import Reason
from consent_service import create_app
from consent_service.extensions import db
from consent_service.infra.driver_statements import DriverStatement
from consent_service.integrations.api_keys import create_api_key
from tests.support import ServedApp
from tests.support import make_settings
from tests.support import shut_down
from tests.throwaway_postgres import ThrowawayPostgres
from tests.throwaway_postgres import require_server_binaries

pytestmark = [pytest.mark.slow, pytest.mark.own_database]

# Far above the stated budget (README "Database outages"), far below "hangs".
HANG = 45.0


class Answer:
    def __init__(self, status: int, headers: Message, body: bytes, seconds: float) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.seconds = seconds

    @property
    def json(self) -> dict[str, object]:
        loaded: dict[str, object] = json.loads(self.body)
        return loaded


def fetch(url: str, *, headers: dict[str, str] | None = None) -> Answer:
    """GET ``url``; the answer and how long it took (a hang fails at HANG seconds)."""
    request = urllib.request.Request(url, headers=headers or {})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=HANG) as response:
            body = response.read()
            return Answer(response.status, response.headers, body, time.monotonic() - started)
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read(), time.monotonic() - started)
    except TimeoutError:
        pytest.fail(f"no answer from {url} after {HANG} s")


@pytest.fixture(scope="module")
def cluster() -> Iterator[ThrowawayPostgres]:
    server = ThrowawayPostgres(require_server_binaries())
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="module")
def served(
    cluster: ThrowawayPostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedApp]:
    # A 3 s statement limit instead of the default 30 s: a request that meets the frozen server
    # mid-statement shows the same bounded 503 in 6 s instead of 33 (README "Database outages"
    # gives the defaults' figures).
    app = ServedApp(
        tmp_path_factory.mktemp("instance"), cluster.url, database_statement_timeout_ms=3000
    )
    try:
        yield app
    finally:
        if cluster.frozen:
            cluster.thaw()
        app.stop()


@pytest.fixture(scope="module")
def api_key(served: ServedApp) -> str:
    with served.app.app_context():
        issued = create_api_key(db.session(), "demo-shop", name="outage", scopes=["consent:read"])
        db.session.commit()
    return issued.plaintext


@pytest.fixture(scope="module")
def reader(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


@pytest.fixture
def frozen(cluster: ThrowawayPostgres, served: ServedApp, reader: dict[str, str]) -> Iterator[None]:
    """The database freezes after the app has pooled connections to it, and thaws afterwards."""
    assert fetch(served.url + "/readyz").status == 200
    assert fetch(decisions_url(served), headers=reader).status == 200
    cluster.freeze()
    try:
        yield
    finally:
        cluster.thaw()


def decisions_url(served: ServedApp) -> str:
    return f"{served.url}/v1/decisions?subject=visitor:{uuid.uuid4()}&purpose=marketing"


def test_healthz_answers_while_the_database_is_frozen(served, frozen):
    answer = fetch(served.url + "/healthz")
    print(f"/healthz with the database frozen: {answer.status} in {answer.seconds:.2f} s")
    assert answer.status == 200


def test_readyz_is_a_503_problem_while_the_database_is_frozen(served, frozen):
    answer = fetch(served.url + "/readyz")
    print(f"/readyz with the database frozen: {answer.status} in {answer.seconds:.2f} s")
    assert answer.status == 503
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.seconds < HANG


def test_a_look_up_fails_closed_with_a_503_naming_the_database_while_it_is_frozen(
    served, reader, frozen
):
    answer = fetch(decisions_url(served), headers=reader)
    print(f"GET /v1/decisions with the database frozen: {answer.status} in {answer.seconds:.2f} s")
    assert answer.status == 503
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json["type"] == f"{served.url}/problems/database-unavailable"
    assert int(answer.headers["Retry-After"]) > 0


def test_the_preferences_page_answers_an_outage_in_html(served, frozen):
    answer = fetch(served.url + "/preferences/")
    print(f"/preferences/ with the database frozen: {answer.status} in {answer.seconds:.2f} s")
    assert answer.status == 503
    assert answer.headers["Content-Type"].startswith("text/html")
    assert int(answer.headers["Retry-After"]) > 0


def test_the_service_answers_again_once_the_database_thaws(served, reader, frozen, cluster):
    assert fetch(decisions_url(served), headers=reader).status == 503
    cluster.thaw()
    assert fetch(decisions_url(served), headers=reader).status == 200
    assert fetch(served.url + "/readyz").status == 200


def test_the_python_client_takes_the_503_as_denied(served, api_key, frozen):
    # A timeout long enough for the service's 503 to arrive (a client timeout is denied too).
    with ConsentClient(served.url, api_key, timeout=HANG, cache_ttl=0) as client:
        decision = client.decision(f"visitor:{uuid.uuid4()}", "marketing")
    assert (decision.allowed, decision.reason) == (False, Reason.ERROR)
    assert "503" in (decision.error or "")


def test_a_statement_on_a_frozen_server_is_cut_at_its_limit(cluster, served, tmp_path):
    """The server cannot enforce its own statement_timeout while frozen: the client cuts the
    connection once the statement's limit and the connect timeout have passed."""
    settings = make_settings(
        tmp_path, cluster.url, database_statement_timeout_ms=1000, database_connect_timeout=2
    )
    app = create_app(settings)
    try:
        with app.app_context():
            session = db.session()
            session.execute(sa.text("SELECT 1"))
            cluster.freeze()
            started = time.monotonic()
            with pytest.raises(sa.exc.OperationalError):
                session.execute(sa.text("SELECT 2"))
            seconds = time.monotonic() - started
            print(f"a statement on a frozen server (1 s limit + 2 s grace): cut in {seconds:.2f} s")
            assert seconds < HANG
            cluster.thaw()
            session.rollback()
    finally:
        if cluster.frozen:
            cluster.thaw()
        shut_down(app)


def test_a_read_run_on_the_driver_is_cut_at_its_limit_too(cluster, served, tmp_path):
    """Look-ups read on the driver (``infra.driver_statements``), past Core: the same limits apply,
    and the cut surfaces as Core's error, which the service answers with a 503."""
    settings = make_settings(
        tmp_path, cluster.url, database_statement_timeout_ms=1000, database_connect_timeout=2
    )
    app = create_app(settings)
    one = DriverStatement(lambda _: sa.select(sa.literal(1)), lists={})
    try:
        with app.app_context():
            session = db.session()
            assert [tuple(row) for row in one.rows(session, {})] == [(1,)]
            cluster.freeze()
            started = time.monotonic()
            with pytest.raises(sa.exc.OperationalError):
                one.rows(session, {})
            seconds = time.monotonic() - started
            print(
                f"a driver read on a frozen server (1 s limit + 2 s grace): cut in {seconds:.2f} s"
            )
            assert seconds < HANG
            cluster.thaw()
    finally:
        if cluster.frozen:
            cluster.thaw()
        shut_down(app)


def test_postgresql_cancels_a_statement_over_its_limit(cluster, served, tmp_path):
    settings = make_settings(tmp_path, cluster.url, database_statement_timeout_ms=200)
    app = create_app(settings)
    try:
        with app.app_context(), pytest.raises(sa.exc.OperationalError, match="statement timeout"):
            db.session().execute(sa.text("SELECT pg_sleep(5)"))
    finally:
        shut_down(app)


def test_a_stopped_database_is_a_503_at_once_and_the_service_recovers(served, reader, cluster):
    assert fetch(decisions_url(served), headers=reader).status == 200
    cluster.stop()
    try:
        answer = fetch(decisions_url(served), headers=reader)
        print(f"GET /v1/decisions, database stopped: {answer.status} in {answer.seconds:.2f} s")
        assert answer.status == 503
        assert answer.json["type"] == f"{served.url}/problems/database-unavailable"
        assert fetch(served.url + "/readyz").status == 503
    finally:
        cluster.start()
    assert fetch(decisions_url(served), headers=reader).status == 200
