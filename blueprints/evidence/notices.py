"""The notices of an accident case (core.notices): its parties are told when the case concerns
them (in words that fit where the case stands when they are added), when they are removed from
it, when its evidence opens for review, when an item is withheld from them and when their
request for a review (复核) is answered; the handling officer is told when a review is asked for.

Parties are kept by ID number, so a notice reaches a party's account only once that account
proved the number (core.notices.notify_holder); a review's answer goes to the account that
asked, while it may still see the case (core.identity.may_see_case: proven, or the case opened
with its query code).
"""

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from core.i18n import in_sentence, listing
from core.identity import may_see_case
from core.notices import KINDS_BY_ENDPOINT, kind, notify, notify_holder
from models import CaseParty, EvidenceItem, Notice, ReviewRequest, User
from rules.clock import BEIJING_OFFSET

from .forms import CATEGORY_LABELS, PARTY_ROLE_LABELS, REASON_LABELS
from .period import review_deadline, review_period_runs

CASE_PAGE = {"endpoint": "evidence.case", "args": ("case_id",)}
# The facts of a case an officer may correct (service.correct_facts), as a sentence names them.
FACT_LABELS = {
    "case_no": _l("number"),
    "occurred_at": _l("time"),
    "place": _l("place"),
    "description": _l("description"),
}


def role_in_text(role: str) -> str:
    """A party's role as written inside a sentence: English writes the label (a common noun,
    "Driver") in lower case there ("a party to it as driver"); Chinese has no case and keeps
    it."""
    return in_sentence(PARTY_ROLE_LABELS.get(role, role))


def _labels(params: dict) -> dict:
    """Role, category, withholding reason and the counts of items in the reader's language (the
    role as written inside a sentence: "as driver", not "as Driver")."""
    out = dict(params)
    if "role" in params:
        out["role"] = role_in_text(params["role"])
    if "fields" in params:
        out["fields"] = listing([str(FACT_LABELS[f]) for f in params["fields"]])
    if "released" in params:
        out["released_items"] = ngettext(
            "%(num)d item released", "%(num)d items released", int(params["released"])
        )
    if "withheld" in params:
        out["withheld_items"] = ngettext(
            "%(num)d item withheld", "%(num)d items withheld", int(params["withheld"])
        )
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
# The next step while the review period runs, once the determination is delivered and once
# the evidence is open: the same words for a party told then and one added later.
REVIEW_BY_DELIVERED = _l(
    "A review of the determination may be asked of %(office)s until the end of "
    "%(review_by_on)s. Under the general procedure the evidence is opened to you online first "
    "(you will be told), and you ask for the review on the case page."
)
REVIEW_BY_OPEN = _l(
    "Open the case page to review it. A review (复核) of the determination may be asked for "
    "there until the end of %(review_by_on)s."
)
# A party added once the case has moved on is told where it stands then (tell_added), not
# that there is nothing to do yet.
ADDED_DELIVERED = _l(
    "%(office)s handles the accident of %(occurred_on)s at %(place)s; you are a party to it as "
    "%(role)s. Its accident determination was delivered on %(delivered_on)s."
)
ADDED_OPEN = _l(
    "%(office)s handles the accident of %(occurred_on)s at %(place)s; you are a party to it as "
    "%(role)s. Its evidence is open to you online: %(released_items)s; %(withheld_items)s."
)
kind(
    "evidence.party_added_simple",
    title=_l("Accident case %(case_no)s concerns you"),
    what=_l(
        "%(office)s handles the accident of %(occurred_on)s at %(place)s; you are a party to it "
        "as %(role)s."
    ),
    next_step=_l(
        "The case is handled under the simple procedure: there is no evidence to review online."
    ),
    prepare=_labels,
    **CASE_PAGE,
)
kind(
    "evidence.party_added_delivered",
    title=_l("Accident case %(case_no)s concerns you"),
    what=ADDED_DELIVERED,
    next_step=REVIEW_BY_DELIVERED,
    prepare=_labels,
    **CASE_PAGE,
)
kind(
    "evidence.party_added_delivered_late",
    title=_l("Accident case %(case_no)s concerns you"),
    what=ADDED_DELIVERED,
    next_step=_l(
        "Once the officer opens the evidence, you can review it online; you will be told. The "
        "time to ask for a review of the determination has ended."
    ),
    prepare=_labels,
    **CASE_PAGE,
)
kind(
    "evidence.party_added_open",
    title=_l("The evidence of case %(case_no)s is open to you"),
    what=ADDED_OPEN,
    next_step=REVIEW_BY_OPEN,
    prepare=_labels,
    **CASE_PAGE,
)
kind(
    "evidence.party_added_open_late",
    title=_l("The evidence of case %(case_no)s is open to you"),
    what=ADDED_OPEN,
    next_step=_l(
        "Open the case page to review it. The time to ask for a review of the determination "
        "has ended."
    ),
    prepare=_labels,
    **CASE_PAGE,
)
kind(
    "evidence.party_removed",
    title=_l("You are no longer a party to case %(case_no)s"),
    what=_l("%(office)s removed you as a party to accident case %(case_no)s."),
    next_step=_l(
        "You can no longer see the case online. If this is a mistake, contact %(office)s, "
        "which handles the case."
    ),
    # The case page is no longer theirs: the link is the notices page, which marks it read.
    endpoint="notices.index",
)
kind(
    "evidence.determination_delivered",
    title=_l("The determination of case %(case_no)s is delivered"),
    what=_l(
        "%(office)s recorded the accident determination of case %(case_no)s as delivered to "
        "the parties on %(delivered_on)s."
    ),
    next_step=REVIEW_BY_DELIVERED,
    prepare=_labels,
    **CASE_PAGE,
)
kind(
    "evidence.open_for_review",
    title=_l("The evidence of case %(case_no)s is open to you"),
    what=_l(
        "You can now view and copy the evidence of accident case %(case_no)s online: "
        "%(released_items)s; %(withheld_items)s."
    ),
    next_step=REVIEW_BY_OPEN,
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
    "evidence.released",
    title=_l("An item of case %(case_no)s is shown to you now"),
    what=_l('The item "%(title)s" (%(category)s), withheld until now, is shown to the parties.'),
    next_step=_l("View or copy it on the case page."),
    prepare=_labels,
    **CASE_PAGE,
)


