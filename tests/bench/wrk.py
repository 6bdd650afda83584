"""wrk (Debian package ``wrk``) as ``make bench``'s load generator: a C client that costs the
machine far less CPU per request than Python clients, so more of it is left to the server.

The requests come from ``wrk_workload.lua``; the figures from wrk's ``--latency`` report,
parsed here. A run with any failed request (a status above 399, a socket error or timeout)
is refused: a rate of error answers measures nothing.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
from pathlib import Path

from tests.bench.stats import LoadFailed
from tests.bench.stats import LoadRun
from tests.bench.stats import NothingCompleted
from tests.bench.workloads import Workload

SCRIPT = Path(__file__).with_name("wrk_workload.lua")
THREADS = 2  # wrk's own threads; each drives connections / THREADS connections

# wrk's time units (its units.c): microseconds up to hours.
_MS_PER = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_TIME = r"([\d.]+)(us|ms|s|m|h)"


class WrkError(LoadFailed):
    """wrk could not run, its report was not understood, or requests failed."""


def installed() -> str | None:
    """wrk's path when it is installed."""
    return shutil.which("wrk")


def version() -> str:
    """``wrk 4.1.0`` or the like (wrk prints its version in its usage text)."""
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    match = re.search(r"wrk (\S+)", done.stdout + done.stderr)
    return f"wrk {match.group(1)}" if match else "wrk"


def _milliseconds(number: str, unit: str) -> float:
    return float(number) * _MS_PER[unit]


def parse(report: str) -> LoadRun:
    """The figures of a ``wrk --latency`` report; :class:`WrkError` when requests failed or
    the report lacks what is needed."""
    done = re.search(rf"^\s*(\d+) requests in {_TIME}", report, re.MULTILINE)
    p50 = re.search(rf"^\s*50(?:\.0+)?%\s+{_TIME}\s*$", report, re.MULTILINE)
    p99 = re.search(rf"^\s*99(?:\.0+)?%\s+{_TIME}\s*$", report, re.MULTILINE)
    if not (done and p50 and p99):
        raise WrkError(f"not a wrk --latency report:\n{report}")
    failures = []
    statuses = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    if statuses:
        failures.append(f"{statuses.group(1)} answers with a status above 399")
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", report
    )
    if sockets and any(int(n) for n in sockets.groups()):
        failures.append(
            "socket errors: connect {}, read {}, write {}, timeout {}".format(*sockets.groups())
        )
    if failures:
        raise WrkError("; ".join(failures))
    requests = int(done.group(1))
    if requests == 0:
        raise NothingCompleted("no request completed")
    return LoadRun(
        requests=requests,
        seconds=_milliseconds(done.group(2), done.group(3)) / 1000,
        p50_ms=_milliseconds(p50.group(1), p50.group(2)),
        p99_ms=_milliseconds(p99.group(1), p99.group(2)),
    )


def run(port: int, workload: Workload, seconds: float, connections: int) -> LoadRun:
    """Load the server on loopback ``port`` with ``workload`` for ``seconds``."""
    command = [
        "wrk",
        f"--threads={min(THREADS, connections)}",
        f"--connections={connections}",
        f"--duration={max(round(seconds), 1)}s",  # wrk takes whole seconds
        "--timeout=10s",
        "--latency",
        f"--script={SCRIPT}",
        f"http://127.0.0.1:{port}{workload.path}",
        "--",
        *workload.lua_arguments(secrets.token_hex(4)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise WrkError(f"wrk exited with {done.returncode}: {done.stderr or done.stdout}")
    try:
        return parse(done.stdout)
    except LoadFailed as error:
        raise type(error)(f"{workload.label}: {error}") from None
