"""Signed notes and checkpoints (core.auditlog.note) against the Go reference note.

The vector is golang.org/x/mod/sumdb/note's own example (note.go's package documentation and
note_test.go): the PeterNeumann key, its text, and the signed note Go produces. Ed25519 is
deterministic, so signing the same text with the same key must give the same note, byte for
byte; then any Go-based witness or verifier reads our checkpoints.
"""

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.auditlog.note import (
    Checkpoint,
    NoteError,
    key_id,
    open_note,
    parse_verifier_key,
    raw_public,
    sign,
    verifier_key,
)

SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
NOTE = (
    TEXT + "\n\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def peter() -> Ed25519PrivateKey:
    seed = base64.b64decode(SIGNER.split("+", 4)[4])[1:]
    return Ed25519PrivateKey.from_private_bytes(seed)


def test_the_go_reference_note_is_reproduced_byte_for_byte():
    key = peter()
    assert verifier_key("PeterNeumann", raw_public(key)) == VERIFIER
    assert key_id("PeterNeumann", raw_public(key)).hex() == "c74f20a3"
    assert sign(TEXT, "PeterNeumann", key) == NOTE


def test_the_go_reference_note_opens_and_a_changed_one_does_not():
    assert open_note(NOTE, [VERIFIER]) == TEXT
    with pytest.raises(NoteError, match="does not verify"):
        open_note(NOTE.replace("cryptography", "cryptographY"), [VERIFIER])
    other = verifier_key("PeterNeumann", raw_public(Ed25519PrivateKey.generate()))
    with pytest.raises(NoteError, match="no signature of a known key"):
        open_note(NOTE, [other])


def test_verifier_keys_that_do_not_add_up_are_refused():
    name, public = parse_verifier_key(VERIFIER)
    assert name == "PeterNeumann" and len(public) == 32
    for bad in (VERIFIER.replace("c74f20a3", "c74f20a4"), VERIFIER[:-2], "PeterNeumann"):
        with pytest.raises(NoteError):
            parse_verifier_key(bad)


def test_checkpoint_text_round_trip():
    root = bytes(range(32))
    cp = Checkpoint("jg.example.test/audit", 1234, root)
    assert cp.text() == f"jg.example.test/audit\n1234\n{base64.b64encode(root).decode()}\n"
    assert Checkpoint.parse(cp.text()) == cp
    with pytest.raises(NoteError):
        Checkpoint.parse("jg.example.test/audit\n01\nAAAA\n")


@pytest.mark.parametrize(
    "size", ["\u00b2", "\u0661\u0662", "-1", "+5", "9223372036854775808", "1" * 400]
)
def test_a_tree_size_outside_ascii_digits_or_64_bits_is_refused(size):
    """A peer's checkpoint is parsed before anything is stored: a size the database cannot
    hold, or digits Python reads but the format does not allow, are refused as malformed."""
    root = base64.b64encode(bytes(32)).decode()
    with pytest.raises(NoteError):
        Checkpoint.parse(f"jg.example.test/audit\n{size}\n{root}\n")
    assert (
        Checkpoint.parse(f"jg.example.test/audit\n9223372036854775807\n{root}\n").size == 2**63 - 1
    )
