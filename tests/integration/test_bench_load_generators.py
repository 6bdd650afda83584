"""Both of ``make bench``'s load generators, wrk with ``wrk_workload.lua`` and the Python
clients, send the same requests, over real HTTP, to a loopback server that records them; and
both refuse a run whose answers are errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import pytest

from consent_service.api.schemas import ConsentRequestSchema
from tests.bench import workloads
from tests.bench import wrk
from tests.bench.http_load import python_run
from tests.bench.stats import LoadFailed
from tests.bench.stats import LoadRun

# Client processes and a wrk process against a recording server: a second of load each.
pytestmark = [pytest.mark.slow, pytest.mark.own_database]

Generator = Callable[[int, workloads.Workload, float, int], LoadRun]
GENERATORS = [
    pytest.param(
        wrk.run,
        id="wrk",
        marks=pytest.mark.skipif(not wrk.installed(), reason="wrk is not installed"),
    ),
    pytest.param(python_run, id="python"),
]


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        self.failing = False


class _Handler(BaseHTTPRequestHandler):
    """Answers as the service would (201 to a POST, 200 to a GET), or 500 when failing."""

    protocol_version = "HTTP/1.1"  # keep-alive, as gunicorn's gthread workers
    server: Recorder

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.seen.append((self.command, self.path, dict(self.headers), body))
        status = 500 if self.server.failing else 201 if self.command == "POST" else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: thousands of requests."""


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def _load(generator: Generator, server: Recorder, workload: workloads.Workload) -> LoadRun:
    run = generator(server.server_address[1], workload, 1, 2)
    assert run.requests > 0
    assert run.requests <= len(server.seen)  # wrk leaves the last ones unanswered uncounted
    assert 0 < run.p50_ms <= run.p99_ms
    return run


@pytest.mark.parametrize("generator", GENERATORS)
def test_consents_are_valid_choices_each_of_a_new_visitor(generator, recorder):
    _load(generator, recorder, workloads.consents())
    visitors = []
    for method, path, headers, body in recorder.seen:
        assert (method, path, headers["Content-Type"]) == (
            "POST",
            "/v1/consents",
            "application/json",
        )
        visitors.append(ConsentRequestSchema().load(json.loads(body))["visitor_id"])
    assert len(set(visitors)) == len(visitors)


@pytest.mark.parametrize("generator", GENERATORS)
def test_look_ups_name_seeded_customers_and_carry_the_api_key(generator, recorder):
    _load(generator, recorder, workloads.decisions("csk_test", customers=50))
    paths = {workloads.lookup_path(n) for n in range(50)}
    for method, path, headers, _ in recorder.seen:
        assert (method, headers["Authorization"]) == ("GET", "Bearer csk_test")
        assert path in paths
    # Spread over the customers: n uniform draws among 50 name about 0.6 n different ones
    # (n <= 50); a third of n is far below that, however few requests a slow machine served.
    distinct, sent = len({path for _, path, _, _ in recorder.seen}), len(recorder.seen)
    assert distinct >= min(sent, 50) // 3
    if sent >= 10:
        assert distinct > 1  # ten draws all alike: one chance in 50 ** 9


@pytest.mark.parametrize("generator", GENERATORS)
def test_banner_fetches_accept_gzip(generator, recorder):
    _load(generator, recorder, workloads.banner())
    assert {(m, p, h["Accept-Encoding"]) for m, p, h, _ in recorder.seen} == {
        ("GET", workloads.BANNER_PATH, "gzip, deflate, br, zstd")
    }


@pytest.mark.parametrize("generator", GENERATORS)
def test_a_run_answered_with_errors_is_refused(generator, recorder):
    recorder.failing = True
    with pytest.raises(LoadFailed, match="GET /v1/banner"):
        generator(recorder.server_address[1], workloads.banner(), 1, 2)
