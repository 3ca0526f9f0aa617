"""`flask audit verify`: the whole log recomputed from its entries and held to its checkpoints.

The entries are read in sequence order and their tree rebuilt in memory (a compact range of
at most log2(n) hashes). Each entry's leaf hash must equal the leaf kept in the tree, every
checkpoint's signature must verify with the deployment's keys, its root must be the root of
the entries up to its size, and the kept tree must prove it consistent with the next one.
Someone who changes an entry and recomputes every later hash and row, or deletes an entry and
renumbers the rest, cannot sign the new roots without the key: the first checkpoint after
the change no longer matches, and the change is named between it and the one before.
"""

from dataclasses import dataclass

from models import AuditCheckpoint, AuditEvent, AuditTreeNode
from rules import merkle

from .log import consistency_proof, open_checkpoint
from .note import NoteError

BATCH = 5000
GENESIS = "0" * 64


@dataclass
class Finding:
    """What verify found: how much checked out, and the first problem (or none)."""

    entries: int = 0
    checkpoints: int = 0
    waiting: int = 0
    problem: str = ""
    entry: AuditEvent | None = None  # the first entry that differs, when it can be named

    @property
    def intact(self) -> bool:
        """True when nothing differs."""
        return not self.problem


class _Range:
    """The tree's right edge as it grows: (size, hash) of its complete subtrees."""

    def __init__(self):
        self.stack: list[tuple[int, bytes]] = []

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash, merging equal-sized subtrees (as the RFC's tree does)."""
        size, value = 1, leaf
        while self.stack and self.stack[-1][0] == size:
            left = self.stack.pop()[1]
            size, value = size * 2, merkle.node_hash(left, value)
        self.stack.append((size, value))

    def root(self) -> bytes:
        """MTH of every leaf appended so far."""
        if not self.stack:
            return merkle.EMPTY_ROOT
        value = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            value = merkle.node_hash(left, value)
        return value


def _stored_leaves(first: int, last: int) -> dict:
    """{index: hash} of the kept leaf hashes for entries first..last."""
    query = AuditTreeNode.select().where(
        (AuditTreeNode.level == 0) & AuditTreeNode.idx.between(first - 1, last - 1)
    )
    return {n.idx: bytes.fromhex(n.hash) for n in query}


def verify_log() -> Finding:
    """Check every entry, checkpoint and consistency; stop at the first problem."""
    found = Finding(waiting=AuditEvent.select().where(AuditEvent.seq.is_null()).count())
    checkpoints = list(AuditCheckpoint.select().order_by(AuditCheckpoint.tree_size))
    pending = iter(checkpoints)
    target = next(pending, None)
    edge, prev_hash, last_seq = _Range(), GENESIS, 0
    previous = None  # (size, root) of the last checkpoint that checked out

    def fail(why: str, entry=None) -> Finding:
        found.problem, found.entry = why, entry
        return found

    while True:
        rows = list(AuditEvent.integrated().where(AuditEvent.seq > last_seq).limit(BATCH))
        if not rows:
            break
        stored = _stored_leaves(rows[0].seq, rows[-1].seq)
        for row in rows:
            if row.seq != last_seq + 1:
                return fail(f"sequence gap: expected {last_seq + 1}, found {row.seq}", row)
            leaf = merkle.leaf_hash(row.leaf())
            if stored.get(row.seq - 1) != leaf:
                return fail("the entry does not match its leaf in the tree", row)
            if row.hash is not None:  # the retired hash chain of rows before migration 0011
                if row.prev_hash != prev_hash or row.legacy_hash(prev_hash) != row.hash:
                    return fail("the entry breaks the retired hash chain", row)
                prev_hash = row.hash
            edge.append(leaf)
            last_seq, found.entries = row.seq, found.entries + 1
            while target is not None and target.tree_size == last_seq:
                why = _check_checkpoint(target, edge.root(), previous)
                if why:
                    # Entries up to the checkpoint before are vouched for by its root; when
                    # the failing one adds a single entry, that entry is the one that differs.
                    found.entries = previous[0] if previous else 0
                    return fail(why, row if found.entries + 1 == last_seq else None)
                previous = (target.tree_size, bytes.fromhex(target.root_hash))
                found.checkpoints += 1
                target = next(pending, None)
    if target is not None:
        return fail(
            f"the checkpoint of {target.tree_size} entries covers entries that are missing "
            f"(the log has {last_seq}): entries after seq {last_seq} were removed"
        )
    if previous is None and last_seq or previous is not None and previous[0] != last_seq:
        after = previous[0] if previous else 0
        return fail(f"entries after seq {after} are numbered but no signed checkpoint covers them")
    return found


def _check_checkpoint(row: AuditCheckpoint, root: bytes, previous) -> str:
    """Why this checkpoint fails (its signature, its root, its consistency), or ''."""
    try:
        open_checkpoint(row)
    except NoteError as exc:
        return f"the checkpoint of {row.tree_size} entries: {exc}"
    after = previous[0] if previous else 0
    if bytes.fromhex(row.root_hash) != root:
        return (
            f"the entries do not make the signed root of the checkpoint of {row.tree_size} "
            f"entries: an entry among seq {after + 1}..{row.tree_size} was changed, removed "
            "or inserted (the checkpoint before it checks out)"
        )
    if previous is not None:
        try:
            merkle.verify_consistency(
                previous[0],
                row.tree_size,
                previous[1],
                bytes.fromhex(row.root_hash),
                consistency_proof(previous[0], row.tree_size),
            )
        except (merkle.ProofError, KeyError) as exc:
            return (
                f"the kept tree does not prove checkpoint {after} consistent with "
                f"{row.tree_size}: {exc}"
            )
    return ""
