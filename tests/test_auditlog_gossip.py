"""Three real deployments: Qingdao's log is witnessed by Jinan and Yantai, who compare what
they cosigned. An honest log agrees everywhere, also when the witnesses are at different
sizes (the log proves them one history); a fork of Qingdao's log signed with its key and shown
to Yantai alone is found by Jinan, by Yantai and by Qingdao itself. Jinan runs on PostgreSQL
when TEST_DATABASE_URL points at it."""

import base64
import time
import uuid

import pytest

from core.auditlog.note import Checkpoint, sign
from core.auditlog.witness import WITNESS_TYPE, log_origin
from core.network import envelope
from models import (
    ALERT_LOG,
    ALERT_WITNESS,
    AuditEvent,
    AuditTreeNode,
    Peer,
    WitnessAlert,
    WitnessedLog,
)
from rules import merkle

from .deployments import Deployment, peer, post_envelope
from .helpers import fresh_database_url, on_postgres
from .test_auditlog_witness import add_entries


@pytest.fixture
def cities(tmp_path):
    """Qingdao (the log), Jinan and Yantai (its witnesses), each peered with each."""
    qingdao = Deployment(tmp_path, "qingdao")
    jinan = Deployment(tmp_path, "jinan", fresh_database_url(tmp_path) if on_postgres() else None)
    yantai = Deployment(tmp_path, "yantai")
    everyone = (qingdao, jinan, yantai)
    for a in everyone:
        for b in everyone:
            if a is not b:
                peer(a, b)
    yield everyone
    for city in everyone:
        city.stop()


def outcomes(deployment: Deployment, *command: str) -> dict[str, str]:
    """What `flask audit witness --once` or `flask audit compare` printed, by peer address."""
    lines = deployment.flask("audit", *command).stdout.strip().splitlines()
    return dict(line.split(": ", 1) for line in lines)


def cosign_at(log: Deployment, witness: Deployment) -> str:
    """Ask one witness alone to cosign the log's newest checkpoint (as a round does)."""
    from core.auditlog.witness import request_cosignature

    with log.act():
        return request_cosignature(Peer.get(Peer.base_url == witness.url))


def show_a_fork(log: Deployment, witness: Deployment, base: int, extra: int) -> Checkpoint:
    """The log's key signs a fork: its first `base` entries (which `witness` cosigned), then
    `extra` entries of a history only `witness` is shown, sent with a consistency proof that
    holds, so the witness cosigns it through its real inbox as it would an honest one."""
    with log.database():
        kept = {
            (n.level, n.idx): bytes.fromhex(n.hash)
            for n in AuditTreeNode.select()
            if (n.idx + 1) << n.level <= base  # the subtrees of the first `base` entries
        }
    leaves = [merkle.leaf_hash(f"fork {n}".encode()) for n in range(extra)]
    nodes = {**kept, **merkle.append_nodes(base, leaves, kept)}
    size = base + extra
    forked = Checkpoint(log_origin(log.url), size, merkle.range_hash(0, size, nodes))
    key = log.keys()[-1]
    proof = [merkle.range_hash(s, e, nodes) for s, e in merkle.consistency_ranges(base, size)]
    payload = {
        "id": str(uuid.uuid4()),
        "type": WITNESS_TYPE,
        "from": log.url,
        "to": witness.url,
        "iat": int(time.time()),
        "body": {
            "checkpoint": sign(forked.text(), forked.origin, key.key.private_key),
            "old": base,
            "proof": [base64.b64encode(h).decode() for h in proof],
        },
    }
    status, _ = post_envelope(witness, envelope.sign(payload, key))
    assert status == 200
    with witness.database():
        seen = WitnessedLog.get(WitnessedLog.peer_url == log.url)
        assert (seen.tree_size, seen.root_hash) == (size, forked.root.hex())
    return forked


def open_alerts(deployment: Deployment) -> list[tuple]:
    with deployment.database():
        return [(a.side, a.peer_url, a.reason, a.tree_size) for a in WitnessAlert.open()]


def test_witnesses_at_different_sizes_of_an_honest_log_agree(cities):
    qingdao, jinan, yantai = cities
    add_entries(qingdao, 3)
    assert set(outcomes(qingdao, "witness", "--once").values()) == {"cosigned"}
    bigger = add_entries(qingdao, 4)
    assert cosign_at(qingdao, jinan) == "cosigned"  # Yantai stays at the smaller size
    with yantai.database():
        assert WitnessedLog.get().tree_size < bigger
    # Jinan and Yantai hold Qingdao's log at two sizes: Qingdao proves them one history.
    assert outcomes(jinan, "compare") == {qingdao.url: "agrees", yantai.url: "agrees"}
    assert outcomes(yantai, "compare") == {qingdao.url: "agrees", jinan.url: "agrees"}
    assert outcomes(qingdao, "compare") == {jinan.url: "agrees", yantai.url: "agrees"}
    for city in cities:
        assert open_alerts(city) == []


