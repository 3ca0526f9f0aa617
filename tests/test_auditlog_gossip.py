"""Three real deployments: Qingdao's log is witnessed by Jinan and Yantai, who compare what
they cosigned. An honest log agrees everywhere, also when the witnesses are at different
sizes (the log proves them one history); a fork of Qingdao's log signed with its key and shown
to Yantai alone is found by Jinan, by Yantai and by Qingdao itself. Jinan runs on PostgreSQL
when TEST_DATABASE_URL points at it. Then, in one process with the peers' answers as given,
every other case of the comparison (a same-size fork, logs down or withholding, bad answers,
the round's bounds)."""

import base64
import json
import time
import uuid

import pytest

from core.auditlog.log import verifier_keys
from core.auditlog.note import Checkpoint, raw_public, sign
from core.auditlog.witness import WITNESS_TYPE, log_origin, note_text
from core.network import envelope
from models import (
    ALERT_LOG,
    ALERT_WITNESS,
    AuditEvent,
    AuditTreeNode,
    InboxMessage,
    Peer,
    WitnessAlert,
    WitnessedLog,
)
from rules import merkle

from .deployments import Deployment, peer, post_envelope
from .helpers import fresh_database_url, on_postgres
from .test_auditlog_receipt import check_evidence
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
        with city.database():  # the questions were answered, and nothing kept of them
            kept = InboxMessage.select().where(
                InboxMessage.type.in_(["witnessed_checkpoints", "consistency_proof"])
            )
            assert kept.count() == 0


def test_a_fork_shown_to_one_witness_is_found_by_every_side(cities, tmp_path):
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

    # Each alert keeps the notes Qingdao signed. Of two sizes, they prove nothing offline
    # (only Qingdao can prove two sizes one history); the script checks they are Qingdao's.
    with qingdao.act():
        key = verifier_keys()[0]
        forged_evidence = WitnessAlert.get().evidence
    with jinan.database():
        evidence = json.loads(WitnessAlert.get().evidence)
    held = [
        (c["held_by"], Checkpoint.parse(note_text(c["note"])).size) for c in evidence["checkpoints"]
    ]
    assert held == [(jinan.url, real), (yantai.url, forked.size)]
    checked = check_evidence(json.dumps(evidence), tmp_path, key)
    assert checked.returncode == 2 and "SIGNED, NOT PROVEN OFFLINE" in checked.stdout
    checked = check_evidence(forged_evidence, tmp_path, key)
    assert (
        checked.returncode == 2
        and f"{forked.size} entries (held by {yantai.url})" in checked.stdout
    )


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

    def compare(stop):
        assert stop() is (len(rounds) >= 13)  # the loop's own stop, for its requests
        compared.append(len(rounds))

    reported = []
    witness.run_witness(
        interval=0, stop=lambda: len(rounds) >= 13, compare=compare, report=reported.append
    )
    assert compared == [1, 7, 13]  # after the 1st, 7th and 13th cosigning rounds
    assert len(reported) == 13  # each round's outcomes, as it ends
    witness.run_witness(once=True, compare=compare)
    assert compared == [1, 7, 13]  # one round alone (`--once`) compares nothing


# --- In one process: the peers' answers as given, to reach every case -------------------------

L_URL, P_URL, Q_URL = "https://jg.l.example", "https://jg.p.example", "https://jg.q.example"


class FakeLog:
    """A peer's log as a witness sees it: its key, its tree, its signed checkpoints, its proofs."""

    def __init__(self, url: str, entries: int, fork: str = ""):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        self.url, self.origin = url, log_origin(url)
        self.key = Ed25519PrivateKey.generate()
        self.nodes = merkle.append_nodes(
            0, [merkle.leaf_hash(f"{fork}{n}".encode()) for n in range(entries)], {}
        )

    def root(self, size: int) -> bytes:
        return merkle.range_hash(0, size, self.nodes)

    def note(self, size: int, key=None) -> str:
        return sign(
            Checkpoint(self.origin, size, self.root(size)).text(), self.origin, key or self.key
        )

    def proof(self, old: int, new: int) -> list[str]:
        ranges = merkle.consistency_ranges(old, new)
        return [base64.b64encode(merkle.range_hash(s, e, self.nodes)).decode() for s, e in ranges]

    def jwk(self, **window) -> dict:
        from joserfc.jwk import OKPKey

        now = int(time.time())
        public = OKPKey.import_key(self.key).as_dict(private=False)
        return {**public, "kid": f"k-{self.url}", "nbf": now - 60, "exp": now + 3600, **window}