kind(
    "evidence.facts_corrected",
    title=_l("Accident case %(case_no)s corrected"),
    what=_l(
        "The handling officer corrected the case's %(fields)s: it is now case %(case_no)s, "
        "%(occurred_on)s, at %(place)s. Reason: %(reason)s"
    ),
    next_step=_l(
        "Nothing to do: the case page shows it as it is now. A paper notice you hold keeps its "
        "query code."
    ),
    prepare=_labels,
    **CASE_PAGE,
)


kind(
    "evidence.review_requested",
    title=_l("A review is asked for in case %(case_no)s"),
    what=_l(
        "A party to accident case %(case_no)s (%(role)s) asked for a review of the "
        "determination, on these grounds: %(grounds)s"
    ),
    next_step=_l(
        "Answer the request in the review queue; the party reads your answer on the case page "
        "and is told of it."
    ),
    endpoint="evidence.review_queue",
    prepare=_labels,
)
kind(
    "evidence.review_withdrawn",
    title=_l("A review request in case %(case_no)s was withdrawn"),
    what=_l("A party to accident case %(case_no)s (%(role)s) withdrew their review request."),
    next_step=_l("Nothing to answer: the request has left the review queue."),
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


def item_counts(case) -> dict:
    """How many items of the case the parties see, and how many are withheld from them."""
    items = EvidenceItem.select().where(EvidenceItem.case == case.id)
    released = items.where(EvidenceItem.released == True).count()  # noqa: E712
    return {"released": released, "withheld": items.count() - released}


def tell_opened(case) -> None:
    """The evidence opened for review: each party, with what they can see and by when to ask."""
    tell_parties(case, "evidence.open_for_review", **item_counts(case))


def tell_added(case, party) -> None:
    """A party added: told where the case stands now. Before the determination, that there is
    nothing to do yet; once delivered, by when a review may be asked for; once the evidence is
    open, what they can see (and by when to ask, while the period runs)."""
    late = "" if review_period_runs(case) else "_late"
    if case.procedure != "general":
        tell_party(case, party, "evidence.party_added_simple")
    elif case.status in ("open_for_review", "closed"):
        tell_party(case, party, f"evidence.party_added_open{late}", **item_counts(case))
    elif case.status == "determination_delivered":
        tell_party(
            case,
            party,
            f"evidence.party_added_delivered{late}",
            delivered_on=case.determination_delivered_on.isoformat(),
        )
    else:
        tell_party(case, party, "evidence.party_added")


def tell_removed(case, party) -> None:
    """A party taken off the case: their account is told (if it could see the case), and its
    notices about the case (the kinds that link to its page, read or not) leave its inbox:
    their links no longer open, and the case no longer concerns them (the messages already
    sent stay sent; the audit log keeps what happened). Runs in the removal's transaction,
    before the party's row is deleted."""
    account = User.get_or_none(
        (User.resident_id == party.resident_id) & (User.is_staff == False)  # noqa: E712
    )
    if account is None:
        return
    about_case = [
        notice.id
        for notice in Notice.of_kinds(account.id, list(KINDS_BY_ENDPOINT[CASE_PAGE["endpoint"]]))
        if notice.params_dict.get("case_id") == case.id
    ]
    if about_case:
        Notice.delete().where(Notice.id.in_(about_case)).execute()
    if may_see_case(account, case.id):
        notify(account, "evidence.party_removed", **case_params(case))


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


def tell_released(case, item) -> None:
    """A withheld item released once the parties can see the case's evidence."""
    if case.status in ("open_for_review", "closed"):
        tell_parties(case, "evidence.released", title=item.title, category=item.category)


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


def settle_review_requested(case, party) -> None:
    """A party withdrew their review request. Runs in the withdrawal's transaction.

    When the handling officer has read of the case's requests (they may be writing an answer),
    they are told of the withdrawal; else nothing of it reached them yet, and once no request of
    the case waits any more, their unread notices of requests on it are marked read (the queue
    they link to no longer lists them): a party asking and withdrawing sends them no second
    message."""
    asked = [
        notice.id
        for notice in Notice.unread_of(case.officer_id, ["evidence.review_requested"])
        if notice.params_dict.get("case_id") == case.id
    ]
    if not asked:
        notify(case.officer_id, "evidence.review_withdrawn", **case_params(case), role=party.role)
    elif not ReviewRequest.waiting_on_case(case.id):
        Notice.mark_read(case.officer_id, asked)


def tell_review_answered(case, request) -> None:
    """The officer answered: the account that asked is told, if it may still see the case. The
    answer itself stays on the case page, where access is checked and logged."""
    account = User.get_or_none(User.id == request.user_id)
    if account is not None and may_see_case(account, case.id):
        notify(account, "evidence.review_answered", **case_params(case))