def test_a_fork_shown_to_one_witness_is_found_by_every_side(cities):
    qingdao, jinan, yantai = cities
    base = add_entries(qingdao, 3)
    assert set(outcomes(qingdao, "witness", "--once").values()) == {"cosigned"}
    # Whoever holds Qingdao's key shows Yantai a history of its own from `base` on...
    forked = show_a_fork(qingdao, yantai, base, 2)
    # ...while Jinan is shown the real one, which grows past the fork's size.
    real = add_entries(qingdao, 4)
    assert real > forked.size
    assert cosign_at(qingdao, jinan) == "cosigned"
    with jinan.database():
        audited = AuditEvent.select().count()

    # Jinan holds the real tree of `real` entries, Yantai the fork of `forked.size`: Qingdao
    # cannot prove them one history (its real proof fails against the fork's root).
    assert outcomes(jinan, "compare")[yantai.url] == "split_view"
    # Yantai sees Jinan's checkpoint, which no proof joins to the fork it cosigned.
    assert outcomes(yantai, "compare")[jinan.url] == "split_view"
    # Qingdao finds a checkpoint signed with its key that its tree never had.
    assert outcomes(qingdao, "compare") == {jinan.url: "agrees", yantai.url: "forged_checkpoint"}

    assert open_alerts(jinan) == [(ALERT_WITNESS, qingdao.url, "split_view", real)]
    assert open_alerts(yantai) == [(ALERT_WITNESS, qingdao.url, "split_view", real)]
    assert open_alerts(qingdao) == [(ALERT_LOG, yantai.url, "forged_checkpoint", forked.size)]
    with jinan.database():
        row = AuditEvent.get(AuditEvent.action == "audit.split_view")
        assert (row.actor, row.result) == (qingdao.url, "split_view")
        assert AuditEvent.select().count() == audited + 1  # comparing writes nothing else
    with qingdao.database():
        assert AuditEvent.get(AuditEvent.action == "audit.forged_checkpoint").actor == yantai.url

    # Compared again: the open alerts are not repeated.
    assert outcomes(jinan, "compare")[yantai.url] == "split_view"
    assert len(open_alerts(jinan)) == 1


def test_a_fork_at_the_same_size_needs_no_proof_to_be_found(cities):
    qingdao, jinan, yantai = cities
    base = add_entries(qingdao, 2)
    assert set(outcomes(qingdao, "witness", "--once").values()) == {"cosigned"}
    forked = show_a_fork(qingdao, yantai, base, 3)
    assert add_entries(qingdao, 3) == forked.size
    assert cosign_at(qingdao, jinan) == "cosigned"
    qingdao.stop()  # nobody can ask Qingdao for a proof now
    assert outcomes(jinan, "compare") == {qingdao.url: "unreachable", yantai.url: "split_view"}
    assert open_alerts(jinan) == [(ALERT_WITNESS, qingdao.url, "split_view", forked.size)]


def test_a_proof_is_given_only_between_sizes_a_checkpoint_covers(app, client, make, conn):
    from core.auditlog.gossip import prove_consistency, witnessed_checkpoints
    from core.auditlog.log import consistency_proof
    from core.network.inbox import BadBody, Refused

    from .test_audit import _some_events, integrate_now

    _some_events(make, client, n=2)
    integrate_now(app)
    with app.app_context(), conn():
        from models import AuditCheckpoint

        size = AuditCheckpoint.latest().tree_size
        answer = prove_consistency({"old": 1, "new": size}, None)
        assert answer["proof"] == [base64.b64encode(h).decode() for h in consistency_proof(1, size)]
        with pytest.raises(Refused) as refused:
            prove_consistency({"old": 1, "new": size + 1}, None)
        assert refused.value.reason == "unknown_tree_size"
        for body in ({"old": 0, "new": size}, {"old": 2, "new": 1}, {"old": True, "new": 1}, {}):
            with pytest.raises(BadBody):
                prove_consistency(body, None)
        with pytest.raises(BadBody):
            witnessed_checkpoints({"extra": 1}, None)
        assert witnessed_checkpoints({}, None) == {"checkpoints": []}


def test_the_witness_loop_compares_notes_every_sixth_round(monkeypatch):
    from core.auditlog import witness

    rounds, compared = [], []
    monkeypatch.setattr(witness, "witness_round", lambda: rounds.append(1) or {})

    def compare():
        compared.append(len(rounds))

    witness.run_witness(interval=0, stop=lambda: len(rounds) >= 13, compare=compare)
    assert compared == [1, 7, 13]  # after the 1st, 7th and 13th cosigning rounds
    witness.run_witness(once=True, compare=compare)
    assert compared == [1, 7, 13]  # one round alone (`--once`) compares nothing