@pytest.fixture
def network(app, conn, monkeypatch):
    """Peers L (a log), P and Q (witnesses) of this deployment, and what each answers: set
    `answers[(peer url, type)]` to a body (an ack), a ("refusal", reason) pair, or an exception
    to raise. `asked` lists every request made."""
    import json

    from core.auditlog import gossip
    from models import write_tx

    gossip._not_speaking.clear()
    log = FakeLog(L_URL, 40)
    answers, asked = {}, []

    def ask(peer, type_, body):
        asked.append((peer.base_url, type_, body))
        got = answers.get((peer.base_url, type_))
        if isinstance(got, Exception):
            raise got
        if isinstance(got, tuple):
            return "m", {"type": "refusal", "reason": got[1], "body": {}}
        if got is None:  # by default: a witness that cosigned nothing, a log with no proof
            got = {"checkpoints": []} if type_ == "witnessed_checkpoints" else {}
        return "m", {"type": "ack", "body": got}

    monkeypatch.setattr(gossip, "ask", ask)
    with app.app_context(), conn():
        with write_tx():
            for url, keys in ((L_URL, [log.jwk()]), (P_URL, []), (Q_URL, [])):
                Peer.create(
                    base_url=url, city="某市", fingerprint="x", document=json.dumps({"keys": keys})
                )
            WitnessedLog.create(
                peer_url=L_URL,
                origin=log.origin,
                tree_size=20,
                root_hash=log.root(20).hex(),
                note=log.note(20),
            )
        yield log, answers, asked


def compare_now() -> dict[str, str]:
    from core.auditlog.gossip import compare_round

    return compare_round()


def alerts() -> list[tuple]:
    return [(a.side, a.peer_url, a.reason) for a in WitnessAlert.open()]


def test_a_larger_honest_checkpoint_is_proven_and_agrees(network):
    log, answers, asked = network
    answers[(P_URL, "witnessed_checkpoints")] = {"checkpoints": [log.note(30)]}
    answers[(L_URL, "consistency_proof")] = {"proof": log.proof(20, 30)}
    assert compare_now()[P_URL] == "agrees"
    assert (L_URL, "consistency_proof", {"old": 20, "new": 30}) in asked
    assert alerts() == []


def test_a_note_not_signed_by_the_log_frames_nobody(network):
    """A witness cannot frame an honest city: a checkpoint of its log (or of ours) that its
    key did not sign is no evidence, however it differs."""
    from core.auditlog.log import origin

    log, answers, asked = network
    impostor = FakeLog(L_URL, 40, fork="x")  # another key, another history
    ours = Checkpoint(origin(), 5, b"\x07" * 32).text()
    answers[(P_URL, "witnessed_checkpoints")] = {
        "checkpoints": [impostor.note(20), sign(ours, origin(), impostor.key)]
    }
    assert compare_now()[P_URL] == "unverifiable"
    assert alerts() == []
    assert not [a for a in asked if a[1] == "consistency_proof"]


def test_a_log_that_says_it_lacks_a_size_it_signed_shows_a_split_view(network):
    log, answers, _ = network
    answers[(P_URL, "witnessed_checkpoints")] = {"checkpoints": [log.note(30)]}
    answers[(L_URL, "consistency_proof")] = ("refusal", "unknown_tree_size")
    assert compare_now()[P_URL] == "split_view"
    assert alerts() == [(ALERT_WITNESS, L_URL, "split_view")]


