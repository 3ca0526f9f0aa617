"""The notices of an accident case (core.notices): its parties are told when the case concerns
them, when its evidence opens for review, when an item is withheld from them and when their
request for a review (复核) is answered; the handling officer is told when a review is asked for.

Parties are kept by ID number, so a notice reaches a party's account only once that account
proved the number (core.notices.notify_holder); a review's answer goes to the account that
asked, while it may still see the case (core.identity.may_see_case: proven, or the case opened
with its query code).
"""

from flask_babel import lazy_gettext as _l

from core.identity import may_see_case
from core.notices import kind, notify, notify_holder
from models import CaseParty, EvidenceItem, User
from rules.clock import BEIJING_OFFSET

from .forms import CATEGORY_LABELS, PARTY_ROLE_LABELS, REASON_LABELS
from .period import review_deadline

CASE_PAGE = {"endpoint": "evidence.case", "args": ("case_id",)}


def _labels(params: dict) -> dict:
    """Role, category and withholding reason in the reader's language."""
    out = dict(params)
    if "role" in params:
        out["role"] = str(PARTY_ROLE_LABELS.get(params["role"], params["role"]))
    if "category" in params:
        out["category"] = str(CATEGORY_LABELS.get(params["category"], params["category"]))
    if "reason" in params:
        out["reason"] = str(REASON_LABELS.get(params["reason"], params["reason"] or ""))
    return out


kind(
    "evidence.party_added",
    title=_l("Accident case %(case_no)s concerns you"),
    what=_l(
        "%(office)s handles the accident of %(occurred_on)s at %(place)s; you are a party to it "
        "as %(role)s."
    ),
    next_step=_l(
        "Nothing to do yet. Once the accident determination is delivered and the officer opens "
        "the evidence, you can review it online; you will be told."
    ),
    prepare=_labels,
    **CASE_PAGE,
)
kind(
    "evidence.determination_delivered",
    title=_l("The determination of case %(case_no)s is delivered"),
    what=_l(
        "%(office)s recorded the accident determination of case %(case_no)s as delivered to "
        "the parties on %(delivered_on)s."
    ),
    next_step=_l(
        "A review of the determination may be asked for in writing at %(office)s by "
        "%(review_by_on)s. Under the general procedure the evidence is opened to you online "
        "first: you will be told."
    ),
    prepare=_labels,
    **CASE_PAGE,
)
kind(
    "evidence.open_for_review",
    title=_l("The evidence of case %(case_no)s is open to you"),
    what=_l(
        "You can now view and copy the evidence of accident case %(case_no)s online: "
        "%(released)s items; %(withheld)s withheld."
    ),
    next_step=_l(
        "Open the case page to review it. A review (复核) of the determination may be asked "
        "for in writing at %(office)s by %(review_by_on)s."
    ),
    prepare=_labels,
    **CASE_PAGE,
)
kind(
    "evidence.withheld",
    title=_l("An item of case %(case_no)s is withheld"),
    what=_l('The item "%(title)s" (%(category)s) is not shown to the parties: %(reason)s.'),
    next_step=_l(
        "The case page lists the withheld items. If you think it should be shown, ask %(office)s."
    ),
    prepare=_labels,
    **CASE_PAGE,
)


kind(
    "evidence.review_requested",
    title=_l("A review is asked for in case %(case_no)s"),
    what=_l(
        "A party to accident case %(case_no)s (%(role)s) asked for a review of the withheld "
        "evidence: %(grounds)s"
    ),
    next_step=_l(
        "Answer the request in the review queue; the party reads your answer on the case page "
        "and is told of it."
    ),
    endpoint="evidence.review_queue",
    prepare=_labels,
)
kind(
    "evidence.review_answered",
    title=_l("Your review request in case %(case_no)s is answered"),
    what=_l("%(office)s answered your request for a review of accident case %(case_no)s."),
    next_step=_l(
        "Read the answer on the case page. Questions about it go to %(office)s, which handles "
        "the case."
    ),
    **CASE_PAGE,
)

# The grounds quoted to the officer, at most this long (the queue shows them in full).
GROUNDS_QUOTED = 120


def case_params(case) -> dict:
    """What every accident-case notice names."""
    review_by = review_deadline(case)  # the day the case page and the review steps use
    return {
        "case_id": case.id,
        "case_no": case.case_no,
        "office_id": case.office_id,
        "place": case.place,
        "occurred_on": (case.occurred_at + BEIJING_OFFSET).date().isoformat(),
        "review_by_on": review_by.isoformat() if review_by else "",
    }


def tell_party(case, party, kind_name: str, **extra) -> None:
    """Tell one party (by their proven account), inside the step's write transaction."""
    notify_holder(party.resident_id, kind_name, **case_params(case), role=party.role, **extra)


def tell_parties(case, kind_name: str, **extra) -> None:
    """Tell every party of the case."""
    for party in CaseParty.select().where(CaseParty.case == case.id):
        tell_party(case, party, kind_name, **extra)


def tell_opened(case) -> None:
    """The evidence opened for review: each party, with what they can see and by when to ask."""
    items = EvidenceItem.select().where(EvidenceItem.case == case.id)
    released = items.where(EvidenceItem.released == True).count()  # noqa: E712
    tell_parties(
        case, "evidence.open_for_review", released=released, withheld=items.count() - released
    )


def tell_delivered(case) -> None:
    """The determination delivered: each party learns by when a review may be asked for."""
    tell_parties(
        case,
        "evidence.determination_delivered",
        delivered_on=case.determination_delivered_on.isoformat(),
    )


def tell_withheld(case, item) -> None:
    """An item withheld once the parties can see the case's evidence (before that, the
    opening's notice counts it)."""
    if case.status in ("open_for_review", "closed"):
        tell_parties(
            case,
            "evidence.withheld",
            title=item.title,
            category=item.category,
            reason=item.withhold_reason or "",
        )


def tell_review_requested(case, party, grounds: str) -> None:
    """A party asked for a review: the handling officer is told (a staff account; the party is
    named by role only, the queue shows the rest), inside the request's transaction."""
    quoted = grounds if len(grounds) <= GROUNDS_QUOTED else grounds[: GROUNDS_QUOTED - 1] + "…"
    notify(
        case.officer_id,
        "evidence.review_requested",
        **case_params(case),
        role=party.role,
        grounds=quoted,
    )


def tell_review_answered(case, request) -> None:
    """The officer answered: the account that asked is told, if it may still see the case. The
    answer itself stays on the case page, where access is checked and logged."""
    account = User.get_or_none(User.id == request.user_id)
    if account is not None and may_see_case(account, case.id):
        notify(account, "evidence.review_answered", **case_params(case))
