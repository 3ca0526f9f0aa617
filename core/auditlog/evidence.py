"""Evidence of a forked log: the signed notes a witnessing alert rests on, in a file that anyone
with the log's verifier key can check (docs/verify_receipt.py, Python's standard library only).

An alert alone asks the other cities to take our word. The notes do not: two checkpoints of one
size with different roots, both signed with the log's key, prove that the log signed two
histories (a log keeps one tree; its checkpoint of a size has one root). Checkpoints of
different sizes are shown to be two histories when no RFC 9162 consistency proof joins them:
the file then gives the proof the log sent, if any, and whoever holds it may ask the log for the
proof themselves (a log that is one history can always give one). A checkpoint of our own log
that our tree never had is evidence that our key signs for someone else.

Kept with the alert (WitnessAlert.evidence) when it is raised, and downloaded by the
administrator from the alert (blueprints/network.py).
"""

import json

from core.network.identity import base_url
from models import utcnow

FORMAT = "jiaoguan-fork-evidence/v1"


def document(
    log: str,
    verifier_keys: list[str],
    notes: list[tuple[str, str]],
    why: str,
    proof: list[str] | None = None,
    old: int | None = None,
) -> str:
    """The evidence as kept and downloaded (JSON): the log's checkpoint origin and its
    verifier keys as published when the finding was made, each signed note with the
    deployment that held it, what did not add up, and the consistency proof from `old` the log
    gave (its hashes in base64) when there was one."""
    doc = {
        "format": FORMAT,
        "log": log,
        "verifier_keys": verifier_keys,
        "checkpoints": [{"held_by": held_by, "note": note} for held_by, note in notes],
        "why": why,
        "found_by": base_url(),
        "found_at": utcnow().isoformat(timespec="seconds") + "Z",
    }
    if proof is not None:
        doc["proof"] = {"old": old, "hashes": proof}
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
