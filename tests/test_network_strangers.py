"""Strangers' envelopes refused by the inbox, in the service: each client network's first of a
window audited, at most STRANGER_AUDITS in all (its own file: on PostgreSQL the inbox tests'
two deployments share the test database that this test's `app` empties)."""

from models import AuditEvent, RefusedCheck


def test_strangers_from_many_networks_are_audited_at_most_twenty_times_a_window(app, conn):
    """Each network's first refusal of a window is audited, but no more than STRANGER_AUDITS
    in all: hopping addresses does not fill the log either."""
    from core.network import inbox

    with conn():
        before = AuditEvent.select().where(AuditEvent.action == "network.refused").count()
    for i in range(inbox.STRANGER_AUDITS + 5):
        environ = {"REMOTE_ADDR": f"198.51.100.{i + 1}"}
        with app.test_request_context(environ_base=environ), conn():
            assert inbox.refuse("malformed", {}, "junk", stranger=True)[0] == 400
    with conn():
        after = AuditEvent.select().where(AuditEvent.action == "network.refused").count()
        counted = RefusedCheck.select().where(RefusedCheck.kind == "inbox").count()
        windows = RefusedCheck.select().where(RefusedCheck.kind == "inbox_all").count()
    assert counted >= inbox.STRANGER_AUDITS + 5  # every network counted
    if windows == 1:  # (a window that ended in the middle would start the cap again)
        assert after - before == inbox.STRANGER_AUDITS
