"""The bench's own measures: the integration delay of the audit entries a scenario wrote.

The bench is not part of the suite (it asserts no timings); what it computes is, because the
figures in docs/PERFORMANCE.md rest on it.
"""

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
