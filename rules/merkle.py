"""The Merkle tree of RFC 9162 (Certificate Transparency 2.0), section 2.1: hashes and proofs.

Pure arithmetic, no storage: the audit log (models.audit, core.auditlog) keeps every complete
subtree's hash keyed by (level, index), where the node (level, i) covers leaves
[i * 2^level, (i + 1) * 2^level). Any range the RFC's recursion reaches is a run of at most
log2(n) such complete subtrees (`subtree_keys`), so a root, an inclusion proof or a
consistency proof needs O(log n) stored nodes whatever the size of the log: the functions
here say which keys a computation needs, the caller fetches them in one query and hands them
back as a dict.

The same verification code, copied without a database, is in docs/verify_receipt.py.
"""

import hashlib

EMPTY_ROOT = hashlib.sha256(b"").digest()

Key = tuple[int, int]  # (level, index) of a complete subtree


def leaf_hash(leaf: bytes) -> bytes:
    """MTH of one entry: SHA-256(0x00 || leaf), domain-separated from interior nodes."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """An interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The RFC's k: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_keys(start: int, end: int) -> list[Key]:
    """The complete subtrees, largest first, whose hashes make MTH(D[start:end]).

    Valid for every range the RFC's recursion produces (its start is a multiple of the
    power of two at or above its length), which is every range asked for here.
    """
    keys = []
    while start < end:
        n = end - start
        size = n if n & (n - 1) == 0 else split(n)
        keys.append((size.bit_length() - 1, start // size))
        start += size
    return keys


def range_hash(start: int, end: int, nodes: dict) -> bytes:
    """MTH(D[start:end]) from the stored complete subtrees in `nodes` ({key: hash})."""
    if start == end:
        return EMPTY_ROOT
    keys = subtree_keys(start, end)
    value = nodes[keys[-1]]
    for key in reversed(keys[:-1]):
        value = node_hash(nodes[key], value)
    return value


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """PATH(m, D[n]) (RFC 9162 2.1.3.1) as leaf ranges, nearest the leaf first."""
    ranges, start, end = [], 0, size
    while end - start > 1:
        k = split(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return list(reversed(ranges))


def consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """PROOF(m, D[n]) (RFC 9162 2.1.4.1) as leaf ranges, in the RFC's order."""
    if old == 0 or old == new:
        return []
    ranges, start, end, m, whole = [], 0, new, old, True
    while True:
        n = end - start
        if m == n:
            if not whole:
                ranges.append((start, end))
            break
        k = split(n)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, whole = start + k, m - k, False
    return list(reversed(ranges))


def keys_for(ranges) -> set[Key]:
    """Every stored node the hashes of these ranges need (for one query)."""
    return {key for start, end in ranges for key in subtree_keys(start, end)}


def frontier_keys(size: int) -> list[Key]:
    """The nodes on the right edge of a tree of `size` leaves: what appending needs."""
    return subtree_keys(0, size)


def append_nodes(size: int, leaf_hashes: list[bytes], nodes: dict) -> dict:
    """The complete subtrees that appending these leaf hashes to a tree of `size` leaves
    completes, leaves included ({key: hash}); `nodes` holds at least frontier_keys(size)."""
    new = {(0, size + i): h for i, h in enumerate(leaf_hashes)}
    total, level = size + len(leaf_hashes), 0
    while total >> (level + 1):
        for i in range(size >> (level + 1), total >> (level + 1)):
            left, right = (level, 2 * i), (level, 2 * i + 1)
            new[(level + 1, i)] = node_hash(new.get(left) or nodes[left], new[right])
        level += 1
    return new


def inclusion_proof_length(index: int, size: int) -> int:
    """How many hashes an inclusion proof of leaf `index` in a tree of `size` leaves holds."""
    return len(inclusion_ranges(index, size))


class ProofError(ValueError):
    """A proof that does not lead to the root it claims."""


def root_from_inclusion(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes:
    """The root an inclusion proof leads to (RFC 9162 2.1.3.2); ProofError when malformed."""
    if index >= size:
        raise ProofError("leaf index beyond the tree")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofError("proof longer than the tree is high")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("proof shorter than the tree is high")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> None:
    """Raise ProofError unless `path` proves leaf hash `leaf` at `index` under `root`."""
    if root_from_inclusion(index, size, leaf, path) != root:
        raise ProofError("the proof leads to another root")


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof) -> None:
    """Raise ProofError unless `proof` shows the tree of `old` leaves is a prefix of the tree
    of `new` leaves (RFC 9162 2.1.4.2)."""
    if old > new:
        raise ProofError("the older tree is larger")
    if old == new:
        if proof or old_root != new_root:
            raise ProofError("same size, different roots or a non-empty proof")
        return
    if old == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("empty proof")
    proof = list(proof)
    if old & (old - 1) == 0:
        proof.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            raise ProofError("proof longer than the tree is high")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != old_root or sr != new_root:
        raise ProofError("the proof does not join the two roots")