def test_a_same_size_fork_keeps_its_proof_for_other_cities(network, tmp_path):
    """Two roots the log signed for one size: the alert keeps both notes, which the standalone
    script proves a fork with the log's key."""
    from core.auditlog.note import verifier_key

    log, answers, _ = network
    fork = FakeLog(L_URL, 40, fork="f")
    fork.key = log.key  # the log's own key signs the other history
    answers[(P_URL, "witnessed_checkpoints")] = {"checkpoints": [fork.note(20)]}
    assert compare_now()[P_URL] == "split_view"
    evidence = WitnessAlert.get().evidence
    key = verifier_key(log.origin, raw_public(log.key))
    checked = check_evidence(evidence, tmp_path, key)
    assert checked.returncode == 0 and "FORK PROVEN" in checked.stdout, checked.stdout
    assert f"held by {P_URL}" in checked.stdout
    # Without a key got elsewhere, nothing is proven: anyone can sign two roots with a key of
    # their own named after the log and put it in the file.
    unpinned = check_evidence(evidence, tmp_path)
    assert unpinned.returncode == 2 and "NOT PROVEN" in unpinned.stdout
    # A note altered after the log signed it is no longer the log's.
    altered = evidence.replace(base64.b64encode(fork.root(20)).decode(), "A" * 43 + "=")
    assert altered != evidence
    assert check_evidence(altered, tmp_path, key).returncode == 1


def test_a_log_that_is_down_is_waited_for_and_never_accused(network):
    """A log that cannot be reached is not asked for proofs, and owes none: however long it is
    down, nobody is named."""
    from core.network import http
    from models import AwaitedProof

    log, answers, asked = network
    answers[(L_URL, "witnessed_checkpoints")] = http.Unreachable("down")
    answers[(P_URL, "witnessed_checkpoints")] = {"checkpoints": [log.note(30)]}
    answers[(Q_URL, "witnessed_checkpoints")] = {"checkpoints": [log.note(35)]}
    for _ in range(7):
        assert compare_now() == {L_URL: "unreachable", P_URL: "not_asked", Q_URL: "not_asked"}
    assert not [a for a in asked if a[1] == "consistency_proof"]
    assert AwaitedProof.select().count() == 0
    assert alerts() == []


def test_a_log_in_touch_that_withholds_the_proof_is_named(network):
    """Named only after an hour and MIN_ASKS asks in a row that it left unanswered while it
    answered our other question; once it proves the two one history, nothing is owed."""
    from core.auditlog import gossip
    from models import AwaitedProof

    log, answers, _ = network
    answers[(L_URL, "consistency_proof")] = ("refusal", "not_yet")  # it answers, never proves
    answers[(P_URL, "witnessed_checkpoints")] = {"checkpoints": [log.note(30)]}
    for _ in range(gossip.MIN_ASKS):
        assert compare_now()[P_URL] == "unanswered"
    owed = AwaitedProof.get()
    assert owed.asks == gossip.MIN_ASKS
    assert alerts() == []  # asked often enough, but not for an hour yet
    AwaitedProof.update(since=owed.since - gossip.PROOF_PATIENCE).execute()
    assert compare_now()[P_URL] == "proof_withheld"
    assert alerts() == [(ALERT_WITNESS, L_URL, "proof_withheld")]
    answers[(L_URL, "consistency_proof")] = {"proof": log.proof(20, 30)}
    assert compare_now()[P_URL] == "agrees"
    assert AwaitedProof.select().count() == 0


def test_an_hour_with_a_pause_in_it_is_not_an_hour_of_withholding(network):
    """One unanswered ask long ago and one now are not an hour of asks: after a pause longer
    than RESTART_AFTER (the log down, our clock jumping) the count starts afresh."""
    from core.auditlog import gossip
    from models import AwaitedProof

    log, answers, _ = network
    answers[(L_URL, "consistency_proof")] = ("refusal", "not_yet")
    answers[(P_URL, "witnessed_checkpoints")] = {"checkpoints": [log.note(30)]}
    for _ in range(gossip.MIN_ASKS):
        compare_now()
    owed = AwaitedProof.get()
    long_ago = gossip.PROOF_PATIENCE + gossip.RESTART_AFTER
    AwaitedProof.update(
        since=owed.since - long_ago, last_asked_at=owed.last_asked_at - long_ago
    ).execute()
    assert compare_now()[P_URL] == "unanswered"
    assert AwaitedProof.get().asks == 1
    assert alerts() == []


def test_a_forged_checkpoint_beyond_our_tree_is_found(network):
    from core.auditlog.log import origin
    from core.network import keys

    _log, answers, _ = network
    ahead = Checkpoint(origin(), 10**6, b"\x01" * 32).text()
    answers[(P_URL, "witnessed_checkpoints")] = {
        "checkpoints": [sign(ahead, origin(), keys.signing_key().key.private_key)]
    }
    assert compare_now()[P_URL] == "forged_checkpoint"
    assert alerts() == [(ALERT_LOG, P_URL, "forged_checkpoint")]


