"""Two real deployments witness each other's audit logs: Qingdao's
checkpoint is cosigned by Jinan, the next one too with a consistency proof, and a rewritten
log or a forged checkpoint is refused by Jinan with an alert on both sides. Jinan runs on
PostgreSQL when TEST_DATABASE_URL points at it."""

import base64
import json
import threading
import time
import uuid

import pytest

from core.auditlog import witness as witness_loop
from core.auditlog.cosign import cosigner_name, verify_cosignature
from core.auditlog.note import Checkpoint, raw_public, sign, verifier_key
from core.auditlog.witness import WITNESS_TYPE, log_origin, note_text
from core.network import envelope
from models import (
    ALERT_LOG,
    ALERT_WITNESS,
    AuditCheckpoint,
    AuditCosignature,
    AuditEvent,
    AuditTreeNode,
    WitnessAlert,
    WitnessedLog,
)
from rules import merkle

from .deployments import Deployment, peer, post_envelope
from .helpers import fresh_database_url, on_postgres, wait_for
from .test_auditlog_receipt import check_evidence


@pytest.fixture
def cities(tmp_path):
    """Qingdao (the log) and Jinan (its witness), peered both ways."""
    qingdao = Deployment(tmp_path, "qingdao")
    jinan = Deployment(tmp_path, "jinan", fresh_database_url(tmp_path) if on_postgres() else None)
    peer(qingdao, jinan)
    peer(jinan, qingdao)
    yield qingdao, jinan
    qingdao.stop()
    jinan.stop()


def add_entries(deployment: Deployment, count: int) -> int:
    """Append `count` audit entries at the deployment and integrate them; the new tree size."""
    with deployment.database():
        for n in range(count):
            AuditEvent.append(action="test.entry", object_type="Test", object_id=str(n))
    out = deployment.flask("audit", "integrate", "--once").stdout
    return int(out.split("tree size", 1)[1])


def witness(deployment: Deployment) -> str:
    """One witnessing round of the deployment's log: what its (only) peer answered."""
    return deployment.flask("audit", "witness", "--once").stdout.strip().split(": ", 1)[1]


def test_a_checkpoint_is_cosigned_and_the_next_one_with_a_consistency_proof(cities):
    qingdao, jinan = cities
    first = add_entries(qingdao, 3)
    with jinan.database():
        entries = AuditEvent.select().count()
    assert witness(qingdao) == "cosigned"
    with qingdao.database():
        cosig = AuditCosignature.get()
        checkpoint = cosig.checkpoint
        assert (checkpoint.tree_size, cosig.witness_url, cosig.witness_city) == (
            first,
            jinan.url,
            "济南",
        )
        jinan_public = jinan.keys()[0].key.private_key.public_key()
        from core.auditlog.note import raw_public

        stamp = verify_cosignature(
            cosig.signature,
            note_text(checkpoint.note),
            cosigner_name(jinan.url),
            [raw_public(jinan_public)],
        )
        assert abs(stamp - time.time()) < 300
    with jinan.database():
        seen = WitnessedLog.get()
        assert (seen.peer_url, seen.tree_size) == (qingdao.url, first)
        assert seen.origin == log_origin(qingdao.url)
        # Cosigning writes no audit row at the witness: else each witness's log would grow
        # with every request, to be witnessed in turn, for ever.
        assert AuditEvent.select().count() == entries
    # Nothing new: the same checkpoint is not sent again.
    assert witness(qingdao) == "already"

    second = add_entries(qingdao, 5)
    assert second > first
    assert witness(qingdao) == "cosigned"
    with qingdao.database():
        sizes = [c.checkpoint.tree_size for c in AuditCosignature.select()]
        assert sorted(sizes) == [first, second]
        assert WitnessAlert.select().count() == 0
    with jinan.database():
        assert WitnessedLog.get().tree_size == second
        assert WitnessAlert.select().count() == 0
    assert "audit log intact" in qingdao.flask("audit", "verify").stdout


