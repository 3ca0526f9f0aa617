"""The bench's own measures: the integration delay of the audit entries a scenario wrote.

The bench is not part of the suite (it asserts no timings); what it computes is, because the
figures in docs/PERFORMANCE.md rest on it.
"""

import os
import subprocess
import sys
import time

from bench import run
from core.auditlog.log import integrate
from models import AuditCheckpoint, AuditEvent, db


def test_each_entry_waits_until_the_first_checkpoint_that_covers_it(app):
    with app.app_context(), db.connection_context():
        AuditEvent.append(action="bench.before")
        integrate()
        mark = run.audit_mark()
        first = [AuditEvent.append(action="bench.one").id for _ in range(3)]
        integrate()
        second = [AuditEvent.append(action="bench.two").id for _ in range(2)]
        integrate()
        checkpoints = list(AuditCheckpoint.select().order_by(AuditCheckpoint.tree_size))
        expected = []
        for ids, checkpoint in ((first, checkpoints[1]), (second, checkpoints[2])):
            for event in AuditEvent.select().where(AuditEvent.id.in_(ids)):
                assert checkpoint.tree_size >= event.seq
                expected.append((checkpoint.at - event.at).total_seconds() * 1000)
    found = run.integration_delays(mark, wait=5)
    assert found["entries"] == 5
    assert found["unintegrated"] == 0
    assert found["max_ms"] == max(expected)
    assert found["p50_ms"] == run.percentile(expected, 50)
    assert found["p99_ms"] == run.percentile(expected, 99)


def test_entries_not_yet_integrated_are_reported_as_waiting(app):
    with app.app_context(), db.connection_context():
        mark = run.audit_mark()
        AuditEvent.append(action="bench.waiting")
    assert run.integration_delays(mark, wait=0) == {"entries": 0, "unintegrated": 1}


def test_percentile_is_the_nearest_rank():
    values = list(range(1, 101))
    assert run.percentile(values, 50) == 50
    assert run.percentile(values, 99) == 99
    assert run.percentile([7.0], 99) == 7.0


def test_a_mixed_list_keeps_the_days_proportions_when_applicants_are_few():
    # 94 % applications: 1,000 requests want 940 applicants; a city with 470 gets half a list.
    weights = {"apply": 940, "check": 40, "transfer": 20}
    assert run.mix_counts(1000, weights, applicants=5000) == {
        "apply": 940,
        "check": 40,
        "transfer": 20,
    }
    assert run.mix_counts(1000, weights, applicants=470) == {
        "apply": 470,
        "check": 20,
        "transfer": 10,
    }


def test_a_one_shot_list_that_ran_out_is_rated_over_the_time_it_lasted():
    ran_out = {"requests": 3000, "duration_us": 10_000_000, "exhausted": 2, "list_us": 4_000_000}
    assert run.busy_us(ran_out, wrap=False) == 4_000_000
    # A list that goes round again, or one that lasted the whole run, is rated over the run.
    assert run.busy_us(ran_out, wrap=True) == 10_000_000
    lasted = {"requests": 3000, "duration_us": 10_000_000, "exhausted": 0, "list_us": 10_000_500}
    assert run.busy_us(lasted, wrap=False) == 10_000_000
    # wrk's figures from before the script measured the list's time: the whole run.
    assert run.busy_us({"duration_us": 10_000_000, "exhausted": 1}, wrap=False) == 10_000_000


def test_the_cpu_of_a_servers_workers_is_read_from_proc():
    """The bench counts the CPU time of a gunicorn master's children: found by their parent,
    and growing with the work they do (not with the time they wait)."""
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys; "
            "busy = subprocess.Popen([sys.executable, '-c', 'while True: pass']); "
            "idle = subprocess.Popen(['sleep', '30']); busy.wait()",
        ]
    )
    try:
        deadline = time.monotonic() + 10
        while len(run.children_of(parent.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        children = run.children_of(parent.pid)
        assert len(children) == 2
        start = run.cpu_seconds(children)
        while run.cpu_seconds(children) - start < 0.2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert run.cpu_seconds(children) - start >= 0.2
        assert run.cpu_seconds([parent.pid]) < 1  # the parent only waits
    finally:
        for pid in run.children_of(parent.pid):
            os.kill(pid, 9)
        parent.wait()
