"""Pages of reviews (复核): a party asks on the case page (and may withdraw the request while it
waits), the brigade's officers answer from their queue, and the party reads the answer on the
case page. Views only translate HTTP: form -> step (blueprints.evidence.review) -> StepError
into a form error or a flash."""

from flask import abort, flash, make_response, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.access import role_required
from core.audit import audit
from core.confirm import confirmation_page, confirmed, revising
from core.htmx import redirect_to
from core.privacy import no_personal_data, nothing_to_audit, reads_personal_data
from core.steps import StepError, form_error
from models import ACCIDENT_OFFICER, CITIZEN

from . import bp, period, review
from .forms import ReviewAnswerForm, ReviewRequestForm
from .views import case_access_or_404, case_page


@bp.post("/cases/<int:case_id>/review")
@role_required(CITIZEN)
@no_personal_data
def request_review(case_id: int):
    """A party asks for a review (复核) of the determination, on grounds in the evidence or in
    what was withheld, within the period."""
    access = case_access_or_404(case_id)
    form = ReviewRequestForm()
    case_url = url_for("evidence.case", case_id=case_id)
    if form.validate_on_submit():
        try:
            review.request_review(access, form.grounds.data)
        except StepError as exc:
            if exc.field is None:
                # About the case, not the words typed (a request already waits, the period
                # ended): said at the top of the case page, which no longer offers the form.
                flash(str(exc.message), "warn")
                return redirect_to(case_url)
            form_error(form, exc)
        else:
            flash(_("Your request for a review has been sent to the handling officer."), "ok")
            return redirect_to(case_url + "#reviews")
    return case_page(access, 422, review_form=form)


@bp.post("/cases/<int:case_id>/reviews/<int:request_id>/withdraw")
@role_required(CITIZEN)
@no_personal_data
def withdraw_review(case_id: int, request_id: int):
    """A party withdraws their request while it waits for its answer (asked first)."""
    access = case_access_or_404(case_id)
    if access.party is None:
        abort(404)
    mine = {r.id: r for r in review.party_requests(access.party)}
    if request_id not in mine:
        abort(404)  # not this party's request: no hint that it exists
    case_url = url_for("evidence.case", case_id=case_id)
    if not confirmed():  # (the CSRF token is checked for every post: core.security)
        if review.may_request_review(access.case):
            again = _(
                "You may ask for a review again until %(date)s.",
                date=period.review_deadline(access.case).isoformat(),
            )
        else:
            again = _("The time to ask for a review has ended: you cannot ask again.")
        return confirmation_page(
            title=_("Withdraw your review request?"),
            message=_(
                "Your request for a review in case %(no)s will be withdrawn: the officer will not "
                "answer it.",
                no=access.case.case_no,
            ),
            details=[again],
            back=case_url + "#reviews",
            button=_("Yes, withdraw the request"),
        )
    try:
        withdrawn = review.withdraw_review(access, request_id)
    except StepError as exc:
        flash(str(exc.message), "warn")
    else:
        if withdrawn is None:
            abort(404)
        flash(_("Your review request is withdrawn."), "ok")
    return redirect_to(case_url + "#reviews")


def queue_page(status: int = 200, queue=None, answering=None):
    """The brigade's waiting requests (`queue`, read here when not given), each with its answer
    form; `answering` is (request id, form) of the answer refused, whose form keeps the typed
    answer and shows the error at its field."""
    if queue is None:
        queue = review.officer_queue(current_user.office_id)
    refused_id, refused_form = answering or (None, None)
    rows = [
        (
            item,
            refused_form
            if item.id == refused_id
            else ReviewAnswerForm(prefix=f"r{item.id}", formdata=None),
        )
        for item in queue
    ]
    # The rows name parties and their grounds: reading them is logged.
    audit("evidence.review_queue_view", detail={"n": len(rows)})
    return make_response(render_template("evidence/reviews.html", rows=rows), status)


@bp.get("/reviews")
@role_required(ACCIDENT_OFFICER)
@reads_personal_data("evidence.review_queue")
def review_queue():
    """Review requests of this brigade's cases waiting for an answer."""
    return queue_page()


@bp.post("/reviews/<int:request_id>/answer")
@role_required(ACCIDENT_OFFICER)
@reads_personal_data("evidence.review_queue")
def answer_review(request_id: int):
    """Answer one review request, asked first; the party reads the answer on the case page. A
    missing answer is said at that request's own answer field, in the queue drawn again."""
    form = ReviewAnswerForm(prefix=f"r{request_id}")
    if revising():
        # Back from the question to change the answer: the queue, with it in its form.
        return queue_with(request_id, form, 200)
    if form.validate_on_submit():
        if not confirmed():
            # Sent, the answer reaches the party at once and cannot be changed: asked first.
            nothing_to_audit()  # the officer's own words, nobody's data
            return confirmation_page(
                title=_("Send this answer?"),
                message=_(
                    "The party reads it on the case page at once, and it cannot be changed "
                    "afterwards."
                ),
                details=[form.answer.data.strip()],
                back=url_for("evidence.review_queue"),
                button=_("Yes, send the answer"),
                revise=True,
            )
        try:
            review.answer_review(request_id, current_user._get_current_object(), form.answer.data)
        except StepError as exc:
            if exc.field is None:
                return back_to_queue(str(exc.message), "bad")
            form_error(form, exc)
        else:
            return back_to_queue(_("Answered. The party reads your answer on the case page."))
    return queue_with(request_id, form, 422)


def back_to_queue(message: str, category: str = "ok"):
    """To the review queue, with a word (a redirect: nobody's data shown here)."""
    flash(message, category)
    nothing_to_audit()
    return redirect_to(url_for("evidence.review_queue"))


def queue_with(request_id: int, form, status: int):
    """The queue drawn again with this request's answer in its form (its errors, if any); when
    the request waits no more (answered or withdrawn meanwhile, or not this brigade's), back
    to the queue with that said: there is nowhere to show the answer."""
    queue = review.officer_queue(current_user.office_id)
    if request_id not in {item.id for item in queue}:
        return back_to_queue(_("This request is no longer waiting for an answer."), "warn")
    return queue_page(status, queue, (request_id, form))
