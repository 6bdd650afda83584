"""Throughput over real HTTP: gunicorn serves, keep-alive clients in other processes load it.

:func:`gunicorn` serves an app as ``make run`` does (this repository's ``gunicorn.conf.py``,
workers x threads given) and names its master's pid, for the CPU figures of
:mod:`tests.bench.procstat`. :func:`python_run` is the load generator used when wrk is not
installed: processes of keep-alive client threads, one connection each, sending a
:class:`~tests.bench.workloads.Workload` for a fixed time and timing every request.

The clients share the machine's cores with the server, so absolute figures understate a
dedicated server; the baseline and the service are loaded identically, so the ratio is fair.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.bench import procstat
from tests.bench.inprocess import consent_bodies
from tests.bench.stats import LoadFailed
from tests.bench.stats import LoadRun
from tests.bench.stats import NothingCompleted
from tests.bench.stats import from_latencies
from tests.bench.stats import percentile
from tests.bench.workloads import Workload

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("gunicorn_conf.py")
CLIENT_PROCESSES = 2  # the Python clients' processes; connections are split among them


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclasses.dataclass(frozen=True)
class Served:
    """A running gunicorn: its loopback port and its master's pid."""

    port: int
    pid: int
    label: str

    def cpu_ticks(self) -> dict[int, int]:
        """CPU ticks used so far by the master and each worker (see :mod:`procstat`)."""
        return procstat.tree_ticks(self.pid)


