"""Demo data of identity proofs: each level shown by one demo citizen (the logins say which).

Most demo citizens proved their ID number by SMS, so every measure's demo works for them.
One proved it at a counter, one opened a single accident case with its notice's query code and
nothing else, and one has proven nothing: they see none of their records until they ask for a
code (the development gateway shows it at /dev/sms) or visit a counter.

Identity is shared by every measure, not one of them, so core.demo runs this after the
measures' own loaders (it reads the accident case the evidence measure made, when there is one).
"""

from models import AccidentCase, CaseParty, User, utcnow
from models.identity import COUNTER, QUERY_CODE, SMS, IdentityProof

# Indexes into the demo citizens.
BY_COUNTER = 1
BY_QUERY_CODE_ONLY = 2
UNPROVEN = 11
QUERY_CODE_CASE = "3702022021000101"


def load_demo(context) -> None:
    """Proofs for the demo citizens, inside the demo transaction."""
    clerk = context.staff["licence"]
    now = utcnow()
    for i, citizen in enumerate(context.citizens):
        if i == UNPROVEN:
            context.notes.append(
                f"{citizen.real_name}: identity NOT proven (sees none of their records; "
                "asks for a code at /account/identity, read it at /dev/sms)"
            )
            continue
        if i == BY_QUERY_CODE_ONLY:
            case = AccidentCase.get_or_none(AccidentCase.case_no == QUERY_CODE_CASE)
            if case is not None and CaseParty.get_or_none(
                (CaseParty.case == case) & (CaseParty.resident_id == citizen.resident_id)
            ):
                IdentityProof.create(
                    user=citizen,
                    resident_id=citizen.resident_id,
                    method=QUERY_CODE,
                    case=case,
                    proven_at=now,
                )
            context.notes.append(
                f"{citizen.real_name}: identity not proven, opened case {QUERY_CODE_CASE} "
                "with its query code (sees that case only)"
            )
            continue
        if i == BY_COUNTER:
            IdentityProof.create(
                user=citizen,
                resident_id=citizen.resident_id,
                method=COUNTER,
                clerk=clerk,
                proven_at=now,
            )
            context.notes.append(
                f"{citizen.real_name}: identity proven at the counter by {clerk.real_name}"
            )
            continue
        IdentityProof.create(
            user=citizen,
            resident_id=citizen.resident_id,
            method=SMS,
            mobile=citizen.mobile,
            proven_at=now,
        )
        # A code to the account's own number ties it (as core.identity.confirm_code does).
        User.update(mobile_tied_at=now).where(User.id == citizen.id).execute()
    context.notes.append("The other demo citizens proved their identity by SMS.")
