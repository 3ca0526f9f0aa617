#!/usr/bin/env python3
"""Check a jiaoguan audit receipt offline, with nothing but Python's standard library.

A receipt (`flask audit prove SEQ > receipt.json`, or a receipt link on a person's own page)
says: "this entry is number SEQ of the city's audit log, and here is the log's signed
checkpoint that commits to it, cosigned by witnesses (other cities)". This script checks
the things that make it true:

1. the leaf hash: SHA-256(0x00 || the entry's bytes) (RFC 9162, section 2.1.1);
2. the audit path from that leaf up to the checkpoint's root hash (RFC 9162, 2.1.3.2);
3. the checkpoint's Ed25519 signature (C2SP signed-note), with the log's verifier key;
4. each witness's cosignature on the checkpoint (C2SP tlog-cosignature v1: signature type
   0x04, Ed25519 over "cosignature/v1", the time and the checkpoint's text);
5. the fields disclosed to you: a format-2 leaf ({"v": 2, ...}) keeps time, action, object
   and result readable and seals the rest (who, from which address, the detail key by key)
   as SHA-256(field salt || name || 0x0A || JSON value); each disclosed field's salt and value
   must give the leaf's commitment. Fields not disclosed stay sealed.

Usage:  python3 verify_receipt.py receipt.json [--key 'name+keyid+base64key']
                                               [--witness 'name+keyid+base64key']

Give --key the verifier key the city publishes (or read out to you), and --witness the keys
of the witnesses you trust: without them the script uses the keys inside the receipt, which
proves the receipt is whole but not whose it is.
The standard library has no Ed25519, so RFC 8032's verification is written out below (a
plain, not constant-time implementation: it only ever handles public data).
Exit status 0: the receipt verifies; 1: it does not (the reason is printed).

It also checks the evidence file of a witnessing alert ("jiaoguan-fork-evidence/v1", downloaded
from the alert on the audit or peers page): every checkpoint in it must be signed with the
log's key (--key, needed here: the keys inside the file prove nothing of whose they are), and
two of one size with different roots prove that the log showed two histories. Exit status 0:
the fork is proven; 1: a checkpoint is not the log's; 2: nothing proven offline (no --key, or
checkpoints of different sizes, which the log alone can prove one history or not: ask it for
the consistency proof).
"""

import argparse
import base64
import hashlib
import json
import sys
import time

# --- Ed25519 verification (RFC 8032, section 5.1) -------------------------------------

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    """Sum of two points in extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z."""
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    pa = (y1 - x1) * (y2 - x2) % P
    pb = (y1 + x1) * (y2 + x2) % P
    pc = 2 * t1 * t2 * D % P
    pd = 2 * z1 * z2 % P
    e, f, g, h = pb - pa, pd - pc, pd + pc, pb + pa
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(k, point):
    """k * point by double-and-add."""
    result = (0, 1, 1, 0)  # the neutral element
    while k:
        if k & 1:
            result = _add(result, point)
        point = _add(point, point)
        k >>= 1
    return result


def _decode_point(s: bytes):
    """The point a 32-byte encoding names, or None when it names none (RFC 8032 5.1.3)."""
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = P - x
    return (x, y, 1, x * y % P)


def _encode_point(point) -> bytes:
    """The 32-byte encoding of a point: y, with the low bit of x on top."""
    x, y, z, _ = point
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return (y | (x & 1) << 255).to_bytes(32, "little")