def test_an_answer_too_long_or_with_two_notes_of_one_log_is_a_bad_answer(network):
    from core.auditlog import gossip

    log, answers, _ = network
    answers[(P_URL, "witnessed_checkpoints")] = {"checkpoints": [log.note(20)] * 2}
    answers[(Q_URL, "witnessed_checkpoints")] = {
        "checkpoints": [log.note(20)] * (gossip.MAX_NOTES + 1)
    }
    got = compare_now()
    assert (got[P_URL], got[Q_URL]) == ("bad_answer", "bad_answer")
    # A malformed note spoils only itself: a split view beside it (another root at the size
    # cosigned here, found with no proof asked) is still found.
    answers[(P_URL, "witnessed_checkpoints")] = {
        "checkpoints": [
            "not a note",
            sign(Checkpoint(log.origin, 20, b"\x02" * 32).text(), log.origin, log.key),
        ]
    }
    assert compare_now()[P_URL] == "split_view"


def test_a_witness_own_log_and_unknown_logs_are_not_compared(network):
    log, answers, asked = network
    p_log = FakeLog(P_URL, 5)
    WitnessedLog.create(  # what we cosigned of P's own log: P vouches for it to nobody
        peer_url=P_URL, origin=p_log.origin, tree_size=3, root_hash="00" * 32, note="n"
    )
    stranger = FakeLog("https://jg.nobody.example", 5)
    answers[(P_URL, "witnessed_checkpoints")] = {"checkpoints": [p_log.note(5), stranger.note(5)]}
    assert compare_now()[P_URL] == "agrees"
    assert not [a for a in asked if a[1] == "consistency_proof"]


def test_a_round_asks_at_most_its_share_of_proofs(network, monkeypatch):
    """At most MAX_PROOFS a round; the witnesses come in another order each round, so that the
    pairs left out are asked in a later one."""
    from core.auditlog import gossip

    log, answers, asked = network
    monkeypatch.setattr(gossip, "MAX_PROOFS", 1)
    answers[(P_URL, "witnessed_checkpoints")] = {"checkpoints": [log.note(30)]}
    answers[(Q_URL, "witnessed_checkpoints")] = {"checkpoints": [log.note(35)]}
    answers[(L_URL, "consistency_proof")] = ("refusal", "not_yet")
    first_asked = set()
    for _ in range(30):
        got = compare_now()
        assert got[L_URL] == "agrees"
        assert sorted([got[P_URL], got[Q_URL]]) == ["not_asked", "unanswered"]
        first_asked.add(P_URL if got[P_URL] == "unanswered" else Q_URL)
    assert len([a for a in asked if a[1] == "consistency_proof"]) == 30
    assert first_asked == {P_URL, Q_URL}  # 2^-29 that one were always first


def test_an_older_peer_that_does_not_know_the_question_is_left_alone_for_a_day(network):
    log, answers, asked = network
    answers[(P_URL, "witnessed_checkpoints")] = ("refusal", "unknown_type")
    assert compare_now()[P_URL] == "unknown_type"
    before = len(asked)
    assert compare_now()[P_URL] == "unknown_type"
    assert [a for a in asked[before:] if a[0] == P_URL] == []


def test_a_note_signed_by_a_key_now_expired_is_unverifiable_not_agreeing(network):
    import json

    log, answers, _ = network
    now = int(time.time())
    Peer.update(document=json.dumps({"keys": [log.jwk(nbf=now - 7200, exp=now - 60)]})).where(
        Peer.base_url == L_URL
    ).execute()
    answers[(P_URL, "witnessed_checkpoints")] = {"checkpoints": [log.note(30)]}
    assert compare_now()[P_URL] == "unverifiable"


