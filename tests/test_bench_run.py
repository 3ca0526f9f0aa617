"""The bench's own measures: the integration delay of the audit entries a scenario wrote.

The bench is not part of the suite (it asserts no timings); what it computes is, because the
figures in docs/PERFORMANCE.md rest on it.
"""

import subprocess
import sys

from bench import report, run
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
    assert found["p50_ms"] == report.percentile(expected, 50)
    assert found["p99_ms"] == report.percentile(expected, 99)


def test_entries_not_yet_integrated_are_reported_as_waiting(app):
    with app.app_context(), db.connection_context():
        mark = run.audit_mark()
        AuditEvent.append(action="bench.waiting")
    assert run.integration_delays(mark, wait=0) == {"entries": 0, "unintegrated": 1}


def test_a_one_shot_list_that_ran_out_is_rated_over_the_time_it_lasted():
    ran_out = {"requests": 3000, "duration_us": 10_000_000, "exhausted": 2, "list_us": 4_000_000}
    assert run.busy_us(ran_out, wrap=False) == 4_000_000
    # A list that goes round again, or one that lasted the whole run, is rated over the run.
    assert run.busy_us(ran_out, wrap=True) == 10_000_000
    lasted = {"requests": 3000, "duration_us": 10_000_000, "exhausted": 0, "list_us": 10_000_500}
    assert run.busy_us(lasted, wrap=False) == 10_000_000
    # wrk's figures from before the script measured the list's time: the whole run.
    assert run.busy_us({"duration_us": 10_000_000, "exhausted": 1}, wrap=False) == 10_000_000


def test_make_bench_runs_the_module_as_a_command():
    """`make bench` runs `python -m bench.run`: the module answers its command line."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "--configs" in done.stdout and "--app-dir" in done.stdout
