"""Strangers' envelopes refused by the inbox, in the service: each client network's first of a
window audited, at most STRANGER_AUDITS in all (its own file: on PostgreSQL the inbox tests'
two deployments share the test database that this test's `app` empties)."""

import io

from blueprints.network import MAX_ENVELOPE_BYTES
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


def test_a_peers_refused_messages_are_audited_up_to_a_cap_a_window(app, conn, monkeypatch):
    """A trusted peer sending bad messages in a loop: its first PEER_REFUSAL_AUDITS refusals of
    a window are audited, the rest only counted, however it spells its address; another
    peer's still are, and a refusal a witness must be able to show always is."""
    import datetime as dt

    import models.security
    from core.network import inbox

    moment = dt.datetime(2026, 12, 5, 3, 1)  # one window throughout
    monkeypatch.setattr(models.security, "utcnow", lambda: moment)
    monkeypatch.setattr(inbox, "PEER_REFUSAL_AUDITS", 3)
    spellings = [
        "https://jg.loop.example",
        "https://jg.loop.example/",
        " https://jg.loop.example//",
    ]
    with conn():
        before = AuditEvent.select().where(AuditEvent.action == "network.refused").count()
    with app.test_request_context(), conn():
        for n in range(6):
            refused = {"from": spellings[n % 3], "type": "nonsense", "id": f"m{n}"}
            assert inbox.refuse("unknown_type", refused)[0] >= 400
        inbox.refuse("unknown_type", {"from": "https://jg.other.example", "id": "o"})
        split = {"from": spellings[0], "id": "s", "type": "checkpoint_cosign"}
        inbox.refuse("inconsistent_checkpoint", split)
    with conn():
        refused = AuditEvent.select().where(AuditEvent.action == "network.refused")
        assert refused.count() - before == 3 + 1 + 1
        assert refused.where(AuditEvent.result == "inconsistent_checkpoint").count() == 1
        windows = RefusedCheck.select().where(RefusedCheck.kind == "inbox_peer")
        assert sorted(w.count for w in windows) == [1, 7]


def test_a_chunked_body_over_the_limit_is_read_only_up_to_it(app, client, conn):
    """A body sent in chunks states no length beforehand: the inbox reads one byte past its
    limit, no more, and refuses it as too large (signed, like every refusal)."""
    body = io.BytesIO(b"x" * (MAX_ENVELOPE_BYTES + 128 * 1024))
    response = client.post(
        "/network/inbox",
        input_stream=body,
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 400 and response.mimetype == "application/jose"
    assert body.tell() <= MAX_ENVELOPE_BYTES + 1  # the rest was never read
    with conn():
        refused = AuditEvent.select().where(AuditEvent.action == "network.refused")
        assert refused.order_by(AuditEvent.id.desc()).get().detail_dict["why"] == "too large"
