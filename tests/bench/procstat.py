"""CPU time of a process and its descendants (a gunicorn master and its workers), from /proc.

Read before and after a load run, the difference divided by the requests served is the
server's CPU per request: what the service costs, whatever else loads the machine. Each
process's figure covers all its threads. Linux only; the resolution is one clock tick
(10 ms at the usual 100 Hz), so a run should cost a few seconds of CPU.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class ProcessesChanged(RuntimeError):
    """A process of the tree started or ended between two samples (a worker restarted), so
    the CPU it used cannot be accounted for."""


@dataclasses.dataclass(frozen=True)
class ProcStat:
    pid: int
    ppid: int
    cpu_ticks: int  # user + system time of all its threads


def parse_stat(text: str) -> ProcStat:
    """One ``/proc/<pid>/stat`` line (proc(5)). The command name, in parentheses, may hold
    spaces and parentheses itself, so the fields are counted from the last ``)``."""
    head, paren, tail = text.rpartition(")")
    if not paren or " (" not in head:
        raise ValueError(f"not a /proc/<pid>/stat line: {text[:80]!r}")
    fields = tail.split()  # fields[0] is field 3 (state)
    if len(fields) < 13:
        raise ValueError(f"a /proc/<pid>/stat line too short: {text[:80]!r}")
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15
    return ProcStat(int(head[: head.index(" (")]), int(fields[1]), utime + stime)


def read_stat(pid: int, proc: Path = PROC) -> ProcStat | None:
    """The process's figures, or None once it has gone."""
    try:
        return parse_stat((proc / str(pid) / "stat").read_text())
    except (FileNotFoundError, ProcessLookupError):
        return None


def tree_ticks(root: int, proc: Path = PROC) -> dict[int, int]:
    """CPU ticks used so far by ``root`` and every live descendant, by pid."""
    stats = [s for entry in _pids(proc) if (s := read_stat(int(entry.name), proc))]
    children: dict[int, list[ProcStat]] = {}
    for stat in stats:
        children.setdefault(stat.ppid, []).append(stat)
    found = {s.pid: s.cpu_ticks for s in stats if s.pid == root}
    if not found:
        raise ProcessLookupError(f"no process {root}")
    waiting = [root]
    while waiting:
        for child in children.get(waiting.pop(), []):
            found[child.pid] = child.cpu_ticks
            waiting.append(child.pid)
    return found


def cpu_seconds(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU seconds the same processes used between two :func:`tree_ticks` samples."""
    if before.keys() != after.keys():
        raise ProcessesChanged(
            f"processes {sorted(before)} became {sorted(after)} during the measurement"
        )
    return sum(after[pid] - before[pid] for pid in before) / CLOCK_TICKS


def _pids(proc: Path) -> list[os.DirEntry[str]]:
    with os.scandir(proc) as entries:
        return [e for e in entries if e.name.isdigit()]
