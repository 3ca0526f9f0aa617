"""Integrating audit entries into the Merkle tree, signing checkpoints, and their proofs.

Writers only insert unnumbered entries (models.AuditEvent.append). `integrate()` runs one at
a time across every node of a deployment (PostgreSQL: a transaction-level advisory lock;
SQLite: the write lock of its IMMEDIATE transaction), so numbering never forks: it takes the
committed entries that have no number yet in id order, gives them the next sequence numbers,
stores the tree nodes they complete and a checkpoint signed with the deployment's key, all in
one transaction (their leaves hashed just before it, so that it stays short). A crash
(kill -9) rolls the whole batch back, and the next run numbers the same entries: none is
lost, none numbered twice.
"""

import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from peewee import fn

from core.network import keys
from models import AuditCheckpoint, AuditEvent, AuditTreeNode, db, is_postgres, utcnow, write_tx
from rules import merkle

from .note import (
    Checkpoint,
    NoteError,
    add_signature,
    open_note,
    raw_public,
    sign,
    verifier_key,
)

# pg_advisory_xact_lock's key for the integrator ("jgaudit" in ASCII).
ADVISORY_KEY = 0x6A6761756469
BATCH = 5000


def origin() -> str:
    """The log's name in checkpoints and its key name: the deployment's address without the
    scheme, then /audit (C2SP recommends a schema-less URL)."""
    base = current_app.config["PUBLIC_BASE_URL"]
    return base.split("://", 1)[-1].rstrip("/") + "/audit"


def verifier_keys(name: str | None = None) -> list[str]:
    """The verifier keys (C2SP text form) of every key this deployment has signed with, under
    `name` (the origin by default); expired keys included, as old checkpoints need them."""
    name = name or origin()
    return [verifier_key(name, raw_public(k.key.public_key)) for k in keys.all_keys(expired=True)]


def _take_integrator_lock() -> None:
    """One integrator at a time across nodes: the write transaction already serialises on
    SQLite; on PostgreSQL an advisory lock held until commit or rollback."""
    if is_postgres():
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_KEY,))


def tree_size() -> int:
    """How many entries the tree holds: its last leaf's index + 1 (after migration 0011 the
    tree can be ahead of the latest checkpoint, until the integrator signs one)."""
    last = AuditTreeNode.select(fn.MAX(AuditTreeNode.idx)).where(AuditTreeNode.level == 0).scalar()
    return 0 if last is None else last + 1


def integrate(batch: int = BATCH) -> AuditCheckpoint | None:
    """Number up to `batch` waiting entries, extend the tree and sign a checkpoint.

    Returns the new checkpoint (or the newest signed again after a key rotation), or None
    when there was nothing to do. The caller holds a connection (db.connection_context()).

    The entries' leaves are hashed before the write transaction (most of the work, and on
    SQLite every write waits while the transaction holds the lock): an entry never changes
    once written (its number aside, which the leaf does not hold), so its leaf hash read a
    moment earlier is its leaf hash. Which entries are numbered, and how, is still decided
    inside the transaction, from the waiting entries it reads itself; one committed in
    between is hashed there, one another integrator took meanwhile is left alone.
    """
    leaves = _leaf_hashes(AuditEvent.select().where(AuditEvent.seq.is_null()), batch)
    key = keys.signing_key().key.private_key  # the key file read before the write lock
    with write_tx():
        _take_integrator_lock()
        size = tree_size()
        waiting = [
            event_id
            for (event_id,) in AuditEvent.select(AuditEvent.id)
            .where(AuditEvent.seq.is_null())
            .order_by(AuditEvent.id)
            .limit(batch)
            .tuples()
        ]
        if not waiting:
            latest = AuditCheckpoint.latest()
            if size and (latest is None or latest.tree_size < size):
                return _checkpoint(size, root_at(size), key)
            return _signed_now(latest, key)
        missing = [event_id for event_id in waiting if event_id not in leaves]
        if missing:
            leaves.update(_leaf_hashes(AuditEvent.select().where(AuditEvent.id.in_(missing))))
        _number([(event_id, size + offset + 1) for offset, event_id in enumerate(waiting)])
        known = AuditTreeNode.fetch(merkle.frontier_keys(size))
        new = merkle.append_nodes(size, [leaves[event_id] for event_id in waiting], known)
        _store_nodes([(level, idx, digest.hex()) for (level, idx), digest in new.items()])
        total = size + len(waiting)
        root = merkle.range_hash(0, total, {**known, **new})
        return _checkpoint(total, root, key)


def root_at(size: int) -> bytes:
    """The root of the log's first `size` entries, from the kept tree (its right edge)."""
    if size == 0:
        return merkle.EMPTY_ROOT
    return merkle.range_hash(0, size, AuditTreeNode.fetch(merkle.frontier_keys(size)))


def _leaf_hashes(query, limit: int | None = None) -> dict[int, bytes]:
    """{entry id: its Merkle leaf hash} of the entries `query` selects, in id order (the
    first `limit` of them)."""
    query = query.order_by(AuditEvent.id)
    if limit is not None:
        query = query.limit(limit)
    return {event.id: merkle.leaf_hash(event.leaf()) for event in query}


