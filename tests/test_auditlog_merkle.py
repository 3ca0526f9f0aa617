"""The RFC 9162 tree of rules.merkle against the reference test vectors.

Source of the vectors: the transparency-dev/merkle Go module (the reference implementation
behind Trillian, Tessera and the CT logs): testonly/constants.go (LeafInputs, NodeHashes,
RootHashes) and proof/verify_test.go (inclusionProofs, consistencyProofs; leaf numbers
there start at 1). The same data is in certificate-transparency-go's merkle tests.
"""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules import merkle

LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243",
          "5051525354555657", "606162636465666768696a6b6c6d6e6f")]  # fmt: off
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
NODES = {  # NodeHashes(): (level, index) -> hash
    (0, 0): "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    (0, 1): "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    (0, 2): "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    (0, 3): "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    (0, 4): "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    (0, 5): "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    (0, 6): "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    (0, 7): "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    (1, 0): "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    (1, 1): "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    (1, 2): "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    (1, 3): "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    (2, 0): "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    (2, 1): "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    (3, 0): "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
INCLUSION = [  # (leaf number from 1, tree size, path)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (2, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: off
CONSISTENCY = [  # (size1, size2, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: off


def h(values):
    return [bytes.fromhex(v) for v in values]


def tree(n: int) -> dict:
    """The stored nodes of the first n reference leaves, appended in batches of 3."""
    nodes, size = {}, 0
    while size < n:
        batch = [merkle.leaf_hash(x) for x in LEAVES[size : min(n, size + 3)]]
        nodes.update(merkle.append_nodes(size, batch, nodes))
        size += len(batch)
    return nodes


def test_empty_tree_root():
    assert merkle.EMPTY_ROOT.hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_every_complete_subtree_and_every_root_matches_the_reference():
    nodes = tree(8)
    assert {k: v.hex() for k, v in nodes.items()} == NODES
    for size in range(1, 9):
        assert merkle.range_hash(0, size, tree(size)).hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("number", "size", "path"), INCLUSION)
def test_inclusion_proofs_match_and_verify(number, size, path):
    nodes = tree(8)
    ranges = merkle.inclusion_ranges(number - 1, size)
    assert [merkle.range_hash(a, b, nodes) for a, b in ranges] == h(path)
    leaf = merkle.leaf_hash(LEAVES[number - 1])
    merkle.verify_inclusion(number - 1, size, leaf, h(path), bytes.fromhex(ROOTS[size - 1]))
    for wrong_index in {number, (number - 1) ^ 2}:
        if wrong_index < size:
            with pytest.raises(merkle.ProofError):
                merkle.verify_inclusion(
                    wrong_index, size, leaf, h(path), bytes.fromhex(ROOTS[size - 1])
                )
    if path:
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(
                number - 1, size, leaf, h(path)[:-1], bytes.fromhex(ROOTS[size - 1])
            )


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proofs_match_and_verify(old, new, proof):
    nodes = tree(8)
    ranges = merkle.consistency_ranges(old, new)
    assert [merkle.range_hash(a, b, nodes) for a, b in ranges] == h(proof)
    roots = h(ROOTS)
    merkle.verify_consistency(old, new, roots[old - 1], roots[new - 1], h(proof))
    if proof:
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(old, new, roots[new - 1], roots[old - 1], h(proof))
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(old, new, roots[old - 1], roots[new - 1], h(proof)[:-1])


@given(st.integers(1, 70), st.data())
def test_proofs_of_any_tree_verify(size, data):
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    nodes = merkle.append_nodes(0, leaves, {})
    root = merkle.range_hash(0, size, nodes)
    index = data.draw(st.integers(0, size - 1))
    path = [merkle.range_hash(a, b, nodes) for a, b in merkle.inclusion_ranges(index, size)]
    merkle.verify_inclusion(index, size, leaves[index], path, root)
    old = data.draw(st.integers(1, size))
    old_root = merkle.range_hash(0, old, nodes)
    proof = [merkle.range_hash(a, b, nodes) for a, b in merkle.consistency_ranges(old, size)]
    merkle.verify_consistency(old, size, old_root, root, proof)


def test_a_proof_at_ten_million_entries_is_at_most_24_hashes():
    """At most 24 hashes at 10 million entries, from the proof-path length (no need to build
    the tree)."""
    size = 10_000_000
    worst = max(
        merkle.inclusion_proof_length(i, size)
        for i in (0, size // 2, size - 1, 8_388_607, 8_388_608)
    )
    assert worst <= math.ceil(math.log2(size)) == 24
    assert len(merkle.keys_for(merkle.inclusion_ranges(size - 1, size))) <= 2 * 24
