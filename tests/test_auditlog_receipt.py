"""Receipts: `flask audit prove SEQ`, checked offline by docs/verify_receipt.py (standard
library only, run as its own process), whose Ed25519 is held to `cryptography`'s."""

import base64
import importlib.util
import json
import os
import subprocess
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from core.auditlog.log import verifier_keys
from models import db

from .test_audit import _some_events, integrate_now
from .test_auditlog_note import NOTE, TEXT, VERIFIER

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(__file__)), "docs", "verify_receipt.py")
spec = importlib.util.spec_from_file_location("verify_receipt", SCRIPT)
standalone = importlib.util.module_from_spec(spec)
spec.loader.exec_module(standalone)


def run_script(path, *args):
    """The script as a person runs it: its own interpreter, no project on the path."""
    return subprocess.run(
        [sys.executable, "-I", SCRIPT, str(path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=os.path.dirname(path),
    )


def check_evidence(evidence: str, tmp_path, *keys: str):
    """A witnessing alert's evidence as another city checks it: saved to a file, given to the
    standalone script with the log's verifier keys (got elsewhere)."""
    path = tmp_path / "evidence.json"
    path.write_text(evidence, encoding="utf-8")
    return run_script(path, *(arg for key in keys for arg in ("--key", key)))


def test_a_receipt_verifies_offline_with_the_standalone_script(app, client, make, runner, tmp_path):
    _some_events(make, client)
    integrate_now(app)
    result = runner.invoke(args=["audit", "prove", "2"])
    assert result.exit_code == 0, result.output
    receipt = json.loads(result.output)
    assert receipt["leaf_index"] == 1 and len(receipt["audit_path"]) >= 1
    assert json.loads(receipt["leaf"])["action"] in {"login.ok", "logout", "account.register"}
    path = tmp_path / "receipt.json"
    path.write_text(result.output)
    with app.app_context(), db.connection_context():
        (key,) = verifier_keys()
    assert runner.invoke(args=["audit", "keys"]).output.split() == [key]
    done = run_script(path, "--key", key)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"VERIFIED: entry 2 of {receipt['tree_size']}" in done.stdout

    # A changed entry, a path of another entry, or another log's key: not verified.
    forged = dict(receipt, leaf=receipt["leaf"].replace('"result":"ok"', '"result":"no"'))
    path.write_text(json.dumps(forged))
    assert run_script(path, "--key", key).returncode == 1
    path.write_text(json.dumps(dict(receipt, leaf_index=0)))
    assert "NOT VERIFIED" in run_script(path, "--key", key).stdout
    path.write_text(json.dumps(receipt))
    done = run_script(path, "--key", VERIFIER)
    assert done.returncode == 1 and "no signature of the given key" in done.stdout


def test_prove_refuses_an_entry_not_yet_integrated(app, client, make, runner):
    _some_events(make, client, 1)
    result = runner.invoke(args=["audit", "prove", "1"])
    assert result.exit_code == 1 and "no audit entry numbered 1" in result.output
    integrate_now(app)
    assert runner.invoke(args=["audit", "prove", "1"]).exit_code == 0


def test_the_standalone_ed25519_checks_the_go_reference_note():
    public = base64.b64decode(VERIFIER.split("+", 2)[2])[1:]
    signature = base64.b64decode(NOTE.rsplit(" ", 1)[1])[4:]
    assert standalone.ed25519_verify(public, TEXT.encode(), signature)
    assert not standalone.ed25519_verify(public, TEXT.encode() + b"!", signature)


@settings(max_examples=25)
@given(st.binary(max_size=200), st.integers(0, 63))
def test_the_standalone_ed25519_agrees_with_cryptography(message, flip):
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw()
    signature = key.sign(message)
    assert standalone.ed25519_verify(public, message, signature)
    bad = bytearray(signature)
    bad[flip] ^= 0x01
    assert not standalone.ed25519_verify(public, message, bytes(bad))
    assert not standalone.ed25519_verify(public, message + b"x", signature)
