"""Throughput over real HTTP: gunicorn serves, keep-alive clients in other processes post.

The clients share the machine's cores with the server, so absolute figures understate a
dedicated server; the baseline and the service are loaded identically, so the ratio is fair.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.bench.inprocess import consent_bodies

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_ARGS = [
    "--workers",
    "2",
    "--worker-class",
    "gthread",
    "--threads",
    "4",
    "--log-level",
    "warning",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def served(target: str, env: dict[str, str]) -> Iterator[int]:
    """Run gunicorn on ``target`` on a free loopback port until the block ends."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *GUNICORN_ARGS, "--bind", f"127.0.0.1:{port}", target],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    try:
        _wait_until_listening(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_listening(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited during start-up")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not start listening within 30 s")


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
    timings = sorted(t for chunk in results for t in chunk)
    return Load(
        rate=len(timings) / elapsed,
        p50_ms=timings[len(timings) // 2],
        p99_ms=timings[int(len(timings) * 0.99)],
    )