BASE = _decode_point((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """True when `signature` is `public`'s Ed25519 signature of `message` ([S]B = R + [k]A)."""
    if len(signature) != 64:
        return False
    a, r = _decode_point(public), _decode_point(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % L
    return _encode_point(_mul(s, BASE)) == _encode_point(_add(r, _mul(k, a)))


# --- Merkle tree (RFC 9162, section 2.1) ------------------------------------------------


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_path(index: int, size: int, leaf: bytes, path: list) -> bytes:
    """The root an inclusion proof leads to (RFC 9162 2.1.3.2)."""
    if type(index) is not int or type(size) is not int or not 0 <= index < size:
        raise ValueError("leaf index outside the tree")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ValueError("audit path too long")
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn:
        raise ValueError("audit path too short")
    return r


# --- Signed note and checkpoint (C2SP signed-note, tlog-checkpoint) --------------------


def parse_key(vkey: str):
    """(name, key id, public key) of a verifier key 'name+hex key id+base64(0x01 || key)'."""
    name, kid, encoded = vkey.split("+", 2)
    raw = base64.b64decode(encoded, validate=True)
    expected = hashlib.sha256(name.encode() + b"\n" + raw[:1] + raw[1:]).digest()[:4]
    if raw[:1] != b"\x01" or len(raw) != 33 or expected.hex() != kid:
        raise ValueError(f"malformed verifier key {vkey!r}")
    return name, expected, raw[1:]


def open_checkpoint(note: str, vkeys: list) -> tuple:
    """(origin, size, root) of a checkpoint signed by one of `vkeys`; ValueError otherwise."""
    text, sep, signatures = note.rpartition("\n\n")
    if not sep:
        raise ValueError("the checkpoint is not a signed note")
    text += "\n"
    known = {(name, kid): public for name, kid, public in map(parse_key, vkeys)}
    good = False
    for line in signatures.rstrip("\n").split("\n"):
        dash, name, blob = line.split(" ", 2)
        raw = base64.b64decode(blob, validate=True)
        public = known.get((name, raw[:4]))
        if dash != "\u2014" or public is None:
            continue
        if not ed25519_verify(public, text.encode(), raw[4:]):
            raise ValueError(f"the signature of {name} does not verify")
        good = True
    if not good:
        raise ValueError("no signature of the given key")
    origin, size, root = text.split("\n")[:3]
    return origin, int(size), base64.b64decode(root, validate=True)


# --- Cosignatures (C2SP tlog-cosignature v1) -------------------------------------------


def parse_witness_key(vkey: str):
    """(name, key id, public key) of a cosigner key 'name+hex key id+base64(0x04 || key)'."""
    name, kid, encoded = vkey.split("+", 2)
    raw = base64.b64decode(encoded, validate=True)
    expected = hashlib.sha256(name.encode() + b"\n" + raw[:1] + raw[1:]).digest()[:4]
    if raw[:1] != b"\x04" or len(raw) != 33 or expected.hex() != kid:
        raise ValueError(f"malformed witness key {vkey!r}")
    return name, expected, raw[1:]


def check_cosignatures(note: str, wkeys: list) -> list:
    """[(witness name, unix time)] of the cosignatures of every witness key in `wkeys`; each
    must have cosigned this checkpoint, or ValueError."""
    text, _, signatures = note.rpartition("\n\n")
    text += "\n"
    lines = [line.split(" ", 2) for line in signatures.rstrip("\n").split("\n")]
    vouched = []
    for name, kid, public in map(parse_witness_key, wkeys):
        found = None
        for dash, signer, blob in lines:
            raw = base64.b64decode(blob, validate=True)
            if dash == "\u2014" and signer == name and raw[:4] == kid and len(raw) == 76:
                found = raw
        if found is None:
            raise ValueError(f"no cosignature of the witness {name}")
        stamp = int.from_bytes(found[4:12], "big")
        message = f"cosignature/v1\ntime {stamp}\n{text}".encode()
        if stamp >= 2**63 or not ed25519_verify(public, message, found[12:]):
            raise ValueError(f"the cosignature of {name} does not verify")
        vouched.append((name, stamp))
    return vouched


# --- Sealed and disclosed fields (leaf format 2) ------------------------------------------


def canonical(value) -> str:
    """JSON as the log writes it: sorted keys, no spaces, non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def open_fields(receipt: dict) -> dict:
    """The entry's fields this receipt shows: all of a format-1 leaf; of a format-2 leaf the
    open ones and each disclosed field, whose salt and value must give its commitment."""
    leaf = json.loads(receipt["leaf"])
    if leaf.get("v") != 2:
        return leaf
    sealed = leaf.pop("sealed")
    leaf.pop("v")
    for name, shown in receipt.get("disclosed", {}).items():
        salt = base64.b64decode(shown["salt"], validate=True)
        payload = salt + name.encode() + b"\n" + canonical(shown["value"]).encode()
        if sealed.get(name) != hashlib.sha256(payload).hexdigest():
            raise ValueError(f"the disclosed field {name} is not the one the entry sealed")
        leaf[name] = shown["value"]
    hidden = sorted(set(sealed) - set(leaf))
    if hidden:
        leaf["(sealed, not shown to you)"] = hidden
    return leaf


def verify(receipt: dict, vkeys: list, wkeys: list | None = None) -> str:
    """Check a receipt; returns what it proves, raises ValueError when it proves nothing."""
    leaf = hashlib.sha256(b"\x00" + receipt["leaf"].encode()).digest()
    path = [base64.b64decode(h, validate=True) for h in receipt["audit_path"]]
    origin, size, root = open_checkpoint(receipt["checkpoint"], vkeys)
    if size != receipt["tree_size"]:
        raise ValueError("the receipt's tree size is not the checkpoint's")
    if root_from_path(receipt["leaf_index"], size, leaf, path) != root:
        raise ValueError("the audit path does not lead to the checkpoint's root")
    open_fields(receipt)
    pinned = wkeys is not None
    if not pinned:
        wkeys = [w["key"] for w in receipt.get("witnesses", [])]
    proved = f"entry {receipt['leaf_index'] + 1} of {size} in the log {origin}"
    for name, stamp in check_cosignatures(receipt["checkpoint"], wkeys):
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp))
        if pinned:
            proved += f"\nWITNESSED by {name} at {when}"
        else:
            # A key the receipt brings proves only that someone holding it signed: the log
            # itself could have made it. Only a key the reader got elsewhere proves a witness.
            proved += (
                f"\ncosigned as {name} at {when}, with a key taken from the receipt"
                " (pass --witness with that city's published key to know it vouched)"
            )
    if not wkeys:
        proved += "\nnot witnessed yet: no witness cosigned this checkpoint"
    return proved


# --- Evidence of a forked log (a witnessing alert's file) --------------------------------

EVIDENCE = "jiaoguan-fork-evidence/v1"


def check_evidence(evidence: dict, vkeys: list) -> tuple[bool, str]:
    """(proven, what it shows) of a witnessing alert's evidence: its checkpoints must all be
    signed with one of `vkeys` (ValueError otherwise). Two of one size with different roots
    prove the log signed two histories; other sizes need the log's consistency proof, which
    only the log can give (an accuser could attach any hashes), so they prove nothing here."""
    seen = []
    for held in evidence["checkpoints"]:
        try:
            origin, size, root = open_checkpoint(held["note"], vkeys)
        except ValueError as exc:
            raise ValueError(f"the checkpoint held by {held['held_by']}: {exc}") from None
        if origin != evidence["log"]:
            raise ValueError(f"the checkpoint held by {held['held_by']} is of another log")
        seen.append((size, root, held["held_by"]))
    for size, root, holder in seen:
        for other_size, other_root, other_holder in seen:
            if size == other_size and root != other_root:
                return True, (
                    f"the log {evidence['log']} signed two different trees of {size} entries: "
                    f"root {base64.b64encode(root).decode()} (held by {holder}) and root "
                    f"{base64.b64encode(other_root).decode()} (held by {other_holder})"
                )
    sizes = " and ".join(f"{size} entries (held by {holder})" for size, _, holder in seen)
    return False, (
        f"checkpoints of {sizes}, signed by the log {evidence['log']}. Ask the log for the "
        "consistency proof between them (RFC 9162, 2.1.4); a log that kept one history can "
        f"always give it. What the finder saw: {evidence.get('why', '')}"
    )


def main_evidence(evidence: dict, vkeys: list | None) -> int:
    """Check an alert's evidence; exit status 0 when it proves a fork, 1 when a checkpoint is
    not the log's, 2 when the checkpoints are the log's but prove nothing offline. Only a key
    the reader got elsewhere (--key) proves anything: anyone can make a key, name it after a
    city's log and sign two roots with it, so the keys inside the file never give status 0."""
    try:
        proven, shown = check_evidence(evidence, vkeys or evidence["verifier_keys"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        print(f"NOT VERIFIED: {exc}")
        return 1
    if not vkeys:
        print(f"NOT PROVEN: signed only by the keys inside the file: {shown}")
        print("Pass --key with the log's verifier key as its city publishes it.")
        return 2
    print(f"FORK PROVEN: {shown}" if proven else f"SIGNED, NOT PROVEN OFFLINE: {shown}")
    return 0 if proven else 2


def main(argv=None) -> int:
    """Read the receipt (or an alert's evidence), check it, print the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("receipt", help="the receipt JSON file ('-' for standard input)")
    parser.add_argument("--key", action="append", help="the log's verifier key (repeatable)")
    parser.add_argument(
        "--witness", action="append", help="a witness's cosigner key that must have cosigned"
    )
    args = parser.parse_args(argv)
    with sys.stdin if args.receipt == "-" else open(args.receipt, encoding="utf-8") as fh:
        receipt = json.load(fh)
    if isinstance(receipt, dict) and receipt.get("format") == EVIDENCE:
        return main_evidence(receipt, args.key)
    try:
        proved = verify(receipt, args.key or receipt["log_keys"], args.witness)
        fields = open_fields(receipt)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        print(f"NOT VERIFIED: {exc}")
        return 1
    print(f"VERIFIED: {proved}")
    if not args.key:
        print("(checked with the keys inside the receipt: pass --key to check whose log it is)")
    print(json.dumps(fields, ensure_ascii=False, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
