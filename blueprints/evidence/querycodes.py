"""The query code on a party's paper notice (查询码): issued by an officer, it opens the case to
a party whose proven ID number is on it. Guessable in principle, so failures are throttled per
account and per client network, across processes and nodes (core.throttle).
"""

import hashlib
import hmac
import secrets

from core.audit import audit, client_net
from core.identity import record_query_code
from core.throttle import Gate, Rule
from models import AccidentCase, CaseParty, User, write_tx

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 8
CODE_MAX_FAILURES = 5
CODE_MAX_FAILURES_PER_ADDR = 30
CODE_WINDOW = 900


# --- Query codes -----------------------------------------------------------------------------


def new_query_code() -> str:
    """A fresh code for the paper notice, e.g. 'K7QM-3XPA' (8 characters, dash for reading)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def hash_code(code: str) -> str:
    """SHA-256 of a code in canonical form (upper case, no dash or spaces)."""
    canonical = "".join(code.upper().split()).replace("-", "")
    return hashlib.sha256(canonical.encode()).hexdigest()


def issue_notice(party: CaseParty, actor: User) -> str:
    """A new query code for a party (the old one stops working); returns the code."""
    code = new_query_code()
    with write_tx():
        CaseParty.update(query_code_hash=hash_code(code)).where(CaseParty.id == party.id).execute()
        audit("evidence.notice", party, actor=actor, detail={"case_id": party.case_id})
    return code


class CodeLocked(Exception):
    """Too many wrong codes: no attempt until `until`."""

    def __init__(self, until):
        super().__init__(until)
        self.until = until


def code_gate(user: User) -> Gate:
    """The counters of query-code attempts: the user's over every address, and the client
    network's over every user (core.throttle: counted in advance, in one transaction with the
    lock read, so parallel guesses cannot slip in under the limit)."""
    return Gate(
        [
            Rule("account", f"evidence-code:user:{user.id}", CODE_MAX_FAILURES, CODE_WINDOW),
            Rule(
                "address",
                f"evidence-code:net:{client_net()}",
                CODE_MAX_FAILURES_PER_ADDR,
                CODE_WINDOW,
            ),
        ]
    )


def open_by_code(user: User, case_no: str, code: str) -> AccidentCase | None:
    """The case when the user is a party (by verified ID number) and the code is theirs.

    Every failure looks the same (no such case, not a party, wrong code) and counts against
    the user and the client network; CodeLocked while a lock holds (nothing is looked up).
    """
    attempt = code_gate(user)
    verdict = attempt.check_and_count()
    if verdict.kind and not attempt.counted:
        raise CodeLocked(verdict.until)
    case = AccidentCase.get_or_none(AccidentCase.case_no == case_no.strip().upper())
    party = None
    if case is not None and user.resident_id:
        party = CaseParty.get_or_none(
            (CaseParty.case == case.id) & (CaseParty.resident_id == user.resident_id)
        )
    ok = (
        party is not None
        and party.query_code_hash is not None
        and hmac.compare_digest(party.query_code_hash, hash_code(code))
    )
    if not ok:
        audit(
            "evidence.code_failed",
            case,
            actor=user,
            result="refused",
            detail={"case_no": case_no[:32]},
        )
        return None
    attempt.success()
    record_query_code(user, case)
    audit("evidence.code_ok", case, actor=user)
    return case
