"""A PostgreSQL cluster of a test's own, from the installed server's ``initdb``/``pg_ctl``,
on a free loopback port in a temporary directory: one the test may freeze (``SIGSTOP`` on
every server process, as a hung host looks to its clients), thaw and stop.

``initdb`` refuses to run as root, so as root the cluster runs as the ``postgres`` user.
Without the server binaries a test using it is skipped, except under ``CI``, where it fails.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

FREEZE = signal.SIGSTOP
THAW = signal.SIGCONT


def server_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def require_server_binaries() -> Path:
    binaries = server_binaries()
    if binaries is None:
        message = "PostgreSQL's initdb/pg_ctl are not installed"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must run the database outage tests)")
        pytest.skip(message)
    return binaries


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ThrowawayPostgres:
    def __init__(self, binaries: Path) -> None:
        # Not under pytest's tmp_path: its parents are root's own, closed to the postgres user.
        directory = Path(tempfile.mkdtemp(prefix="consent-pg-"))
        self._bin = binaries
        self._dir = directory
        self._data = directory / "data"
        self.port = _free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            self._as_user = ["runuser", "-u", "postgres", "--"]
            directory.chmod(0o777)
        self._run("initdb", "-D", str(self._data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.frozen = False
        self.running = False
        self.start()

    def start(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self._data),
            "-l",
            str(self._dir / "server.log"),
            "-w",
            "-o",
            f"-p {self.port} -k {self._dir} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )
        self.running = True

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self._as_user, str(self._bin / tool), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=60,
        )

    def _server_pids(self) -> list[int]:
        """The postmaster and every process it started."""
        postmaster = int((self._data / "postmaster.pid").read_text().split()[0])
        pids = [postmaster]
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(
                    line.split(":\t", 1)
                    for line in status.read_text().splitlines()
                    if ":\t" in line
                )
            except OSError:
                continue
            if fields.get("PPid", "").strip() == str(postmaster):
                pids.append(int(status.parent.name))
        return pids

    def _signal(self, signum: signal.Signals) -> None:
        for pid in self._server_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def freeze(self) -> None:
        """Every server process stops (the sockets stay open and the kernel keeps
        acknowledging, so nothing but a client's own clock notices)."""
        self._signal(FREEZE)
        self.frozen = True

    def thaw(self) -> None:
        self._signal(THAW)
        self.frozen = False

    def stop(self) -> None:
        """The server stops at once, as in a crash (connections refused from now on)."""
        if self.frozen:
            self.thaw()
        self._run("pg_ctl", "-D", str(self._data), "-m", "immediate", "-w", "stop")
        self.running = False

    def remove(self) -> None:
        try:
            if self.running:
                self.stop()
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)
