"""The query code on a party's paper notice (查询码): issued by an officer, it opens the case to
a party whose proven ID number is on it. Guessable in principle, so failures are throttled per
account and per client address, across processes and nodes (models.Throttle).
"""

import hashlib
import hmac
import secrets

from core.audit import audit, client_net
from core.identity import record_query_code
from models import AccidentCase, CaseParty, Throttle, User, write_tx

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


def throttle_keys(user: User) -> list[tuple[str, int]]:
    """The throttle keys of a query-code attempt and their limits."""
    return [
        (f"evidence-code:user:{user.id}", CODE_MAX_FAILURES),
        (f"evidence-code:net:{client_net()}", CODE_MAX_FAILURES_PER_ADDR),
    ]


def code_locked_until(user: User):
    """When the current lock on query-code attempts ends, or None."""
    ends = [Throttle.locked_until_for(key) for key, _limit in throttle_keys(user)]
    ends = [e for e in ends if e]
    return max(ends) if ends else None


def open_by_code(user: User, case_no: str, code: str) -> AccidentCase | None:
    """The case when the user is a party (by verified ID number) and the code is theirs.

    Every failure looks the same (no such case, not a party, wrong code) and counts against
    the user and the client address.
    """
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
        for key, limit in throttle_keys(user):
            Throttle.register_failure(key, limit=limit, window=CODE_WINDOW)
        audit(
            "evidence.code_failed",
            case,
            actor=user,
            result="refused",
            detail={"case_no": case_no[:32]},
        )
        return None
    Throttle.reset(throttle_keys(user)[0][0])
    record_query_code(user, case)
    audit("evidence.code_ok", case, actor=user)
    return case