def _number(pairs: list[tuple[int, int]]) -> None:
    """Give each (id, seq) row its number, a few hundred rows per statement (one round trip
    each, not one per row). The append-only trigger lets a number be given once, to an
    unnumbered row, and nothing else change (migration 0011)."""
    mark = "%s" if is_postgres() else "?"
    for start in range(0, len(pairs), 500):
        chunk = pairs[start : start + 500]
        values = ", ".join([f"({mark}, {mark})"] * len(chunk))
        names = "v(id, seq)" if is_postgres() else "v"
        id_col, seq_col = ("v.id", "v.seq") if is_postgres() else ("v.column1", "v.column2")
        # Only placeholders and fixed names go into the text; the values are parameters.
        update = f"UPDATE audit_event SET seq = {seq_col} FROM (VALUES {values}) AS {names}"  # noqa: S608
        sql = f"{update} WHERE audit_event.id = {id_col} AND audit_event.seq IS NULL"
        params = [value for pair in chunk for value in pair]
        if db.execute_sql(sql, params).rowcount != len(chunk):
            raise RuntimeError("an audit entry was numbered by someone else: integration stopped")


def _store_nodes(rows: list[tuple[int, int, str]]) -> None:
    """Insert the new tree nodes (level, idx, hash), a few hundred per statement, with SQL
    text written as _number writes it: peewee building the text of a thousand rows took most
    of the write transaction's time."""
    mark = "%s" if is_postgres() else "?"
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        values = ", ".join([f"({mark}, {mark}, {mark})"] * len(chunk))
        # Only placeholders and fixed names go into the text; the values are parameters.
        sql = f"INSERT INTO audit_tree_node (level, idx, hash) VALUES {values}"  # noqa: S608
        db.execute_sql(sql, [value for row in chunk for value in row])


def _checkpoint(size: int, root: bytes, key: Ed25519PrivateKey) -> AuditCheckpoint:
    """Sign and store the checkpoint of a tree of `size` entries with this root."""
    name = origin()
    text = Checkpoint(name, size, root).text()
    note = sign(text, name, key)
    return AuditCheckpoint.create(tree_size=size, root_hash=root.hex(), at=utcnow(), note=note)


def _signed_now(latest: AuditCheckpoint | None, key: Ed25519PrivateKey) -> AuditCheckpoint | None:
    """The newest checkpoint signed again by the key that signs now, after a rotation (None
    when it is signed by that key already, or there is none).

    A quiet log's newest checkpoint would otherwise carry only the old key's signature, and
    once that key expires no witness takes it (core.auditlog.witness accepts keys valid now)
    until an entry comes. The text is the same, so the cosignatures it has stay good; its
    witnesses are asked again all the same (signed_again_at), so that the note each keeps, and
    shows the others when they compare notes, carries the key that stays valid."""
    if latest is None:
        return None
    note = add_signature(latest.note, origin(), key)
    if note == latest.note:
        return None
    # The integrator's lock is held: nobody else changes the row meanwhile.
    now = utcnow()
    AuditCheckpoint.update(note=note, signed_again_at=now).where(
        AuditCheckpoint.id == latest.id
    ).execute()
    latest.note, latest.signed_again_at = note, now
    return latest


def run_integrator(
    interval: float = 0.5, stop=lambda: False, once: bool = False, batch: int = BATCH
) -> int:
    """Integrate on a cadence until `stop()` says so; returns the tree size reached (0:
    nothing integrated). The caller holds a connection.

    One batch every `interval` seconds takes whatever waits, with one checkpoint (Tessera's
    and Trillian's sequencers work so): running again as soon as a batch ended made, under a
    steady stream of writes, a string of batches of one to three entries, each with its own
    write transaction (on SQLite the one write lock, which every audited write waits for) and
    its own signed checkpoint. A full batch (a backlog) goes on at once. With `once`: batch
    after batch until nothing waits.
    """
    total, size = 0, tree_size()
    while True:
        started = time.monotonic()
        checkpoint = integrate(batch)
        backlog = False
        if checkpoint is not None:
            backlog = checkpoint.tree_size - size >= batch
            total = size = checkpoint.tree_size
        if stop() or once and checkpoint is None:
            return total
        if not once and not backlog:
            time.sleep(max(0.0, interval - (time.monotonic() - started)))


def inclusion_proof(event: AuditEvent, checkpoint: AuditCheckpoint) -> list[bytes]:
    """The audit path of an integrated entry in the tree of `checkpoint` (O(log n) nodes)."""
    ranges = merkle.inclusion_ranges(event.seq - 1, checkpoint.tree_size)
    nodes = AuditTreeNode.fetch(merkle.keys_for(ranges))
    return [merkle.range_hash(start, end, nodes) for start, end in ranges]


def consistency_proof(old: int, new: int) -> list[bytes]:
    """The RFC 9162 consistency proof between the trees of `old` and `new` entries."""
    ranges = merkle.consistency_ranges(old, new)
    nodes = AuditTreeNode.fetch(merkle.keys_for(ranges))
    return [merkle.range_hash(start, end, nodes) for start, end in ranges]


class NotYetIntegrated(LookupError):
    """The entry exists but no checkpoint covers it yet (the integrator runs every second)."""


def open_checkpoint(row: AuditCheckpoint) -> Checkpoint:
    """The checkpoint of a stored row, its signature checked against this deployment's keys;
    NoteError when it does not verify or does not say what the row says."""
    text = row.note.rpartition("\n\n")[0] + "\n"
    body = Checkpoint.parse(text)
    open_note(row.note, verifier_keys(body.origin))
    if body.size != row.tree_size or body.root.hex() != row.root_hash:
        raise NoteError("the signed checkpoint differs from the row that stores it")
    return body
