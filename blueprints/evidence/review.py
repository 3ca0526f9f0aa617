"""Reviews (复核) of withheld evidence: a party asks within the legal period (and may withdraw
the request while it waits), the handling brigade's officers answer, and the answer reaches the
party.

Steps follow the service convention (core.steps): the actor is the CaseAccess's user, one
write transaction, refusals as StepError; each answer is a conditional UPDATE with its audit
row. The officer is told of a request, and the party of its answer, in the step's transaction
(blueprints.evidence.notices).
"""

import datetime as dt

from flask_babel import lazy_gettext as _l

from core.audit import audit
from core.i18n import localtime
from core.states import StateMachine
from core.steps import LostRace, StepError, run_step
from models import AccidentCase, CaseParty, EvidenceItem, ReviewRequest, Throttle, utcnow
from models.evidence import REVIEW_ANSWERED, REVIEW_PENDING, REVIEW_WITHDRAWN

from .notices import settle_review_requested, tell_review_answered, tell_review_requested
from .period import review_period_days, review_period_runs

# A request waits for its answer, or is taken back by its party first.
REVIEW_MACHINE = StateMachine(
    "evidence.review",
    "status",
    {
        REVIEW_PENDING: {REVIEW_ANSWERED, REVIEW_WITHDRAWN},
        REVIEW_ANSWERED: set(),
        REVIEW_WITHDRAWN: set(),
    },
)
WITHDRAWN_ALREADY = _l("The party withdrew this request.")
# Each request tells the handling officer (an SMS, an e-mail): with withdrawal, a party could
# ask and take back in a loop. This many requests a day per party, counted across nodes.
REVIEW_REQUESTS_PER_DAY = 3
DAY = 24 * 3600


def may_request_review(case: AccidentCase, today: dt.date | None = None) -> bool:
    """A general-procedure case whose determination was delivered, within the period."""
    return review_period_runs(case, today)


def withheld_items(case: AccidentCase):
    """The items kept from the parties, with their category and grounds (not the officers'
    note): a party learns what exists and why it is withheld, never its content."""
    return EvidenceItem.withheld_of_case(case.id)


def party_requests(party: CaseParty):
    """One party's review requests, newest first."""
    return ReviewRequest.of_party(party.id)


def waiting_request(requests) -> ReviewRequest | None:
    """The request of these (one party's) that waits for its answer, if any."""
    return next((r for r in requests if r.status == REVIEW_PENDING), None)


def request_review(access, grounds: str) -> ReviewRequest:
    """A party asks for a review, with their grounds; StepError outside the period or while an
    earlier request of theirs waits for its answer."""
    if access.party is None:
        raise StepError(_l("Only a party to the case may ask for a review."))
    grounds = (grounds or "").strip()
    if not grounds:
        raise StepError(_l("Say what should be reviewed, and why."), "grounds")
    case = access.case
    too_late = _l(
        "A review can be asked for within %(days)d days of the determination's delivery only.",
        days=review_period_days(),
    )
    if not may_request_review(case):
        raise StepError(too_late)

    def step():
        # The case row read again under lock: an officer closing it meanwhile (move_case,
        # which locks it too) either closes it first, and the request is refused, or waits
        # for it, and is refused because a request waits.
        if not may_request_review(AccidentCase.locked(case.id)):
            raise StepError(too_late)
        if ReviewRequest.waiting_of_party(access.party.id):
            raise StepError(_l("Your earlier request is still waiting for its answer."))
        key = f"evidence-review:party:{access.party.id}"
        again_at = Throttle.locked_until_for(key, lock=True)
        if again_at:
            raise StepError(
                _l(
                    "You have asked for a review %(n)d times today: you can ask again from "
                    "%(time)s (Beijing time).",
                    n=REVIEW_REQUESTS_PER_DAY,
                    time=localtime(again_at),
                )
            )
        Throttle.register_failure(key, limit=REVIEW_REQUESTS_PER_DAY, window=DAY)
        request = ReviewRequest.create(
            case=case.id, party=access.party.id, user=access.user.id, grounds=grounds
        )
        audit("evidence.review_requested", request, actor=access.user, detail={"case": case.id})
        tell_review_requested(case, access.party, grounds)
        return request

    return run_step(step)


def officer_queue(office_id: int, pending_only: bool = True):
    """Review requests of one brigade's cases, oldest waiting first, with case and party."""
    query = (
        ReviewRequest.select(ReviewRequest, AccidentCase, CaseParty)
        .join(AccidentCase, on=(ReviewRequest.case == AccidentCase.id))
        .switch(ReviewRequest)
        .join(CaseParty, on=(ReviewRequest.party == CaseParty.id))
        .where(AccidentCase.office == office_id)
    )
    if pending_only:
        query = query.where(ReviewRequest.status == REVIEW_PENDING)
    return list(query.order_by(ReviewRequest.requested_at, ReviewRequest.id))


def answer_review(request_id: int, actor, answer: str) -> ReviewRequest:
    """An officer of the case's brigade answers a request; the party reads the answer on the
    case page. StepError when already answered or not this officer's brigade."""
    answer = (answer or "").strip()
    if not answer:
        raise StepError(_l("Write the answer the party will read."), "answer")

    def step():
        request = ReviewRequest.get_or_none(ReviewRequest.id == request_id)
        case = request and AccidentCase.get_by_id(request.case_id)
        if case is None or case.office_id != actor.office_id:
            raise StepError(_l("No such request."))
        if request.status == REVIEW_WITHDRAWN:
            raise StepError(WITHDRAWN_ALREADY)
        if request.status != REVIEW_PENDING:
            raise LostRace
        if not REVIEW_MACHINE.apply(
            request,
            REVIEW_ANSWERED,
            action="evidence.review_answered",
            actor=actor,
            answered_by=actor.id,
            answered_at=utcnow(),
            answer=answer,
        ):
            raise LostRace
        tell_review_answered(case, request)
        return request

    return run_step(step, lost=_l("This request has already been answered."))


def withdraw_review(access, request_id: int) -> ReviewRequest:
    """A party takes back their request while it waits for its answer: it leaves the officers'
    queue (a conditional UPDATE with its audit row), and the party may ask again while the
    period runs. StepError when it was answered or withdrawn meanwhile; a request that is not
    this party's is None for the view (404)."""
    if access.party is None:
        raise StepError(_l("Only a party to the case may withdraw a review request."))

    def step():
        request = ReviewRequest.get_or_none(
            (ReviewRequest.id == request_id)
            & (ReviewRequest.case == access.case.id)
            & (ReviewRequest.party == access.party.id)
        )
        if request is None:
            return None
        if request.status != REVIEW_PENDING or not REVIEW_MACHINE.apply(
            request,
            REVIEW_WITHDRAWN,
            action="evidence.review_withdrawn",
            actor=access.user,
            detail={"case": access.case.id},
        ):
            raise LostRace
        settle_review_requested(access.case, access.party)
        return request

    return run_step(step, lost=_l("This request is no longer waiting for an answer."))