def test_a_rewritten_log_is_refused_with_an_alert_on_both_sides(cities, tmp_path):
    qingdao, jinan = cities
    cosigned = add_entries(qingdao, 4)
    assert witness(qingdao) == "cosigned"
    # Someone who holds Qingdao's database and key rewrites its history: a subtree of the
    # cosigned tree is replaced, and the log grows and signs on from the rewritten tree.
    with qingdao.database():
        level, idx = merkle.frontier_keys(cosigned)[0]
        AuditTreeNode.update(hash="ab" * 32).where(
            AuditTreeNode.level == level, AuditTreeNode.idx == idx
        ).execute()
    grown = add_entries(qingdao, 2)
    assert witness(qingdao) == "inconsistent_checkpoint"
    # Asked again next round, and again once the log grew: refused each time, and the open
    # alert is not repeated on either side (one finding, whatever the size; a log restored
    # from a backup is refused so every round until its peers are told).
    assert witness(qingdao) == "inconsistent_checkpoint"
    add_entries(qingdao, 1)
    assert witness(qingdao) == "inconsistent_checkpoint"
    for city in cities:
        with city.database():
            assert WitnessAlert.select().count() == 1
    with jinan.database():
        assert WitnessedLog.get().tree_size == cosigned  # still the honest one
        alert = WitnessAlert.get()
        assert (alert.side, alert.peer_url, alert.reason, alert.tree_size) == (
            ALERT_WITNESS,
            qingdao.url,
            "inconsistent_checkpoint",
            grown,
        )
        row = AuditEvent.get(AuditEvent.action == "audit.checkpoint_refused")
        assert (row.actor, row.result) == (qingdao.url, "inconsistent_checkpoint")
    with qingdao.database():
        alert = WitnessAlert.get()
        assert (alert.side, alert.peer_url, alert.reason, alert.tree_size) == (
            ALERT_LOG,
            jinan.url,
            "inconsistent_checkpoint",
            grown,
        )
        assert AuditEvent.get(AuditEvent.action == "audit.witness_refused").actor == jinan.url
        latest = AuditCheckpoint.latest()
        assert not latest.cosignatures.exists()
    # Jinan's evidence: the cosigned note and the refused one, both Qingdao's, with the proof
    # Qingdao sent; of two sizes, so only Qingdao could settle it (the script says so).
    with jinan.database():
        evidence = json.loads(WitnessAlert.get().evidence)
    assert [c["held_by"] for c in evidence["checkpoints"]] == [jinan.url, qingdao.url]
    assert evidence["proof"]["old"] == cosigned and evidence["proof"]["hashes"]
    checked = check_evidence(json.dumps(evidence), tmp_path, qingdao_key(qingdao))
    assert checked.returncode == 2, checked.stdout
    assert f"{cosigned} entries (held by {jinan.url}) and {grown} entries" in checked.stdout


def forged_request(qingdao: Deployment, jinan: Deployment, size: int, root: bytes, old: int):
    """A witness request signed with Qingdao's real key for a checkpoint of its choosing."""
    key = qingdao.keys()[0]
    origin = log_origin(qingdao.url)
    note = sign(Checkpoint(origin, size, root).text(), origin, key.key.private_key)
    payload = {
        "id": str(uuid.uuid4()),
        "type": WITNESS_TYPE,
        "from": qingdao.url,
        "to": jinan.url,
        "iat": int(time.time()),
        "body": {"checkpoint": note, "old": old, "proof": []},
    }
    return post_envelope(jinan, envelope.sign(payload, key))


def test_another_root_for_a_cosigned_size_is_refused_and_alerted(cities, tmp_path):
    qingdao, jinan = cities
    cosigned = add_entries(qingdao, 2)
    assert witness(qingdao) == "cosigned"
    status, token = forged_request(qingdao, jinan, cosigned, b"\x07" * 32, old=cosigned)
    assert status == 422
    answer = envelope.peek(token)[1]
    assert (answer["type"], answer["reason"]) == ("refusal", "inconsistent_checkpoint")
    assert answer["body"] == {"size": cosigned}
    with jinan.database():
        assert WitnessedLog.get().tree_size == cosigned
        alert = WitnessAlert.get()
        assert alert.reason == "inconsistent_checkpoint"
        assert AuditEvent.select().where(AuditEvent.action == "audit.checkpoint_refused").count()
    # The alert keeps both notes Qingdao signed for that size: proof for any other city.
    checked = check_evidence(alert.evidence, tmp_path, qingdao_key(qingdao))
    assert checked.returncode == 0, checked.stdout
    assert f"two different trees of {cosigned} entries" in checked.stdout
    assert f"held by {jinan.url}" in checked.stdout
    assert base64.b64encode(b"\x07" * 32).decode() in checked.stdout
    # The same file against another key proves nothing.
    other = verifier_key(log_origin(qingdao.url), b"\x01" * 32)
    assert check_evidence(alert.evidence, tmp_path, other).returncode == 1


