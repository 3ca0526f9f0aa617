"""Cosignatures (C2SP tlog-cosignature v1) and the witness's consistency rule, without a
network: what a witness signs, how the log checks it, and that a forked tree never proves
consistent with the tree a witness cosigned (the RFC 9162 vectors are in
test_auditlog_merkle.py)."""

import base64
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from core.auditlog.cosign import cosign, cosigner_name, key_id, message, verify_cosignature
from core.auditlog.note import NoteError, raw_public
from core.auditlog.note import key_id as log_key_id
from rules import merkle

TEXT = "jg.qingdao.example/audit\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
NAME = "jg.jinan.example/witness"


def test_the_cosignature_line_is_the_spec_s_timestamped_signature():
    key = Ed25519PrivateKey.generate()
    line = cosign(TEXT, NAME, key, 1679315147)
    dash, name, blob = line.split(" ")
    raw = base64.b64decode(blob)
    assert (dash, name, len(raw)) == ("\u2014", NAME, 4 + 8 + 64)
    public = raw_public(key)
    assert raw[:4] == hashlib.sha256(NAME.encode() + b"\n\x04" + public).digest()[:4]
    assert struct.unpack(">Q", raw[4:12])[0] == 1679315147
    signed = b"cosignature/v1\ntime 1679315147\n" + TEXT.encode()
    assert message(TEXT, 1679315147) == signed
    key.public_key().verify(raw[12:], signed)  # raises when it is not that message's signature
    assert verify_cosignature(line, TEXT, NAME, [public]) == 1679315147


def test_the_cosigner_key_id_differs_from_the_log_key_id_of_the_same_key():
    public = raw_public(Ed25519PrivateKey.generate())
    assert key_id(NAME, public) != log_key_id(NAME, public)
    assert cosigner_name("https://jg.jinan.example/") == NAME


@pytest.mark.parametrize(
    "change",
    [
        lambda line, text: (line, text.replace("20852163", "20852164")),  # another checkpoint
        lambda line, text: (line.replace(NAME, "jg.jinan.example/w2"), text),  # another name
        lambda line, text: (line[:-6] + "AAAA==", text),  # a damaged signature
        lambda line, text: (line.replace("\u2014", "-"), text),  # not a signature line
    ],
)
def test_a_cosignature_that_does_not_match_is_refused(change):
    key = Ed25519PrivateKey.generate()
    line, text = change(cosign(TEXT, NAME, key, 1700000000), TEXT)
    with pytest.raises(NoteError):
        verify_cosignature(line, text, NAME, [raw_public(key)])


def test_a_cosignature_by_another_key_is_refused():
    line = cosign(TEXT, NAME, Ed25519PrivateKey.generate(), 1700000000)
    with pytest.raises(NoteError):
        verify_cosignature(line, TEXT, NAME, [raw_public(Ed25519PrivateKey.generate())])


def tree(leaves: list[bytes]) -> dict:
    """The kept nodes of a tree of these leaf inputs."""
    return merkle.append_nodes(0, [merkle.leaf_hash(leaf) for leaf in leaves], {})


@given(st.integers(1, 40), st.integers(0, 40), st.data())
def test_a_rewritten_entry_never_proves_consistent_with_the_cosigned_tree(old, more, data):
    leaves = [n.to_bytes(4, "big") for n in range(old + more)]
    honest = tree(leaves)
    cosigned_root = merkle.range_hash(0, old, honest)
    changed = data.draw(st.integers(0, old - 1))
    forged_leaves = [*leaves[:changed], b"rewritten", *leaves[changed + 1 :]]
    forged = tree(forged_leaves)
    new = old + more
    proof = [merkle.range_hash(a, b, forged) for a, b in merkle.consistency_ranges(old, new)]
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(old, new, cosigned_root, merkle.range_hash(0, new, forged), proof)