@contextlib.contextmanager
def gunicorn(
    target: str,
    env: dict[str, str],
    *,
    workers: int,
    threads: int,
    worker_class: str = "gthread",
    options: Sequence[str] = (),
) -> Iterator[Served]:
    """Serve ``target`` with gunicorn on a free loopback port until the block ends; the block
    starts once every worker is up. ``options`` are more of gunicorn's."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        f"--workers={workers}",
        f"--worker-class={worker_class}",
        f"--threads={threads}",
        "--log-level=warning",
        f"--config={CONFIG}",
        f"--bind=127.0.0.1:{port}",
        *options,
        target,
    ]
    # Its log is shown only when something fails: the figures stay readable.
    with tempfile.TemporaryFile() as log, tempfile.TemporaryDirectory() as ready:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env, "BENCH_READY_DIR": ready},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_listening(port, process)
            _wait_for_workers(process, workers, Path(ready))
            yield Served(port, process.pid, f"{target} ({workers} x {threads} {worker_class})")
        except BaseException:
            _stop(process)
            log.seek(0)
            if written := log.read().decode(errors="replace"):
                print(f"gunicorn {target}'s log:\n{written[-5000:]}", file=sys.stderr)
            raise
        finally:
            _stop(process)


@contextlib.contextmanager
def served(target: str, env: dict[str, str]) -> Iterator[int]:
    """Serve ``target`` with gunicorn (2 workers x 4 threads) on a free loopback port until
    the block ends; yields the port."""
    with gunicorn(target, env, workers=2, threads=4) as server:
        yield server.port


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited during start-up")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not start listening within 30 s")


def _wait_for_workers(process: subprocess.Popen[bytes], workers: int, ready: Path) -> None:
    """Until every worker has loaded the app (``gunicorn_conf.py`` notes each in ``ready``)."""
    deadline = time.monotonic() + 120
    while True:
        children = procstat.tree_ticks(process.pid).keys() - {process.pid}
        if len(children) == workers and children <= {int(p.name) for p in ready.iterdir()}:
            return
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited during start-up")
        if time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn's {workers} workers did not load the app within 120 s")
        time.sleep(0.1)


# -- the Python load generator -------------------------------------------------------------


@dataclasses.dataclass
class _Connection:
    latencies_ms: list[float]
    failures: list[str]
    ended: float


def python_run(port: int, workload: Workload, seconds: float, connections: int) -> LoadRun:
    """Load the server on loopback ``port`` with ``workload`` for ``seconds`` from
    ``connections`` keep-alive connections, each its own thread, spread over a few processes
    (one process's threads would share its GIL)."""
    processes = min(CLIENT_PROCESSES, connections)
    shares = [connections // processes + (i < connections % processes) for i in range(processes)]
    seeds = random.SystemRandom().getrandbits(32)
    with ProcessPoolExecutor(processes) as pool:
        list(pool.map(int, range(processes)))  # every client process forked and ready
        start = time.monotonic() + 0.2
        results = list(
            pool.map(
                _client_process,
                [port] * processes,
                [workload] * processes,
                shares,
                [seeds + 1000 * i for i in range(processes)],
                [start] * processes,
                [start + seconds] * processes,
            )
        )
    done = [c for process in results for c in process]
    failures = [f for c in done for f in c.failures]
    if failures:
        raise LoadFailed(f"{workload.label}: {len(failures)} requests failed, e.g. {failures[0]}")
    latencies = [t for c in done for t in c.latencies_ms]
    if not latencies:
        raise NothingCompleted(f"{workload.label}: no request completed")
    # CLOCK_MONOTONIC is one clock for every process of the machine.
    return from_latencies(latencies, max(c.ended for c in done) - start)


def _client_process(
    port: int, workload: Workload, threads: int, seed: int, start: float, stop: float
) -> list[_Connection]:
    with ThreadPoolExecutor(threads) as pool:
        return list(
            pool.map(
                _client_connection,
                [port] * threads,
                [workload] * threads,
                [seed + i for i in range(threads)],
                [start] * threads,
                [stop] * threads,
            )
        )


def _client_connection(
    port: int, workload: Workload, seed: int, start: float, stop: float
) -> _Connection:
    """One keep-alive connection sending ``workload``'s requests from ``start`` until
    ``stop``; reconnects when the server closes it."""
    outcome = _Connection([], [], start)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    time.sleep(max(start - time.monotonic(), 0))
    for request in workload.requests(seed):
        began = time.monotonic()
        if began >= stop:
            break
        try:
            connection.request(request.method, request.path, request.body, request.headers)
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            outcome.failures.append(f"{type(error).__name__}: {error}")
            connection.close()
            continue
        ended = time.monotonic()
        outcome.ended = ended
        if response.status != workload.status:
            outcome.failures.append(f"{response.status} {body[:200]!r}")
        else:
            outcome.latencies_ms.append((ended - began) * 1000)
        if response.getheader("Connection", "").lower() == "close":
            connection.close()
    connection.close()
    return outcome


# -- earlier helpers, kept for the other benchmarks (look-ups, self-service) ---------------


def _client(port: int, bodies: list[bytes], path: str = "") -> int:
    """One keep-alive connection: POSTs each body to /v1/consents, or (with ``path``) GETs
    ``path`` as many times; returns the number of unexpected answers."""
    failures = 0
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for body in bodies:
        if path:
            connection.request("GET", path)
        else:
            connection.request(
                "POST", "/v1/consents", body=body, headers={"Content-Type": "application/json"}
            )
        response = connection.getresponse()
        response.read()
        failures += response.status != (200 if path else 201)
        if response.getheader("Connection", "").lower() == "close":
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.close()
    return failures


def _process(port: int, per_thread: int, threads: int, path: str = "") -> int:
    work = [consent_bodies(per_thread) for _ in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(_client, [port] * threads, work, [path] * threads))


def post_rate(port: int, requests: int, *, processes: int = 2, threads: int = 4) -> float:
    """Requests per second for ``requests`` POSTs from processes x threads keep-alive clients."""
    return _rate(port, requests, "", processes, threads)


def get_rate(port: int, path: str, requests: int, *, processes: int = 2, threads: int = 4) -> float:
    """Requests per second for ``requests`` GETs of ``path``, loaded like :func:`post_rate`."""
    return _rate(port, requests, path, processes, threads)


def _rate(port: int, requests: int, path: str, processes: int, threads: int) -> float:
    _process(port, 25, 2, path)  # warm up every worker
    per_thread = requests // (processes * threads)
    with ProcessPoolExecutor(processes) as pool:
        started = time.perf_counter()
        failures = sum(
            pool.map(
                _process,
                [port] * processes,
                [per_thread] * processes,
                [threads] * processes,
                [path] * processes,
            )
        )
        elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{failures} requests failed")
    return per_thread * processes * threads / elapsed


@dataclasses.dataclass(frozen=True)
class Load:
    rate: float
    p50_ms: float
    p99_ms: float

    def __str__(self) -> str:
        return f"{self.rate:7.0f} req/s, p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms"


def _timed_client(port: int, paths: list[str], headers: dict[str, str]) -> list[float]:
    """One keep-alive connection GETting each path; the latency of each request, in ms."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    timings = []
    for path in paths:
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        timings.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}")
    connection.close()
    return timings


def _timed_process(
    port: int, paths: list[str], threads: int, headers: dict[str, str]
) -> list[float]:
    chunks = [paths[i::threads] for i in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        results = pool.map(_timed_client, [port] * threads, chunks, [headers] * threads)
    return [t for chunk in results for t in chunk]


def get_load(
    port: int,
    paths: list[str],
    requests: int,
    headers: dict[str, str],
    *,
    processes: int = 2,
    threads: int = 4,
) -> Load:
    """Throughput and latency of GETs spread over ``paths`` from processes x threads clients."""
    _timed_process(port, paths[:100], 2, headers)  # warm up every worker
    per_process = [
        [paths[(p * requests + i) % len(paths)] for i in range(requests // processes)]
        for p in range(processes)
    ]
    with ProcessPoolExecutor(processes) as pool:
        started = time.perf_counter()
        results = list(
            pool.map(
                _timed_process,
                [port] * processes,
                per_process,
                [threads] * processes,
                [headers] * processes,
            )
        )
        elapsed = time.perf_counter() - started
    timings = [t for chunk in results for t in chunk]
    return Load(
        rate=len(timings) / elapsed,
        p50_ms=percentile(timings, 50),
        p99_ms=percentile(timings, 99),
    )