def qingdao_key(qingdao: Deployment) -> str:
    """Qingdao's log's verifier key, as its administrators would read it out."""
    public = raw_public(qingdao.keys()[0].key.private_key)
    return verifier_key(log_origin(qingdao.url), public)


def test_a_wrong_old_size_is_answered_with_the_witness_size_and_no_alert(cities):
    qingdao, jinan = cities
    cosigned = add_entries(qingdao, 2)
    assert witness(qingdao) == "cosigned"
    status, token = forged_request(qingdao, jinan, cosigned + 5, b"\x07" * 32, old=0)
    assert status == 409
    answer = envelope.peek(token)[1]
    assert (answer["reason"], answer["body"]) == ("witness_size_mismatch", {"size": cosigned})
    with jinan.database():
        assert WitnessAlert.select().count() == 0


def test_a_checkpoint_not_signed_by_the_log_is_refused(cities):
    qingdao, jinan = cities
    add_entries(qingdao, 1)
    origin = log_origin(qingdao.url)
    other = jinan.keys()[0].key.private_key  # not Qingdao's log key
    note = sign(Checkpoint(origin, 1, b"\x01" * 32).text(), origin, other)
    payload = {
        "id": str(uuid.uuid4()),
        "type": WITNESS_TYPE,
        "from": qingdao.url,
        "to": jinan.url,
        "iat": int(time.time()),
        "body": {"checkpoint": note, "old": 0, "proof": [base64.b64encode(b"x" * 32).decode()]},
    }
    status, token = post_envelope(jinan, envelope.sign(payload, qingdao.keys()[0]))
    assert status == 403
    assert envelope.peek(token)[1]["reason"] == "bad_checkpoint_signature"
    with jinan.database():
        assert WitnessedLog.select().count() == 0


def test_a_stop_ends_the_witness_loop_during_its_pause(monkeypatch):
    """SIGTERM (the flag `stop` reads) ends the loop at once: not after the rest of a ten-minute
    pause, and without another round."""
    rounds, stopping = [], threading.Event()
    monkeypatch.setattr(witness_loop, "witness_round", lambda: rounds.append(1) or {"peer": "ok"})
    result = {}
    loop = threading.Thread(
        target=lambda: result.update(witness_loop.run_witness(interval=600, stop=stopping.is_set)),
        daemon=True,  # a loop that does not stop must not hold the suite's end
    )
    loop.start()
    wait_for(lambda: rounds, timeout=30, what="the first round")
    stopping.set()
    loop.join(timeout=30)
    assert not loop.is_alive() and rounds == [1] and result == {"peer": "ok"}