def test_a_log_cannot_withhold_a_proof_by_claiming_not_to_know_the_question(network):
    """A log that answered the list question once takes part from then on: saying later that
    it knows neither question, while its messages reach us, counts as not answering. A log
    that never answered (an older version) owes nothing, and is left alone for a day."""
    from models import AwaitedProof, utcnow

    log, answers, asked = network
    answers[(P_URL, "witnessed_checkpoints")] = {"checkpoints": [log.note(30)]}
    answers[(L_URL, "witnessed_checkpoints")] = ("refusal", "unknown_type")
    assert compare_now()[P_URL] == "not_asked"  # an older version, as far as we know
    before = len(asked)
    assert compare_now()[L_URL] == "unknown_type"
    assert not [a for a in asked[before:] if a[0] == L_URL]  # not asked again today
    assert AwaitedProof.select().count() == 0

    from core.auditlog import gossip

    gossip._not_speaking.clear()
    answers[(L_URL, "witnessed_checkpoints")] = {"checkpoints": []}  # it answers once...
    answers[(L_URL, "consistency_proof")] = ("refusal", "unknown_type")  # ...not this though
    assert compare_now()[P_URL] == "unanswered"
    assert Peer.get(Peer.base_url == L_URL).compares_notes_at is not None
    answers[(L_URL, "witnessed_checkpoints")] = ("refusal", "unknown_type")  # ...then neither
    long_ago = utcnow() - gossip.RESTART_AFTER * 2
    Peer.update(last_contact_at=long_ago).where(Peer.base_url == L_URL).execute()
    assert compare_now()[P_URL] == "not_asked"  # not heard from lately: it may be down
    Peer.update(last_contact_at=utcnow()).where(Peer.base_url == L_URL).execute()
    assert compare_now()[P_URL] == "unanswered"  # its messages reach us: it is not answering
    assert AwaitedProof.get().asks == 2


def test_a_stop_ends_the_round_between_requests(network):
    """SIGTERM (the loop's stop) is heard between requests: nothing more is asked."""
    log, answers, asked = network
    answers[(P_URL, "witnessed_checkpoints")] = {"checkpoints": [log.note(30)]}
    from core.auditlog.gossip import compare_round

    assert compare_round(stop=lambda: True) == {}
    assert asked == []
    # Stopped once every list question was asked: no proof is asked.
    assert len(compare_round(stop=lambda: len(asked) >= 3)) == 3
    assert [a for a in asked if a[1] == "consistency_proof"] == []


def test_a_proof_no_longer_owed_is_forgotten_and_counting_starts_afresh(network):
    """A witness that no longer holds the checkpoint (or a peer removed) owes no proof: its old
    `since` must not make a later, unrelated gap look an hour old at once."""
    from models import AwaitedProof

    log, answers, _ = network
    answers[(L_URL, "consistency_proof")] = ("refusal", "not_yet")
    answers[(P_URL, "witnessed_checkpoints")] = {"checkpoints": [log.note(30)]}
    answers[(Q_URL, "witnessed_checkpoints")] = {"checkpoints": [log.note(35)]}
    compare_now()
    assert {r.witness_url for r in AwaitedProof.select()} == {P_URL, Q_URL}
    answers[(P_URL, "witnessed_checkpoints")] = {"checkpoints": []}  # P holds none of L now
    Peer.delete().where(Peer.base_url == Q_URL).execute()  # Q is no peer any more
    compare_now()
    assert AwaitedProof.select().count() == 0


def test_the_witness_command_prints_each_peers_answer_when_it_changes(runner, monkeypatch):
    """As a service, the command runs for days: the journal shows each change of a peer's
    answer as it happens (not one line per peer every ten seconds, nor nothing until it stops)."""
    from core.auditlog import witness

    rounds = [
        {"https://a": "cosigned", "https://b": "unreachable"},
        {"https://a": "cosigned", "https://b": "unreachable"},
        {"https://a": "inconsistent_checkpoint", "https://b": "unreachable"},
        {"https://a": "inconsistent_checkpoint", "https://b": "cosigned"},
    ]

    def run_witness(report, **_options):
        for outcomes in rounds:
            report(outcomes)
        return rounds[-1]

    monkeypatch.setattr(witness, "run_witness", run_witness)
    result = runner.invoke(args=["audit", "witness"])
    assert result.output.splitlines() == [
        "https://a: cosigned",
        "https://b: unreachable",
        "https://a: inconsistent_checkpoint",
        "https://b: cosigned",
    ]
    monkeypatch.setattr(witness, "run_witness", lambda report, **_options: report({}) or {})
    assert runner.invoke(args=["audit", "witness"]).output == "no active peer to witness the log\n"
