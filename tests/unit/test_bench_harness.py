"""The benchmark harness's pure parts: percentiles, wrk's report, /proc's CPU figures, the
sizing script's configurations and the request streams (``make bench``, tests/bench/)."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from consent_service.api.schemas import ConsentRequestSchema
from tests.bench import procstat
from tests.bench import workloads
from tests.bench import wrk
from tests.bench.compare import Measured
from tests.bench.compare import ratio
from tests.bench.compare import ratios
from tests.bench.http_load import python_run
from tests.bench.run import load_generator
from tests.bench.sizing import Config
from tests.bench.sizing import parse_config
from tests.bench.sizing import score
from tests.bench.stats import LoadRun
from tests.bench.stats import NothingCompleted
from tests.bench.stats import from_latencies
from tests.bench.stats import percentile

# -- percentiles -----------------------------------------------------------------------------


def test_percentiles_are_nearest_rank_values_never_interpolated():
    assert percentile([1, 2, 3, 4], 50) == 2  # linear interpolation would say 2.5
    assert percentile([4, 1, 3, 2], 75) == 3  # unsorted input
    assert percentile(list(range(1, 101)), 50) == 50
    assert percentile(list(range(1, 101)), 99) == 99
    assert percentile(list(range(1, 1001)), 99) == 990
    assert percentile(list(range(1, 101)), 57) == 57  # 57 * 100 / 100 is 56.99999... in floats


def test_the_99th_percentile_of_few_values_is_their_maximum_and_of_one_value_itself():
    assert percentile([5.0, 1.0, 9.0], 99) == 9.0
    assert percentile([7.5], 50) == percentile([7.5], 99) == percentile([7.5], 100) == 7.5


@pytest.mark.parametrize("p", [0, -1, 100.5])
def test_a_percentile_outside_0_to_100_is_refused(p):
    with pytest.raises(ValueError, match="not in"):
        percentile([1, 2, 3], p)


def test_the_percentile_of_nothing_is_refused():
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_a_runs_figures_come_from_its_latencies_and_length():
    run = from_latencies([float(n) for n in range(1, 201)], seconds=2.0)
    assert run == LoadRun(requests=200, seconds=2.0, p50_ms=100.0, p99_ms=198.0)
    assert run.rate == 100.0


def test_figures_over_rounds_are_medians_and_the_ratio_the_median_of_per_round_ratios():
    ours = Measured(
        (LoadRun(100, 1.0, 5.0, 20.0), LoadRun(300, 1.0, 3.0, 10.0), LoadRun(200, 1.0, 4.0, 30.0)),
        cpu_seconds=1.2,
    )
    bare = Measured(
        (LoadRun(1000, 1.0, 1.0, 2.0), LoadRun(1000, 1.0, 1.0, 2.0), LoadRun(400, 1.0, 1.0, 2.0)),
        cpu_seconds=0.6,
    )
    assert (ours.rate, ours.p50_ms, ours.p99_ms) == (200.0, 4.0, 20.0)
    assert ours.cpu_ms_per_request == pytest.approx(2.0)  # 1.2 s over 600 requests
    assert ratios(ours, bare) == [0.1, 0.3, 0.5]
    assert ratio(ours, bare) == 0.3  # the ratio of the medians would be 200 / 1000


# -- wrk's report ----------------------------------------------------------------------------

# As wrk 4.1 prints it: a latency in seconds keeps a trailing space where "ms" has an "s".
REPORT = "\n".join(
    [
        "Running 2s test @ http://127.0.0.1:43801/v1/decisions",
        "  2 threads and 8 connections",
        "  Thread Stats   Avg      Stdev     Max   +/- Stdev",
        "    Latency   291.28ms  411.92ms   1.34s    80.04%",
        "    Req/Sec   180.79     81.98   280.00     71.43%",
        "  Latency Distribution",
        "     50%   21.83ms",
        "     75%  533.56ms",
        "     90%    1.03s ",
        "     99%    1.33s ",
        "  286 requests in 2.00s, 128.73KB read",
        "Requests/sec:    142.76",
        "Transfer/sec:     64.26KB",
        "",
    ]
)


def test_a_wrk_report_gives_requests_duration_and_the_median_and_99th_percentile():
    run = wrk.parse(REPORT)
    assert run == LoadRun(requests=286, seconds=2.0, p50_ms=21.83, p99_ms=1330.0)
    assert run.rate == 143.0


def test_wrk_time_units_from_microseconds_to_minutes_are_read():
    report = (
        REPORT.replace("21.83ms", "812.00us")
        .replace("1.33s ", "1.50m")
        .replace("in 2.00s", "in 1.00m")
    )
    run = wrk.parse(report)
    assert run.p50_ms == pytest.approx(0.812)
    assert run.p99_ms == pytest.approx(90_000.0)
    assert run.seconds == pytest.approx(60.0)


def test_a_wrk_run_with_error_statuses_is_refused():
    report = REPORT.replace(
        "  286 requests in 2.00s, 128.73KB read\n",
        "  286 requests in 2.00s, 128.73KB read\n  Non-2xx or 3xx responses: 12\n",
    )
    with pytest.raises(wrk.WrkError, match="12 answers with a status above 399"):
        wrk.parse(report)


def test_a_wrk_run_with_socket_errors_is_refused_and_a_clean_socket_line_is_not():
    line = "  Socket errors: connect 0, read {}, write 0, timeout {}\n"
    with pytest.raises(wrk.WrkError, match="read 3, write 0, timeout 1"):
        wrk.parse(REPORT + line.format(3, 1))
    assert wrk.parse(REPORT + line.format(0, 0)).requests == 286


def test_a_wrk_run_that_completed_nothing_says_so():
    report = re.sub(r"\d+ requests in", "0 requests in", REPORT)
    with pytest.raises(NothingCompleted):
        wrk.parse(report)


def test_a_wrk_report_without_its_latency_distribution_is_not_understood():
    without = REPORT.split("  Latency Distribution")[0] + "  286 requests in 2.00s, 1KB read\n"
    with pytest.raises(wrk.WrkError, match="not a wrk --latency report"):
        wrk.parse(without)


# -- /proc -----------------------------------------------------------------------------------


def _stat(pid: int, comm: str, ppid: int, utime: int, stime: int) -> str:
    """A /proc/<pid>/stat line as proc(5) lays it out (52 fields)."""
    fields = ["S", ppid, pid, pid, 0, -1, 4194560, 0, 0, 0, 0, utime, stime, 0, 0, 20, 0, 1, 0]
    return f"{pid} ({comm}) " + " ".join(map(str, fields + [0] * 33)) + "\n"


def test_a_stat_line_gives_pid_parent_and_user_plus_system_ticks():
    assert procstat.parse_stat(_stat(41, "gunicorn", 7, 120, 30)) == procstat.ProcStat(41, 7, 150)


def test_a_command_name_with_spaces_and_parentheses_does_not_shift_the_fields():
    line = _stat(42, "gunicorn: worker [wsgi:app] (x) y)", 41, 5, 6)
    assert procstat.parse_stat(line) == procstat.ProcStat(42, 41, 11)


@pytest.mark.parametrize("line", ["", "42 gunicorn S 1 2 3", "42 (gunicorn) S 1 2 3 4"])
def test_what_is_not_a_stat_line_is_refused(line):
    with pytest.raises(ValueError, match="stat line"):
        procstat.parse_stat(line)


def _fake_proc(root: Path, processes: list[tuple[int, int, int]]) -> Path:
    for pid, ppid, ticks in processes:
        (root / str(pid)).mkdir()
        (root / str(pid) / "stat").write_text(_stat(pid, "p", ppid, ticks, 0))
    (root / "self").mkdir()  # not a process directory: skipped
    (root / "uptime").write_text("1.0 1.0\n")
    return root


def test_a_process_trees_ticks_cover_the_root_and_every_descendant_only(tmp_path):
    proc = _fake_proc(
        tmp_path,
        # master 10, its workers 11 and 12, a grandchild 13; 20 and 21 are someone else's
        [
            (1, 0, 5),
            (10, 1, 100),
            (11, 10, 200),
            (12, 10, 300),
            (13, 12, 7),
            (20, 1, 9),
            (21, 20, 9),
        ],
    )
    assert procstat.tree_ticks(10, proc) == {10: 100, 11: 200, 12: 300, 13: 7}
    assert procstat.tree_ticks(12, proc) == {12: 300, 13: 7}


def test_the_tree_of_a_process_that_is_gone_is_an_error(tmp_path):
    with pytest.raises(ProcessLookupError):
        procstat.tree_ticks(99, _fake_proc(tmp_path, [(1, 0, 5)]))


def test_cpu_seconds_between_samples_are_the_ticks_used_over_the_clock_rate():
    before, after = {10: 100, 11: 200}, {10: 110, 11: 200 + procstat.CLOCK_TICKS}
    assert procstat.cpu_seconds(before, after) == pytest.approx(1 + 10 / procstat.CLOCK_TICKS)


def test_cpu_seconds_refuse_samples_of_different_processes():
    with pytest.raises(procstat.ProcessesChanged, match=r"\[10, 11\] became \[10, 12\]"):
        procstat.cpu_seconds({10: 1, 11: 1}, {10: 2, 12: 1})


def test_the_real_proc_shows_this_process_and_a_child_it_started():
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        ticks = procstat.tree_ticks(os.getpid())
        assert {os.getpid(), child.pid} <= ticks.keys()
        assert all(t >= 0 for t in ticks.values())
    finally:
        child.communicate(b"")
    assert child.pid not in procstat.tree_ticks(os.getpid())


# -- the sizing script's configurations --------------------------------------------------------


def test_configurations_are_workers_x_threads_gthread_or_sync():
    assert parse_config("2x4") == Config(2, 4, "gthread")
    assert parse_config(" 1x8 ") == Config(1, 8, "gthread")
    assert parse_config("2x1sync") == Config(2, 1, "sync")
    assert str(parse_config("2x1sync")) == "2 x 1 sync"


@pytest.mark.parametrize("text", ["2", "2x", "x4", "0x1", "2x0", "2x4sync", "2x4 gthread", "a"])
def test_a_malformed_configuration_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match=r"WORKERSxTHREADS|one thread"):
        parse_config(text)


def test_the_score_needs_both_reads_and_writes():
    assert score(400.0, 100.0) == 200.0
    assert score(250.0, 250.0) > score(1000.0, 10.0)


# -- the request streams -------------------------------------------------------------------------


def _first(workload: workloads.Workload, count: int, seed: int = 1) -> list[workloads.Request]:
    stream = workload.requests(seed)
    return [next(stream) for _ in range(count)]


def test_consent_requests_are_valid_choices_of_first_time_visitors():
    sent = _first(workloads.consents(), 50)
    bodies = [ConsentRequestSchema().load(json.loads(r.body or b"")) for r in sent]
    assert {(r.method, r.path, r.headers["Content-Type"]) for r in sent} == {
        ("POST", "/v1/consents", "application/json")
    }
    assert len({b["visitor_id"] for b in bodies}) == 50


LOOK_UP = re.compile(r"/v1/decisions\?subject=customer:bench-(\d+)&purpose=marketing")


def test_look_ups_ask_about_seeded_customers_with_the_api_key():
    sent = _first(workloads.decisions("csk_x", customers=20), 200)
    asked = [LOOK_UP.fullmatch(r.path) for r in sent]
    customers = {int(match.group(1)) for match in asked if match}
    assert len(customers) > 10 and customers <= set(range(20))
    assert all(asked)
    assert {r.headers["Authorization"] for r in sent} == {"Bearer csk_x"}


def test_banner_requests_accept_gzip_as_a_browser_does():
    [request] = _first(workloads.banner(), 1)
    assert (request.method, request.path) == ("GET", workloads.BANNER_PATH)
    assert "gzip" in request.headers["Accept-Encoding"]


def test_the_lua_script_gets_the_same_kind_run_customers_and_headers():
    assert workloads.decisions("csk_x", 10).lua_arguments("0badcafe") == [
        "lookup",
        "0badcafe",
        "10",
        "Authorization: Bearer csk_x",
    ]


# -- the choice of load generator ------------------------------------------------------------


def test_without_wrk_the_python_clients_load_and_the_header_says_how_to_get_wrk(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("PATH", str(tmp_path))  # no wrk on it
    chosen = load_generator("auto", 8)
    assert chosen.run is python_run
    assert chosen.description.startswith("Python clients (8 connections in 2 processes")
    assert "apt-get install wrk" in chosen.description


def test_asking_for_wrk_without_it_stops_with_the_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SystemExit, match="apt-get install wrk"):
        load_generator("wrk", 8)


def test_the_python_clients_can_be_chosen_even_with_wrk_installed():
    chosen = load_generator("python", 3)
    assert chosen.run is python_run
    assert chosen.description == (
        "Python clients (3 connections in 2 processes, a thread per connection)"
    )


@pytest.mark.skipif(not wrk.installed(), reason="wrk is not installed")
def test_wrk_is_preferred_when_installed():
    chosen = load_generator("auto", 8)
    assert chosen.run is wrk.run
    assert chosen.description.startswith("wrk ")