def test_an_answer_nobody_foresaw_is_that_witness_bad_answer(app, client, make, conn, monkeypatch):
    """A witness's answer is untrusted input: a refusal whose body is not an object, a
    cosignature signed for a time far from now (a year 2^62 crashed the round), or anything
    else that cannot be handled is that witness's bad answer, and the witnesses after it are
    asked all the same."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from joserfc.jwk import OKPKey

    from core.auditlog.cosign import cosign
    from models import AuditCheckpoint, Peer, write_tx

    from .test_audit import _some_events, integrate_now

    _some_events(make, client, n=1)
    integrate_now(app)
    private = Ed25519PrivateKey.generate()
    jwk = OKPKey.import_key(private).as_dict(private=False)
    answers = {}

    def ask(peer, checkpoint, old):
        return "m-1", answers[peer.base_url](checkpoint)

    def cosigned_at(stamp):
        def answer(checkpoint):
            name = cosigner_name("https://jg.c.example")
            line = cosign(note_text(checkpoint.note), name, private, stamp)
            return {"type": "ack", "body": {"cosignature": line}}

        return answer

    answers["https://jg.a.example"] = lambda checkpoint: {
        "type": "refusal",
        "reason": "x",
        "body": [1],
    }
    answers["https://jg.b.example"] = cosigned_at(2**62)
    answers["https://jg.c.example"] = cosigned_at(int(time.time()))
    monkeypatch.setattr(witness_loop, "_ask", ask)
    with app.app_context(), conn():
        with write_tx():
            for url in answers:
                Peer.create(
                    base_url=url,
                    city="某市",
                    fingerprint="x",
                    document=f'{{"keys": [{json.dumps(jwk)}]}}',
                )
        outcome = witness_loop.witness_round()
        assert outcome == {
            "https://jg.a.example": "x",
            "https://jg.b.example": "bad_answer",
            "https://jg.c.example": "cosigned",
        }
        assert AuditCheckpoint.latest() is not None


def test_a_cosignature_by_a_key_outside_its_validity_is_refused(
    app, client, make, conn, monkeypatch
):
    """A witness's key signs only within its published validity (nbf to exp), as a message's
    does: a key rotated out and past its end, whose private half may have leaked since, cosigns
    nothing; nor does one not valid yet."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from joserfc.jwk import OKPKey

    from core.auditlog.cosign import cosign
    from models import Peer, write_tx

    from .test_audit import _some_events, integrate_now

    _some_events(make, client, n=1)
    integrate_now(app)
    now = int(time.time())
    windows = {
        "https://jg.old.example": {"nbf": now - 3600, "exp": now - 60},
        "https://jg.early.example": {"nbf": now + 3600, "exp": now + 7200},
        "https://jg.now.example": {"nbf": now - 3600, "exp": now + 3600},
    }
    privates = {url: Ed25519PrivateKey.generate() for url in windows}

    def ask(peer, checkpoint, old):
        name = cosigner_name(peer.base_url)
        line = cosign(note_text(checkpoint.note), name, privates[peer.base_url], now)
        return "m-1", {"type": "ack", "body": {"cosignature": line}}

    monkeypatch.setattr(witness_loop, "_ask", ask)
    with app.app_context(), conn():
        with write_tx():
            for url, window in windows.items():
                jwk = {**OKPKey.import_key(privates[url]).as_dict(private=False), **window}
                Peer.create(
                    base_url=url, city="某市", fingerprint="x", document=json.dumps({"keys": [jwk]})
                )
        assert witness_loop.witness_round() == {
            "https://jg.old.example": "bad_answer",
            "https://jg.early.example": "bad_answer",
            "https://jg.now.example": "cosigned",
        }


def test_after_a_key_rotation_the_witness_keeps_the_note_the_new_key_signed(cities):
    """A quiet log's newest checkpoint, signed again by a new key (made with no audit entry, as
    when the old one expired; `flask network rotate-key` writes one, and so a new checkpoint),
    is sent to its witness again: the note the witness keeps (and shows the others when they compare
    notes) carries the key that stays valid, and the cosignature is the newer one."""
    qingdao, jinan = cities
    size = add_entries(qingdao, 3)
    assert witness(qingdao) == "cosigned"
    assert witness(qingdao) == "already"
    with jinan.database():
        before = WitnessedLog.get().note
    from core.network import keys

    with qingdao.act():  # as when every key has expired and a new one is made: no audit entry
        keys.rotate()
    assert "tree size" in qingdao.flask("audit", "integrate", "--once").stdout  # signed again
    assert witness(qingdao) == "cosigned"
    assert witness(qingdao) == "already"
    new_key = qingdao.keys()[-1]
    with jinan.database():
        kept = WitnessedLog.get()
        assert kept.tree_size == size and kept.note.startswith(before) and kept.note != before
    from core.auditlog.note import open_note, raw_public, verifier_key

    open_note(
        kept.note, [verifier_key(log_origin(qingdao.url), raw_public(new_key.key.private_key))]
    )
    with qingdao.database():
        (cosig,) = AuditCosignature.select()
        assert cosig.checkpoint.tree_size == size
        assert cosig.received_at >= cosig.checkpoint.signed_again_at
